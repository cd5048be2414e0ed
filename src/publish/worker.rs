//! Delivery: one worker per account drains that account's due outbox jobs,
//! one at a time, and decides what every failure class means.
//!
//! Retries live here, not in the clients: rate limits and quotas pause the
//! whole account until their reset; transient and unknown failures back off
//! exponentially with full jitter and a cap; an unknown outcome is reconciled
//! (the post is looked up) before any retry; a rejected access token is
//! refreshed once, and if that fails the account is parked with one alert
//! until staff resume it; duplicates are reconciled; permanent failures and
//! spent attempts make the job dead, with its error, until staff act.

use super::outbox::{AccountState, Job, JobKind, JobState};
use super::platform::{DeliveryError, Outgoing, Posted, Publisher};
use crate::config::{Account, Config};
use crate::model::{MediaKind, NewsItem};
use crate::sources::upstream::sanitize::html_to_text;
use crate::store::{DynStore, StoreError};
use crate::telemetry::Metrics;
use chrono::{DateTime, Utc};
use rand::Rng;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// Compose what `account` posts for `item` (`None`: no title in its language).
pub fn outgoing(
    config: &Config,
    account: &Account,
    item: &NewsItem,
    job: &Job,
) -> Option<Outgoing> {
    let title = item.title.get(account.lang)?.to_string();
    let summary = item
        .body
        .get(account.lang)
        .map(html_to_text)
        .unwrap_or_default();
    let first = |kind: MediaKind| item.media.iter().find(|m| m.kind == kind).cloned();
    Some(Outgoing {
        job_id: job.id,
        item_id: item.id,
        lang: account.lang,
        title,
        summary,
        link: item.permalink(&config.public_base_url),
        hashtags: account.hashtags.clone(),
        image: first(MediaKind::Image),
        video: first(MediaKind::Video),
        since: job.created_at,
    })
}

/// Full-jitter exponential backoff: a random delay in
/// `[0, min(max, base · 2^(attempts-1))]`, at least one second.
pub fn backoff(base: Duration, max: Duration, attempts: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let cap = exp.min(max);
    let ms = rand::rng().random_range(0..=cap.as_millis().max(1) as u64);
    Duration::from_millis(ms).max(Duration::from_secs(1).min(cap))
}

/// What one step of a worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A job was processed; look again at once.
    Worked,
    /// Nothing due; wake at this time (or on a notification).
    Idle(Option<DateTime<Utc>>),
}

/// Delivers outbox jobs for every configured account.
pub struct Deliverer {
    config: Arc<Config>,
    store: DynStore,
    publishers: BTreeMap<String, Arc<dyn Publisher>>,
    metrics: Arc<Metrics>,
    wakes: BTreeMap<String, Arc<Notify>>,
    /// Bumped after every processed job (tests and the sandbox watch it).
    progress: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("accounts", &self.publishers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Deliverer {
    /// A deliverer for these publishers (by account id).
    pub fn new(
        config: Arc<Config>,
        store: DynStore,
        publishers: BTreeMap<String, Arc<dyn Publisher>>,
        metrics: Arc<Metrics>,
    ) -> Deliverer {
        let wakes = publishers
            .keys()
            .map(|k| (k.clone(), Arc::new(Notify::new())))
            .collect();
        Deliverer {
            config,
            store,
            publishers,
            metrics,
            wakes,
            progress: tokio::sync::watch::channel(0).0,
        }
    }

    /// Changes after every processed job.
    pub fn progress(&self) -> tokio::sync::watch::Receiver<u64> {
        self.progress.subscribe()
    }

    /// The publisher of an account.
    pub fn publisher(&self, account_id: &str) -> Option<&Arc<dyn Publisher>> {
        self.publishers.get(account_id)
    }

    /// Wake every worker (new jobs, retries, resumed accounts).
    pub fn wake(&self) {
        for n in self.wakes.values() {
            n.notify_one();
        }
    }

    /// Start one worker per account on `tracker`, until `token` is cancelled.
    pub fn spawn(self: Arc<Self>, tracker: &TaskTracker, token: CancellationToken) {
        for id in self.publishers.keys() {
            let this = self.clone();
            let id = id.clone();
            let token = token.clone();
            let span = tracing::info_span!("deliver", account = %id);
            tracker.spawn(async move { this.run(id, token).await }.instrument(span));
        }
    }

    async fn run(self: Arc<Self>, account: String, token: CancellationToken) {
        let Some(wake) = self.wakes.get(&account).cloned() else {
            return;
        };
        loop {
            if token.is_cancelled() {
                break;
            }
            // A job in progress finishes even when shutdown starts: the app
            // gives it `shutdown_grace`, and a crash is reconciled later.
            let step = self.step(&account).await;
            let until = match step {
                Ok(Step::Worked) => continue,
                Ok(Step::Idle(until)) => until,
                Err(e) => {
                    tracing::error!(error = %e, "outbox store failed; retrying in 5s");
                    Some(Utc::now() + chrono::Duration::seconds(5))
                }
            };
            let sleep = async {
                match until {
                    Some(t) => {
                        let d = (t - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                        tokio::time::sleep(d).await
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = token.cancelled() => break,
                _ = wake.notified() => {}
                _ = sleep => {}
            }
        }
    }

    /// Process the account's next due job, if any.
    pub async fn step(&self, account_id: &str) -> Result<Step, StoreError> {
        let Some(publisher) = self.publishers.get(account_id).cloned() else {
            return Ok(Step::Idle(None));
        };
        let state = self
            .store
            .account_state(account_id)
            .await?
            .unwrap_or_else(|| AccountState {
                id: account_id.to_string(),
                ..Default::default()
            });
        if state.needs_reauth.is_some() {
            return Ok(Step::Idle(None));
        }
        let now = Utc::now();
        if let Some(p) = state.paused_until.filter(|p| *p > now) {
            return Ok(Step::Idle(Some(p)));
        }
        let mut open: Vec<Job> = self
            .store
            .all_jobs()
            .await?
            .into_iter()
            .filter(|j| j.account_id == account_id && j.state.is_open())
            .collect();
        self.metrics.set(
            "musharaka_outbox_open_jobs",
            &[("account", account_id)],
            open.len() as f64,
        );
        // A job found in flight was interrupted (one worker per account):
        // it is due at once, to be reconciled.
        open.sort_by_key(|j| {
            let due = if j.state == JobState::InFlight {
                DateTime::<Utc>::MIN_UTC
            } else {
                j.next_attempt_at
            };
            (due, j.id)
        });
        let Some(job) = open.into_iter().next() else {
            return Ok(Step::Idle(None));
        };
        if job.state != JobState::InFlight && job.next_attempt_at > now {
            return Ok(Step::Idle(Some(job.next_attempt_at)));
        }
        let span = tracing::info_span!("job", id = %job.id, item = %job.item_id, attempt = job.attempts + 1);
        let result = self
            .process(job, publisher.as_ref(), state)
            .instrument(span)
            .await;
        self.progress.send_modify(|n| *n += 1);
        result?;
        Ok(Step::Worked)
    }

    async fn save(&self, job: &mut Job) -> Result<(), StoreError> {
        job.revision += 1;
        job.updated_at = Utc::now();
        self.store.put_jobs(std::slice::from_ref(job)).await
    }

    async fn process(
        &self,
        mut job: Job,
        publisher: &dyn Publisher,
        account_state: AccountState,
    ) -> Result<(), StoreError> {
        let Some(item) = self.store.get_news(job.item_id).await? else {
            return self
                .finish(job, JobState::Dead, "the news item no longer exists")
                .await;
        };
        let Some(account) = self.config.accounts.get(&job.account_id) else {
            return self
                .finish(job, JobState::Dead, "the account is no longer configured")
                .await;
        };
        match job.kind.clone() {
            JobKind::Publish => {
                self.publish(job, publisher, account, &item, account_state)
                    .await
            }
            JobKind::Delete { post_id } => {
                job.state = JobState::InFlight;
                job.attempts += 1;
                self.save(&mut job).await?;
                match publisher.delete(&post_id).await {
                    Ok(()) => {
                        self.metrics.inc(
                            "musharaka_deliveries_total",
                            &[("account", account.id.as_str()), ("outcome", "deleted")],
                        );
                        tracing::info!(post = %post_id, "post deleted");
                        self.finish(job, JobState::Deleted, "").await
                    }
                    // A repeated delete of a post that is gone is done.
                    Err(DeliveryError::Permanent { detail }) if job.attempts > 1 => {
                        self.finish(
                            job,
                            JobState::Deleted,
                            &format!("treated as deleted: {detail}"),
                        )
                        .await
                    }
                    Err(e) => self.failed(job, e, account_state).await,
                }
            }
        }
    }

    async fn publish(
        &self,
        mut job: Job,
        publisher: &dyn Publisher,
        account: &Account,
        item: &NewsItem,
        account_state: AccountState,
    ) -> Result<(), StoreError> {
        let Some(post) = outgoing(&self.config, account, item, &job) else {
            return self
                .finish(
                    job,
                    JobState::Skipped,
                    "the item has no title in the account's language",
                )
                .await;
        };
        if job.state.needs_reconcile() {
            match publisher.find(&post).await {
                Ok(Some(found)) => {
                    tracing::info!(post = %found.id, "reconciled: the post exists; adopted");
                    return self.posted(job, found, true, item).await;
                }
                Ok(None) => tracing::info!("reconciled: the post does not exist"),
                Err(e) => return self.failed(job, e, account_state).await,
            }
        }
        if item.retracted_at.is_some() {
            return self
                .finish(
                    job,
                    JobState::Cancelled,
                    "the item was retracted before it was posted",
                )
                .await;
        }
        let now = Utc::now();
        if item.published_at > now {
            job.state = JobState::Pending;
            job.next_attempt_at = item.published_at;
            return self.save(&mut job).await;
        }
        if let Some(reason) = publisher.skip_reason(&post) {
            self.metrics.inc(
                "musharaka_deliveries_total",
                &[("account", account.id.as_str()), ("outcome", "skipped")],
            );
            return self.finish(job, JobState::Skipped, &reason).await;
        }
        // Claim durably before sending: a crash from here on is reconciled.
        job.state = JobState::InFlight;
        job.attempts += 1;
        self.save(&mut job).await?;
        let mut refreshed = false;
        loop {
            match publisher.publish(&post).await {
                Ok(posted) => return self.posted(job, posted, false, item).await,
                Err(DeliveryError::AuthExpired { detail }) if !refreshed => {
                    refreshed = true;
                    tracing::info!(%detail, "access token rejected; refreshing once");
                    if let Err(e) = publisher.refresh_auth().await {
                        return self.failed(job, e, account_state).await;
                    }
                }
                Err(DeliveryError::Duplicate { detail }) => {
                    return self
                        .duplicate(job, publisher, &post, detail, item, account_state)
                        .await;
                }
                Err(e) => return self.failed(job, e, account_state).await,
            }
        }
    }

    async fn duplicate(
        &self,
        job: Job,
        publisher: &dyn Publisher,
        post: &Outgoing,
        detail: String,
        item: &NewsItem,
        account_state: AccountState,
    ) -> Result<(), StoreError> {
        match publisher.find(post).await {
            Ok(Some(found)) => {
                tracing::info!(post = %found.id, "the platform says duplicate and the post exists: adopted");
                self.posted(job, found, true, item).await
            }
            Ok(None) => {
                self.finish(
                    job,
                    JobState::Dead,
                    &format!("duplicate content, and no earlier post found: {detail}"),
                )
                .await
            }
            Err(e) => self.failed(job, e, account_state).await,
        }
    }

    async fn posted(
        &self,
        mut job: Job,
        posted: Posted,
        adopted: bool,
        item: &NewsItem,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        tracing::info!(post = %posted.id, url = %posted.url, adopted, "posted");
        job.state = JobState::Posted;
        job.post = Some(posted.clone());
        job.posted_at = Some(now);
        job.adopted = adopted;
        self.save(&mut job).await?;
        self.metrics.inc(
            "musharaka_deliveries_total",
            &[
                ("account", job.account_id.as_str()),
                ("outcome", if adopted { "adopted" } else { "posted" }),
            ],
        );
        // Retracted while this post was in flight: take it down again.
        let retracted = self
            .store
            .get_news(item.id)
            .await?
            .is_some_and(|i| i.retracted_at.is_some());
        let deletes = self
            .config
            .accounts
            .get(&job.account_id)
            .is_some_and(|a| a.delete_on_retract);
        if retracted && deletes {
            let del = Job::new(
                item.id,
                &job.account_id,
                JobKind::Delete { post_id: posted.id },
                now,
                now,
            );
            self.store.put_jobs(&[del]).await?;
        }
        Ok(())
    }

    async fn finish(&self, mut job: Job, state: JobState, reason: &str) -> Result<(), StoreError> {
        if state == JobState::Dead {
            tracing::warn!(%reason, "job is dead; it stays until staff retry or cancel it");
            self.metrics.inc(
                "musharaka_deliveries_total",
                &[("account", job.account_id.as_str()), ("outcome", "dead")],
            );
        }
        job.state = state;
        if !reason.is_empty() {
            job.last_error = Some(reason.to_string());
        }
        self.save(&mut job).await
    }

    async fn failed(
        &self,
        mut job: Job,
        e: DeliveryError,
        mut account: AccountState,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let cfg = &self.config.publish;
        let claimed = job.state == JobState::InFlight;
        job.last_error = Some(e.to_string());
        job.last_error_class = Some(e.class().to_string());
        self.metrics.inc(
            "musharaka_delivery_errors_total",
            &[("account", job.account_id.as_str()), ("class", e.class())],
        );
        // Where the job goes: a claimed attempt that certainly did not act
        // goes back to Pending; one that may have acted becomes Unknown; a
        // failed reconciliation stays Unknown.
        let not_acted = if claimed {
            JobState::Pending
        } else {
            job.state
        };
        match &e {
            DeliveryError::RateLimited { until, .. }
            | DeliveryError::QuotaExhausted { until, .. } => {
                // A reset in the past (clock skew, rounding) still waits a
                // moment: never answer a 429 with an immediate retry.
                let until = (*until).max(now + chrono::Duration::seconds(1));
                tracing::warn!(error = %e, %until, "account paused until the limit resets");
                job.state = not_acted;
                job.next_attempt_at = until;
                // A limit is not the job's fault: it does not spend an attempt.
                if claimed {
                    job.attempts = job.attempts.saturating_sub(1);
                }
                account.paused_until = Some(until);
                self.store.put_account_state(&account).await?;
            }
            DeliveryError::Transient { .. } => {
                job.state = not_acted;
                job.next_attempt_at = now
                    + to_chrono(backoff(
                        cfg.backoff_base,
                        cfg.backoff_max,
                        job.attempts.max(1),
                    ));
            }
            DeliveryError::Unknown { .. } => {
                tracing::warn!(error = %e, "outcome unknown; will reconcile before any retry");
                job.state = JobState::Unknown;
                job.next_attempt_at = now
                    + to_chrono(backoff(
                        cfg.backoff_base,
                        cfg.backoff_max,
                        job.attempts.max(1),
                    ));
            }
            DeliveryError::AuthExpired { .. } | DeliveryError::Reauthorize { .. } => {
                if account.needs_reauth.is_none() {
                    // The one alert: the account waits for staff, no retries meanwhile.
                    tracing::error!(account = %job.account_id, error = %e,
                        "account needs re-authorization; its deliveries are parked until staff resume it");
                    self.metrics.set(
                        "musharaka_account_needs_reauth",
                        &[("account", job.account_id.as_str())],
                        1.0,
                    );
                    account.needs_reauth = Some(e.to_string());
                    account.needs_reauth_since = Some(now);
                    self.store.put_account_state(&account).await?;
                }
                job.state = not_acted;
                if claimed {
                    job.attempts = job.attempts.saturating_sub(1);
                }
                job.next_attempt_at = now;
            }
            DeliveryError::Duplicate { .. } | DeliveryError::Permanent { .. } => {
                return self.finish(job, JobState::Dead, &e.to_string()).await;
            }
        }
        if job.state.is_open() && job.attempts >= cfg.max_attempts {
            let reason = format!("gave up after {} attempts: {e}", job.attempts);
            return self.finish(job, JobState::Dead, &reason).await;
        }
        self.save(&mut job).await
    }
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
