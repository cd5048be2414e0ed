//! Tests of feed parsing and normalization, on the sample feeds and on
//! hand-written edge cases.

use super::*;
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub(crate) fn source(id: &str, language: Option<Lang>) -> Source {
    Source {
        id: id.into(),
        url: Url::parse("https://example.om/feed").unwrap(),
        schedule: "0 */15 * * * *".parse().unwrap(),
        schedule_text: "0 */15 * * * *".into(),
        language,
        categories: vec!["Government".into()],
        utc_offset: 0,
        name: Some("Ministry".into()),
        cross_post: false,
        enabled: true,
        file: "feeds/test.toml".into(),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/upstream/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn key(item: &NewsItem) -> &str {
    match &item.origin {
        Origin::Upstream { entry_key, .. } => entry_key,
        Origin::Staff => panic!("staff item"),
    }
}

#[test]
fn moh_arabic_rss() {
    let url = Url::parse("https://moh.example.om/ar/news.rss").unwrap();
    let f = parse_feed(&fixture("moh-ar.rss"), &url, &source("moh", None), now()).unwrap();
    assert_eq!(f.title, "وزارة الصحة - الأخبار");
    assert_eq!(f.language, Some(Lang::Ar));
    assert_eq!(f.entries.len(), 3);
    assert!(f.skipped.is_empty());
    let [a, b, c] = &f.entries[..] else {
        unreachable!()
    };

    assert_eq!(key(a), "moh-news-88412");
    assert_eq!(
        a.title.ar.as_deref(),
        Some("إطلاق خدمة حجز المواعيد إلكترونياً في المراكز الصحية")
    );
    assert_eq!(a.title.en, None);
    assert_eq!(
        a.link.as_deref(),
        Some("https://moh.example.om/ar/news/2026/11/27/appointments")
    );
    assert_eq!(a.published_at, utc("2026-11-27T05:00:00Z"));
    assert_eq!(a.updated_at, a.published_at);
    assert_eq!(a.author.as_deref(), Some("المكتب الإعلامي"));
    assert_eq!(a.categories, ["الخدمات الإلكترونية", "Government"]);
    let body = a.body.ar.as_deref().unwrap();
    assert!(body.contains("<strong>حجز المواعيد</strong>"), "{body}");
    // The relative <img src> is resolved against the channel link.
    assert!(
        body.contains(r#"src="https://moh.example.om/media/appointments.jpg""#),
        "{body}"
    );
    assert_eq!(a.created_at, now());
    assert_eq!(a.revision, 0);
    assert_eq!(a.content_hash.as_ref().map(String::len), Some(64));
    assert_eq!(a.source_id(), Some("moh"));

    // A relative item link; the guid is the identity.
    assert_eq!(
        key(b),
        "https://moh.example.om/ar/news/2026/11/20/flu-campaign"
    );
    assert_eq!(
        b.link.as_deref(),
        Some("https://moh.example.om/ar/news/2026/11/20/flu-campaign")
    );
    assert_eq!(b.published_at, utc("2026-11-20T08:15:00Z"));
    assert_eq!(
        b.body.ar.as_deref(),
        Some("تبدأ الحملة في جميع المحافظات يوم الأحد &amp; تستمر لمدة شهر.")
    );
    assert_eq!(b.author.as_deref(), Some("Ministry"));
    assert_eq!(
        b.media,
        [Media {
            kind: MediaKind::Video,
            url: "https://moh.example.om/media/flu-campaign.mp4".into(),
            mime_type: "video/mp4".into(),
            length: Some(10_485_760),
        }]
    );
    // No guid: the link is the identity.
    assert_eq!(key(c), "https://moh.example.om/ar/news/2026/11/15/hours");
    assert_eq!(c.published_at, utc("2026-11-15T06:00:00Z"));
}

#[test]
fn mtcit_english_atom() {
    let url = Url::parse("https://mtcit.example.om/en/news.atom").unwrap();
    let f = parse_feed(
        &fixture("mtcit-en.atom"),
        &url,
        &source("mtcit", Some(Lang::Ar)),
        now(),
    )
    .unwrap();
    assert_eq!(
        f.title,
        "Ministry of Transport, Communications and IT — News"
    );
    // xml:lang on the feed wins over the source's fallback.
    assert_eq!(f.language, Some(Lang::En));
    assert_eq!(f.ttl, None);
    assert_eq!(f.entries.len(), 2);
    let [a, b] = &f.entries[..] else {
        unreachable!()
    };
    assert_eq!(key(a), "tag:mtcit.example.om,2026:news/5521");
    // type="html" title: tags stripped.
    assert_eq!(
        a.title.en.as_deref(),
        Some("Digital ID now accepted for all portal services")
    );
    assert_eq!(a.title.ar, None);
    assert_eq!(a.published_at, utc("2026-11-26T07:00:00Z"));
    assert_eq!(a.updated_at, utc("2026-11-26T08:00:00Z"));
    assert_eq!(a.categories, ["Digital Government", "Government"]);
    assert_eq!(a.author.as_deref(), Some("MTCIT Media Office"));
    assert_eq!(
        a.body.en.as_deref(),
        Some(
            "<p>Citizens and residents can now sign in to every service on the portal with their national digital ID.</p>"
        )
    );
    // No <published>: updated is both.
    assert_eq!(b.published_at, utc("2026-11-24T08:00:00Z"));
    assert_eq!(b.updated_at, b.published_at);
    let body = b.body.en.as_deref().unwrap();
    assert!(body.contains("<b>Friday 02:00–04:00</b>"), "{body}");
    assert!(!body.contains("xmlns"), "{body}");
    assert_eq!(
        b.link.as_deref(),
        Some("https://mtcit.example.om/en/news/5519")
    );
}

#[test]
fn rop_messy_rss() {
    let url = Url::parse("https://rop.example.om/rss/news.xml").unwrap();
    let f = parse_feed(
        &fixture("rop-ar-messy.rss"),
        &url,
        &source("rop", None),
        now(),
    )
    .unwrap();
    assert_eq!(f.title, "شرطة عمان السلطانية");
    assert_eq!(f.language, None);
    // Four items: one duplicate stored once, one skipped.
    assert_eq!(f.entries.len(), 2);
    assert_eq!(f.duplicates, 1);
    assert_eq!(f.skipped, ["entry 4: no title and no link"]);
    let [a, b] = &f.entries[..] else {
        unreachable!()
    };
    // &#160; trimmed; Arabic detected from the title.
    assert_eq!(
        a.title.ar.as_deref(),
        Some("تنبيه: أحوال جوية ماطرة على محافظة مسقط")
    );
    assert_eq!(
        a.link.as_deref(),
        Some("https://rop.example.om/news.aspx?id=1201&lang=ar")
    );
    assert_eq!(key(a), "https://rop.example.om/news.aspx?id=1201&lang=ar");
    assert_eq!(a.published_at, utc("2026-11-27T07:45:00Z"));
    // Escaped markup in the description becomes markup; diacritics kept.
    assert_eq!(
        a.body.ar.as_deref(),
        Some("يُرجى من السائقين توخي الحذر <b>وتجنب</b> الأودية.")
    );
    // Relative link resolved against the channel link.
    assert_eq!(
        b.link.as_deref(),
        Some("https://rop.example.om/news.aspx?id=1188&lang=ar")
    );
    assert_eq!(b.published_at, utc("2026-11-22T05:00:00Z"));
    assert_eq!(b.author.as_deref(), Some("Ministry"));
}

#[test]
fn identity_falls_back_to_link_then_hash() {
    let doc = |extra: &str| {
        format!(
            r#"<rss version="2.0"><channel><title>t</title><link>https://x.om/</link><description>d</description>
            <item><title>Same title</title><description>Body one</description>{extra}</item></channel></rss>"#
        )
    };
    let url = Url::parse("https://x.om/feed").unwrap();
    let s = source("x", Some(Lang::En));
    let parse = |d: String| {
        parse_feed(d.as_bytes(), &url, &s, now())
            .unwrap()
            .entries
            .remove(0)
    };
    assert_eq!(key(&parse(doc("<guid>g-1</guid><link>a</link>"))), "g-1");
    assert_eq!(key(&parse(doc("<link>a/b</link>"))), "https://x.om/a/b");
    let h1 = parse(doc(""));
    let h2 = parse(doc(""));
    assert!(key(&h1).starts_with("sha256:"), "{}", key(&h1));
    assert_eq!(key(&h1), key(&h2), "the hash identity is stable");
    // The content hash changes when the content does.
    let changed = parse(doc("<pubDate>Fri, 27 Nov 2026 09:00:00 GMT</pubDate>"));
    assert_ne!(h1.content_hash, changed.content_hash);
    assert_eq!(h1.content_hash, h2.content_hash);
    // A permalink guid serves as the link.
    let p = parse(doc("<guid>https://x.om/p/1</guid>"));
    assert_eq!(p.link.as_deref(), Some("https://x.om/p/1"));
    let np = parse(doc(r#"<guid isPermaLink="false">https://x.om/p/1</guid>"#));
    assert_eq!(np.link, None);
}

#[test]
fn broken_entries_are_skipped_not_fatal() {
    let doc = r#"<rss version="2.0"><channel><title>t</title><link>https://x.om/</link><description>d</description>
        <item><title>Bad link</title><link>javascript:alert(1)</link></item>
        <item><link>https://x.om/only-link</link></item>
        <item><link>https://x.om/link-and-body</link><description>A body with words but no title at all</description></item>
        <item><title>Fine</title><link>/fine</link><pubDate>not a date</pubDate></item>
        </channel></rss>"#;
    let url = Url::parse("https://x.om/feed").unwrap();
    let f = parse_feed(doc.as_bytes(), &url, &source("x", Some(Lang::En)), now()).unwrap();
    assert_eq!(
        f.skipped,
        [
            "entry 1: unresolvable link `javascript:alert(1)`",
            "entry 2: no title and no content"
        ]
    );
    assert_eq!(f.entries.len(), 2);
    assert_eq!(
        f.entries[0].title.en.as_deref(),
        Some("A body with words but no title at all")
    );
    // Unreadable date: first seen.
    assert_eq!(f.entries[1].published_at, now());
    assert_eq!(f.entries[1].link.as_deref(), Some("https://x.om/fine"));
}

#[test]
fn rss1_rdf_and_ttl_and_media_content() {
    let rdf = r#"<?xml version="1.0"?>
    <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://x.om/"><title>RDF feed</title><link>https://x.om/</link><description>d</description></channel>
      <item rdf:about="https://x.om/1"><title>One</title><link>https://x.om/1</link><dc:date>2026-11-22T09:00:00+04:00</dc:date></item>
    </rdf:RDF>"#;
    let url = Url::parse("https://x.om/feed.rdf").unwrap();
    let f = parse_feed(rdf.as_bytes(), &url, &source("x", None), now()).unwrap();
    assert_eq!(f.title, "RDF feed");
    assert_eq!(f.entries.len(), 1);
    assert_eq!(f.entries[0].published_at, utc("2026-11-22T05:00:00Z"));
    assert_eq!(f.entries[0].title.en.as_deref(), Some("One"));

    let rss = r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title><link>https://x.om/</link><description>d</description><ttl>90</ttl>
        <item><title>Pic</title><link>/p</link><media:content url="/img/p.jpg" type="image/jpeg" fileSize="12"/></item></channel></rss>"#;
    let f = parse_feed(rss.as_bytes(), &url, &source("x", None), now()).unwrap();
    assert_eq!(f.ttl, Some(Duration::from_secs(90 * 60)));
    assert_eq!(f.entries[0].media[0].url, "https://x.om/img/p.jpg");
    assert_eq!(f.entries[0].media[0].kind, MediaKind::Image);
    assert_eq!(f.entries[0].media[0].length, Some(12));
}

#[test]
fn atom_text_types_bases_and_bad_dates() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://x.om/en/">
      <title type="text">A &amp; B</title><id>f</id><updated>2026-11-20T00:00:00Z</updated>
      <entry><title type="text">1 &lt; 2 &lt;b&gt;</title><id>e1</id><link href="news/1"/><updated>27/11/2026 07:45</updated>
        <content type="text">x &lt; y &amp; &lt;script&gt;</content><link rel="enclosure" href="/f.pdf" type="application/pdf"/></entry>
      <entry><title>No date</title><id>e2</id><updated>whenever</updated><summary type="html">&lt;p onclick="x()"&gt;hi&lt;/p&gt;</summary></entry>
    </feed>"#;
    let url = Url::parse("https://x.om/feed.atom").unwrap();
    let f = parse_feed(doc.as_bytes(), &url, &source("x", Some(Lang::En)), now()).unwrap();
    assert_eq!(f.title, "A & B");
    let [a, b] = &f.entries[..] else {
        panic!("{:?}", f.entries)
    };
    // type="text" is text, even when it looks like markup.
    assert_eq!(a.title.en.as_deref(), Some("1 < 2 <b>"));
    assert_eq!(
        a.body.en.as_deref(),
        Some("<p>x &lt; y &amp; &lt;script&gt;</p>")
    );
    assert_eq!(a.link.as_deref(), Some("https://x.om/en/news/1"));
    assert_eq!(a.published_at, utc("2026-11-27T07:45:00Z"));
    assert_eq!(a.media[0].url, "https://x.om/f.pdf");
    assert_eq!(a.media[0].kind, MediaKind::Other);
    assert_eq!(b.published_at, now());
    assert_eq!(b.body.en.as_deref(), Some("<p>hi</p>"));
}

#[test]
fn hostile_documents_cost_nothing() {
    let url = Url::parse("https://x.om/feed").unwrap();
    let s = source("x", None);
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss version="2.0"><channel><title>&lol9;</title><link>https://x.om/</link><description>d</description>
<item><title>&lol9;</title><link>https://x.om/1</link></item></channel></rss>"#;
    let started = std::time::Instant::now();
    assert!(matches!(
        parse_feed(laughs.as_bytes(), &url, &s, now()),
        Err(ParseError::Dtd)
    ));
    assert!(started.elapsed() < Duration::from_secs(1));
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><link>https://x.om/</link><description>d</description>
<item><title>&xxe;</title><link>https://x.om/1</link></item></channel></rss>"#;
    assert!(matches!(
        parse_feed(xxe.as_bytes(), &url, &s, now()),
        Err(ParseError::Dtd)
    ));
    // Without a DTD, an undeclared entity is never expanded nor resolved.
    let undeclared = xxe.replace(
        r#"<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>"#,
        "",
    );
    let f = parse_feed(undeclared.as_bytes(), &url, &s, now()).unwrap();
    let title = f.entries[0]
        .title
        .get(Lang::En)
        .unwrap_or_default()
        .to_string();
    assert!(!title.contains("root:"), "{title}");
}

#[test]
fn windows_1256_feed() {
    let xml = "<?xml version=\"1.0\" encoding=\"windows-1256\"?><rss version=\"2.0\"><channel><title>وزارة الإسكان</title><link>https://x.om/</link><description>d</description><item><title>خبر جديد</title><link>/n/1</link></item></channel></rss>";
    let (bytes, _, bad) = encoding_rs::WINDOWS_1256.encode(xml);
    assert!(!bad);
    let f = parse_feed(
        &bytes,
        &Url::parse("https://x.om/f").unwrap(),
        &source("x", None),
        now(),
    )
    .unwrap();
    assert_eq!(f.title, "وزارة الإسكان");
    assert_eq!(f.entries[0].title.ar.as_deref(), Some("خبر جديد"));
}

#[test]
fn not_feeds() {
    let url = Url::parse("https://x.om/f").unwrap();
    let s = source("x", None);
    assert!(matches!(
        parse_feed(b"<html><body/></html>", &url, &s, now()),
        Err(ParseError::UnknownFormat(_))
    ));
    assert!(matches!(
        parse_feed(b"", &url, &s, now()),
        Err(ParseError::Empty)
    ));
    let bad = parse_feed(b"<rss>\xff</rss>", &url, &s, now()).unwrap_err();
    assert_eq!(bad.to_string(), "invalid UTF-8 at byte 5");
}
