//! Delivery benchmark: the daemon in-process with the three platform fakes
//! (X, Facebook, YouTube) on loopback, driven through the real admin API.
//!
//! 1. Latency: `BENCH_DELIVERY_ITEMS` items (default 200) are created one at
//!    a time, each with a video served by the YouTube fake so that all three
//!    accounts post it. For each account, the time from the create's 201 to
//!    the moment its job is seen `posted` in `GET /news/{id}/deliveries`
//!    (polled only when the deliverer's progress signal changes). Reported
//!    as p50/p90/p99/max per platform.
//! 2. Throughput: a fresh daemon with only the X account, the X fake limited
//!    to `BENCH_DELIVERY_LIMIT` posts (default 50) per
//!    `BENCH_DELIVERY_WINDOW_MS` (default 2000); `BENCH_DELIVERY_BURST`
//!    items (default 300) are created at once (8 concurrent creates) and the
//!    time until every job is posted gives posts/s. Also reported: the 429s
//!    the daemon received (`musharaka_delivery_errors_total`, class
//!    `rate_limited`; pausing until each reset gives one per window after the
//!    first) and whether the fake holds exactly one post per item.
//!
//! Run: `cargo bench --bench delivery`. It prints a summary table; it fails
//! only when deliveries do not complete or posts are missing or duplicated.

use futures_util::StreamExt;
use musharaka::app::{self, Running};
use musharaka::config::Config;
use musharaka::publish::platforms::facebook::FakeFacebook;
use musharaka::publish::platforms::x::FakeX;
use musharaka::publish::platforms::youtube::FakeYoutube;
use musharaka::shutdown::CancellationToken;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-admin-token-0123456789abcdef";
const ACCOUNTS: [&str; 3] = ["x-ar", "facebook-ar", "youtube-ar"];
/// Longest wait for one item's deliveries in the latency run.
const ITEM_LIMIT: Duration = Duration::from_secs(30);
/// Longest wait for the whole throughput run.
const BURST_LIMIT: Duration = Duration::from_secs(300);

const AR_CHANNEL: &str = r#"
id = "news-ar"
language = "ar"
title = "الأخبار"
description = "أخبار البوابة"
site_link = "https://portal.example.om/ar/news"
limit = 5
"#;

fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

fn account(id: &str, platform: &str, base: String, settings: toml::Table) -> toml::Value {
    let mut t = toml::Table::new();
    t.insert("id".into(), id.into());
    t.insert("platform".into(), platform.into());
    t.insert("language".into(), "ar".into());
    t.insert("base_url".into(), base.into());
    t.insert("hashtags".into(), toml::Value::Array(vec!["عمان".into()]));
    t.insert("settings".into(), toml::Value::Table(settings));
    toml::Value::Table(t)
}

/// Write the config, channel and token files into `dir` and start the
/// daemon on 127.0.0.1:0.
async fn start_daemon(dir: &Path, accounts: Vec<toml::Value>) -> Daemon {
    std::fs::create_dir_all(dir.join("feeds")).unwrap();
    std::fs::write(dir.join("feeds/ar.toml"), AR_CHANNEL).unwrap();
    std::fs::write(dir.join("admin.token"), TOKEN).unwrap();
    let mut root = toml::Table::new();
    root.insert("accounts".into(), toml::Value::Array(accounts));
    let text = format!(
        r#"
data_dir = "data"
feeds_dir = "feeds"
public_base_url = "http://feeds.example.om/"
[http]
listen = "127.0.0.1:0"
shutdown_grace = "5s"
[output]
dir = "public"
[[auth.tokens]]
name = "bench"
role = "admin"
file = "admin.token"
[publish]
backoff_base = "50ms"
backoff_max = "200ms"
timeout = "5s"
max_attempts = 6

{}"#,
        toml::to_string(&root).unwrap()
    );
    let path = dir.join("musharaka.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::load_with_env(&path, &BTreeMap::new()).expect("valid bench config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = app::start(config, listener, CancellationToken::new())
        .await
        .expect("daemon starts");
    Daemon {
        base: format!("http://{}", running.addr),
        running,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    }
}

struct Daemon {
    running: Running,
    base: String,
    http: reqwest::Client,
}

impl Daemon {
    fn url(&self, p: &str) -> String {
        format!("{}{p}", self.base)
    }

    /// Create an item; the id and the instant the 201 arrived.
    async fn create(&self, body: &Value) -> (String, Instant) {
        let resp = self
            .http
            .post(self.url("/api/v1/news"))
            .bearer_auth(TOKEN)
            .json(body)
            .send()
            .await
            .expect("POST /api/v1/news");
        let at = Instant::now();
        let status = resp.status();
        let v: Value = resp.json().await.expect("create response body");
        assert_eq!(status, 201, "create failed: {v}");
        (v["id"].as_str().expect("id").to_string(), at)
    }

    async fn get_json(&self, p: &str) -> Value {
        let resp = self
            .http
            .get(self.url(p))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {p}: {e}"));
        assert!(resp.status().is_success(), "GET {p}: {}", resp.status());
        resp.json().await.unwrap()
    }

    /// A sample of `/metrics` (0 when the series is absent).
    async fn metric(&self, series: &str) -> f64 {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    async fn stop(self) {
        self.running.shutdown().await.expect("clean shutdown");
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Phase 1: per-account latency from the create's 201 to `posted`.
async fn latency(items: usize) -> (BTreeMap<&'static str, Vec<Duration>>, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    let x = FakeX::start().await.unwrap();
    // No rate limit here (the default is 100 posts per 15 min).
    x.set_post_limit(u32::MAX, Duration::from_secs(3600));
    let fb = FakeFacebook::start().await.unwrap();
    let yt = FakeYoutube::start().await.unwrap();
    // An upload costs 1,600 units of the default 10,000 a day.
    yt.set_daily_quota(u64::MAX / 2);
    let video = yt.serve_video(vec![7u8; 300 * 1024]);
    let accounts = vec![
        account(
            "x-ar",
            "x",
            x.base_url().to_string(),
            x.settings(&secrets, "oauth2"),
        ),
        account(
            "facebook-ar",
            "facebook",
            fb.base_url(),
            fb.settings(&secrets),
        ),
        account(
            "youtube-ar",
            "youtube",
            yt.base_url().to_string(),
            yt.settings(&secrets),
        ),
    ];
    let d = start_daemon(dir.path(), accounts).await;
    let mut progress = d.running.state.deliverer.progress();
    let mut lat: BTreeMap<&'static str, Vec<Duration>> =
        ACCOUNTS.iter().map(|a| (*a, Vec::new())).collect();
    let started = Instant::now();
    for i in 1..=items {
        let body = json!({
            "title": {"ar": format!("افتتاح مركز خدمات المواطنين رقم {i}")},
            "body": {"ar": format!("<p>يفتح المركز {i} أبوابه يوم الأحد.</p>")},
            "media": [{"url": video.to_string(), "mime_type": "video/mp4"}]
        });
        let (id, created) = d.create(&body).await;
        let deadline = tokio::time::Instant::now() + ITEM_LIMIT;
        let mut seen: BTreeMap<String, Duration> = BTreeMap::new();
        loop {
            progress.borrow_and_update();
            let jobs = d.get_json(&format!("/api/v1/news/{id}/deliveries")).await;
            let now = Instant::now();
            let jobs = jobs.as_array().expect("a job list");
            assert_eq!(jobs.len(), ACCOUNTS.len(), "item {id}: {jobs:?}");
            for j in jobs {
                let account = j["account_id"].as_str().unwrap_or_default();
                match j["state"].as_str().unwrap_or_default() {
                    "posted" => {
                        seen.entry(account.to_string())
                            .or_insert_with(|| now - created);
                    }
                    "pending" | "in_flight" | "unknown" => {}
                    other => panic!("item {id}: {account} ended {other}: {j}"),
                }
            }
            if seen.len() == ACCOUNTS.len() {
                break;
            }
            if tokio::time::timeout_at(deadline, progress.changed())
                .await
                .is_err()
            {
                panic!("item {i} ({id}) not posted everywhere after {ITEM_LIMIT:?}: {jobs:?}");
            }
        }
        for (account, t) in seen {
            if let Some(v) = lat.get_mut(account.as_str()) {
                v.push(t);
            }
        }
    }
    let elapsed = started.elapsed();
    let live = |posts: Vec<musharaka::publish::fake::FakePost>| {
        posts.iter().filter(|p| !p.deleted).count()
    };
    let counts = [
        ("x", live(x.posts())),
        ("facebook", live(fb.posts())),
        ("youtube", live(yt.posts())),
    ];
    for (name, n) in counts {
        assert_eq!(
            n, items,
            "the {name} fake holds {n} posts for {items} items"
        );
    }
    d.stop().await;
    x.shutdown().await;
    fb.shutdown().await;
    yt.shutdown().await;
    (lat, elapsed)
}

struct Burst {
    items: usize,
    limit: u32,
    window: Duration,
    enqueue: Duration,
    all_posted: Duration,
    rate_limited: u64,
    fake_posts: usize,
    distinct: usize,
}

/// Phase 2: throughput of the X account against a rate-limited fake.
async fn throughput(items: usize, limit: u32, window: Duration) -> Burst {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    let x = FakeX::start().await.unwrap();
    x.set_post_limit(limit, window);
    let accounts = vec![account(
        "x-ar",
        "x",
        x.base_url().to_string(),
        x.settings(&secrets, "oauth2"),
    )];
    let d = start_daemon(dir.path(), accounts).await;
    let mut progress = d.running.state.deliverer.progress();
    let posted_series = r#"musharaka_deliveries_total{account="x-ar",outcome="posted"}"#;
    let started = Instant::now();
    let bodies: Vec<Value> = (1..=items)
        .map(|i| {
            json!({
                "title": {"ar": format!("إعلان خدمة إلكترونية جديدة رقم {i}")},
                "body": {"ar": format!("<p>تفاصيل الإعلان {i}.</p>")}
            })
        })
        .collect();
    let ids: Vec<String> = futures_util::stream::iter(bodies.iter())
        .map(|b| d.create(b))
        .buffer_unordered(8)
        .map(|(id, _)| id)
        .collect()
        .await;
    let enqueue = started.elapsed();
    let deadline = tokio::time::Instant::now() + BURST_LIMIT;
    loop {
        progress.borrow_and_update();
        let posted = d.metric(posted_series).await as usize;
        if posted >= items {
            break;
        }
        if tokio::time::timeout_at(deadline, progress.changed())
            .await
            .is_err()
        {
            panic!("only {posted} of {items} posted after {BURST_LIMIT:?}");
        }
    }
    let all_posted = started.elapsed();
    let rate_limited = d
        .metric(r#"musharaka_delivery_errors_total{account="x-ar",class="rate_limited"}"#)
        .await as u64;
    // Every item's one job is posted, and the fake has one post per item.
    let jobs = d.get_json("/api/v1/outbox?account=x-ar&limit=1000").await;
    let jobs = jobs.as_array().expect("a job list");
    let mut job_items = HashSet::new();
    for j in jobs {
        assert_eq!(j["state"], "posted", "{j}");
        assert!(job_items.insert(j["item_id"].to_string()), "two jobs: {j}");
    }
    assert_eq!(job_items.len(), ids.len(), "one job per item");
    let posts: Vec<_> = x.posts().into_iter().filter(|p| !p.deleted).collect();
    let distinct = ids
        .iter()
        .filter(|id| posts.iter().any(|p| p.carries(&format!("/news/{id}"))))
        .count();
    let fake_posts = posts.len();
    d.stop().await;
    x.shutdown().await;
    Burst {
        items,
        limit,
        window,
        enqueue,
        all_posted,
        rate_limited,
        fake_posts,
        distinct,
    }
}

#[tokio::main]
async fn main() {
    // Arguments (cargo passes `--bench`) are ignored.
    let items = env_num("BENCH_DELIVERY_ITEMS", 200) as usize;
    let burst = env_num("BENCH_DELIVERY_BURST", 300) as usize;
    let limit = env_num("BENCH_DELIVERY_LIMIT", 50) as u32;
    let window = Duration::from_millis(env_num("BENCH_DELIVERY_WINDOW_MS", 2000));
    assert!(
        items > 0 && burst > 0 && limit > 0,
        "counts must be positive"
    );

    eprintln!("delivery latency: {items} items, one at a time, to x, facebook and youtube");
    let (lat, elapsed) = latency(items).await;
    eprintln!("delivery throughput: {burst} items to x, limited to {limit} posts per {window:?}");
    let b = throughput(burst, limit, window).await;

    println!();
    println!(
        "Musharaka delivery benchmark ({} cores, {items} items one at a time; {burst}-item burst)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for account in ACCOUNTS {
        let mut v = lat[account].clone();
        v.sort();
        println!(
            "{:<40} p50 {}, p90 {}, p99 {}, max {} (201 to posted)",
            format!("delivery latency {account}"),
            ms(percentile(&v, 50.0)),
            ms(percentile(&v, 90.0)),
            ms(percentile(&v, 99.0)),
            ms(*v.last().unwrap()),
        );
    }
    println!(
        "{:<40} {:.1} items/s ({items} items in {:.2} s, create to all posted)",
        "delivery sequential round trips",
        items as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    let secs = b.all_posted.as_secs_f64();
    let windows = b.items.div_ceil(b.limit as usize);
    println!(
        "{:<40} {:.1} posts/s ({} posts in {:.2} s; limit {} per {:?} = {:.1}/s; enqueued in {:.2} s)",
        "delivery throughput x (rate-limited)",
        b.items as f64 / secs,
        b.items,
        secs,
        b.limit,
        b.window,
        b.limit as f64 / b.window.as_secs_f64(),
        b.enqueue.as_secs_f64()
    );
    println!(
        "{:<40} {} (expected: one per window after the first = {})",
        "delivery 429s received x",
        b.rate_limited,
        windows.saturating_sub(1)
    );
    println!(
        "{:<40} {} posts for {} items, {} distinct{}",
        "delivery fake x posts",
        b.fake_posts,
        b.items,
        b.distinct,
        if b.fake_posts == b.items && b.distinct == b.items {
            " (ok)"
        } else {
            " (MISMATCH)"
        }
    );
    if b.fake_posts != b.items || b.distinct != b.items {
        std::process::exit(1);
    }
}
