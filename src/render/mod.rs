//! Feed documents: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for every channel,
//! with RFC 5005 paged archives, pre-compressed bodies and an in-memory cache.
//!
//! Owns: which items a channel shows ([`select`]), when the next embargo
//! lifts ([`next_due`]), turning a channel's items into byte-exact documents
//! ([`render_channel`]), the cache the HTTP layer serves from ([`FeedCache`])
//! and the static copy on disk ([`write_static`]).
//! Does not own: loading items (the store), deciding *when* to render (the
//! scheduler and the admin API), HTTP conditional requests (the `http`
//! module serves [`Document::etag`] and [`Document::last_modified`]), and
//! metrics (the caller records them).
//!
//! # Determinism
//!
//! The same channel, items and `now` render the same bytes: items are
//! ordered by a total order (`published_at` desc, then id desc), every map
//! that reaches the output is a `BTreeMap` or a `Vec` in that order, and no
//! date comes from the clock. The feed-level dates (`lastBuildDate`,
//! `pubDate`, Atom `updated`, `Last-Modified`) are derived from the store
//! state with [`NewsItem::feed_changed_at`]; see [`select::state_time`].
//!
//! # Paging (RFC 5005)
//!
//! The current document holds the newest `limit` items. Older items are in
//! archive pages of `limit` items each, numbered from the **oldest**: page 1
//! holds the oldest items. Only the newest archive page may be partial, and it
//! is the only one whose content changes as new items push older ones out of
//! the current document; the other pages change only when one of their items
//! is edited or retracted (a retraction shifts every newer page by one item).
//! The current document links `prev-archive` to the newest archive page;
//! archive pages carry `<fh:archive/>`, `current`, and `prev-archive` /
//! `next-archive` to their neighbours. JSON Feed has only `next_url`, which
//! points to the next older page.
//!
//! # URLs
//!
//! Current documents live at `{base_url}feeds/{id}.{ext}`, archive pages at
//! `{base_url}feeds/{id}/archive/{n}.{ext}`. An item's permalink is its own
//! `link` when that is an absolute `http(s)` URL, else `{base_url}news/{id}`,
//! an HTML page the daemon serves.

mod atom;
mod cache;
mod document;
mod json;
mod output;
mod rss;
pub mod select;
mod text;

pub use cache::FeedCache;
pub use document::Document;
pub use output::write_static;
pub use select::{next_due, select};

use crate::config::Channel;
use crate::model::{Lang, NewsItem};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A feed format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// RSS 2.0.
    Rss,
    /// Atom 1.0 (RFC 4287).
    Atom,
    /// JSON Feed 1.1.
    Json,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    /// The file extension (and URL suffix), without the dot.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    /// The format served under a file extension.
    pub fn from_ext(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.ext() == s)
    }

    /// The `Content-Type` header value.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    /// The bare media type, as used in `type` attributes of links.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml",
            Format::Atom => "application/atom+xml",
            Format::Json => "application/feed+json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ext())
    }
}

/// Which document of a channel: the current one or an archive page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PageId {
    /// The newest `limit` items.
    Current,
    /// An archive page; 1 is the oldest.
    Archive(u32),
}

impl PageId {
    /// The document's path relative to the base URL (and to the static
    /// output directory), e.g. `feeds/news-ar.rss` or
    /// `feeds/news-ar/archive/2.atom`.
    pub fn path(self, channel_id: &str, format: Format) -> String {
        match self {
            PageId::Current => format!("feeds/{channel_id}.{}", format.ext()),
            PageId::Archive(n) => format!("feeds/{channel_id}/archive/{n}.{}", format.ext()),
        }
    }
}

/// Every document of one channel, as last rendered.
#[derive(Debug, Clone)]
pub struct RenderedChannel {
    /// The channel's id.
    pub channel_id: String,
    /// The channel's language.
    pub lang: Lang,
    /// One document per page and format.
    pub documents: BTreeMap<(PageId, Format), Arc<Document>>,
    /// Items in the current document.
    pub items: usize,
    /// Number of archive pages (0 when everything fits the current document).
    pub archive_pages: u32,
}

impl RenderedChannel {
    /// One document.
    pub fn get(&self, page: PageId, format: Format) -> Option<&Arc<Document>> {
        self.documents.get(&(page, format))
    }
}

/// Why a channel could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The channel's `limit` is zero, so no page can hold an item.
    #[error("channel {0}: limit must be at least 1")]
    ZeroLimit(String),
    /// The channel id cannot be used in a URL path and a file name.
    #[error("channel id {0:?} is not a safe path segment (use letters, digits, '-', '_', '.')")]
    BadChannelId(String),
    /// The RSS writer failed.
    #[error("channel {channel}: writing RSS: {source}")]
    Rss {
        /// Channel id.
        channel: String,
        /// The writer's error.
        #[source]
        source: ::rss::Error,
    },
    /// The Atom writer failed.
    #[error("channel {channel}: writing Atom: {source}")]
    Atom {
        /// Channel id.
        channel: String,
        /// The writer's error.
        #[source]
        source: ::atom_syndication::Error,
    },
    /// Re-emitting the Atom document to place `fh:archive` failed.
    #[error("channel {channel}: post-processing Atom: {message}")]
    AtomPost {
        /// Channel id.
        channel: String,
        /// What went wrong.
        message: String,
    },
    /// JSON serialization failed.
    #[error("channel {channel}: writing JSON Feed: {source}")]
    Json {
        /// Channel id.
        channel: String,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// Compressing a document failed.
    #[error("channel {channel}: compressing: {source}")]
    Compress {
        /// Channel id.
        channel: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Whether `id` is safe as a single URL path segment and file name.
pub fn is_safe_channel_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The namespace of RFC 5005 (feed paging and archiving).
pub const FH_NAMESPACE: &str = "http://purl.org/syndication/history/1.0";

/// The `generator` of every document.
pub const GENERATOR: &str = "Musharaka";

/// One page to render, with everything the format writers need.
#[derive(Debug)]
pub(crate) struct Page<'a> {
    pub channel: &'a Channel,
    pub id: PageId,
    /// Items on this page, newest first.
    pub items: Vec<&'a NewsItem>,
    /// State-derived time of this document (feed `updated`, Last-Modified).
    pub updated: DateTime<Utc>,
    /// How many archive pages the channel has.
    pub archive_pages: u32,
}

impl Page<'_> {
    /// Absolute URL of a page of this channel in `format`.
    pub fn url_of(&self, page: PageId, format: Format) -> String {
        self.channel.url(&page.path(&self.channel.id, format))
    }

    /// This page's own URL.
    pub fn self_url(&self, format: Format) -> String {
        self.url_of(self.id, format)
    }

    /// History links `(rel, page)` per RFC 5005, in a fixed order.
    pub fn history_links(&self) -> Vec<(&'static str, PageId)> {
        let mut links = Vec::new();
        match self.id {
            PageId::Current => {
                if self.archive_pages > 0 {
                    links.push(("prev-archive", PageId::Archive(self.archive_pages)));
                }
            }
            PageId::Archive(n) => {
                links.push(("current", PageId::Current));
                if n > 1 {
                    links.push(("prev-archive", PageId::Archive(n - 1)));
                }
                if n < self.archive_pages {
                    links.push(("next-archive", PageId::Archive(n + 1)));
                }
            }
        }
        links
    }

    /// The next older page (JSON Feed `next_url`).
    pub fn older(&self) -> Option<PageId> {
        match self.id {
            PageId::Current if self.archive_pages > 0 => Some(PageId::Archive(self.archive_pages)),
            PageId::Archive(n) if n > 1 => Some(PageId::Archive(n - 1)),
            _ => None,
        }
    }

    /// Whether this is an archive page.
    pub fn is_archive(&self) -> bool {
        matches!(self.id, PageId::Archive(_))
    }
}

/// Split visible items (newest first) into the current page and archive
/// pages numbered from the oldest. Returns `(current, archives)` where
/// `archives[0]` is page 1; each page's items are newest first.
fn paginate<'a>(
    visible: &[&'a NewsItem],
    limit: usize,
) -> (Vec<&'a NewsItem>, Vec<Vec<&'a NewsItem>>) {
    let cut = visible.len().min(limit);
    let current = visible[..cut].to_vec();
    let older = &visible[cut..];
    // Chunk from the oldest end so that full pages never change when new
    // items arrive; only the newest (last) chunk may be partial.
    let mut archives: Vec<Vec<&NewsItem>> = older
        .iter()
        .rev()
        .copied()
        .collect::<Vec<_>>()
        .chunks(limit)
        .map(|chunk| chunk.iter().rev().copied().collect())
        .collect();
    archives.shrink_to_fit();
    (current, archives)
}

/// Render every document of a channel.
///
/// Documents whose body bytes and Last-Modified equal those in `previous`
/// are reused as the same `Arc` (no re-compression, same ETag); a body that
/// is unchanged but whose time moved reuses the compressed bytes.
pub fn render_channel(
    channel: &Channel,
    items: &[NewsItem],
    now: DateTime<Utc>,
    previous: Option<&RenderedChannel>,
) -> Result<RenderedChannel, RenderError> {
    if channel.limit == 0 {
        return Err(RenderError::ZeroLimit(channel.id.clone()));
    }
    if !is_safe_channel_id(&channel.id) {
        return Err(RenderError::BadChannelId(channel.id.clone()));
    }
    let visible = select(channel, items, now);
    let (current, archives) = paginate(&visible, channel.limit);
    let archive_pages = u32::try_from(archives.len()).unwrap_or(u32::MAX);
    let current_len = current.len();

    let mut pages = Vec::with_capacity(archives.len() + 1);
    pages.push(Page {
        channel,
        id: PageId::Current,
        updated: select::state_time(channel, items, now),
        items: current,
        archive_pages,
    });
    for (i, page_items) in archives.into_iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        pages.push(Page {
            channel,
            id: PageId::Archive(n),
            updated: select::page_time(&page_items),
            items: page_items,
            archive_pages,
        });
    }

    let mut documents = BTreeMap::new();
    for page in &pages {
        for format in Format::ALL {
            let body = match format {
                Format::Rss => rss::render(page)?,
                Format::Atom => atom::render(page)?,
                Format::Json => json::render(page)?,
            };
            let prev = previous.and_then(|p| p.documents.get(&(page.id, format)));
            let doc =
                Document::reuse_or_build(prev, body, page.updated, format).map_err(|source| {
                    RenderError::Compress {
                        channel: channel.id.clone(),
                        source,
                    }
                })?;
            documents.insert((page.id, format), doc);
        }
    }

    Ok(RenderedChannel {
        channel_id: channel.id.clone(),
        lang: channel.lang,
        documents,
        items: current_len,
        archive_pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_ext_round_trips() {
        for f in Format::ALL {
            assert_eq!(Format::from_ext(f.ext()), Some(f));
            assert!(f.content_type().starts_with(f.media_type()));
        }
        assert_eq!(Format::from_ext("xml"), None);
    }

    #[test]
    fn page_paths() {
        assert_eq!(
            PageId::Current.path("news-ar", Format::Rss),
            "feeds/news-ar.rss"
        );
        assert_eq!(
            PageId::Archive(3).path("news-ar", Format::Json),
            "feeds/news-ar/archive/3.json"
        );
    }

    #[test]
    fn channel_ids() {
        assert!(is_safe_channel_id("news-ar_2.x"));
        for bad in ["", "..", ".hidden", "a/b", "a b", "عربي"] {
            assert!(!is_safe_channel_id(bad), "{bad}");
        }
    }
}
