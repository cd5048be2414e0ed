//! Text and URL helpers shared by the writers: XML-safe text, permalinks,
//! dates.

use crate::config::Channel;
use crate::model::{Media, NewsItem};
use chrono::{DateTime, SecondsFormat, Utc};
use url::Url;

/// Text made safe for XML 1.0 (and used as-is in JSON so every format shows
/// the same text): characters outside the XML `Char` production (C0 controls
/// other than tab and newline, U+FFFE, U+FFFF) are removed, as are the C1
/// controls and DEL that XML 1.0 discourages; CR and CRLF become LF, which is
/// what an XML parser would turn them into anyway. Markup-significant
/// characters (`<`, `&`, `]]>`) are left to the writers, which escape them.
/// Bidi controls (U+200E/F, U+202A–E, U+2066–9) are ordinary characters here
/// and kept: Arabic titles need them.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\t' | '\n' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => {}
            _ => out.push(c),
        }
    }
    out
}

/// A cleaned, trimmed single-line value (titles, names, categories): line
/// breaks and tabs become spaces.
pub fn clean_line(s: &str) -> String {
    clean(s)
        .chars()
        .map(|c| if matches!(c, '\n' | '\t') { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// `s` parsed as an absolute `http`/`https` URL, serialized canonically.
pub fn http_url(s: &str) -> Option<String> {
    let u = Url::parse(s.trim()).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

/// The item's permalink: its own link when it is an absolute http(s) URL,
/// else the daemon's news page `{base_url}news/{id}`.
pub fn permalink(channel: &Channel, item: &NewsItem) -> String {
    item.permalink(&channel.base_url)
}

/// The guid / entry id: stable across edits, independent of the link.
pub fn item_guid(item: &NewsItem) -> String {
    format!("urn:uuid:{}", item.id.0.as_hyphenated())
}

/// Media with a usable URL and MIME type, in stored order.
pub fn usable_media(item: &NewsItem) -> impl Iterator<Item = (String, String, &Media)> {
    item.media.iter().filter_map(|m| {
        let url = http_url(&m.url)?;
        let mime = clean_line(&m.mime_type);
        let ok = mime.split_once('/').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && !mime.contains(char::is_whitespace)
        });
        Some((
            url,
            if ok {
                mime
            } else {
                "application/octet-stream".to_string()
            },
            m,
        ))
    })
}

/// Cleaned, non-empty categories, first occurrence kept, in stored order.
pub fn categories(item: &NewsItem) -> Vec<String> {
    let mut seen = Vec::<String>::new();
    for c in &item.categories {
        let c = clean_line(c);
        if !c.is_empty() && !seen.contains(&c) {
            seen.push(c);
        }
    }
    seen
}

/// The item's author, cleaned, if not blank.
pub fn author(item: &NewsItem) -> Option<String> {
    item.author
        .as_deref()
        .map(clean_line)
        .filter(|a| !a.is_empty())
}

/// RFC 822 date as RSS wants it: 4-digit year, `+0000`.
pub fn rfc822(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// RFC 3339 date in UTC with a `Z`, whole seconds unless the time has a
/// fraction.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// An item's `updated` time: its last update, never before its publication.
pub fn item_updated(item: &NewsItem) -> DateTime<Utc> {
    item.updated_at.max(item.published_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn clean_strips_invalid_xml_and_keeps_bidi() {
        let s = "a\u{0}b\u{1b}c\u{8}\u{85}\u{fffe}d\r\ne\rf\t\u{200f}\u{202b}عربي\u{202c}";
        assert_eq!(clean(s), "abcd\ne\nf\t\u{200f}\u{202b}عربي\u{202c}");
    }

    #[test]
    fn clean_line_flattens() {
        assert_eq!(clean_line("  a\nb\tc \u{7} "), "a b c");
    }

    #[test]
    fn urls() {
        assert_eq!(
            http_url("https://example.om/a b").as_deref(),
            Some("https://example.om/a%20b")
        );
        assert_eq!(http_url("javascript:alert(1)"), None);
        assert_eq!(http_url("/relative"), None);
    }

    #[test]
    fn dates() {
        let t = Utc
            .with_ymd_and_hms(2024, 3, 5, 7, 8, 9)
            .single()
            .expect("date");
        assert_eq!(rfc822(t), "Tue, 05 Mar 2024 07:08:09 +0000");
        assert_eq!(rfc3339(t), "2024-03-05T07:08:09Z");
    }
}
