//! Atom 1.0 (RFC 4287) writer, on `atom_syndication`.
//!
//! The feed id is `{base_url}feeds/{id}`: an http(s) URI under the portal's
//! control that never changes, shared by the current document and every
//! archive page (RFC 5005: pages of one logical feed share its id), and
//! distinct from the `.atom`/`.rss` document URLs so the id survives a
//! change of format. Entry ids are `urn:uuid:{item id}`, stable across edits.

use super::text::{self, clean, clean_line};
use super::{FH_NAMESPACE, Format, GENERATOR, Page, RenderError};
use crate::model::NewsItem;
use ::atom_syndication::{
    Category, Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text,
};
use chrono::{DateTime, Utc};
use quick_xml::Reader;
use quick_xml::events::Event;
use std::collections::BTreeMap;

fn fixed(t: DateTime<Utc>) -> FixedDateTime {
    t.fixed_offset()
}

fn feed_link(rel: &str, href: String, mime: &str) -> Link {
    Link {
        href,
        rel: rel.to_string(),
        mime_type: Some(mime.to_string()),
        ..Link::default()
    }
}

fn entry(page: &Page<'_>, it: &NewsItem) -> Entry {
    let lang = page.channel.lang;
    let mut links = vec![Link {
        href: text::permalink(page.channel, it),
        rel: "alternate".to_string(),
        mime_type: Some("text/html".to_string()),
        ..Link::default()
    }];
    for (url, mime, m) in text::usable_media(it) {
        links.push(Link {
            href: url,
            rel: "enclosure".to_string(),
            mime_type: Some(mime),
            // Optional in Atom: only stated when known.
            length: m.length.map(|l| l.to_string()),
            ..Link::default()
        });
    }
    Entry {
        title: Text::plain(it.title.get(lang).map(clean_line).unwrap_or_default()),
        id: text::item_guid(it),
        updated: fixed(text::item_updated(it)),
        authors: text::author(it)
            .map(|name| Person {
                name,
                ..Person::default()
            })
            .into_iter()
            .collect(),
        categories: text::categories(it)
            .into_iter()
            .map(|term| Category {
                term,
                ..Category::default()
            })
            .collect(),
        links,
        published: Some(fixed(it.published_at)),
        content: it.body.get(lang).map(|b| Content {
            value: Some(clean(b)),
            content_type: Some("html".to_string()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

/// The Atom document of one page.
pub(crate) fn render(page: &Page<'_>) -> Result<Vec<u8>, RenderError> {
    let ch = page.channel;
    let mut links = vec![
        feed_link(
            "self",
            page.self_url(Format::Atom),
            Format::Atom.media_type(),
        ),
        Link {
            hreflang: Some(ch.lang.tag().to_string()),
            ..feed_link("alternate", ch.site_link.to_string(), "text/html")
        },
    ];
    for (rel, target) in page.history_links() {
        links.push(feed_link(
            rel,
            page.url_of(target, Format::Atom),
            Format::Atom.media_type(),
        ));
    }
    let mut namespaces = BTreeMap::new();
    if page.is_archive() {
        namespaces.insert("fh".to_string(), FH_NAMESPACE.to_string());
    }
    let title = clean_line(&ch.title);
    let description = clean(&ch.description);
    let feed = Feed {
        title: Text::plain(title.clone()),
        id: ch.url(&format!("feeds/{}", ch.id)),
        updated: fixed(page.updated),
        authors: vec![Person {
            name: title,
            uri: Some(ch.site_link.to_string()),
            ..Person::default()
        }],
        generator: Some(Generator {
            value: GENERATOR.to_string(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
        icon: ch.image.as_ref().map(|u| u.to_string()),
        logo: ch.image.as_ref().map(|u| u.to_string()),
        links,
        rights: ch
            .rights
            .as_deref()
            .map(clean_line)
            .filter(|r| !r.is_empty())
            .map(Text::plain),
        subtitle: (!description.trim().is_empty()).then(|| Text::plain(description)),
        entries: page.items.iter().map(|it| entry(page, it)).collect(),
        namespaces,
        lang: Some(ch.lang.tag().to_string()),
        ..Feed::default()
    };
    let body = feed
        .write_to(Vec::new())
        .map_err(|source| RenderError::Atom {
            channel: ch.id.clone(),
            source,
        })?;
    if page.is_archive() {
        insert_before_entries(&body, b"<fh:archive/>").map_err(|message| RenderError::AtomPost {
            channel: ch.id.clone(),
            message,
        })
    } else {
        Ok(body)
    }
}

/// Insert `fragment` as a child of `<feed>` before its first `<entry>` (or
/// before `</feed>` when there is none).
///
/// Why quick-xml directly: `atom_syndication` writes feed extension
/// elements *after* the entries, but RFC 4287's schema (Appendix B) only
/// allows extension elements among the feed metadata, before `atom:entry*`,
/// so an `<fh:archive/>` written by the crate fails Relax NG validation. We
/// let the crate write the document and use quick-xml's reader only to find
/// the byte offset of the first top-level entry, so every other byte is the
/// crate's.
fn insert_before_entries(body: &[u8], fragment: &[u8]) -> Result<Vec<u8>, String> {
    let mut reader = Reader::from_reader(body);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        let pos = usize::try_from(reader.buffer_position()).map_err(|e| e.to_string())?;
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?;
        let at = match ev {
            Event::Start(ref e) if depth == 1 && e.name().as_ref() == b"entry" => Some(pos),
            Event::Start(_) => {
                depth += 1;
                None
            }
            Event::End(_) if depth == 1 => Some(pos),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                None
            }
            Event::Eof => return Err("no <feed> element".to_string()),
            _ => None,
        };
        if let Some(at) = at {
            let mut out = Vec::with_capacity(body.len() + fragment.len());
            out.extend_from_slice(&body[..at]);
            out.extend_from_slice(fragment);
            out.extend_from_slice(&body[at..]);
            return Ok(out);
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::insert_before_entries;

    #[test]
    fn inserts_before_first_top_level_entry() {
        let doc = b"<?xml version=\"1.0\"?><feed><title>&lt;entry&gt;</title><x><entry/></x><entry><id>1</id></entry></feed>";
        let out = insert_before_entries(doc, b"<fh:archive/>").expect("insert");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "<?xml version=\"1.0\"?><feed><title>&lt;entry&gt;</title><x><entry/></x><fh:archive/><entry><id>1</id></entry></feed>"
        );
    }

    #[test]
    fn inserts_before_feed_end_without_entries() {
        let out = insert_before_entries(b"<feed><id>x</id></feed>", b"<a/>").expect("insert");
        assert_eq!(out, b"<feed><id>x</id><a/></feed>");
    }
}
