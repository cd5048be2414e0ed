//! Integration tests of the upstream stage against a local axum server on
//! 127.0.0.1:0 and the real sled store.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, TimeZone, Utc};
use futures_util::StreamExt;
use musharaka::config::{FetchConfig, Source};
use musharaka::model::{Lang, SourceState};
use musharaka::sources::upstream::poll::{
    Clock, Jitter, PollOutcome, PollReport, Poller, TokioClock,
};
use musharaka::store::DynStore;
use musharaka::store::sled::SledStore;
use musharaka::telemetry::Metrics;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use url::Url;

const MOH: &str = include_str!("../fixtures/upstream/moh-ar.rss");
const MB: u64 = 1024 * 1024;

#[derive(Default)]
struct Seen {
    requests: Mutex<Vec<(String, HeaderMap)>>,
    bomb_bytes: AtomicU64,
}

fn record(seen: &Seen, path: &str, h: &HeaderMap) {
    seen.requests
        .lock()
        .unwrap()
        .push((path.to_string(), h.clone()));
}

async fn healthy(State(seen): State<Arc<Seen>>, h: HeaderMap) -> Response {
    record(&seen, "/healthy", &h);
    if h.get(header::IF_NONE_MATCH).is_some_and(|v| v == "\"v1\"") {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::ETAG, "\"v1\""),
            (header::LAST_MODIFIED, "Fri, 27 Nov 2026 09:30:00 GMT"),
            (header::CONTENT_TYPE, "application/rss+xml"),
        ],
        MOH,
    )
        .into_response()
}

fn server(seen: Arc<Seen>) -> Router {
    Router::new()
        .route("/healthy", get(healthy))
        .route(
            "/429",
            get(|| async { (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "7200")], "slow down") }),
        )
        .route("/500", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "oops") }))
        .route("/404", get(|| async { (StatusCode::NOT_FOUND, "gone") }))
        .route(
            "/drip",
            get(|| async {
                let s = futures_util::stream::unfold(0u32, |i| async move {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    Some((Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"<")), i + 1))
                });
                Body::from_stream(s)
            }),
        )
        .route(
            "/big",
            get(|| async {
                // 2 MiB without a Content-Length, in 64 KiB chunks.
                let s = futures_util::stream::iter(
                    (0..32).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 64 * 1024]))),
                );
                Body::from_stream(s)
            }),
        )
        .route(
            "/bomb",
            get(|State(seen): State<Arc<Seen>>| async move {
                // 1 GiB of zeros as 1024 gzip members of 1 MiB each (~1 KiB
                // compressed apiece, ~1 MiB in all), streamed lazily.
                let member = bomb_member();
                let s = futures_util::stream::iter(0..1024).map(move |_| {
                    seen.bomb_bytes.fetch_add(MB, Ordering::SeqCst);
                    Ok::<_, std::io::Error>(member.clone())
                });
                ([(header::CONTENT_ENCODING, "gzip")], Body::from_stream(s))
            }),
        )
        .route(
            "/laughs",
            get(|| async {
                r#"<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><rss version="2.0"><channel><title>&lol9;</title><link>https://x.om/</link><description>d</description><item><title>&lol9;</title><link>https://x.om/1</link></item></channel></rss>"#
            }),
        )
        .route(
            "/xxe",
            get(|| async {
                r#"<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><title>t</title><link>https://x.om/</link><description>d</description><item><title>&xxe;</title><link>https://x.om/1</link></item></channel></rss>"#
            }),
        )
        .route(
            "/badutf8",
            get(|| async { &b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss>\xC3\x28</rss>"[..] }),
        )
        .route(
            "/loop",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]) }),
        )
        .with_state(seen)
}

fn bomb_member() -> bytes::Bytes {
    static MEMBER: std::sync::OnceLock<bytes::Bytes> = std::sync::OnceLock::new();
    MEMBER
        .get_or_init(|| {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(&vec![0u8; MB as usize]).unwrap();
            bytes::Bytes::from(enc.finish().unwrap())
        })
        .clone()
}

async fn start(seen: Arc<Seen>) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, server(seen)).await.unwrap() });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

fn fetch_config() -> FetchConfig {
    FetchConfig {
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(3),
        read_timeout: Duration::from_millis(500),
        max_body_bytes: MB,
        max_redirects: 3,
        per_host_concurrency: 4,
        backoff_base: Duration::from_secs(60),
        backoff_max: Duration::from_secs(3600),
        min_interval: Duration::from_secs(60),
        max_cache_delay: Duration::from_secs(24 * 3600),
        ..FetchConfig::default()
    }
}

fn source(id: &str, url: Url) -> Source {
    Source {
        id: id.into(),
        url,
        schedule: "0 */15 * * * *".parse().unwrap(),
        schedule_text: "0 */15 * * * *".into(),
        language: Some(Lang::Ar),
        categories: vec![],
        utc_offset: 0,
        name: Some(format!("Source {id}")),
        cross_post: false,
        enabled: true,
        file: "feeds/test.toml".into(),
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    store: DynStore,
    metrics: Arc<Metrics>,
    notify: Arc<Notify>,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store: DynStore = Arc::new(SledStore::open(dir.path()).unwrap());
    Harness {
        _dir: dir,
        store,
        metrics: Arc::new(Metrics::new()),
        notify: Arc::new(Notify::new()),
    }
}

fn identity() -> Jitter {
    Arc::new(|d| d)
}

impl Harness {
    fn poller(&self, sources: Vec<Source>, cfg: &FetchConfig) -> Poller {
        Poller::new(
            sources,
            cfg,
            self.store.clone(),
            self.metrics.clone(),
            self.notify.clone(),
        )
        .unwrap()
        .with_jitter(identity())
    }
    async fn state(&self, id: &str) -> SourceState {
        self.store.source_state(id).await.unwrap().unwrap()
    }
}

#[tokio::test]
async fn conditional_get_returns_304_and_stores_nothing_again() {
    let seen = Arc::new(Seen::default());
    let base = start(seen.clone()).await;
    let h = harness();
    let p = h.poller(
        vec![source("moh", base.join("healthy").unwrap())],
        &fetch_config(),
    );

    let notified = h.notify.notified();
    let r1 = p.poll_once("moh").await.unwrap();
    assert_eq!(r1.outcome, PollOutcome::Fetched);
    assert_eq!((r1.inserted, r1.updated, r1.unchanged), (3, 0, 0));
    notified.await; // the render loop is woken
    let s1 = h.state("moh").await;
    assert_eq!(s1.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        s1.last_modified.as_deref(),
        Some("Fri, 27 Nov 2026 09:30:00 GMT")
    );
    assert_eq!(s1.entries_seen, 3);
    let items = h.store.all_news().await.unwrap();
    assert_eq!(items.len(), 3);

    let r2 = p.poll_once("moh").await.unwrap();
    assert_eq!(r2.outcome, PollOutcome::NotModified);
    assert_eq!((r2.inserted, r2.updated, r2.unchanged), (0, 0, 0));
    let reqs = seen.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 2);
    let first = &reqs[0].1;
    assert!(first.get(header::IF_NONE_MATCH).is_none());
    assert_eq!(first.get(header::ACCEPT_ENCODING).unwrap(), "gzip, deflate");
    assert!(
        first
            .get(header::USER_AGENT)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Musharaka/")
    );
    let second = &reqs[1].1;
    assert_eq!(second.get(header::IF_NONE_MATCH).unwrap(), "\"v1\"");
    assert_eq!(
        second.get(header::IF_MODIFIED_SINCE).unwrap(),
        "Fri, 27 Nov 2026 09:30:00 GMT"
    );
    // Nothing was re-stored: same items, same revisions; validators kept.
    assert_eq!(h.store.all_news().await.unwrap(), items);
    let s2 = h.state("moh").await;
    assert_eq!(s2.etag, s1.etag);
    assert_eq!(s2.consecutive_failures, 0);
    assert!(s2.last_success >= s1.last_success);
    assert_eq!(
        h.metrics.get(
            "musharaka_polls_total",
            &[("source", "moh"), ("outcome", "ok")]
        ),
        1.0
    );
    assert_eq!(
        h.metrics.get(
            "musharaka_polls_total",
            &[("source", "moh"), ("outcome", "not_modified")]
        ),
        1.0
    );
    assert_eq!(
        h.metrics.get(
            "musharaka_upstream_entries_total",
            &[("source", "moh"), ("outcome", "inserted")]
        ),
        3.0
    );
}

#[tokio::test]
async fn retry_after_and_server_errors_back_off_without_touching_others() {
    let seen = Arc::new(Seen::default());
    let base = start(seen.clone()).await;
    let h = harness();
    let p = h.poller(
        vec![
            source("healthy", base.join("healthy").unwrap()),
            source("limited", base.join("429").unwrap()),
            source("broken", base.join("500").unwrap()),
            source("gone", base.join("404").unwrap()),
        ],
        &fetch_config(),
    );
    let r = p.poll_once("limited").await.unwrap();
    assert!(
        matches!(
            r.outcome,
            PollOutcome::Failed {
                retryable: true,
                ..
            }
        ),
        "{r:?}"
    );
    let s = h.state("limited").await;
    assert_eq!(s.consecutive_failures, 1);
    assert!(
        s.last_error.as_deref().unwrap().contains("HTTP 429"),
        "{:?}",
        s.last_error
    );
    // Retry-After (2 h) beats the 60 s backoff.
    assert_eq!(
        s.next_poll.unwrap() - s.last_error_at.unwrap(),
        chrono::Duration::seconds(7200)
    );

    // 5xx: the backoff doubles with each failure (identity jitter).
    let mut delays = Vec::new();
    for n in 1..=4 {
        p.poll_once("broken").await.unwrap();
        let s = h.state("broken").await;
        assert_eq!(s.consecutive_failures, n);
        delays.push((s.next_poll.unwrap() - s.last_error_at.unwrap()).num_seconds());
    }
    assert_eq!(delays, [60, 120, 240, 480]);
    assert_eq!(
        h.metrics.get(
            "musharaka_poll_errors_total",
            &[("source", "broken"), ("class", "retry")]
        ),
        4.0
    );
    assert_eq!(
        h.metrics.get(
            "musharaka_source_consecutive_failures",
            &[("source", "broken")]
        ),
        4.0
    );

    p.poll_once("gone").await.unwrap();
    assert_eq!(
        h.metrics.get(
            "musharaka_poll_errors_total",
            &[("source", "gone"), ("class", "permanent")]
        ),
        1.0
    );

    // The healthy source is unaffected.
    let r = p.poll_once("healthy").await.unwrap();
    assert_eq!(r.outcome, PollOutcome::Fetched);
    let s = h.state("healthy").await;
    assert_eq!(s.consecutive_failures, 0);
    assert_eq!(s.last_error, None);
    // Success resets the counter.
    assert_eq!(h.state("broken").await.consecutive_failures, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_sources_fail_alone_and_fast() {
    let seen = Arc::new(Seen::default());
    let base = start(seen.clone()).await;
    let h = harness();
    let cases: &[(&str, &str)] = &[
        ("drip", "timed out"),
        ("big", "exceeds the limit of 1048576 bytes"),
        ("bomb", "exceeds the limit of 1048576 bytes"),
        ("laughs", "DOCTYPE with an internal subset"),
        ("xxe", "DOCTYPE with an internal subset"),
        ("badutf8", "invalid UTF-8 at byte 43"),
        ("loop", "too many redirects"),
    ];
    let mut sources: Vec<Source> = cases
        .iter()
        .map(|(id, _)| source(id, base.join(id).unwrap()))
        .collect();
    sources.push(source("healthy", base.join("healthy").unwrap()));
    let p = Arc::new(h.poller(sources, &fetch_config()));

    // Poll all of them concurrently, as the daemon would.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for id in cases.iter().map(|(id, _)| *id).chain(["healthy"]) {
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            (id, p.poll_once(id).await.unwrap(), Instant::now())
        }));
    }
    let mut reports: Vec<(&str, PollReport, Instant)> = Vec::new();
    for t in tasks {
        reports.push(t.await.unwrap());
    }
    for (id, report, done) in &reports {
        let elapsed = done.duration_since(started);
        assert!(elapsed < Duration::from_secs(4), "{id} took {elapsed:?}");
        if *id == "healthy" {
            assert_eq!(report.outcome, PollOutcome::Fetched, "{report:?}");
            assert_eq!(report.inserted, 3);
            continue;
        }
        let want = cases.iter().find(|(c, _)| c == id).unwrap().1;
        let s = h.state(id).await;
        let err = s.last_error.clone().unwrap_or_default();
        assert!(err.contains(want), "{id}: {err}");
        assert_eq!(s.consecutive_failures, 1, "{id}");
        assert_eq!(s.etag, None, "{id}");
        assert!(matches!(report.outcome, PollOutcome::Failed { .. }), "{id}");
        assert!(!err.contains("root:"), "{id}: {err}");
    }
    // The drip fails on the between-bytes limit (0.5 s), not after seconds.
    let drip = reports.iter().find(|r| r.0 == "drip").unwrap();
    assert!(drip.2.duration_since(started) < Duration::from_secs(2));
    // The bomb (1 GiB inflated) failed at the 1 MiB cap within moments; the
    // decoder's buffer never exceeds the cap (see fetch.rs unit tests).
    let bomb = reports.iter().find(|r| r.0 == "bomb").unwrap();
    assert!(bomb.2.duration_since(started) < Duration::from_secs(2));
    assert!(
        seen.bomb_bytes.load(Ordering::SeqCst) > 0,
        "the bomb was served"
    );
    // Only the healthy source's entries were stored; no file was read.
    let items = h.store.all_news().await.unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| i.source_id() == Some("healthy")));
    assert!(h.state("healthy").await.last_error.is_none());
}

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, h, m, s).unwrap()
}

#[tokio::test(start_paused = true)]
async fn schedule_follows_cron_then_backs_off_and_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("moh.rss");
    std::fs::write(&feed, MOH).unwrap();
    let h = harness();
    let clock = Arc::new(TokioClock::starting_at(at(9, 7, 0)));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let poller = Arc::new(
        h.poller(
            vec![source("moh", Url::from_file_path(&feed).unwrap())],
            &fetch_config(),
        )
        .with_clock(clock.clone())
        .with_reports(tx),
    );
    let tracker = tokio_util::task::TaskTracker::new();
    let token = tokio_util::sync::CancellationToken::new();
    poller.clone().spawn(&tracker, token.clone());

    // A new source is polled at once; then on the cron schedule (every 15 min).
    let r1 = rx.recv().await.unwrap();
    assert_eq!(r1.outcome, PollOutcome::Fetched);
    assert_eq!(r1.inserted, 3);
    assert_eq!(r1.next_poll, at(9, 15, 0));
    let r2 = rx.recv().await.unwrap();
    assert_eq!(clock.now(), at(9, 15, 0));
    assert_eq!(r2.outcome, PollOutcome::NotModified);
    assert_eq!(r2.next_poll, at(9, 30, 0));

    // The file disappears: backoff 60 s, 120 s, 240 s (identity jitter).
    std::fs::remove_file(&feed).unwrap();
    let r3 = rx.recv().await.unwrap();
    assert!(matches!(r3.outcome, PollOutcome::Failed { .. }));
    assert_eq!(r3.next_poll, at(9, 31, 0));
    let r4 = rx.recv().await.unwrap();
    assert_eq!(r4.next_poll, at(9, 33, 0));
    let r5 = rx.recv().await.unwrap();
    assert_eq!(r5.next_poll, at(9, 37, 0));
    assert_eq!(h.state("moh").await.consecutive_failures, 3);

    // Restart: the stored next_poll (09:37) is honoured, not polled at once.
    token.cancel();
    tracker.close();
    tracker.wait().await;
    std::fs::write(&feed, MOH).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let poller = Arc::new(
        h.poller(
            vec![source("moh", Url::from_file_path(&feed).unwrap())],
            &fetch_config(),
        )
        .with_clock(clock.clone())
        .with_reports(tx),
    );
    let tracker = tokio_util::task::TaskTracker::new();
    let token = tokio_util::sync::CancellationToken::new();
    poller.spawn(&tracker, token.clone());
    let r6 = rx.recv().await.unwrap();
    assert_eq!(clock.now(), at(9, 37, 0));
    assert_eq!(r6.outcome, PollOutcome::Fetched);
    assert_eq!(r6.unchanged, 3);
    assert_eq!(r6.next_poll, at(9, 45, 0));
    assert_eq!(h.state("moh").await.consecutive_failures, 0);
    token.cancel();
    tracker.close();
    tracker.wait().await;
}
