//! Cross-posting end to end, in-process: the daemon with the three platform
//! fakes on loopback. Each failure class of the outbox, and the invariants:
//! created together, posted once, reconciled before any retry, never lost.

use crate::harness::*;
use musharaka::publish::fake::{Fault, Target};
use musharaka::publish::platforms::facebook::FakeFacebook;
use musharaka::publish::platforms::x::FakeX;
use musharaka::publish::platforms::youtube::FakeYoutube;
use serde_json::{Value, json};
use std::time::Duration;

pub struct Fakes {
    pub x: FakeX,
    pub fb: FakeFacebook,
    pub yt: FakeYoutube,
}

impl Fakes {
    pub async fn start() -> Fakes {
        Fakes {
            x: FakeX::start().await.unwrap(),
            fb: FakeFacebook::start().await.unwrap(),
            yt: FakeYoutube::start().await.unwrap(),
        }
    }

    /// `[publish]` and `[[accounts]]` for a config, secrets under `dir`.
    pub fn config(&self, dir: &std::path::Path) -> String {
        let account = |id: &str, platform: &str, base: String, settings: toml::Table| {
            let mut t = toml::Table::new();
            t.insert("id".into(), id.into());
            t.insert("platform".into(), platform.into());
            t.insert("language".into(), "ar".into());
            t.insert("base_url".into(), base.into());
            t.insert("hashtags".into(), toml::Value::Array(vec!["عمان".into()]));
            t.insert("settings".into(), toml::Value::Table(settings));
            toml::Value::Table(t)
        };
        let accounts = vec![
            account(
                "x-ar",
                "x",
                self.x.base_url().to_string(),
                self.x.settings(dir, "oauth2"),
            ),
            account(
                "facebook-ar",
                "facebook",
                self.fb.base_url(),
                self.fb.settings(dir),
            ),
            account(
                "youtube-ar",
                "youtube",
                self.yt.base_url().to_string(),
                self.yt.settings(dir),
            ),
        ];
        let mut root = toml::Table::new();
        root.insert("accounts".into(), toml::Value::Array(accounts));
        format!(
            "[publish]\nbackoff_base = \"50ms\"\nbackoff_max = \"200ms\"\ntimeout = \"2s\"\nmax_attempts = 6\n\n{}",
            toml::to_string(&root).unwrap()
        )
    }
}

pub async fn install_with_fakes() -> (Install, Fakes) {
    let fakes = Fakes::start().await;
    let install = Install::new(&[("ar.toml", AR_CHANNEL), ("en.toml", EN_CHANNEL)], "");
    let secrets = install.path("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    let mut text = std::fs::read_to_string(&install.config).unwrap();
    text.push_str(&fakes.config(&secrets));
    std::fs::write(&install.config, text).unwrap();
    (install, fakes)
}

impl Daemon {
    pub async fn deliveries(&self, id: &str) -> Vec<Value> {
        serde_json::from_value(
            self.get_json(&format!("/api/v1/news/{id}/deliveries"), VIEWER_TOKEN)
                .await,
        )
        .unwrap()
    }

    /// Wait on the deliverer's progress signal until `pred` holds for the
    /// item's deliveries.
    pub async fn wait_deliveries(
        &self,
        id: &str,
        limit: Duration,
        pred: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let mut rx = self.running.state.deliverer.progress();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            rx.borrow_and_update();
            let d = self.deliveries(id).await;
            if pred(&d) {
                return d;
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                panic!("timed out waiting on deliveries of {id}: {d:#?}");
            }
        }
    }

    pub async fn create(&self, body: Value) -> (String, String) {
        let resp = self.post_news(body).await;
        assert_eq!(resp.status(), 201);
        let v: Value = resp.json().await.unwrap();
        let id = v["id"].as_str().unwrap().to_string();
        (id.clone(), format!("http://feeds.example.om/news/{id}"))
    }
}

fn states(d: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = d
        .iter()
        .map(|j| {
            (
                j["account_id"].as_str().unwrap().to_string(),
                j["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn all_in(d: &[Value], state: &str) -> bool {
    !d.is_empty() && d.iter().all(|j| j["state"] == state)
}

fn count(posts: &[musharaka::publish::fake::FakePost], marker: &str) -> usize {
    posts
        .iter()
        .filter(|p| !p.deleted && p.carries(marker))
        .count()
}

#[tokio::test]
async fn a_news_item_is_posted_once_to_every_account() {
    let (install, fakes) = install_with_fakes().await;
    let video = fakes.yt.serve_video(vec![7u8; 300 * 1024]);
    let d = install.start().await;
    let (id, link) = d
        .create(json!({
            "title": {"ar": "افتتاح مركز خدمات المواطنين"},
            "body": {"ar": "<p>يفتح المركز أبوابه يوم الأحد.</p>"},
            "media": [{"url": video.to_string(), "mime_type": "video/mp4"}]
        }))
        .await;
    // Created together: the jobs exist as soon as the item is acknowledged.
    let d0 = d.deliveries(&id).await;
    assert_eq!(d0.len(), 3, "{d0:#?}");
    let done = d
        .wait_deliveries(&id, Duration::from_secs(20), |d| all_in(d, "posted"))
        .await;
    for j in &done {
        assert!(j["post"]["id"].is_string(), "{j}");
        assert!(
            j["post"]["url"].as_str().unwrap().starts_with("https://"),
            "{j}"
        );
        assert_eq!(j["attempts"], 1);
        assert_eq!(j["adopted"], false);
    }
    assert_eq!(count(&fakes.x.posts(), &link), 1);
    assert_eq!(count(&fakes.fb.posts(), &link), 1);
    assert_eq!(count(&fakes.yt.posts(), &link), 1);
    let x = &fakes.x.posts()[0];
    assert!(
        x.text.contains("افتتاح مركز خدمات المواطنين") && x.text.contains("#عمان"),
        "{}",
        x.text
    );
    let metrics = d
        .http
        .get(d.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"musharaka_deliveries_total{account="x-ar",outcome="posted"} 1"#),
        "{metrics}"
    );
    d.stop().await;
}

#[tokio::test]
async fn youtube_skips_items_without_video_and_english_items_wait_for_english_accounts() {
    let (install, fakes) = install_with_fakes().await;
    let d = install.start().await;
    let (id, _) = d.create(json!({"title": {"ar": "خبر بلا فيديو"}})).await;
    let done = d
        .wait_deliveries(&id, Duration::from_secs(10), |d| {
            d.iter()
                .all(|j| j["state"] != "pending" && j["state"] != "in_flight")
        })
        .await;
    assert_eq!(
        states(&done),
        [
            ("facebook-ar".to_string(), "posted".to_string()),
            ("x-ar".to_string(), "posted".to_string()),
            ("youtube-ar".to_string(), "skipped".to_string()),
        ]
    );
    let yt = done
        .iter()
        .find(|j| j["account_id"] == "youtube-ar")
        .unwrap();
    assert!(
        yt["last_error"].as_str().unwrap().contains("no video"),
        "{yt}"
    );
    assert_eq!(fakes.yt.accepted(), 0);
    // An English-only item has no Arabic account to go to.
    let (id, _) = d.create(json!({"title": {"en": "English only"}})).await;
    assert!(d.deliveries(&id).await.is_empty());
    d.stop().await;
}

#[tokio::test]
async fn an_embargoed_item_is_posted_when_due_not_before() {
    let (install, fakes) = install_with_fakes().await;
    let d = install.start().await;
    let due = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let (id, link) = d
        .create(json!({"title": {"ar": "خبر مؤجل"}, "published_at": due.to_rfc3339()}))
        .await;
    let before = d.deliveries(&id).await;
    assert!(before.iter().all(|j| j["state"] == "pending"));
    assert_eq!(count(&fakes.x.posts(), &link), 0);
    d.wait_deliveries(&id, Duration::from_secs(10), |d| {
        d.iter().filter(|j| j["state"] == "posted").count() == 2
    })
    .await;
    let x = fakes.x.posts();
    assert!(x[0].created_at >= due, "posted before its embargo");
    d.stop().await;
}

#[tokio::test]
async fn a_dropped_connection_after_posting_is_reconciled_not_posted_again() {
    let (install, fakes) = install_with_fakes().await;
    // Without duplicate detection, only reconciliation prevents a second post.
    fakes.x.set_reject_duplicates(false);
    fakes.fb.set_reject_duplicates(false);
    fakes
        .x
        .faults()
        .inject(Target::Publish, Fault::DropAfterAct, 1);
    fakes
        .fb
        .faults()
        .inject(Target::Publish, Fault::DropAfterAct, 1);
    let d = install.start().await;
    let (id, link) = d.create(json!({"title": {"ar": "خبر انقطع اتصاله"}})).await;
    let done = d
        .wait_deliveries(&id, Duration::from_secs(20), |d| {
            d.iter().filter(|j| j["state"] == "posted").count() == 2
        })
        .await;
    for j in done.iter().filter(|j| j["state"] == "posted") {
        assert_eq!(j["adopted"], true, "{j}");
        assert_eq!(j["last_error_class"], "unknown", "{j}");
    }
    assert_eq!(count(&fakes.x.posts(), &link), 1);
    assert_eq!(count(&fakes.fb.posts(), &link), 1);
    assert_eq!(fakes.x.accepted(), 1);
    d.stop().await;
}

#[tokio::test]
async fn a_rate_limit_pauses_the_account_until_its_reset() {
    let (install, fakes) = install_with_fakes().await;
    fakes
        .x
        .faults()
        .inject(Target::Publish, Fault::RateLimit(Duration::from_secs(2)), 1);
    let d = install.start().await;
    let started = chrono::Utc::now();
    let (id, link) = d.create(json!({"title": {"ar": "خبر محدود"}})).await;
    let done = d
        .wait_deliveries(&id, Duration::from_secs(20), |d| {
            d.iter()
                .any(|j| j["account_id"] == "x-ar" && j["state"] == "posted")
        })
        .await;
    let x = done.iter().find(|j| j["account_id"] == "x-ar").unwrap();
    assert_eq!(x["last_error_class"], "rate_limited");
    assert_eq!(x["attempts"], 1, "a rate limit does not spend an attempt");
    let posted = fakes.x.posts()[0].created_at;
    assert!(
        posted - started >= chrono::Duration::milliseconds(900),
        "did not wait for the reset"
    );
    assert_eq!(count(&fakes.x.posts(), &link), 1);
    let accounts: Value = d.get_json("/api/v1/accounts", VIEWER_TOKEN).await;
    let xa = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "x-ar")
        .unwrap();
    assert!(xa["state"]["paused_until"].is_string(), "{xa}");
    assert!(xa["last_posted_at"].is_string(), "{xa}");
    d.stop().await;
}

#[tokio::test]
async fn server_errors_back_off_and_then_succeed() {
    let (install, fakes) = install_with_fakes().await;
    fakes
        .fb
        .faults()
        .inject(Target::Publish, Fault::ServerError(503), 2);
    let d = install.start().await;
    let (id, link) = d.create(json!({"title": {"ar": "خبر مع أعطال"}})).await;
    let done = d
        .wait_deliveries(&id, Duration::from_secs(20), |d| {
            d.iter()
                .any(|j| j["account_id"] == "facebook-ar" && j["state"] == "posted")
        })
        .await;
    let fb = done
        .iter()
        .find(|j| j["account_id"] == "facebook-ar")
        .unwrap();
    assert_eq!(fb["attempts"], 3, "{fb}");
    assert_eq!(count(&fakes.fb.posts(), &link), 1);
    d.stop().await;
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_then_the_post_goes_out() {
    let (install, fakes) = install_with_fakes().await;
    let d = install.start().await;
    let (first, _) = d.create(json!({"title": {"ar": "الخبر الأول"}})).await;
    d.wait_deliveries(&first, Duration::from_secs(10), |d| {
        d.iter()
            .any(|j| j["account_id"] == "x-ar" && j["state"] == "posted")
    })
    .await;
    let refreshes = fakes.x.token_refreshes();
    fakes
        .x
        .faults()
        .inject(Target::Publish, Fault::ExpireToken, 1);
    let (id, link) = d.create(json!({"title": {"ar": "الخبر الثاني"}})).await;
    let done = d
        .wait_deliveries(&id, Duration::from_secs(10), |d| {
            d.iter()
                .any(|j| j["account_id"] == "x-ar" && j["state"] == "posted")
        })
        .await;
    let x = done.iter().find(|j| j["account_id"] == "x-ar").unwrap();
    assert_eq!(x["attempts"], 1, "{x}");
    assert_eq!(fakes.x.token_refreshes(), refreshes + 1);
    assert_eq!(count(&fakes.x.posts(), &link), 1);
    d.stop().await;
}

#[tokio::test]
async fn a_revoked_grant_parks_the_account_without_a_retry_storm() {
    let (install, fakes) = install_with_fakes().await;
    fakes
        .x
        .faults()
        .inject(Target::Publish, Fault::ExpireToken, 1);
    fakes
        .x
        .faults()
        .inject(Target::Token, Fault::RevokeRefresh, 1);
    let d = install.start().await;
    let (id, _) = d.create(json!({"title": {"ar": "خبر والحساب معطل"}})).await;
    d.wait_deliveries(&id, Duration::from_secs(10), |d| {
        d.iter()
            .any(|j| j["account_id"] == "facebook-ar" && j["state"] == "posted")
            && d.iter()
                .any(|j| j["account_id"] == "x-ar" && j["last_error_class"] == "reauthorize")
    })
    .await;
    let accounts: Value = d.get_json("/api/v1/accounts", VIEWER_TOKEN).await;
    let xa = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "x-ar")
        .unwrap()
        .clone();
    assert!(xa["state"]["needs_reauth"].is_string(), "{xa}");
    let refreshes = fakes.x.token_refreshes();
    // More news: Facebook keeps posting, X waits without calling anyone.
    for i in 0..3 {
        let (id, _) = d
            .create(json!({"title": {"ar": format!("خبر آخر {i}")}}))
            .await;
        d.wait_deliveries(&id, Duration::from_secs(10), |d| {
            d.iter()
                .any(|j| j["account_id"] == "facebook-ar" && j["state"] == "posted")
        })
        .await;
    }
    assert_eq!(fakes.x.token_refreshes(), refreshes, "no retry storm");
    assert_eq!(fakes.x.accepted(), 0);
    let jobs: Value = d
        .get_json("/api/v1/outbox?account=x-ar", VIEWER_TOKEN)
        .await;
    assert_eq!(jobs.as_array().unwrap().len(), 4);
    assert!(
        jobs.as_array()
            .unwrap()
            .iter()
            .all(|j| j["state"] == "pending"),
        "{jobs:#}"
    );
    let metrics = d
        .http
        .get(d.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains(r#"musharaka_account_needs_reauth{account="x-ar"} 1"#));
    d.stop().await;
}

#[tokio::test]
async fn a_permanent_failure_leaves_a_dead_job_that_staff_can_retry() {
    let (install, fakes) = install_with_fakes().await;
    fakes
        .x
        .faults()
        .inject(Target::Publish, Fault::ServerError(400), 1);
    let d = install.start().await;
    let (id, link) = d.create(json!({"title": {"ar": "خبر مرفوض"}})).await;
    let done = d
        .wait_deliveries(&id, Duration::from_secs(10), |d| {
            d.iter()
                .any(|j| j["account_id"] == "x-ar" && j["state"] == "dead")
        })
        .await;
    let x = done
        .iter()
        .find(|j| j["account_id"] == "x-ar")
        .unwrap()
        .clone();
    assert_eq!(x["last_error_class"], "permanent");
    // Staff need the operate permission: an editor may not.
    let url = d.url(&format!(
        "/api/v1/outbox/{}/retry",
        x["id"].as_str().unwrap()
    ));
    let r = d
        .http
        .post(&url)
        .bearer_auth(EDITOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // An admin retries; the job is reconciled first, then posted once.
    let admin = install.admin_token();
    let r = d.http.post(&url).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(r.status(), 200);
    d.wait_deliveries(&id, Duration::from_secs(10), |d| {
        d.iter()
            .any(|j| j["account_id"] == "x-ar" && j["state"] == "posted")
    })
    .await;
    assert_eq!(count(&fakes.x.posts(), &link), 1);
    d.stop().await;
}

#[tokio::test]
async fn retraction_cancels_unposted_jobs_and_deletes_posts() {
    let (install, fakes) = install_with_fakes().await;
    let d = install.start().await;
    let (id, link) = d.create(json!({"title": {"ar": "خبر سيسحب"}})).await;
    d.wait_deliveries(&id, Duration::from_secs(10), |d| {
        d.iter().filter(|j| j["state"] == "posted").count() == 2
    })
    .await;
    // An embargoed one is cancelled instead.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let (held, _) = d
        .create(json!({"title": {"ar": "خبر مؤجل سيسحب"}, "published_at": later}))
        .await;
    for item in [&id, &held] {
        let r = d
            .http
            .delete(d.url(&format!("/api/v1/news/{item}")))
            .bearer_auth(EDITOR_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let done = d
        .wait_deliveries(&id, Duration::from_secs(10), |d| {
            d.iter().filter(|j| j["state"] == "deleted").count() == 2
        })
        .await;
    assert_eq!(done.len(), 5, "3 publish jobs + 2 delete jobs: {done:#?}");
    assert_eq!(count(&fakes.x.posts(), &link), 0);
    assert_eq!(count(&fakes.fb.posts(), &link), 0);
    let held = d.deliveries(&held).await;
    assert!(held.iter().all(|j| j["state"] == "cancelled"), "{held:#?}");
    d.stop().await;
}

#[tokio::test]
async fn preview_shows_what_each_account_would_post() {
    let (install, _fakes) = install_with_fakes().await;
    let d = install.start().await;
    let (id, link) = d
        .create(json!({"title": {"ar": "معاينة"}, "published_at": (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339()}))
        .await;
    let p: Value = d
        .get_json(&format!("/api/v1/news/{id}/preview"), VIEWER_TOKEN)
        .await;
    let x = p
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == "x-ar")
        .unwrap();
    assert!(x["post"]["text"].as_str().unwrap().contains(&link));
    assert!(x["post"]["length"].as_u64().unwrap() <= 280);
    let yt = p
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == "youtube-ar")
        .unwrap();
    assert!(yt["skipped"].as_str().unwrap().contains("video"));
    d.stop().await;
}

#[tokio::test]
async fn entries_of_a_cross_posting_source_are_posted_and_others_are_not() {
    let (install, fakes) = install_with_fakes().await;
    for f in ["moh-ar.rss", "rop-ar-messy.rss"] {
        std::fs::copy(
            format!("{}/tests/fixtures/upstream/{f}", env!("CARGO_MANIFEST_DIR")),
            install.path(&format!("feeds/{f}")),
        )
        .unwrap();
    }
    std::fs::write(
        install.path("feeds/ministries.toml"),
        r#"
id = "ministries-ar"
language = "ar"
title = "الوزارات"
description = "أخبار الوزارات"
site_link = "https://portal.example.om/ar/ministries"
[[sources]]
id = "moh-ar"
file = "moh-ar.rss"
cross_post = true
[[sources]]
id = "rop-ar"
file = "rop-ar-messy.rss"
"#,
    )
    .unwrap();
    let d = install.start().await;
    let mut rx = d.running.state.deliverer.progress();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    // moh-ar has three entries; rop-ar's two are not cross-posted.
    while fakes.x.accepted() < 3 || fakes.fb.accepted() < 3 {
        tokio::time::timeout_at(deadline, rx.changed())
            .await
            .expect("the source's entries were not posted")
            .unwrap();
    }
    let jobs = d
        .get_json("/api/v1/outbox?account=x-ar", VIEWER_TOKEN)
        .await;
    assert_eq!(jobs.as_array().unwrap().len(), 3, "{jobs:#}");
    let texts: Vec<String> = fakes.x.posts().into_iter().map(|p| p.text).collect();
    assert!(
        texts.iter().any(|t| t.contains("إطلاق خدمة حجز المواعيد")),
        "{texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t.contains("رخص القيادة")),
        "{texts:?}"
    );
    d.stop().await;
}
