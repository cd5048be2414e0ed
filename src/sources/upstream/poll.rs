//! The poller: one loop per enabled source, deciding when to poll and
//! writing what a poll found in a crash-safe order.
//!
//! Owns: the per-source loop (sleep until `next_poll`, poll, repeat),
//! [`Poller::poll_once`] (also the future "poll now" API), the next-poll
//! computation, backoff, and the poll metrics.
//!
//! Order of writes: every entry is upserted (each upsert is durable) and
//! only then is the [`SourceState`] with the new validators saved. A crash
//! in between re-fetches the same document next time and finds the entries
//! unchanged; it never records validators for entries that were not stored.
//!
//! When: after a success (200 or 304) the next poll is the latest of the
//! cron schedule's next fire time, now + `min_interval`, and the freshness
//! the server or feed announced (`max-age`/`Expires`/`<ttl>`, capped at
//! `max_cache_delay`). After a failure it is exponential backoff with full
//! jitter, `random(0, min(backoff_max, backoff_base × 2^(failures−1)))`,
//! at least [`BACKOFF_FLOOR`] and at least `Retry-After` (capped). A
//! failing source is retried forever, never dropped. The stored
//! `next_poll` survives restarts; a source never polled is polled at once.
//!
//! Time: sleeping uses `tokio::time`, and wall-clock readings go through
//! an injectable [`Clock`]. In production that is [`SystemClock`]; tests
//! use [`TokioClock`], a wall clock that advances with tokio's (paused)
//! clock, so cron-driven schedules are deterministic under
//! `tokio::time::pause()`.

use super::fetch::{CacheHints, FetchError, Fetched, Fetcher, Validators};
use super::parse::parse_feed;
use crate::config::{FetchConfig, Source};
use crate::model::{NewsItem, SourceState};
use crate::publish::outbox::Job;
use crate::store::{DynStore, StoreError, Upsert};
use crate::telemetry::Metrics;
use chrono::{DateTime, Utc};
use rand::Rng;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// The shortest delay after a failure, whatever the jitter drew
/// (or `backoff_base`, if that is shorter).
pub const BACKOFF_FLOOR: Duration = Duration::from_secs(1);

/// A source of wall-clock time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A wall clock that starts at a given time and advances with
/// `tokio::time`, so it follows `tokio::time::pause()`/`advance()`.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    wall: DateTime<Utc>,
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `wall` now.
    pub fn starting_at(wall: DateTime<Utc>) -> Self {
        TokioClock {
            wall,
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now().duration_since(self.start);
        self.wall + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
    }
}

/// Draws the actual delay from a backoff cap; the default is uniform in
/// `[0, cap]` (full jitter). Tests may pass the identity.
pub type Jitter = Arc<dyn Fn(Duration) -> Duration + Send + Sync>;

/// What one poll did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// 200: a document was parsed and its entries stored.
    Fetched,
    /// 304 (or an unchanged file).
    NotModified,
    /// The poll failed; the source's state records why.
    Failed {
        /// The error, as recorded in `last_error`.
        error: String,
        /// Whether it was classified retryable.
        retryable: bool,
    },
}

/// The result of one poll.
#[derive(Debug, Clone)]
pub struct PollReport {
    /// Which source.
    pub source_id: String,
    /// Success, not modified or failure.
    pub outcome: PollOutcome,
    /// New items stored.
    pub inserted: usize,
    /// Items changed in place.
    pub updated: usize,
    /// Items already stored unchanged.
    pub unchanged: usize,
    /// Entries skipped as broken.
    pub skipped: usize,
    /// When the next poll is due.
    pub next_poll: DateTime<Utc>,
}

/// A poll that could not even record its outcome.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// No such source is configured.
    #[error("unknown source `{0}`")]
    UnknownSource(String),
    /// The source state could not be read or saved.
    #[error("source `{id}`: {source}")]
    Store {
        /// The source id.
        id: String,
        /// The store failure.
        #[source]
        source: StoreError,
    },
}

/// A failure during a poll, classified.
struct Failure {
    message: String,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl From<FetchError> for Failure {
    fn from(e: FetchError) -> Self {
        Failure {
            message: e.to_string(),
            retryable: e.is_retryable(),
            retry_after: e.retry_after(),
        }
    }
}

#[derive(Default)]
struct Stored {
    validators: Option<Validators>,
    hints: CacheHints,
    ttl: Option<Duration>,
    inserted: usize,
    updated: usize,
    unchanged: usize,
    parsed: Option<(Vec<String>, u32)>,
}

/// Polls every enabled upstream source on its schedule.
pub struct Poller {
    sources: BTreeMap<String, Source>,
    fetcher: Fetcher,
    cfg: FetchConfig,
    store: DynStore,
    metrics: Arc<Metrics>,
    notify: Arc<Notify>,
    clock: Arc<dyn Clock>,
    jitter: Jitter,
    /// One poll at a time per source (the loop and "poll now" may race).
    locks: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
    /// Every finished poll's report, for observers (tests, a status page).
    reports: Option<tokio::sync::mpsc::UnboundedSender<PollReport>>,
    /// Outbox jobs for a newly stored entry (cross-posting), written in the
    /// same transaction as the entry.
    planner: JobPlanner,
}

/// The jobs a new upstream item needs.
pub type PlanFn = Arc<dyn Fn(&NewsItem) -> Vec<Job> + Send + Sync>;

/// Makes the outbox jobs of a new upstream item (`plan`), and is told when
/// such jobs were stored (`stored`), to wake the deliverers.
#[derive(Clone)]
pub struct JobPlanner {
    /// The jobs a new item needs.
    pub plan: PlanFn,
    /// Called after jobs were stored with their item.
    pub stored: Arc<dyn Fn() + Send + Sync>,
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("sources", &self.sources.keys().collect::<Vec<_>>())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Poller {
    /// A poller for `sources`; `notify` is woken whenever a poll inserted or
    /// updated an item.
    pub fn new(
        sources: Vec<Source>,
        fetch: &FetchConfig,
        store: DynStore,
        metrics: Arc<Metrics>,
        notify: Arc<Notify>,
    ) -> Result<Poller, FetchError> {
        let fetcher = Fetcher::new(fetch)?;
        let locks = sources
            .iter()
            .map(|s| (s.id.clone(), Arc::new(tokio::sync::Mutex::new(()))))
            .collect();
        Ok(Poller {
            sources: sources.into_iter().map(|s| (s.id.clone(), s)).collect(),
            fetcher,
            cfg: fetch.clone(),
            store,
            metrics,
            notify,
            clock: Arc::new(SystemClock),
            jitter: Arc::new(full_jitter),
            locks,
            reports: None,
            planner: JobPlanner {
                plan: Arc::new(|_| Vec::new()),
                stored: Arc::new(|| {}),
            },
        })
    }

    /// Plan outbox jobs for new entries (sources marked `cross_post`).
    pub fn with_planner(mut self, planner: JobPlanner) -> Self {
        self.planner = planner;
        self
    }

    /// Use another wall clock (tests: [`TokioClock`]).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Use another jitter (tests: the identity, for exact delays).
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Send every finished poll's report to `tx` (tests wait on it instead
    /// of sleeping).
    pub fn with_reports(mut self, tx: tokio::sync::mpsc::UnboundedSender<PollReport>) -> Self {
        self.reports = Some(tx);
        self
    }

    /// The configured sources, by id.
    pub fn sources(&self) -> &BTreeMap<String, Source> {
        &self.sources
    }

    /// Start one loop per enabled source on `tracker`; they stop when
    /// `token` is cancelled. A cancelled poll loses nothing: entries are
    /// stored one by one, and the validators only move after all of them.
    pub fn spawn(self: Arc<Self>, tracker: &TaskTracker, token: CancellationToken) {
        for source in self.sources.values().filter(|s| s.enabled) {
            let this = Arc::clone(&self);
            let id = source.id.clone();
            let token = token.clone();
            tracker.spawn(async move { this.run_source(id, token).await });
        }
    }

    async fn run_source(self: Arc<Self>, id: String, token: CancellationToken) {
        loop {
            let due = match self.store.source_state(&id).await {
                Ok(state) => state.and_then(|s| s.next_poll),
                Err(e) => {
                    tracing::error!(source = %id, error = %e, "cannot read the source state");
                    Some(self.clock.now() + to_chrono(self.cfg.backoff_base))
                }
            };
            let now = self.clock.now();
            if let Some(due) = due.filter(|d| *d > now) {
                let wait = (due - now).to_std().unwrap_or(Duration::ZERO);
                tokio::select! {
                    _ = token.cancelled() => return,
                    _ = tokio::time::sleep(wait) => continue,
                }
            }
            tokio::select! {
                _ = token.cancelled() => return,
                r = self.poll_once(&id) => if let Err(e) = r {
                    tracing::error!(source = %id, error = %e, "poll could not record its outcome");
                    tokio::select! {
                        _ = token.cancelled() => return,
                        _ = tokio::time::sleep(self.cfg.backoff_base) => {}
                    }
                },
            }
        }
    }

    /// Poll one source now: fetch, parse, store, and save its state.
    pub async fn poll_once(&self, source_id: &str) -> Result<PollReport, PollError> {
        let source = self
            .sources
            .get(source_id)
            .ok_or_else(|| PollError::UnknownSource(source_id.to_string()))?;
        let lock = self
            .locks
            .get(source_id)
            .cloned()
            .ok_or_else(|| PollError::UnknownSource(source_id.to_string()))?;
        let _guard = lock.lock().await;
        let span = tracing::info_span!("poll", source = %source_id);
        self.poll_locked(source).instrument(span).await
    }

    async fn poll_locked(&self, source: &Source) -> Result<PollReport, PollError> {
        let id = source.id.as_str();
        let store_err = |e| PollError::Store {
            id: id.to_string(),
            source: e,
        };
        let mut state = self
            .store
            .source_state(id)
            .await
            .map_err(store_err)?
            .unwrap_or_else(|| SourceState {
                id: id.to_string(),
                ..SourceState::default()
            });
        state.last_poll = Some(self.clock.now());
        let validators = Validators {
            etag: state.etag.clone(),
            last_modified: state.last_modified.clone(),
        };
        let result = self.fetch_and_store(source, &validators).await;
        let now = self.clock.now();
        let mut report = PollReport {
            source_id: id.to_string(),
            outcome: PollOutcome::NotModified,
            inserted: 0,
            updated: 0,
            unchanged: 0,
            skipped: 0,
            next_poll: now,
        };
        match result {
            Ok(stored) => {
                report.outcome = if stored.validators.is_some() {
                    PollOutcome::Fetched
                } else {
                    PollOutcome::NotModified
                };
                if let Some(v) = stored.validators {
                    state.etag = v.etag;
                    state.last_modified = v.last_modified;
                }
                if let Some((skipped, seen)) = stored.parsed {
                    report.skipped = skipped.len();
                    state.skipped_entries = skipped;
                    state.entries_seen = seen;
                }
                report.inserted = stored.inserted;
                report.updated = stored.updated;
                report.unchanged = stored.unchanged;
                state.last_success = Some(now);
                state.last_error = None;
                state.last_error_at = None;
                state.consecutive_failures = 0;
                report.next_poll = self.next_after_success(source, now, &stored.hints, stored.ttl);
                tracing::info!(
                    inserted = stored.inserted,
                    updated = stored.updated,
                    unchanged = stored.unchanged,
                    skipped = report.skipped,
                    next_poll = %report.next_poll,
                    "polled"
                );
            }
            Err(f) => {
                state.consecutive_failures = state.consecutive_failures.saturating_add(1);
                state.last_error = Some(f.message.clone());
                state.last_error_at = Some(now);
                report.next_poll =
                    self.next_after_failure(now, state.consecutive_failures, f.retry_after);
                tracing::warn!(
                    error = %f.message,
                    retryable = f.retryable,
                    failures = state.consecutive_failures,
                    next_poll = %report.next_poll,
                    "poll failed"
                );
                let class = if f.retryable { "retry" } else { "permanent" };
                self.metrics.inc(
                    "musharaka_poll_errors_total",
                    &[("source", id), ("class", class)],
                );
                report.outcome = PollOutcome::Failed {
                    error: f.message,
                    retryable: f.retryable,
                };
            }
        }
        state.next_poll = Some(report.next_poll);
        self.store
            .put_source_state(&state)
            .await
            .map_err(store_err)?;

        let outcome = match report.outcome {
            PollOutcome::Fetched => "ok",
            PollOutcome::NotModified => "not_modified",
            PollOutcome::Failed { .. } => "error",
        };
        self.metrics.inc(
            "musharaka_polls_total",
            &[("source", id), ("outcome", outcome)],
        );
        for (n, what) in [
            (report.inserted, "inserted"),
            (report.updated, "updated"),
            (report.unchanged, "unchanged"),
            (report.skipped, "skipped"),
        ] {
            if n > 0 {
                self.metrics.add(
                    "musharaka_upstream_entries_total",
                    &[("source", id), ("outcome", what)],
                    n as f64,
                );
            }
        }
        self.metrics.set(
            "musharaka_source_consecutive_failures",
            &[("source", id)],
            f64::from(state.consecutive_failures),
        );
        if report.inserted + report.updated > 0 {
            self.notify.notify_one();
        }
        if let Some(tx) = &self.reports {
            let _ = tx.send(report.clone());
        }
        Ok(report)
    }

    async fn fetch_and_store(
        &self,
        source: &Source,
        validators: &Validators,
    ) -> Result<Stored, Failure> {
        let (body, url, new_validators, hints) =
            match self.fetcher.fetch(&source.url, validators).await? {
                Fetched::NotModified { hints } => {
                    return Ok(Stored {
                        hints,
                        ..Stored::default()
                    });
                }
                Fetched::Modified {
                    body,
                    url,
                    validators,
                    hints,
                } => (body, url, validators, hints),
            };
        let parsed = parse_feed(&body, &url, source, self.clock.now()).map_err(|e| Failure {
            message: format!("cannot parse {url}: {e}"),
            retryable: false,
            retry_after: None,
        })?;
        drop(body);
        let mut stored = Stored {
            validators: Some(new_validators),
            hints,
            ttl: parsed.ttl,
            ..Stored::default()
        };
        let seen = u32::try_from(parsed.entries.len() + parsed.skipped.len() + parsed.duplicates)
            .unwrap_or(u32::MAX);
        for item in parsed.entries {
            let jobs = (self.planner.plan)(&item);
            let planned = !jobs.is_empty();
            match self.store.upsert_upstream(item, jobs).await {
                Ok((Upsert::Inserted, _)) => {
                    stored.inserted += 1;
                    // Wake the deliverers once the jobs are stored, not before.
                    if planned {
                        (self.planner.stored)();
                    }
                }
                Ok((Upsert::Updated, _)) => stored.updated += 1,
                Ok((Upsert::Unchanged, _)) => stored.unchanged += 1,
                Err(e) => {
                    // What was stored stays stored, but the validators must
                    // not move: the next poll fetches the document again.
                    if stored.inserted + stored.updated > 0 {
                        self.notify.notify_one();
                    }
                    return Err(Failure {
                        message: format!("cannot store entries: {e}"),
                        retryable: true,
                        retry_after: None,
                    });
                }
            }
        }
        stored.parsed = Some((parsed.skipped, seen));
        Ok(stored)
    }

    /// The next poll after a success at `now`.
    pub fn next_after_success(
        &self,
        source: &Source,
        now: DateTime<Utc>,
        hints: &CacheHints,
        ttl: Option<Duration>,
    ) -> DateTime<Utc> {
        let mut next = now + to_chrono(self.cfg.min_interval);
        if let Some(fire) = source.schedule.after(&now).next() {
            next = next.max(fire);
        }
        let hint = hints.freshness().into_iter().chain(ttl).max();
        if let Some(h) = hint {
            next = next.max(now + to_chrono(h.min(self.cfg.max_cache_delay)));
        }
        next
    }

    /// The next poll after the `failures`-th consecutive failure at `now`.
    pub fn next_after_failure(
        &self,
        now: DateTime<Utc>,
        failures: u32,
        retry_after: Option<Duration>,
    ) -> DateTime<Utc> {
        let cap = backoff_cap(self.cfg.backoff_base, self.cfg.backoff_max, failures);
        let floor = BACKOFF_FLOOR.min(self.cfg.backoff_base);
        let mut delay = (self.jitter)(cap).min(cap).max(floor);
        if let Some(ra) = retry_after {
            delay = delay.max(ra.min(self.cfg.max_cache_delay));
        }
        now + to_chrono(delay)
    }
}

/// `min(max, base × 2^(failures−1))`.
pub fn backoff_cap(base: Duration, max: Duration, failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(32);
    base.saturating_mul(1u32 << exp.min(31)).min(max)
}

/// Uniform in `[0, cap]`.
fn full_jitter(cap: Duration) -> Duration {
    let ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=ms))
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Duration::from_secs(60);
        let m = Duration::from_secs(3600);
        let caps: Vec<u64> = (1..=9).map(|f| backoff_cap(b, m, f).as_secs()).collect();
        assert_eq!(caps, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(backoff_cap(b, m, 0).as_secs(), 60);
        assert_eq!(backoff_cap(b, m, u32::MAX), m);
    }

    #[test]
    fn full_jitter_stays_within_the_cap() {
        let cap = Duration::from_secs(10);
        let draws: Vec<Duration> = (0..200).map(|_| full_jitter(cap)).collect();
        assert!(draws.iter().all(|d| *d <= cap));
        // Not a constant: full jitter spreads retries.
        assert!(draws.iter().any(|d| *d != draws[0]));
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-27T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let c = TokioClock::starting_at(t0);
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!(c.now(), t0 + chrono::Duration::seconds(90));
    }
}
