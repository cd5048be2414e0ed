//! Determinism, embargo, retraction, edits, compression, reuse, cache and
//! static output.

use crate::formats::render_ok;
use crate::support::*;
use chrono::Duration;
use musharaka::model::Lang;
use musharaka::render::{FeedCache, Format, PageId, next_due, render_channel, write_static};
use std::io::Read;
use std::sync::Arc;

#[test]
fn deterministic_bytes_whatever_the_input_order_or_clock() {
    let ch = channel("news-ar", Lang::Ar, 4);
    let mut its = items(1..=9);
    its.push(rich_item());
    // Two items at the same instant: the id breaks the tie.
    let mut twin = item(3);
    twin.id.0 = uuid::Uuid::from_u128(u128::MAX);
    its.push(twin);
    let a = render_ok(&ch, &its, at(500));
    let b = render_ok(&ch, &its, at(500));
    its.reverse();
    its.swap(1, 4);
    let c = render_ok(&ch, &its, at(900)); // later clock, no embargo crossed
    assert_eq!(a.documents.len(), c.documents.len());
    for (k, d) in &a.documents {
        assert_eq!(d.body, b.documents[k].body, "{k:?}");
        assert_eq!(d.body, c.documents[k].body, "{k:?}");
        assert_eq!(d.etag, c.documents[k].etag);
        assert_eq!(d.last_modified, c.documents[k].last_modified);
    }
}

#[test]
fn embargo_hides_until_due() {
    let ch = channel("news-en", Lang::En, 10);
    let mut its = items(1..=3);
    let mut future = item(50);
    future.title.en = Some("Embargoed".into());
    its.push(future.clone());
    let mut retracted_future = item(40);
    retracted_future.retracted_at = Some(at(4));
    its.push(retracted_future);
    let now = at(10);
    assert_eq!(next_due(&its, now), Some(at(50)));
    let before = render_ok(&ch, &its, now);
    let rss_before = String::from_utf8(
        before.documents[&(PageId::Current, Format::Rss)]
            .body
            .to_vec(),
    )
    .expect("utf8");
    assert!(!rss_before.contains("Embargoed"));
    assert_eq!(before.items, 3);
    let just_before = render_ok(&ch, &its, at(50) - Duration::seconds(1));
    assert_eq!(just_before.items, 3);
    let after = render_ok(&ch, &its, at(50));
    assert_eq!(after.items, 4);
    let rss = rss::Channel::read_from(&after.documents[&(PageId::Current, Format::Rss)].body[..])
        .expect("rss");
    assert_eq!(rss.items[0].title.as_deref(), Some("Embargoed"));
    assert_eq!(
        after.documents[&(PageId::Current, Format::Rss)].last_modified,
        at(50)
    );
    assert_eq!(next_due(&its, at(50)), None);
}

#[test]
fn retraction_removes_item_and_moves_validators() {
    let ch = channel("news-en", Lang::En, 10);
    let mut its = items(1..=3);
    let r1 = render_ok(&ch, &its, at(100));
    its[2].retracted_at = Some(at(60));
    let r2 = render_channel(&ch, &its, at(100), Some(&r1)).expect("render");
    assert_eq!(r2.items, 2);
    for f in Format::ALL {
        let (a, b) = (
            &r1.documents[&(PageId::Current, f)],
            &r2.documents[&(PageId::Current, f)],
        );
        assert_ne!(a.etag, b.etag, "{f}");
        assert_eq!(a.last_modified, at(3));
        assert_eq!(
            b.last_modified,
            at(60),
            "{f}: Last-Modified is the retraction time"
        );
        let text = String::from_utf8(b.body.to_vec()).expect("utf8");
        assert!(!text.contains("News number 3"));
    }
}

#[test]
fn edit_keeps_guid_and_changes_etag() {
    let ch = channel("news-ar", Lang::Ar, 10);
    let mut it = rich_item();
    let r1 = render_ok(&ch, std::slice::from_ref(&it), at(200));
    it.title.ar = Some("عنوان مُعدّل".into());
    it.link = Some("https://www.mol.gov.om/news/other".into());
    it.updated_at = at(150);
    it.revision += 1;
    let r2 = render_channel(&ch, std::slice::from_ref(&it), at(200), Some(&r1)).expect("render");
    let p = |r: &musharaka::render::RenderedChannel| {
        rss::Channel::read_from(&r.documents[&(PageId::Current, Format::Rss)].body[..])
            .expect("rss")
    };
    let (a, b) = (p(&r1), p(&r2));
    assert_eq!(a.items[0].guid, b.items[0].guid);
    assert_eq!(b.items[0].title.as_deref(), Some("عنوان مُعدّل"));
    let atom =
        atom_syndication::Feed::read_from(&r2.documents[&(PageId::Current, Format::Atom)].body[..])
            .expect("atom");
    assert_eq!(atom.entries[0].id, format!("urn:uuid:{}", it.id));
    assert_eq!(
        atom.entries[0].updated.to_rfc3339(),
        "2024-05-07T14:00:00+00:00"
    );
    for f in Format::ALL {
        assert_ne!(
            r1.documents[&(PageId::Current, f)].etag,
            r2.documents[&(PageId::Current, f)].etag
        );
        assert_eq!(r2.documents[&(PageId::Current, f)].last_modified, at(150));
    }
}

#[test]
fn compressed_variants_decode_to_body_and_etag_is_strong() {
    let ch = channel("news-ar", Lang::Ar, 10);
    let r = render_ok(&ch, &items(1..=12), at(100));
    for ((_, f), d) in &r.documents {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&d.gzip[..])
            .read_to_end(&mut out)
            .expect("gunzip");
        assert_eq!(out, d.body);
        let mut out = Vec::new();
        brotli::Decompressor::new(&d.brotli[..], 4096)
            .read_to_end(&mut out)
            .expect("unbrotli");
        assert_eq!(out, d.body);
        assert!(d.gzip.len() < d.body.len() && d.brotli.len() < d.body.len());
        assert!(d.etag.starts_with('"') && d.etag.ends_with('"') && !d.etag.starts_with("W/"));
        assert_eq!(d.etag.len(), 34);
        assert_eq!(d.content_type, f.content_type());
    }
}

#[test]
fn unchanged_documents_are_reused_and_cache_reports_changes() {
    let ch = channel("news-ar", Lang::Ar, 10);
    let its = items(1..=15);
    let cache = FeedCache::default();
    let r1 =
        render_channel(&ch, &its, at(100), cache.channel("news-ar").as_deref()).expect("render");
    assert!(cache.replace(r1));
    let prev = cache.channel("news-ar").expect("cached");
    let r2 = render_channel(&ch, &its, at(101), Some(&prev)).expect("render");
    for (k, d) in &r2.documents {
        assert!(Arc::ptr_eq(d, &prev.documents[k]), "{k:?} recompressed");
    }
    assert!(!cache.replace(r2), "nothing changed");
    let mut more = its.clone();
    more.push(item(16));
    let r3 = render_channel(&ch, &more, at(101), Some(&prev)).expect("render");
    assert!(!Arc::ptr_eq(
        &r3.documents[&(PageId::Current, Format::Rss)],
        &prev.documents[&(PageId::Current, Format::Rss)]
    ));
    assert!(cache.replace(r3));
    let doc = cache
        .get("news-ar", PageId::Current, Format::Rss)
        .expect("doc");
    assert!(String::from_utf8_lossy(&doc.body).contains("خبر رقم 16"));
    assert!(
        cache
            .get("news-ar", PageId::Archive(9), Format::Rss)
            .is_none()
    );
    assert!(cache.get("nope", PageId::Current, Format::Rss).is_none());
}

fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(
                    p.strip_prefix(dir)
                        .expect("prefix")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn write_static_is_atomic_and_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ch = channel("news-ar", Lang::Ar, 10);
    let r1 = render_channel(&ch, &items(1..=25), at(100), None).expect("render");
    assert_eq!(write_static(dir.path(), &r1).await.expect("write"), 9);
    let files = files_under(dir.path());
    assert_eq!(files.len(), 9, "no temp files left: {files:?}");
    assert!(files.contains(&"feeds/news-ar.rss".to_string()));
    assert!(files.contains(&"feeds/news-ar/archive/2.json".to_string()));
    let on_disk = std::fs::read(dir.path().join("feeds/news-ar/archive/1.atom")).expect("read");
    assert_eq!(
        on_disk,
        r1.documents[&(PageId::Archive(1), Format::Atom)].body
    );
    assert_eq!(write_static(dir.path(), &r1).await.expect("write"), 0);
    // One new item: the current docs and the partial archive page change.
    let r2 = render_channel(&ch, &items(1..=26), at(100), Some(&r1)).expect("render");
    assert_eq!(write_static(dir.path(), &r2).await.expect("write"), 6);
    // Retractions shrink the archive: stale pages are removed.
    let r3 = render_channel(&ch, &items(1..=12), at(100), Some(&r2)).expect("render");
    write_static(dir.path(), &r3).await.expect("write");
    let files = files_under(dir.path());
    assert_eq!(files.len(), 6, "{files:?}");
    assert!(!files.iter().any(|f| f.contains("archive/2.")));
}
