//! Domain types shared by every pipeline stage: news items, their origin,
//! languages, media, and upstream source health.
//!
//! Owns: the shapes stored in the store and exchanged over the admin API.
//! Does not own: how they are stored (`store`), fetched (`sources`) or
//! rendered (`render`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// A language the portal publishes in. Arabic is the default.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Arabic, written right to left.
    #[default]
    Ar,
    /// English.
    En,
}

impl Lang {
    /// Every language, Arabic first.
    pub const ALL: [Lang; 2] = [Lang::Ar, Lang::En];

    /// The BCP 47 tag, as used in `xml:lang` and `<language>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Ar => "ar",
            Lang::En => "en",
        }
    }

    /// Text direction for HTML `dir`.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            Lang::En => "ltr",
        }
    }

    /// Map a language tag such as `ar-OM` or `en_GB` onto a portal language.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "ar" => Some(Lang::Ar),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// Text in the portal's two languages; either side may be absent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Localized {
    /// Arabic text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ar: Option<String>,
    /// English text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Localized {
    /// Text in `lang`, if present and not blank.
    pub fn get(&self, lang: Lang) -> Option<&str> {
        let v = match lang {
            Lang::Ar => self.ar.as_deref(),
            Lang::En => self.en.as_deref(),
        };
        v.filter(|s| !s.trim().is_empty())
    }

    /// Set the text for `lang`.
    pub fn set(&mut self, lang: Lang, text: Option<String>) {
        match lang {
            Lang::Ar => self.ar = text,
            Lang::En => self.en = text,
        }
    }

    /// A localized value with text in one language only.
    pub fn one(lang: Lang, text: impl Into<String>) -> Self {
        let mut l = Localized::default();
        l.set(lang, Some(text.into()));
        l
    }

    /// Whether no language has text.
    pub fn is_empty(&self) -> bool {
        Lang::ALL.iter().all(|l| self.get(*l).is_none())
    }
}

/// Identifier of a news item: a UUIDv7, so keys sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemId(pub Uuid);

impl ItemId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        ItemId(Uuid::now_v7())
    }
}

impl Default for ItemId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for ItemId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(ItemId)
    }
}

/// What kind of media an attachment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// A still image.
    Image,
    /// A video.
    Video,
    /// Audio.
    Audio,
    /// Anything else (a PDF, say).
    Other,
}

impl MediaKind {
    /// Guess the kind from a MIME type.
    pub fn from_mime(mime: &str) -> MediaKind {
        match mime.split('/').next().unwrap_or_default() {
            "image" => MediaKind::Image,
            "video" => MediaKind::Video,
            "audio" => MediaKind::Audio,
            _ => MediaKind::Other,
        }
    }
}

/// A media attachment (rendered as an enclosure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Image, video, …
    pub kind: MediaKind,
    /// Absolute URL of the file.
    pub url: String,
    /// MIME type, e.g. `video/mp4`.
    pub mime_type: String,
    /// Size in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
}

/// Where a news item came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Origin {
    /// Written by portal staff through the admin API or CLI.
    Staff,
    /// Aggregated from an upstream feed.
    Upstream {
        /// The source's configured id.
        source_id: String,
        /// The entry's stable identity within that source
        /// (guid/id, else link, else content hash).
        entry_key: String,
    },
}

/// A news item, as stored. Retracted items are kept (soft removal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewsItem {
    /// Stable id; also the base of the feeds' guid / entry id.
    pub id: ItemId,
    /// Staff or upstream.
    pub origin: Origin,
    /// Title per language (plain text).
    pub title: Localized,
    /// Body per language (sanitized HTML).
    pub body: Localized,
    /// Canonical link to the item on the web.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Categories (free text, as given).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Attachments.
    #[serde(default)]
    pub media: Vec<Media>,
    /// Author's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// When the item is (or was) published; in the future, an embargo.
    pub published_at: DateTime<Utc>,
    /// Last change of the item's content.
    pub updated_at: DateTime<Utc>,
    /// When the item was first stored.
    pub created_at: DateTime<Utc>,
    /// When the item was retracted; retracted items leave every feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retracted_at: Option<DateTime<Utc>>,
    /// Incremented on every change.
    #[serde(default)]
    pub revision: u64,
    /// When the stored record last changed (any write: edit, upstream
    /// update, retraction). Unlike `updated_at`, which upstream feeds set,
    /// this is always the daemon's own clock; feeds' Last-Modified uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<DateTime<Utc>>,
    /// Hash of the normalized upstream content, to detect changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
}

impl NewsItem {
    /// Languages in which this item has a title.
    pub fn languages(&self) -> Vec<Lang> {
        Lang::ALL
            .into_iter()
            .filter(|l| self.title.get(*l).is_some())
            .collect()
    }

    /// Whether the item is visible in feeds at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.retracted_at.is_none() && self.published_at <= now
    }

    /// The item's public link: its own `link` when that is an absolute
    /// http(s) URL, else the daemon's news page `{base}news/{id}`. Feeds
    /// and social posts both use it, and reconciliation looks for it.
    pub fn permalink(&self, base: &url::Url) -> String {
        self.link
            .as_deref()
            .and_then(|l| url::Url::parse(l.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| u.to_string())
            .unwrap_or_else(|| {
                base.join(&format!("news/{}", self.id))
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| format!("{base}news/{}", self.id))
            })
    }

    /// The source id for upstream items, `None` for staff items.
    pub fn source_id(&self) -> Option<&str> {
        match &self.origin {
            Origin::Staff => None,
            Origin::Upstream { source_id, .. } => Some(source_id),
        }
    }

    /// The last instant the stored record changed: its creation, its last
    /// update (as the source says) or its last write in the store.
    pub fn last_change(&self) -> DateTime<Utc> {
        let t = self.updated_at.max(self.created_at);
        self.modified_at.map_or(t, |m| t.max(m))
    }

    /// The last instant at which this item changed what a feed shows:
    /// its publication (when due: an embargo lifts at `published_at`, and an
    /// old-dated upstream entry appears when it is first stored), its last
    /// change, or its retraction.
    pub fn feed_changed_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut t: Option<DateTime<Utc>> = None;
        if self.published_at <= now {
            t = Some(self.published_at.max(self.last_change()));
        }
        if let Some(r) = self.retracted_at {
            t = Some(t.map_or(r, |t| t.max(r)));
        }
        t
    }
}

/// Health and HTTP cache state of one upstream source, kept in the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceState {
    /// The source's configured id.
    pub id: String,
    /// `ETag` of the last 200 response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified` of the last 200 response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// When the last poll started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_poll: Option<DateTime<Utc>>,
    /// When a poll last succeeded (200 or 304).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<DateTime<Utc>>,
    /// The last error, if the last poll failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When that error happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<DateTime<Utc>>,
    /// Failures since the last success.
    #[serde(default)]
    pub consecutive_failures: u32,
    /// When the next poll is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_poll: Option<DateTime<Utc>>,
    /// Entries skipped in the last successful parse, with reasons.
    #[serde(default)]
    pub skipped_entries: Vec<String>,
    /// Entries seen in the last successful parse.
    #[serde(default)]
    pub entries_seen: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, h, 0, 0).unwrap()
    }

    fn item(published: u32, created: u32) -> NewsItem {
        NewsItem {
            id: ItemId::new(),
            origin: Origin::Staff,
            title: Localized::one(Lang::Ar, "عنوان"),
            body: Localized::default(),
            link: None,
            categories: vec![],
            media: vec![],
            author: None,
            published_at: at(published),
            updated_at: at(published),
            created_at: at(created),
            retracted_at: None,
            revision: 0,
            modified_at: None,
            content_hash: None,
        }
    }

    #[test]
    fn an_old_dated_entry_changes_the_feed_when_it_is_stored() {
        // A ministry entry dated 01:00 first stored at 09:00 changed the feed at 09:00,
        // so If-Modified-Since from 08:00 must not answer 304.
        assert_eq!(item(1, 9).feed_changed_at(at(10)), Some(at(9)));
    }

    #[test]
    fn an_embargo_changes_the_feed_when_it_lifts() {
        let i = item(12, 9);
        assert_eq!(i.feed_changed_at(at(10)), None);
        assert_eq!(i.feed_changed_at(at(13)), Some(at(12)));
    }

    #[test]
    fn an_upstream_update_and_a_retraction_move_the_change_time() {
        let mut i = item(1, 2);
        i.modified_at = Some(at(5));
        assert_eq!(i.feed_changed_at(at(10)), Some(at(5)));
        i.retracted_at = Some(at(7));
        assert_eq!(i.feed_changed_at(at(10)), Some(at(7)));
    }
}
