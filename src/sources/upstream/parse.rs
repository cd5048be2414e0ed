//! Parse an upstream RSS (0.9x, 1.0, 2.0) or Atom 1.0 document and normalize
//! its entries into [`NewsItem`]s.
//!
//! Owns: format detection, character decoding (see [`super::xml`]),
//! entry identity (guid/id, else resolved link, else a content hash),
//! link resolution, dates (see [`super::dates`]), text and HTML clean-up
//! (see [`super::sanitize`]), language choice and the content hash that
//! tells a changed entry from an unchanged one.
//! Does not own: fetching, storing or scheduling (see [`super::poll`]).
//!
//! A broken entry is skipped with a reason; it never fails the feed.

use super::dates::{parse_date, parse_date_in};
use super::sanitize::{collapse, has_arabic, html_to_text, sanitize_html, text_to_html};
use super::xml::{self, Format};
use crate::config::Source;
use crate::model::{ItemId, Lang, Localized, Media, MediaKind, NewsItem, Origin};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::time::Duration;
use url::Url;

/// Why a whole document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The document claims (or defaults to) UTF-8 but is not.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Offset of the first invalid byte from the start of the document.
        offset: usize,
    },
    /// The bytes are not valid in the declared encoding.
    #[error("malformed {encoding} text")]
    Malformed {
        /// The encoding's name.
        encoding: String,
    },
    /// The XML declaration names an encoding we do not know.
    #[error("unknown encoding `{0}` in the XML declaration")]
    UnknownEncoding(String),
    /// A DOCTYPE with an internal subset (entity declarations): refused.
    #[error("DOCTYPE with an internal subset (entity declarations) refused")]
    Dtd,
    /// The root element is neither `rss`, `rdf:RDF` nor `feed`.
    #[error("not a feed: root element <{0}>")]
    UnknownFormat(String),
    /// No root element at all.
    #[error("empty document")]
    Empty,
    /// Not well-formed XML.
    #[error("malformed XML {0}")]
    Xml(String),
    /// The RSS reader refused the document.
    #[error("invalid RSS: {0}")]
    Rss(String),
    /// The Atom reader refused the document.
    #[error("invalid Atom: {0}")]
    Atom(String),
}

/// A parsed, normalized feed document.
#[derive(Debug, Clone)]
pub struct ParsedFeed {
    /// The feed's title, as plain text.
    pub title: String,
    /// The feed's language (`<language>`, `xml:lang`), else the source's.
    pub language: Option<Lang>,
    /// RSS `<ttl>`, when given.
    pub ttl: Option<Duration>,
    /// Normalized entries, one per identity, in document order.
    pub entries: Vec<NewsItem>,
    /// Entries skipped as broken, with the reason.
    pub skipped: Vec<String>,
    /// Entries dropped because an earlier entry had the same identity.
    pub duplicates: usize,
}

/// How a text field is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Html,
}

/// An entry before normalization, common to RSS and Atom.
#[derive(Debug, Default)]
struct RawEntry {
    id: Option<String>,
    link: Option<String>,
    /// A permalink guid, used as the link when there is none.
    permalink: Option<String>,
    title: Option<(String, Kind)>,
    body: Option<(String, Kind)>,
    /// Base for HTML in the body, when the body carries its own `xml:base`.
    body_base: Option<String>,
    categories: Vec<String>,
    media: Vec<(String, Option<String>, Option<String>)>,
    author: Option<String>,
    published: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
    lang: Option<Lang>,
}

/// Parse and normalize a feed document fetched from `feed_url`.
pub fn parse_feed(
    bytes: &[u8],
    feed_url: &Url,
    source: &Source,
    now: DateTime<Utc>,
) -> Result<ParsedFeed, ParseError> {
    let text = xml::decode(bytes)?;
    let format = xml::sniff(&text)?;
    let (title, feed_lang, ttl, base, raws) = match format {
        Format::Rss => read_rss(&text, feed_url, source.utc_offset)?,
        Format::Atom => read_atom(&text, feed_url)?,
    };
    let language = feed_lang.or(source.language);
    let mut out = ParsedFeed {
        title,
        language,
        ttl,
        entries: Vec::new(),
        skipped: Vec::new(),
        duplicates: 0,
    };
    let mut seen = HashSet::new();
    for (i, raw) in raws.into_iter().enumerate() {
        match normalize(raw, &base, source, language, now) {
            Ok(item) => {
                let key = match &item.origin {
                    Origin::Upstream { entry_key, .. } => entry_key.clone(),
                    Origin::Staff => String::new(),
                };
                if seen.insert(key) {
                    out.entries.push(item);
                } else {
                    out.duplicates += 1;
                }
            }
            Err(reason) => {
                let reason = format!("entry {}: {reason}", i + 1);
                tracing::warn!(source = %source.id, %reason, "skipped upstream entry");
                out.skipped.push(reason);
            }
        }
    }
    Ok(out)
}

type Read = (String, Option<Lang>, Option<Duration>, Url, Vec<RawEntry>);

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A base URL: `href` resolved against `against` when it is http(s).
fn http_base(href: Option<&str>, against: &Url) -> Option<Url> {
    let u = against.join(href?.trim()).ok()?;
    matches!(u.scheme(), "http" | "https").then_some(u)
}

fn read_rss(text: &str, feed_url: &Url, utc_offset: i32) -> Result<Read, ParseError> {
    let channel =
        rss::Channel::read_from(text.as_bytes()).map_err(|e| ParseError::Rss(e.to_string()))?;
    // Like most readers (miniflux), entry links resolve against the site
    // link, itself resolved against the document's URL.
    let base = http_base(Some(channel.link()), feed_url).unwrap_or_else(|| feed_url.clone());
    let lang = channel.language().and_then(Lang::from_tag);
    let ttl = channel
        .ttl()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .map(|m| Duration::from_secs(m.saturating_mul(60)));
    let mut raws = Vec::new();
    for item in channel.items() {
        let dc = item.dublin_core_ext();
        let mut media = Vec::new();
        if let Some(enc) = item.enclosure() {
            media.push((
                enc.url().to_string(),
                non_empty(Some(enc.mime_type())),
                non_empty(Some(enc.length())),
            ));
        }
        if let Some(contents) = item
            .extensions()
            .get("media")
            .and_then(|m| m.get("content"))
        {
            for c in contents {
                let attrs = c.attrs();
                if let Some(url) = attrs.get("url") {
                    let mime = attrs.get("type").cloned().or_else(|| {
                        attrs.get("medium").map(|m| match m.as_str() {
                            "image" => "image/*".to_string(),
                            "video" => "video/*".to_string(),
                            "audio" => "audio/*".to_string(),
                            other => other.to_string(),
                        })
                    });
                    media.push((url.clone(), mime, attrs.get("fileSize").cloned()));
                }
            }
        }
        let guid = item.guid();
        let author = dc
            .and_then(|d| d.creators().iter().find(|c| !c.trim().is_empty()).cloned())
            .or_else(|| item.author().map(rss_author));
        let date_text = item
            .pub_date()
            .map(str::to_string)
            .or_else(|| dc.and_then(|d| d.dates().first().cloned()));
        raws.push(RawEntry {
            id: non_empty(guid.map(|g| g.value())),
            link: non_empty(item.link()),
            permalink: guid
                .filter(|g| g.is_permalink())
                .and_then(|g| non_empty(Some(g.value()))),
            title: non_empty(item.title()).map(|t| (t, Kind::Html)),
            body: non_empty(item.content())
                .or_else(|| non_empty(item.description()))
                .map(|b| (b, Kind::Html)),
            body_base: None,
            categories: item
                .categories()
                .iter()
                .map(|c| c.name().to_string())
                .collect(),
            media,
            author,
            published: date_text
                .as_deref()
                .and_then(|d| parse_date_in(d, utc_offset)),
            updated: None,
            lang: None,
        });
    }
    Ok((html_to_text(channel.title()), lang, ttl, base, raws))
}

/// RSS `<author>` is `email (Name)`; keep the name when there is one.
fn rss_author(a: &str) -> String {
    match (a.find('('), a.rfind(')')) {
        (Some(o), Some(c)) if c > o + 1 => a[o + 1..c].to_string(),
        _ => a.to_string(),
    }
}

fn text_kind(t: &atom_syndication::TextType) -> Kind {
    match t {
        atom_syndication::TextType::Text => Kind::Text,
        _ => Kind::Html,
    }
}

/// The atom reader fails a whole document on one unreadable date. Rewrite
/// such dates (at most this many) and try again, so one bad entry does not
/// hide the others.
const ATOM_DATE_REPAIRS: usize = 32;

fn read_atom_feed(text: &str) -> Result<atom_syndication::Feed, ParseError> {
    let mut doc = std::borrow::Cow::Borrowed(text);
    for _ in 0..=ATOM_DATE_REPAIRS {
        match atom_syndication::Feed::read_from(doc.as_bytes()) {
            Ok(f) => return Ok(f),
            Err(atom_syndication::Error::WrongDatetime(bad)) if !bad.trim().is_empty() => {
                // Our lenient parser may read it; otherwise the epoch marks "no date".
                let fixed = parse_date(&bad)
                    .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
                    .to_rfc3339();
                let replaced = doc.replace(bad.as_str(), &fixed);
                if replaced == doc.as_ref() {
                    return Err(ParseError::Atom(format!("unreadable date `{bad}`")));
                }
                doc = std::borrow::Cow::Owned(replaced);
            }
            Err(e) => return Err(ParseError::Atom(e.to_string())),
        }
    }
    Err(ParseError::Atom("too many unreadable dates".into()))
}

fn atom_date(d: Option<&chrono::DateTime<chrono::FixedOffset>>) -> Option<DateTime<Utc>> {
    // The reader uses the epoch for a missing `<updated>`; so do our repairs.
    d.map(|d| d.with_timezone(&Utc))
        .filter(|d| d.timestamp() != 0)
}

fn read_atom(text: &str, feed_url: &Url) -> Result<Read, ParseError> {
    let feed = read_atom_feed(text)?;
    let base = http_base(feed.base(), feed_url).unwrap_or_else(|| feed_url.clone());
    let lang = feed.lang().and_then(Lang::from_tag);
    let feed_author = feed.authors().first().map(|p| p.name().to_string());
    let mut raws = Vec::new();
    for entry in feed.entries() {
        let link = entry
            .links()
            .iter()
            .find(|l| l.rel() == "alternate" || l.rel().is_empty())
            .or_else(|| {
                entry
                    .links()
                    .iter()
                    .find(|l| !matches!(l.rel(), "self" | "enclosure" | "edit"))
            })
            .map(|l| l.href().to_string());
        let media = entry
            .links()
            .iter()
            .filter(|l| l.rel() == "enclosure")
            .map(|l| {
                (
                    l.href().to_string(),
                    non_empty(l.mime_type()),
                    non_empty(l.length()),
                )
            })
            .collect();
        let (body, body_base) = match (entry.content(), entry.summary()) {
            (Some(c), _) if c.value().is_some_and(|v| !v.trim().is_empty()) => {
                let kind = match c.content_type() {
                    None | Some("text") => Some(Kind::Text),
                    Some("html") | Some("xhtml") => Some(Kind::Html),
                    Some(mime) if mime.starts_with("text/html") => Some(Kind::Html),
                    Some(mime) if mime.starts_with("text/") => Some(Kind::Text),
                    // Base64 media content: not a body we can show.
                    Some(_) => None,
                };
                match kind {
                    Some(k) => (
                        c.value().map(|v| (v.to_string(), k)),
                        c.base().map(str::to_string),
                    ),
                    None => (None, None),
                }
            }
            (_, Some(s)) if !s.value.trim().is_empty() => (
                Some((s.value.clone(), text_kind(&s.r#type))),
                s.base.clone(),
            ),
            _ => (None, None),
        };
        let title = entry.title();
        let published = atom_date(entry.published());
        let updated = atom_date(Some(entry.updated()));
        raws.push(RawEntry {
            id: non_empty(Some(entry.id())),
            link,
            permalink: None,
            title: non_empty(Some(&title.value)).map(|t| (t, text_kind(&title.r#type))),
            body,
            body_base,
            categories: entry
                .categories()
                .iter()
                .map(|c| {
                    c.label()
                        .filter(|l| !l.trim().is_empty())
                        .unwrap_or(c.term())
                        .to_string()
                })
                .collect(),
            media,
            author: entry
                .authors()
                .first()
                .map(|p| p.name().to_string())
                .or_else(|| feed_author.clone()),
            published: published.or(updated),
            updated,
            lang: title.lang.as_deref().and_then(Lang::from_tag),
        });
    }
    Ok((
        plain(&feed.title().value, text_kind(&feed.title().r#type)),
        lang,
        None,
        base,
        raws,
    ))
}

fn plain(value: &str, kind: Kind) -> String {
    match kind {
        Kind::Text => collapse(value),
        Kind::Html => html_to_text(value),
    }
}

/// Resolve a link against `base`; only http(s) results are usable.
fn resolve(href: &str, base: &Url) -> Option<Url> {
    let u = base.join(href.trim()).ok()?;
    matches!(u.scheme(), "http" | "https").then_some(u)
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

fn normalize(
    raw: RawEntry,
    base: &Url,
    source: &Source,
    feed_lang: Option<Lang>,
    now: DateTime<Utc>,
) -> Result<NewsItem, String> {
    let title = raw
        .title
        .as_ref()
        .map(|(t, k)| plain(t, *k))
        .unwrap_or_default();
    let link = match raw.link.as_deref() {
        Some(l) => Some(resolve(l, base).ok_or_else(|| format!("unresolvable link `{l}`"))?),
        None => raw.permalink.as_deref().and_then(|l| resolve(l, base)),
    };
    if title.is_empty() && link.is_none() {
        return Err("no title and no link".into());
    }
    let body_base = raw
        .body_base
        .as_deref()
        .and_then(|b| http_base(Some(b), base))
        .unwrap_or_else(|| base.clone());
    let body = match &raw.body {
        Some((b, Kind::Html)) => sanitize_html(b, &body_base),
        Some((b, Kind::Text)) => text_to_html(b),
        None => String::new(),
    };
    let title = if title.is_empty() {
        // A link and a body but no title: the body's opening words.
        let text = html_to_text(&body);
        if text.is_empty() {
            return Err("no title and no content".into());
        }
        truncate_words(&text, 100)
    } else {
        title
    };
    let lang = raw
        .lang
        .or(feed_lang)
        .or(source.language)
        .unwrap_or(if has_arabic(&title) {
            Lang::Ar
        } else {
            Lang::En
        });

    let mut categories: Vec<String> = Vec::new();
    for c in raw
        .categories
        .iter()
        .map(|c| html_to_text(c))
        .chain(source.categories.iter().map(|c| collapse(c)))
    {
        if !c.is_empty() && !categories.contains(&c) {
            categories.push(c);
        }
    }
    let mut media = Vec::new();
    for (url, mime, length) in &raw.media {
        let Some(u) = resolve(url, base) else {
            tracing::debug!(%url, "dropped an enclosure with an unusable URL");
            continue;
        };
        let mime_type = mime
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into());
        let m = Media {
            kind: MediaKind::from_mime(&mime_type),
            url: u.to_string(),
            mime_type,
            length: length.as_deref().and_then(|l| l.trim().parse().ok()),
        };
        if !media.contains(&m) {
            media.push(m);
        }
    }
    let author = raw
        .author
        .as_deref()
        .map(html_to_text)
        .filter(|a| !a.is_empty())
        .or_else(|| source.name.clone());
    let published_at = raw.published.unwrap_or(now);
    let updated_at = raw.updated.unwrap_or(published_at);
    let link_str = link.as_ref().map(Url::to_string);

    let entry_key = match (&raw.id, &link_str) {
        (Some(id), _) => id.clone(),
        (None, Some(l)) => l.clone(),
        (None, None) => {
            let raw_body = raw
                .body
                .as_ref()
                .map(|(b, _)| b.as_str())
                .unwrap_or_default();
            format!("sha256:{}", sha256_hex(&[&title, raw_body]))
        }
    };
    let media_text: Vec<String> = media
        .iter()
        .map(|m| format!("{}|{}|{:?}", m.url, m.mime_type, m.length))
        .collect();
    let published_text = published_at.to_rfc3339();
    let updated_text = updated_at.to_rfc3339();
    let content_hash = sha256_hex(&[
        lang.tag(),
        &title,
        &body,
        link_str.as_deref().unwrap_or_default(),
        &categories.join("\u{1f}"),
        &media_text.join("\u{1f}"),
        author.as_deref().unwrap_or_default(),
        &published_text,
        &updated_text,
    ]);
    let mut body_l = Localized::default();
    if !body.is_empty() {
        body_l.set(lang, Some(body));
    }
    Ok(NewsItem {
        id: ItemId::new(),
        origin: Origin::Upstream {
            source_id: source.id.clone(),
            entry_key,
        },
        title: Localized::one(lang, title),
        body: body_l,
        link: link_str,
        categories,
        media,
        author,
        published_at,
        updated_at,
        created_at: now,
        retracted_at: None,
        revision: 0,
        modified_at: None,
        content_hash: Some(content_hash),
    })
}

/// At most `max` characters, cut at a word boundary, with an ellipsis.
fn truncate_words(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > 0 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests;
