//! RFC 5005 archives: page contents, links, stability.

use crate::formats::render_ok;
use crate::support::*;
use musharaka::model::Lang;
use musharaka::render::{Format, PageId, RenderedChannel, render_channel};
use std::sync::Arc;

fn rss_of(r: &RenderedChannel, p: PageId) -> rss::Channel {
    rss::Channel::read_from(&r.documents[&(p, Format::Rss)].body[..]).expect("rss")
}
fn atom_of(r: &RenderedChannel, p: PageId) -> atom_syndication::Feed {
    atom_syndication::Feed::read_from(&r.documents[&(p, Format::Atom)].body[..]).expect("atom")
}
fn json_of(r: &RenderedChannel, p: PageId) -> serde_json::Value {
    serde_json::from_slice(&r.documents[&(p, Format::Json)].body).expect("json")
}
fn titles(c: &rss::Channel) -> Vec<String> {
    c.items
        .iter()
        .map(|i| i.title.clone().unwrap_or_default())
        .collect()
}
fn expect_titles(ns: &[u128]) -> Vec<String> {
    ns.iter().map(|n| format!("News number {n}")).collect()
}
fn rss_links(c: &rss::Channel) -> Vec<(String, String)> {
    c.atom_ext
        .as_ref()
        .map(|e| {
            e.links
                .iter()
                .map(|l| (l.rel.clone(), l.href.clone()))
                .collect()
        })
        .unwrap_or_default()
}
fn atom_links(f: &atom_syndication::Feed) -> Vec<(String, String)> {
    f.links
        .iter()
        .filter(|l| l.rel != "alternate")
        .map(|l| (l.rel.clone(), l.href.clone()))
        .collect()
}
fn l(rel: &str, path: &str) -> (String, String) {
    (rel.to_string(), format!("{BASE}feeds/{path}"))
}

#[test]
fn twenty_five_items_limit_ten() {
    let ch = channel("news-en", Lang::En, 10);
    let r = render_ok(&ch, &items(1..=25), at(100));
    assert_eq!((r.items, r.archive_pages), (10, 2));
    assert_eq!(r.documents.len(), 9);

    let cur = rss_of(&r, PageId::Current);
    assert_eq!(
        titles(&cur),
        expect_titles(&[25, 24, 23, 22, 21, 20, 19, 18, 17, 16])
    );
    assert_eq!(
        rss_links(&cur),
        [
            l("self", "news-en.rss"),
            l("prev-archive", "news-en/archive/2.rss")
        ]
    );
    let cur_raw = String::from_utf8(r.documents[&(PageId::Current, Format::Rss)].body.to_vec())
        .expect("utf8");
    assert!(!cur_raw.contains("fh:archive"));

    let p1 = rss_of(&r, PageId::Archive(1));
    assert_eq!(titles(&p1), expect_titles(&[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]));
    assert_eq!(
        rss_links(&p1),
        [
            l("self", "news-en/archive/1.rss"),
            l("current", "news-en.rss"),
            l("next-archive", "news-en/archive/2.rss")
        ]
    );
    let p2 = rss_of(&r, PageId::Archive(2));
    assert_eq!(titles(&p2), expect_titles(&[15, 14, 13, 12, 11]));
    assert_eq!(
        rss_links(&p2),
        [
            l("self", "news-en/archive/2.rss"),
            l("current", "news-en.rss"),
            l("prev-archive", "news-en/archive/1.rss")
        ]
    );
    for p in [PageId::Archive(1), PageId::Archive(2)] {
        for f in [Format::Rss, Format::Atom] {
            let raw = String::from_utf8(r.documents[&(p, f)].body.to_vec()).expect("utf8");
            assert!(
                raw.contains("xmlns:fh=\"http://purl.org/syndication/history/1.0\""),
                "{raw}"
            );
            assert_eq!(raw.matches("<fh:archive").count(), 1, "{raw}");
        }
    }
    // Atom: same links, archive marker before the first entry.
    let a2 = atom_of(&r, PageId::Archive(2));
    assert_eq!(
        atom_links(&a2),
        [
            l("self", "news-en/archive/2.atom"),
            l("current", "news-en.atom"),
            l("prev-archive", "news-en/archive/1.atom")
        ]
    );
    assert_eq!(
        a2.id,
        format!("{BASE}feeds/news-en"),
        "pages share the logical feed's id"
    );
    let raw = String::from_utf8(
        r.documents[&(PageId::Archive(2), Format::Atom)]
            .body
            .to_vec(),
    )
    .expect("utf8");
    assert!(raw.find("<fh:archive/>") < raw.find("<entry>"));
    assert_eq!(
        atom_links(&atom_of(&r, PageId::Current)),
        [
            l("self", "news-en.atom"),
            l("prev-archive", "news-en/archive/2.atom")
        ]
    );
    // JSON Feed: next_url walks to older pages.
    assert_eq!(
        json_of(&r, PageId::Current)["next_url"],
        format!("{BASE}feeds/news-en/archive/2.json")
    );
    assert_eq!(
        json_of(&r, PageId::Archive(2))["next_url"],
        format!("{BASE}feeds/news-en/archive/1.json")
    );
    assert!(json_of(&r, PageId::Archive(1)).get("next_url").is_none());
    assert_eq!(
        json_of(&r, PageId::Archive(1))["items"]
            .as_array()
            .map(Vec::len),
        Some(10)
    );
}

#[test]
fn full_archive_pages_are_stable_until_items_roll() {
    let ch = channel("news-en", Lang::En, 10);
    let r1 = render_channel(&ch, &items(1..=25), at(100), None).expect("render");
    // Three more items: page 1 (full) is untouched; page 2 fills up.
    let r2 = render_channel(&ch, &items(1..=28), at(100), Some(&r1)).expect("render");
    assert_eq!(r2.archive_pages, 2);
    for f in Format::ALL {
        let (a, b) = (
            &r1.documents[&(PageId::Archive(1), f)],
            &r2.documents[&(PageId::Archive(1), f)],
        );
        assert!(Arc::ptr_eq(a, b), "page 1 {f} must be reused as is");
        assert_ne!(
            r1.documents[&(PageId::Archive(2), f)].etag,
            r2.documents[&(PageId::Archive(2), f)].etag
        );
    }
    assert_eq!(
        titles(&rss_of(&r2, PageId::Archive(2))),
        expect_titles(&[18, 17, 16, 15, 14, 13, 12, 11])
    );
    // Past 30 items, page 2 is full and page 3 appears; pages 1 and 2 then stay.
    let r3 = render_channel(&ch, &items(1..=31), at(100), Some(&r2)).expect("render");
    assert_eq!(r3.archive_pages, 3);
    assert_eq!(
        titles(&rss_of(&r3, PageId::Archive(3))),
        expect_titles(&[21])
    );
    let r4 = render_channel(&ch, &items(1..=35), at(100), Some(&r3)).expect("render");
    for f in Format::ALL {
        assert!(Arc::ptr_eq(
            &r3.documents[&(PageId::Archive(1), f)],
            &r4.documents[&(PageId::Archive(1), f)]
        ));
        assert!(Arc::ptr_eq(
            &r3.documents[&(PageId::Archive(2), f)],
            &r4.documents[&(PageId::Archive(2), f)]
        ));
    }
}

#[test]
fn zero_limit_is_an_error() {
    let ch = channel("news-en", Lang::En, 0);
    assert!(render_channel(&ch, &items(1..=3), at(100), None).is_err());
    let mut bad = channel("../etc", Lang::En, 10);
    bad.id = "../etc".into();
    assert!(render_channel(&bad, &items(1..=3), at(100), None).is_err());
}
