//! The published feeds over HTTP: news reaching them in time, HTTP caching
//! (ETag, Last-Modified, 304, HEAD), compression, archives, the index page,
//! static files, and upstream sources flowing into channels.

use crate::harness::*;
use chrono::{Duration as ChronoDuration, Utc};
use serde_json::{Value, json};
use std::io::Read;
use std::time::{Duration, Instant};

fn title_in(doc: &str, t: &str) -> bool {
    doc.contains(t)
}

#[tokio::test]
async fn staff_news_reaches_the_arabic_rss_and_atom_within_a_second() {
    let install = Install::standard();
    let d = install.start().await;
    let started = Instant::now();
    let resp = d
        .post_news(
            json!({"title": {"ar": "افتتاح مركز خدمات جديد"}, "body": {"ar": "<p>تفاصيل</p>"}}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let rss = d
        .wait_for_feed("/feeds/news-ar.rss", Duration::from_secs(1), |b| {
            title_in(b, "افتتاح مركز خدمات جديد")
        })
        .await;
    let atom = d
        .wait_for_feed("/feeds/news-ar.atom", Duration::from_secs(1), |b| {
            title_in(b, "افتتاح مركز خدمات جديد")
        })
        .await;
    assert!(started.elapsed() < Duration::from_secs(1));
    let channel = rss::Channel::read_from(rss.as_bytes()).unwrap();
    assert_eq!(channel.language(), Some("ar"));
    assert_eq!(channel.items().len(), 1);
    let feed = atom_syndication::Feed::read_from(atom.as_bytes()).unwrap();
    assert_eq!(feed.lang(), Some("ar"));
    // An Arabic-only item stays out of the English channel.
    let en = d
        .http
        .get(d.url("/feeds/news-en.json"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(en["items"].as_array().unwrap().len(), 0);
    d.stop().await;
}

#[tokio::test]
async fn feeds_are_served_with_http_caching_and_compression() {
    let install = Install::standard();
    let d = install.start().await;
    d.post_news(json!({"title": {"ar": "خبر للتخزين المؤقت", "en": "Cached item"}}))
        .await;
    d.wait_for_feed("/feeds/news-ar.atom", Duration::from_secs(2), |b| {
        b.contains("خبر للتخزين المؤقت")
    })
    .await;
    for (path, ctype) in [
        ("/feeds/news-ar.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/news-ar.atom", "application/atom+xml; charset=utf-8"),
        (
            "/feeds/news-ar.json",
            "application/feed+json; charset=utf-8",
        ),
    ] {
        let resp = d.http.get(d.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], ctype);
        assert_eq!(resp.headers()["vary"], "Accept-Encoding");
        let etag = resp.headers()["etag"].to_str().unwrap().to_string();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "strong ETag: {etag}"
        );
        let lm = resp.headers()["last-modified"]
            .to_str()
            .unwrap()
            .to_string();
        let identity = resp.bytes().await.unwrap();

        // Conditional requests.
        let r = d
            .http
            .get(d.url(path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{path} If-None-Match");
        assert!(r.bytes().await.unwrap().is_empty());
        let r = d
            .http
            .get(d.url(path))
            .header("if-modified-since", &lm)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{path} If-Modified-Since");
        let r = d
            .http
            .get(d.url(path))
            .header("if-none-match", "\"something-else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);

        // HEAD: same headers, no body.
        let r = d.http.head(d.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
        assert_eq!(
            r.headers()["content-length"].to_str().unwrap(),
            identity.len().to_string()
        );
        assert!(r.bytes().await.unwrap().is_empty());

        // gzip and brotli decode to the same document, with their own ETags.
        let r = d
            .http
            .get(d.url(path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], "gzip");
        let gz_etag = r.headers()["etag"].to_str().unwrap().to_string();
        assert_ne!(gz_etag, etag);
        let gz = r.bytes().await.unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, identity);
        let r = d
            .http
            .get(d.url(path))
            .header("accept-encoding", "gzip, br")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], "br");
        let br = r.bytes().await.unwrap();
        let mut out = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, identity);
        let r = d
            .http
            .get(d.url(path))
            .header("accept-encoding", "br")
            .header("if-none-match", &gz_etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "any representation's ETag validates");
    }
    let r = d.http.get(d.url("/feeds/nope.rss")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = d
        .http
        .get(d.url("/feeds/news-ar.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    d.stop().await;
}

#[tokio::test]
async fn unchanged_state_keeps_the_etag_and_a_change_moves_it() {
    let install = Install::standard();
    let d = install.start().await;
    d.post_news(json!({"title": {"en": "First"}})).await;
    d.wait_for_feed("/feeds/news-en.rss", Duration::from_secs(2), |b| {
        b.contains("First")
    })
    .await;
    let etag = |r: &reqwest::Response| r.headers()["etag"].to_str().unwrap().to_string();
    let a = etag(
        &d.http
            .get(d.url("/feeds/news-en.rss"))
            .send()
            .await
            .unwrap(),
    );
    // An Arabic-only item re-renders everything but leaves the English bytes alone.
    d.post_news(json!({"title": {"ar": "خبر عربي فقط"}})).await;
    d.wait_for_feed("/feeds/news-ar.rss", Duration::from_secs(2), |b| {
        b.contains("خبر عربي فقط")
    })
    .await;
    let b = etag(
        &d.http
            .get(d.url("/feeds/news-en.rss"))
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(a, b);
    d.post_news(json!({"title": {"en": "Second"}})).await;
    d.wait_for_feed("/feeds/news-en.rss", Duration::from_secs(2), |b| {
        b.contains("Second")
    })
    .await;
    let c = etag(
        &d.http
            .get(d.url("/feeds/news-en.rss"))
            .send()
            .await
            .unwrap(),
    );
    assert_ne!(a, c);
    d.stop().await;
}

#[tokio::test]
async fn an_embargoed_item_appears_when_due_not_before() {
    let install = Install::standard();
    let d = install.start().await;
    let due = Utc::now() + ChronoDuration::milliseconds(1500);
    let resp = d
        .post_news(json!({"title": {"ar": "خبر مؤجل النشر"}, "published_at": due.to_rfc3339()}))
        .await;
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["state"], "embargoed");
    let before = d
        .http
        .get(d.url("/feeds/news-ar.rss"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!before.contains("خبر مؤجل النشر"));
    // The render loop's own timer publishes it; nothing else happens meanwhile.
    d.wait_for_feed("/feeds/news-ar.rss", Duration::from_secs(4), |b| {
        b.contains("خبر مؤجل النشر")
    })
    .await;
    let seen_at = Utc::now();
    assert!(seen_at >= due, "appeared before its time");
    assert!(
        seen_at - due < ChronoDuration::milliseconds(900),
        "appeared {} ms late",
        (seen_at - due).num_milliseconds()
    );
    d.stop().await;
}

#[tokio::test]
async fn retraction_removes_the_item_from_every_feed_and_file() {
    let install = Install::standard();
    let d = install.start().await;
    let v: Value = d
        .post_news(json!({"title": {"ar": "خبر سيسحب", "en": "To be retracted"}}))
        .await
        .json()
        .await
        .unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    d.wait_for_feed("/feeds/news-en.atom", Duration::from_secs(2), |b| {
        b.contains(&id)
    })
    .await;
    let resp = d
        .http
        .delete(d.url(&format!("/api/v1/news/{id}")))
        .bearer_auth(EDITOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    for path in [
        "/feeds/news-en.atom",
        "/feeds/news-en.rss",
        "/feeds/news-en.json",
        "/feeds/news-ar.rss",
    ] {
        d.wait_for_feed(path, Duration::from_secs(2), |b| !b.contains(&id))
            .await;
    }
    let file = read(&install.path("public/feeds/news-en.atom"));
    assert!(!file.contains(&id));
    let page = d
        .http
        .get(d.url(&format!("/news/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    d.stop().await;
}

#[tokio::test]
async fn items_beyond_the_limit_are_in_paged_archives_and_static_files() {
    let install = Install::standard(); // limit = 5
    let d = install.start().await;
    for i in 0..7 {
        let at = Utc::now() - ChronoDuration::minutes(60 - i);
        d.post_news(
            json!({"title": {"en": format!("Story {i}")}, "published_at": at.to_rfc3339()}),
        )
        .await;
    }
    let atom = d
        .wait_for_feed("/feeds/news-en.atom", Duration::from_secs(2), |b| {
            b.contains("Story 6")
        })
        .await;
    let feed = atom_syndication::Feed::read_from(atom.as_bytes()).unwrap();
    assert_eq!(feed.entries().len(), 5);
    let prev = feed
        .links()
        .iter()
        .find(|l| l.rel() == "prev-archive")
        .expect("prev-archive link")
        .href()
        .to_string();
    assert_eq!(prev, "http://feeds.example.om/feeds/news-en/archive/1.atom");
    let archive = d
        .http
        .get(d.url("/feeds/news-en/archive/1.atom"))
        .send()
        .await
        .unwrap();
    assert_eq!(archive.status(), 200);
    let archive = atom_syndication::Feed::read_from(&archive.bytes().await.unwrap()[..]).unwrap();
    let titles: Vec<String> = archive
        .entries()
        .iter()
        .map(|e| e.title().value.clone())
        .collect();
    assert_eq!(titles, ["Story 1", "Story 0"]);
    let r = d
        .http
        .get(d.url("/feeds/news-en/archive/2.atom"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The same documents are on disk for a static web server.
    let served = d
        .http
        .get(d.url("/feeds/news-en.atom"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(read(&install.path("public/feeds/news-en.atom")), served);
    assert!(install.path("public/feeds/news-en/archive/1.rss").exists());
    d.stop().await;
}

#[tokio::test]
async fn the_index_page_lists_every_feed_with_autodiscovery() {
    let install = Install::standard();
    let d = install.start().await;
    let resp = d.http.get(d.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = resp.text().await.unwrap();
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"));
    for (ch, ext, mime) in [
        ("news-ar", "rss", "application/rss+xml"),
        ("news-ar", "atom", "application/atom+xml"),
        ("news-ar", "json", "application/feed+json"),
        ("news-en", "rss", "application/rss+xml"),
    ] {
        let href = format!("href=\"http://feeds.example.om/feeds/{ch}.{ext}\"");
        let link = html
            .lines()
            .find(|l| l.starts_with("<link rel=\"alternate\"") && l.contains(&href))
            .unwrap_or_else(|| panic!("no autodiscovery link for {ch}.{ext}"));
        assert!(link.contains(&format!("type=\"{mime}\"")), "{link}");
    }
    assert!(html.contains("الأخبار"));
    assert!(html.contains("lang=\"en\" dir=\"ltr\""));
    d.stop().await;
}

#[tokio::test]
async fn a_staff_item_without_a_link_gets_an_escaped_permalink_page() {
    let install = Install::standard();
    let d = install.start().await;
    let v: Value = d
        .post_news(json!({"title": {"ar": "عنوان <img src=x onerror=alert(1)>"}}))
        .await
        .json()
        .await
        .unwrap();
    let id = v["id"].as_str().unwrap();
    let rss = d
        .wait_for_feed("/feeds/news-ar.rss", Duration::from_secs(2), |b| {
            b.contains(id)
        })
        .await;
    let link = format!("http://feeds.example.om/news/{id}");
    assert!(rss.contains(&format!("<link>{link}</link>")), "{rss}");
    let html = d
        .http
        .get(d.url(&format!("/news/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("عنوان &lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    assert!(!html.contains("<img"));
    d.stop().await;
}

const SOURCES_CHANNEL: &str = r#"
id = "ministries-ar"
language = "ar"
title = "أخبار الوزارات"
description = "مجمعة من مواقع الوزارات"
site_link = "https://portal.example.om/ar/ministries"
limit = 20
[include]
staff = false
[[sources]]
id = "moh-ar"
name = "وزارة الصحة"
file = "../../fixtures/moh-ar.rss"
[[sources]]
id = "rop-ar"
file = "../../fixtures/rop-ar-messy.rss"
"#;

#[tokio::test]
async fn upstream_sources_flow_into_their_channel_and_report_health() {
    let install = Install::new(&[], "");
    // Fixtures live two levels above the feeds dir, as `file` paths are relative to it.
    let fixtures = install.path("fixtures");
    std::fs::create_dir_all(&fixtures).unwrap();
    let feeds = install.path("feeds/sub/dir");
    std::fs::create_dir_all(&feeds).unwrap();
    for f in ["moh-ar.rss", "rop-ar-messy.rss"] {
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upstream/").to_string() + f,
            fixtures.join(f),
        )
        .unwrap();
    }
    std::fs::write(
        install.path("feeds/ministries.toml"),
        SOURCES_CHANNEL.replace("../../fixtures", "../fixtures"),
    )
    .unwrap();
    let d = install.start().await;
    let rss = d
        .wait_for_feed("/feeds/ministries-ar.rss", Duration::from_secs(10), |b| {
            [
                "إطلاق خدمة حجز المواعيد",
                "تحديث ساعات العمل",
                "حملة التطعيم",
                "تجديد رخص القيادة",
                "أحوال جوية",
            ]
            .iter()
            .all(|t| b.contains(t))
        })
        .await;
    let channel = rss::Channel::read_from(rss.as_bytes()).unwrap();
    let titles: Vec<_> = channel
        .items()
        .iter()
        .map(|i| i.title().unwrap_or_default().to_string())
        .collect();
    // moh: 3 entries; rop: 2 (one duplicate, one without title and link skipped).
    assert_eq!(channel.items().len(), 5, "{titles:?}");
    assert!(
        channel
            .items()
            .iter()
            .any(|i| i.link() == Some("https://rop.example.om/news.aspx?id=1188&lang=ar")),
        "relative link resolved against the feed URL"
    );
    let sources: Value = d.get_json("/api/v1/sources", VIEWER_TOKEN).await;
    let rop = sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "rop-ar")
        .unwrap();
    assert!(rop["health"]["last_success"].is_string(), "{rop}");
    assert_eq!(rop["health"]["consecutive_failures"], 0);
    assert!(rop["health"]["next_poll"].is_string());
    assert_eq!(
        rop["health"]["skipped_entries"].as_array().unwrap().len(),
        1
    );
    d.stop().await;
}
