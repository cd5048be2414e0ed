//! Field-by-field checks of the three formats, hostile text, validity.

use crate::feed_validity::{check_atom, check_json, check_rss};
use crate::support::*;
use chrono::{DateTime, Utc};
use musharaka::model::Lang;
use musharaka::render::{Format, PageId, RenderedChannel, render_channel};

fn body(r: &RenderedChannel, page: PageId, f: Format) -> Vec<u8> {
    r.documents[&(page, f)].body.to_vec()
}

fn assert_valid(r: &RenderedChannel) {
    for ((page, f), doc) in &r.documents {
        let url = format!("{BASE}{}", page.path(&r.channel_id, *f));
        let errs = match f {
            Format::Rss => check_rss(&doc.body, &url),
            Format::Atom => check_atom(&doc.body, &url),
            Format::Json => check_json(&doc.body, &url),
        };
        assert!(
            errs.is_empty(),
            "{url}: {errs:#?}\n{}",
            String::from_utf8_lossy(&doc.body)
        );
    }
}

pub fn render_ok(
    ch: &musharaka::config::Channel,
    items: &[musharaka::model::NewsItem],
    now: DateTime<Utc>,
) -> RenderedChannel {
    let r = render_channel(ch, items, now, None).expect("render");
    assert_valid(&r);
    r
}

#[test]
fn rss_fields() {
    let ch = channel("news-ar", Lang::Ar, 10);
    let rich = rich_item();
    let mut plain = item(1);
    plain.title.en = None;
    let r = render_ok(&ch, &[plain.clone(), rich.clone()], at(200));
    let rss = rss::Channel::read_from(&body(&r, PageId::Current, Format::Rss)[..]).expect("parse");
    assert_eq!(rss.title, "أخبار البوابة");
    assert_eq!(rss.link, "https://portal.example.om/");
    assert_eq!(rss.description, "آخر أخبار بوابة سلطنة عمان");
    assert_eq!(rss.language.as_deref(), Some("ar"));
    assert_eq!(rss.copyright.as_deref(), Some("© حكومة سلطنة عمان"));
    assert_eq!(rss.generator.as_deref(), Some("Musharaka"));
    // State-derived: the rich item's update, not the clock (at(200)).
    let expected = "Sun, 05 May 2024 12:30:00 +0000";
    assert_eq!(rss.last_build_date.as_deref(), Some(expected));
    assert_eq!(rss.pub_date.as_deref(), Some(expected));
    let img = rss.image.as_ref().expect("image");
    assert_eq!(img.url, "https://portal.example.om/logo.png");
    let links = &rss.atom_ext.as_ref().expect("atom links").links;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].rel, "self");
    assert_eq!(links[0].href, format!("{BASE}feeds/news-ar.rss"));
    assert_eq!(links[0].mime_type.as_deref(), Some("application/rss+xml"));

    assert_eq!(rss.items.len(), 2);
    let it = &rss.items[0];
    assert_eq!(
        it.title.as_deref(),
        rich.title.ar.as_deref(),
        "Arabic title byte-exact (with RLM)"
    );
    assert_eq!(
        it.description.as_deref(),
        rich.body.ar.as_deref(),
        "body byte-exact"
    );
    assert_eq!(
        it.link.as_deref(),
        Some("https://www.mol.gov.om/news/42?lang=ar&x=1")
    );
    let guid = it.guid.as_ref().expect("guid");
    assert_eq!(guid.value, format!("urn:uuid:{}", rich.id));
    assert!(!guid.permalink);
    assert_eq!(
        it.pub_date.as_deref(),
        Some("Sun, 05 May 2024 12:00:00 +0000")
    );
    let cats: Vec<&str> = it.categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cats, ["عمل", "خدمات"]);
    assert_eq!(
        it.dublin_core_ext.as_ref().expect("dc").creators,
        ["مكتب الإعلام"]
    );
    let enc = it.enclosure.as_ref().expect("enclosure");
    assert_eq!(enc.url, "https://media.portal.example.om/v/42.mp4");
    assert_eq!(enc.length, "1234567");
    assert_eq!(enc.mime_type, "video/mp4");
    // Fallback permalink, no author, no enclosure.
    let it = &rss.items[1];
    assert_eq!(
        it.link.as_deref(),
        Some(format!("{BASE}news/{}", plain.id).as_str())
    );
    assert!(it.dublin_core_ext.is_none() && it.enclosure.is_none());
    // An item with no title in Arabic is not in the Arabic channel.
    let en = render_ok(&channel("news-en", Lang::En, 10), &[plain], at(200));
    assert_eq!(en.items, 0);
}

#[test]
fn enclosure_length_zero_when_unknown() {
    let ch = channel("news-ar", Lang::Ar, 10);
    let mut it = rich_item();
    it.media.remove(0);
    let r = render_ok(&ch, &[it], at(200));
    let rss = rss::Channel::read_from(&body(&r, PageId::Current, Format::Rss)[..]).expect("parse");
    let enc = rss.items[0].enclosure.as_ref().expect("enclosure");
    assert_eq!(
        (enc.length.as_str(), enc.mime_type.as_str()),
        ("0", "image/jpeg")
    );
}

#[test]
fn atom_fields() {
    let ch = channel("news-ar", Lang::Ar, 10);
    let rich = rich_item();
    let plain = item(1);
    let r = render_ok(&ch, &[plain.clone(), rich.clone()], at(200));
    let raw = body(&r, PageId::Current, Format::Atom);
    let text = String::from_utf8(raw.clone()).expect("utf8");
    assert!(text.contains("xml:lang=\"ar\""), "{text}");
    let feed = atom_syndication::Feed::read_from(&raw[..]).expect("parse");
    assert_eq!(feed.lang.as_deref(), Some("ar"));
    assert_eq!(feed.id, format!("{BASE}feeds/news-ar"));
    assert_eq!(feed.title.value, "أخبار البوابة");
    assert_eq!(
        feed.subtitle.as_ref().map(|s| s.value.as_str()),
        Some("آخر أخبار بوابة سلطنة عمان")
    );
    assert_eq!(feed.updated.to_rfc3339(), "2024-05-05T12:30:00+00:00");
    assert_eq!(feed.authors[0].name, "أخبار البوابة");
    assert_eq!(
        feed.rights.as_ref().map(|s| s.value.as_str()),
        Some("© حكومة سلطنة عمان")
    );
    assert_eq!(
        feed.icon.as_deref(),
        Some("https://portal.example.om/logo.png")
    );
    assert_eq!(
        feed.generator.as_ref().map(|g| g.value.as_str()),
        Some("Musharaka")
    );
    let rels: Vec<(&str, &str, Option<&str>)> = feed
        .links
        .iter()
        .map(|l| (l.rel.as_str(), l.href.as_str(), l.mime_type.as_deref()))
        .collect();
    assert_eq!(
        rels,
        [
            (
                "self",
                format!("{BASE}feeds/news-ar.atom").as_str(),
                Some("application/atom+xml")
            ),
            ("alternate", "https://portal.example.om/", Some("text/html")),
        ]
    );
    assert_eq!(feed.entries.len(), 2);
    let e = &feed.entries[0];
    assert_eq!(e.id, format!("urn:uuid:{}", rich.id));
    assert_eq!(Some(e.title.value.as_str()), rich.title.ar.as_deref());
    assert_eq!(e.updated.to_rfc3339(), "2024-05-05T12:30:00+00:00");
    assert_eq!(
        e.published.map(|p| p.to_rfc3339()).as_deref(),
        Some("2024-05-05T12:00:00+00:00")
    );
    let content = e.content.as_ref().expect("content");
    assert_eq!(content.content_type.as_deref(), Some("html"));
    assert_eq!(content.value.as_deref(), rich.body.ar.as_deref());
    assert_eq!(e.authors.len(), 1);
    assert_eq!(e.authors[0].name, "مكتب الإعلام");
    let terms: Vec<&str> = e.categories.iter().map(|c| c.term.as_str()).collect();
    assert_eq!(terms, ["عمل", "خدمات"]);
    let links: Vec<(&str, &str, Option<&str>, Option<&str>)> = e
        .links
        .iter()
        .map(|l| {
            (
                l.rel.as_str(),
                l.href.as_str(),
                l.mime_type.as_deref(),
                l.length.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        links,
        [
            (
                "alternate",
                "https://www.mol.gov.om/news/42?lang=ar&x=1",
                Some("text/html"),
                None
            ),
            (
                "enclosure",
                "https://media.portal.example.om/v/42.mp4",
                Some("video/mp4"),
                Some("1234567")
            ),
            (
                "enclosure",
                "https://media.portal.example.om/i/42.jpg",
                Some("image/jpeg"),
                None
            ),
        ]
    );
    // No author on the entry: inherited from the feed.
    assert!(feed.entries[1].authors.is_empty());
}

#[test]
fn json_fields() {
    let ch = channel("news-en", Lang::En, 10);
    let mut rich = rich_item();
    rich.title.en = Some("Ministry launches \"Permit\" <e-service>".to_string());
    rich.body.en = Some("<p>Free &amp; fast.</p>".to_string());
    let mut no_body = item(2);
    no_body.body.en = None;
    let r = render_ok(&ch, &[rich.clone(), no_body.clone()], at(200));
    let v: serde_json::Value =
        serde_json::from_slice(&body(&r, PageId::Current, Format::Json)).expect("json");
    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(v["title"], "Portal news");
    assert_eq!(v["home_page_url"], "https://portal.example.om/");
    assert_eq!(v["feed_url"], format!("{BASE}feeds/news-en.json"));
    assert_eq!(v["description"], "Latest news of the Oman portal");
    assert_eq!(v["language"], "en");
    assert_eq!(v["icon"], "https://portal.example.om/logo.png");
    assert_eq!(v["authors"][0]["name"], "Portal news");
    assert!(v.get("next_url").is_none());
    let it = &v["items"][0];
    assert_eq!(it["id"], format!("urn:uuid:{}", rich.id));
    assert_eq!(it["url"], "https://www.mol.gov.om/news/42?lang=ar&x=1");
    assert_eq!(it["title"], "Ministry launches \"Permit\" <e-service>");
    assert_eq!(it["content_html"], "<p>Free &amp; fast.</p>");
    assert_eq!(it["date_published"], "2024-05-05T12:00:00Z");
    assert_eq!(it["date_modified"], "2024-05-05T12:30:00Z");
    assert_eq!(it["authors"][0]["name"], "مكتب الإعلام");
    assert_eq!(it["tags"], serde_json::json!(["عمل", "خدمات"]));
    assert_eq!(it["language"], "en");
    assert_eq!(
        it["attachments"],
        serde_json::json!([
            {"url": "https://media.portal.example.om/v/42.mp4", "mime_type": "video/mp4", "size_in_bytes": 1234567},
            {"url": "https://media.portal.example.om/i/42.jpg", "mime_type": "image/jpeg"}
        ])
    );
    assert_eq!(v["items"][1]["content_text"], "News number 2");
    // Deterministic field order: version first, items last.
    let text = String::from_utf8(body(&r, PageId::Current, Format::Json)).expect("utf8");
    assert!(text.starts_with("{\n  \"version\""));
    assert!(
        text.find("\"language\": \"en\",\n  \"items\"").is_some(),
        "{text}"
    );
}

#[test]
fn hostile_text_is_escaped_and_round_trips() {
    let ch = channel("news-ar", Lang::Ar, 10);
    let mut it = item(1);
    it.title.ar = Some(
        "<script>alert('x')</script> & ]]> \u{0}\u{1b}\u{202e}عكس\u{202c} \u{2067}عربي\u{2069}"
            .to_string(),
    );
    it.body.ar = Some("<p>a ]]> b &amp; <b>c</b>\u{7}\u{fffe}</p>".to_string());
    it.author = Some("</dc:creator><evil/>".to_string());
    it.categories = vec!["<cat> & \"q\"".to_string()];
    let r = render_ok(&ch, &[it.clone()], at(10));
    let want_title = "<script>alert('x')</script> & ]]> \u{202e}عكس\u{202c} \u{2067}عربي\u{2069}";
    let want_body = "<p>a ]]> b &amp; <b>c</b></p>";

    let raw = body(&r, PageId::Current, Format::Rss);
    let text = String::from_utf8(raw.clone()).expect("utf8");
    assert!(
        !text.contains("<script>alert"),
        "title must be escaped: {text}"
    );
    assert!(!text.contains("<evil/>"));
    let rss = rss::Channel::read_from(&raw[..]).expect("parse");
    assert_eq!(rss.items[0].title.as_deref(), Some(want_title));
    assert_eq!(rss.items[0].description.as_deref(), Some(want_body));
    assert_eq!(rss.items[0].categories[0].name, "<cat> & \"q\"");
    assert_eq!(
        rss.items[0].dublin_core_ext.as_ref().expect("dc").creators,
        ["</dc:creator><evil/>"]
    );

    let raw = body(&r, PageId::Current, Format::Atom);
    let text = String::from_utf8(raw.clone()).expect("utf8");
    assert!(!text.contains("<script>") && !text.contains("<evil/>") && !text.contains("<b>"));
    let feed = atom_syndication::Feed::read_from(&raw[..]).expect("parse");
    let e = &feed.entries[0];
    assert_eq!(e.title.value, want_title);
    assert_eq!(
        e.content.as_ref().and_then(|c| c.value.as_deref()),
        Some(want_body)
    );
    assert_eq!(e.authors[0].name, "</dc:creator><evil/>");

    let v: serde_json::Value =
        serde_json::from_slice(&body(&r, PageId::Current, Format::Json)).expect("json");
    assert_eq!(v["items"][0]["title"], want_title);
    assert_eq!(v["items"][0]["content_html"], want_body);
}

#[test]
fn bad_links_and_media_fall_back_or_are_dropped() {
    let ch = channel("news-ar", Lang::Ar, 10);
    let mut it = item(1);
    it.link = Some("javascript:alert(1)".to_string());
    it.media = vec![musharaka::model::Media {
        kind: musharaka::model::MediaKind::Other,
        url: "not a url".to_string(),
        mime_type: "x".to_string(),
        length: None,
    }];
    let r = render_ok(&ch, &[it.clone()], at(10));
    let rss = rss::Channel::read_from(&body(&r, PageId::Current, Format::Rss)[..]).expect("parse");
    assert_eq!(
        rss.items[0].link.as_deref(),
        Some(format!("{BASE}news/{}", it.id).as_str())
    );
    assert!(rss.items[0].enclosure.is_none());
}

#[test]
fn empty_channel_is_valid_and_dated_by_a_constant() {
    let ch = channel("empty", Lang::En, 10);
    let a = render_ok(&ch, &[], at(1));
    let b = render_ok(&ch, &[], at(5000));
    assert_eq!(a.items, 0);
    assert_eq!(a.archive_pages, 0);
    for (k, d) in &a.documents {
        assert_eq!(d.body, b.documents[k].body, "{k:?}");
        assert_eq!(d.last_modified.to_rfc3339(), "2000-01-01T00:00:00+00:00");
    }
}

#[test]
fn select_filters_by_origin_category_language() {
    use musharaka::model::Origin;
    use musharaka::render::select;
    let mut ch = channel("c", Lang::En, 10);
    let staff = item(1);
    let mut mol = item(2);
    mol.origin = Origin::Upstream {
        source_id: "mol".into(),
        entry_key: "k".into(),
    };
    mol.categories = vec!["  Labour ".into()];
    let mut moh = item(3);
    moh.origin = Origin::Upstream {
        source_id: "moh".into(),
        entry_key: "k".into(),
    };
    let mut blank = item(4);
    blank.title.en = Some("   ".into());
    let mut retracted = item(5);
    retracted.retracted_at = Some(at(6));
    let all = [staff.clone(), mol.clone(), moh, blank, retracted];
    let ids = |v: Vec<&musharaka::model::NewsItem>| v.iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids(select(&ch, &all, at(100))), [mol.id, staff.id]);
    ch.include_staff = false;
    assert_eq!(ids(select(&ch, &all, at(100))), [mol.id]);
    ch.include_staff = true;
    ch.categories.insert("labour".into());
    assert_eq!(ids(select(&ch, &all, at(100))), [mol.id]);
}
