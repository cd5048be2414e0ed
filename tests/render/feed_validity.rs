//! A test-side feed checker enforcing the rules the W3C Feed Validation
//! Service applies to what we emit. Every error *and* every warning the
//! validator would raise on these constructs is a failure here.

use chrono::{DateTime, FixedOffset};
use std::collections::HashSet;
use url::Url;

fn valid_http_url(s: &str) -> bool {
    Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

fn valid_uri(s: &str) -> bool {
    Url::parse(s).is_ok() && !s.contains(char::is_whitespace)
}

fn valid_lang(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').enumerate().all(|(i, p)| {
            (1..=8).contains(&p.len())
                && if i == 0 {
                    p.chars().all(|c| c.is_ascii_alphabetic())
                } else {
                    p.chars().all(|c| c.is_ascii_alphanumeric())
                }
        })
}

/// RFC 822 as the validator wants it: `Www, DD Mmm YYYY HH:MM:SS +0000|GMT`,
/// a 4-digit year, and a date that parses.
pub fn valid_rfc822(s: &str) -> bool {
    let toks: Vec<&str> = s.split(' ').collect();
    toks.len() == 6
        && toks[0].len() == 4
        && toks[0].ends_with(',')
        && toks[1].len() == 2
        && toks[3].len() == 4
        && toks[3].chars().all(|c| c.is_ascii_digit())
        && toks[4].len() == 8
        && matches!(toks[5], "+0000" | "GMT")
        && DateTime::parse_from_rfc2822(s).is_ok()
}

pub fn parse_rfc3339(s: &str) -> Option<DateTime<FixedOffset>> {
    // The validator accepts only the RFC 3339 profile: 'T', seconds, offset.
    if s.len() < 20 || s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(s).ok()
}

/// XML 1.0 `Char` and no discouraged controls anywhere in the document.
fn check_chars(doc: &str, errs: &mut Vec<String>) {
    for c in doc.chars() {
        let bad = matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}');
        if bad {
            errs.push(format!(
                "invalid or discouraged XML character U+{:04X}",
                c as u32
            ));
        }
    }
    // UTF-8 is XML's default: a declaration without encoding is fine.
    let decl = doc.split_once("?>").map(|(d, _)| d).unwrap_or_default();
    if !decl.starts_with("<?xml version=\"1.0\"")
        || (decl.contains("encoding") && !decl.to_ascii_lowercase().contains("encoding=\"utf-8\""))
    {
        errs.push("missing XML declaration, or encoding other than utf-8".into());
    }
}

/// All text contents of `<name>` elements (no attributes on them in our output).
fn raw_elements<'a>(doc: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(&after[..j]);
        rest = &after[j..];
    }
    out
}

/// Check an RSS 2.0 document; returns every problem found.
pub fn check_rss(bytes: &[u8], expected_self: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let doc = match std::str::from_utf8(bytes) {
        Ok(d) => d,
        Err(e) => return vec![format!("not UTF-8: {e}")],
    };
    check_chars(doc, &mut errs);
    let ch = match rss::Channel::read_from(bytes) {
        Ok(c) => c,
        Err(e) => return vec![format!("not well-formed RSS: {e}")],
    };
    if !doc.contains("<rss version=\"2.0\"") {
        errs.push("root must be <rss version=\"2.0\">".into());
    }
    if ch.title.trim().is_empty() {
        errs.push("channel: missing title".into());
    }
    if !valid_http_url(&ch.link) {
        errs.push(format!("channel: invalid link {:?}", ch.link));
    }
    if ch.description.trim().is_empty() {
        errs.push("channel: missing description".into());
    }
    match ch.language.as_deref() {
        Some(l) if valid_lang(l) => {}
        other => errs.push(format!("channel: invalid language {other:?}")),
    }
    for (name, d) in [
        ("pubDate", &ch.pub_date),
        ("lastBuildDate", &ch.last_build_date),
    ] {
        if let Some(d) = d {
            if !valid_rfc822(d) {
                errs.push(format!("channel: {name} not RFC 822: {d:?}"));
            }
        }
    }
    if let Some(img) = &ch.image {
        if !valid_http_url(&img.url) {
            errs.push("image: invalid url".into());
        }
        if img.title != ch.title {
            errs.push("image: title does not match channel title".into());
        }
        if img.link != ch.link {
            errs.push("image: link does not match channel link".into());
        }
    }
    if let Some(docs) = &ch.docs {
        if !valid_http_url(docs) {
            errs.push("channel: invalid docs url".into());
        }
    }
    // atom:link rel=self, matching the document's URL.
    let links = ch
        .atom_ext
        .as_ref()
        .map(|e| e.links.clone())
        .unwrap_or_default();
    let selfs: Vec<_> = links.iter().filter(|l| l.rel == "self").collect();
    if selfs.len() != 1 {
        errs.push(format!(
            "channel: expected one atom:link rel=self, found {}",
            selfs.len()
        ));
    }
    for l in &selfs {
        if l.href != expected_self {
            errs.push(format!(
                "self link {} does not match document location {expected_self}",
                l.href
            ));
        }
        if l.mime_type.as_deref() != Some("application/rss+xml") {
            errs.push("self link: type must be application/rss+xml".into());
        }
    }
    for l in &links {
        if !valid_http_url(&l.href) {
            errs.push(format!("atom:link: invalid href {}", l.href));
        }
    }
    if doc.contains("<author>") {
        errs.push("item author must be an e-mail address; use dc:creator".into());
    }
    let mut guids = HashSet::new();
    for (i, it) in ch.items.iter().enumerate() {
        let at = format!("item {i}");
        if it.title.as_deref().is_none_or(|t| t.trim().is_empty())
            && it
                .description
                .as_deref()
                .is_none_or(|t| t.trim().is_empty())
        {
            errs.push(format!("{at}: needs a title or a description"));
        }
        match it.link.as_deref() {
            Some(l) if valid_http_url(l) => {}
            other => errs.push(format!("{at}: invalid link {other:?}")),
        }
        match &it.guid {
            Some(g) if !g.value.trim().is_empty() => {
                if g.permalink && !valid_http_url(&g.value) {
                    errs.push(format!("{at}: permalink guid must be a URL"));
                }
                if !guids.insert(g.value.clone()) {
                    errs.push(format!("{at}: duplicate guid {}", g.value));
                }
            }
            _ => errs.push(format!("{at}: missing guid")),
        }
        match it.pub_date.as_deref() {
            Some(d) if valid_rfc822(d) => {}
            other => errs.push(format!("{at}: pubDate not RFC 822: {other:?}")),
        }
        if let Some(e) = &it.enclosure {
            if !valid_http_url(&e.url) {
                errs.push(format!("{at}: enclosure url invalid"));
            }
            if e.length.parse::<u64>().is_err() {
                errs.push(format!(
                    "{at}: enclosure length must be a non-negative integer"
                ));
            }
            if !e.mime_type.contains('/') {
                errs.push(format!("{at}: enclosure type must be a MIME type"));
            }
        }
        for c in &it.categories {
            if c.name.trim().is_empty() {
                errs.push(format!("{at}: empty category"));
            }
        }
        if let Some(dc) = &it.dublin_core_ext {
            if dc.creators.iter().any(|c| c.trim().is_empty()) {
                errs.push(format!("{at}: empty dc:creator"));
            }
        }
    }
    // One enclosure per item at most (the parser keeps only one, so count raw).
    for item in doc.split("<item>").skip(1) {
        if item.matches("<enclosure ").count() > 1 {
            errs.push("item with more than one enclosure".into());
        }
    }
    errs
}

/// Check an Atom 1.0 document; returns every problem found.
pub fn check_atom(bytes: &[u8], expected_self: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let doc = match std::str::from_utf8(bytes) {
        Ok(d) => d,
        Err(e) => return vec![format!("not UTF-8: {e}")],
    };
    check_chars(doc, &mut errs);
    let feed = match atom_syndication::Feed::read_from(bytes) {
        Ok(f) => f,
        Err(e) => return vec![format!("not well-formed Atom: {e}")],
    };
    for d in raw_elements(doc, "updated")
        .into_iter()
        .chain(raw_elements(doc, "published"))
    {
        if parse_rfc3339(d).is_none() {
            errs.push(format!("date not RFC 3339: {d:?}"));
        }
    }
    if !valid_uri(&feed.id) {
        errs.push(format!("feed: id is not a URI: {:?}", feed.id));
    }
    if feed.title.value.trim().is_empty() {
        errs.push("feed: missing title".into());
    }
    match feed.lang.as_deref() {
        Some(l) if valid_lang(l) => {}
        other => errs.push(format!("feed: xml:lang missing or invalid: {other:?}")),
    }
    let selfs: Vec<_> = feed.links.iter().filter(|l| l.rel == "self").collect();
    if selfs.len() != 1 {
        errs.push(format!(
            "feed: expected one link rel=self, found {}",
            selfs.len()
        ));
    }
    for l in &selfs {
        if l.href != expected_self {
            errs.push(format!(
                "self link {} does not match document location {expected_self}",
                l.href
            ));
        }
        if l.mime_type.as_deref() != Some("application/atom+xml") {
            errs.push("self link: type must be application/atom+xml".into());
        }
    }
    let mut rel_types = HashSet::new();
    for l in &feed.links {
        if !valid_http_url(&l.href) {
            errs.push(format!("feed link: invalid href {}", l.href));
        }
        if l.rel == "alternate" && !rel_types.insert((l.mime_type.clone(), l.hreflang.clone())) {
            errs.push("feed: duplicate alternate link with same type and hreflang".into());
        }
    }
    for u in feed.icon.iter().chain(feed.logo.iter()) {
        if !valid_http_url(u) {
            errs.push(format!("feed: invalid icon/logo {u}"));
        }
    }
    let feed_has_author = feed.authors.iter().any(|a| !a.name.trim().is_empty());
    let mut ids = HashSet::new();
    for (i, e) in feed.entries.iter().enumerate() {
        let at = format!("entry {i}");
        if !valid_uri(&e.id) {
            errs.push(format!("{at}: id is not a URI"));
        }
        if !ids.insert(e.id.clone()) {
            errs.push(format!("{at}: duplicate id {}", e.id));
        }
        if e.title.value.trim().is_empty() {
            errs.push(format!("{at}: missing title"));
        }
        if let Some(p) = e.published {
            if e.updated < p {
                errs.push(format!("{at}: updated before published"));
            }
        }
        if !feed_has_author && e.authors.is_empty() {
            errs.push(format!("{at}: missing author"));
        }
        let alternates = e.links.iter().filter(|l| l.rel == "alternate").count();
        if alternates == 0 {
            errs.push(format!("{at}: missing alternate link"));
        }
        if e.content.is_none() && e.summary.is_none() && alternates == 0 {
            errs.push(format!("{at}: needs content or an alternate link"));
        }
        for l in &e.links {
            if !valid_http_url(&l.href) {
                errs.push(format!("{at}: invalid link href {}", l.href));
            }
            if l.rel == "enclosure" {
                if !l.mime_type.as_deref().is_some_and(|m| m.contains('/')) {
                    errs.push(format!("{at}: enclosure without type"));
                }
                if l.length
                    .as_deref()
                    .is_some_and(|n| n.parse::<u64>().is_err())
                {
                    errs.push(format!("{at}: enclosure length not an integer"));
                }
            }
        }
        if let Some(c) = &e.content {
            if c.content_type.as_deref() != Some("html") {
                errs.push(format!("{at}: content type should be html"));
            }
        }
        for c in &e.categories {
            if c.term.trim().is_empty() {
                errs.push(format!("{at}: empty category term"));
            }
        }
    }
    errs
}

/// Check a JSON Feed 1.1 document; returns every problem found.
pub fn check_json(bytes: &[u8], expected_self: &str) -> Vec<String> {
    use serde_json::Value;
    let mut errs = Vec::new();
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return vec![format!("not JSON: {e}")],
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    if s(&v, "version").as_deref() != Some("https://jsonfeed.org/version/1.1") {
        errs.push("version must be https://jsonfeed.org/version/1.1".into());
    }
    if s(&v, "title").is_none_or(|t| t.trim().is_empty()) {
        errs.push("missing title".into());
    }
    if s(&v, "feed_url").as_deref() != Some(expected_self) {
        errs.push(format!(
            "feed_url {:?} != {expected_self}",
            s(&v, "feed_url")
        ));
    }
    for k in ["home_page_url", "feed_url", "next_url", "icon", "favicon"] {
        match v.get(k) {
            None => {}
            Some(Value::String(u)) if valid_http_url(u) => {}
            Some(other) => errs.push(format!("{k}: not a URL string: {other}")),
        }
    }
    if v.get("author").is_some() {
        errs.push("`author` is deprecated in 1.1; use `authors`".into());
    }
    let check_authors = |a: Option<&Value>, at: &str, errs: &mut Vec<String>| match a {
        None => {}
        Some(Value::Array(list)) => {
            for p in list {
                if p.get("name")
                    .and_then(Value::as_str)
                    .is_none_or(|n| n.trim().is_empty())
                {
                    errs.push(format!("{at}: author without name"));
                }
            }
        }
        Some(_) => errs.push(format!("{at}: authors must be an array")),
    };
    check_authors(v.get("authors"), "feed", &mut errs);
    if let Some(l) = v.get("language") {
        if !l.as_str().is_some_and(valid_lang) {
            errs.push("feed: invalid language".into());
        }
    }
    let Some(items) = v.get("items").and_then(Value::as_array) else {
        errs.push("items must be an array".into());
        return errs;
    };
    let mut ids = HashSet::new();
    for (i, it) in items.iter().enumerate() {
        let at = format!("item {i}");
        match it.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => {
                if !ids.insert(id.to_string()) {
                    errs.push(format!("{at}: duplicate id"));
                }
            }
            _ => errs.push(format!("{at}: id must be a non-empty string")),
        }
        if it.get("content_html").and_then(Value::as_str).is_none()
            && it.get("content_text").and_then(Value::as_str).is_none()
        {
            errs.push(format!("{at}: needs content_html or content_text"));
        }
        if !s(it, "url").is_some_and(|u| valid_http_url(&u)) {
            errs.push(format!("{at}: url must be a URL"));
        }
        let p = s(it, "date_published").map(|d| parse_rfc3339(&d));
        let m = s(it, "date_modified").map(|d| parse_rfc3339(&d));
        if matches!(p, Some(None)) || matches!(m, Some(None)) {
            errs.push(format!("{at}: dates must be RFC 3339"));
        }
        if let (Some(Some(p)), Some(Some(m))) = (p, m) {
            if m < p {
                errs.push(format!("{at}: date_modified before date_published"));
            }
        }
        check_authors(it.get("authors"), &at, &mut errs);
        if let Some(tags) = it.get("tags") {
            if !tags
                .as_array()
                .is_some_and(|t| t.iter().all(Value::is_string))
            {
                errs.push(format!("{at}: tags must be strings"));
            }
        }
        if let Some(att) = it.get("attachments") {
            for a in att.as_array().into_iter().flatten() {
                if !s(a, "url").is_some_and(|u| valid_http_url(&u)) || s(a, "mime_type").is_none() {
                    errs.push(format!("{at}: attachment needs url and mime_type"));
                }
                if a.get("size_in_bytes").is_some_and(|n| !n.is_u64()) {
                    errs.push(format!("{at}: size_in_bytes must be a number"));
                }
            }
        }
    }
    errs
}

#[test]
fn checker_rejects_bad_feeds() {
    // The checker itself must be able to fail.
    assert!(!valid_rfc822("Tue, 05 Mar 24 07:08:09 +0000"));
    assert!(!valid_rfc822("2024-03-05T07:08:09Z"));
    assert!(valid_rfc822("Tue, 05 Mar 2024 07:08:09 +0000"));
    let bad_rss = br#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title><link>not a url</link><description>d</description><item><title>x</title><pubDate>5 Mar 24</pubDate></item></channel></rss>"#;
    let e = check_rss(bad_rss, "https://x.example/feeds/a.rss");
    assert!(e.iter().any(|m| m.contains("invalid link")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("missing guid")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("rel=self")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("pubDate")), "{e:?}");
    let bad_atom = br#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id><updated>2024-01-01</updated><entry><title>e</title><id>urn:uuid:1</id><updated>2024-01-01T00:00:00Z</updated><published>2024-02-01T00:00:00Z</published></entry></feed>"#;
    let e = check_atom(bad_atom, "https://x.example/feeds/a.atom");
    assert!(e.iter().any(|m| m.contains("xml:lang")), "{e:?}");
    assert!(
        e.iter().any(|m| m.contains("updated before published")),
        "{e:?}"
    );
    assert!(e.iter().any(|m| m.contains("alternate")), "{e:?}");
    let e = check_json(
        br#"{"version":"https://jsonfeed.org/version/1","items":[{"id":1}]}"#,
        "x",
    );
    assert!(e.len() >= 3, "{e:?}");
}
