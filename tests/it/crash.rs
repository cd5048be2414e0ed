//! The no-duplicate invariant under crashes: the daemon process is killed
//! with SIGKILL at random moments while it publishes a few hundred items to
//! the three platform fakes (which live in this test process and survive),
//! restarted each time, and in the end every acknowledged item is posted
//! exactly once on every account — and nothing is posted twice.
//!
//! The fakes' duplicate detection is off, so only the outbox's claim-before-
//! send and reconcile-before-retry can prevent double posts.

use crate::harness::*;
use crate::outbox::install_with_fakes;
use musharaka::publish::fake::FakePost;
use rand::Rng;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn per_marker(posts: &[FakePost], links: &[String]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for link in links {
        m.insert(
            link.clone(),
            posts
                .iter()
                .filter(|p| !p.deleted && p.carries(link))
                .count(),
        );
    }
    m
}

async fn open_jobs(http: &reqwest::Client, p: &Process) -> Option<usize> {
    let mut n = 0;
    for state in ["pending", "in_flight", "unknown"] {
        let r = http
            .get(p.url(&format!("/api/v1/outbox?state={state}&limit=1000")))
            .bearer_auth(VIEWER_TOKEN)
            .send()
            .await
            .ok()?;
        let v: Value = r.json().await.ok()?;
        n += v.as_array()?.len();
    }
    Some(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_still_posts_every_item_exactly_once() {
    let items: usize = std::env::var("MUSHARAKA_CRASH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    let (install, fakes) = install_with_fakes().await;
    fakes.x.set_reject_duplicates(false);
    fakes.fb.set_reject_duplicates(false);
    fakes.x.set_post_limit(100_000, Duration::from_secs(900));
    fakes.yt.set_daily_quota(100_000_000);
    let video = fakes.yt.serve_video(vec![3u8; 300 * 1024]);
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut rng = rand::rng();
    let mut acked: Vec<String> = Vec::new();
    let mut kills = 0;
    let mut n = 0;
    // Create items while killing the daemon at random moments.
    while acked.len() < items {
        let mut p = Process::spawn(&install);
        let deadline = Instant::now() + Duration::from_millis(rng.random_range(20..250));
        while Instant::now() < deadline && acked.len() < items {
            n += 1;
            let body = json!({
                "title": {"ar": format!("خبر رقم {n} عن الخدمات الإلكترونية")},
                "body": {"ar": format!("<p>تفاصيل الخبر رقم {n}.</p>")},
                "media": [{"url": video.to_string(), "mime_type": "video/mp4"}]
            });
            let resp = http
                .post(p.url("/api/v1/news"))
                .bearer_auth(EDITOR_TOKEN)
                .json(&body)
                .send()
                .await;
            if let Ok(r) = resp {
                if r.status() == 201 {
                    if let Ok(v) = r.json::<Value>().await {
                        let id = v["id"].as_str().unwrap().to_string();
                        acked.push(format!("http://feeds.example.om/news/{id}"));
                    }
                }
            }
        }
        // Let deliveries run a little, then kill mid-flight.
        let extra = rng.random_range(0..300);
        tokio::time::sleep(Duration::from_millis(extra)).await;
        p.kill9();
        kills += 1;
    }
    // A few more crashes while only delivering.
    for _ in 0..3 {
        let mut p = Process::spawn(&install);
        tokio::time::sleep(Duration::from_millis(rng.random_range(100..500))).await;
        p.kill9();
        kills += 1;
    }
    // Finally let it finish.
    let p = Process::spawn(&install);
    let started = Instant::now();
    loop {
        if open_jobs(&http, &p).await == Some(0) {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let mut report = String::new();
            for path in [
                "/api/v1/accounts",
                "/api/v1/outbox?state=pending&limit=5",
                "/api/v1/outbox?state=unknown&limit=5",
                "/api/v1/outbox?state=in_flight&limit=5",
            ] {
                let t = http
                    .get(p.url(path))
                    .bearer_auth(VIEWER_TOKEN)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                report.push_str(&format!("{path}: {t}\n"));
            }
            panic!("deliveries did not finish:\n{report}");
        }
        // Cross-process: no signal to wait on, so poll at a modest pace.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("{} items acknowledged, {kills} SIGKILLs", acked.len());
    for (name, posts) in [
        ("x", fakes.x.posts()),
        ("facebook", fakes.fb.posts()),
        ("youtube", fakes.yt.posts()),
    ] {
        let counts = per_marker(&posts, &acked);
        let missing: Vec<_> = counts.iter().filter(|(_, c)| **c == 0).collect();
        let doubled: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).collect();
        assert!(
            missing.is_empty(),
            "{name}: {} acknowledged items never posted: {missing:?}",
            missing.len()
        );
        assert!(
            doubled.is_empty(),
            "{name}: items posted twice: {doubled:?}"
        );
        // Nothing else was posted twice either (items whose 201 was lost to a kill).
        let mut seen = HashMap::new();
        for post in posts.iter().filter(|p| !p.deleted) {
            let key = post
                .text
                .split_whitespace()
                .find(|w| w.starts_with("http://feeds.example.om/news/"))
                .or(post.link.as_deref())
                .unwrap_or("?")
                .to_string();
            *seen.entry(key).or_insert(0) += 1;
        }
        let dups: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).collect();
        assert!(dups.is_empty(), "{name}: duplicate posts: {dups:?}");
    }
    let dead: Value = http
        .get(p.url("/api/v1/outbox?state=dead&limit=1000"))
        .bearer_auth(VIEWER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dead.as_array().unwrap().len(), 0, "{dead:#}");
}
