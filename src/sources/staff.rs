//! Staff-written news: the admin API's input shape, its validation (every
//! problem reported at once, by field) and its sanitizing.
//!
//! Titles are plain text (control characters removed, whitespace collapsed);
//! bodies are HTML cleaned by `ammonia` so that only safe markup reaches the
//! feeds. Escaping for each output format is the renderer's job.

use crate::model::{Lang, Localized, Media, MediaKind, NewsItem, Origin};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 100_000;

/// A news item as staff submit it (POST and PUT bodies).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewsInput {
    /// Title per language; at least one is required.
    #[serde(default)]
    pub title: Localized,
    /// Body per language (HTML; sanitized).
    #[serde(default)]
    pub body: Localized,
    /// Canonical link (http or https).
    #[serde(default)]
    pub link: Option<String>,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Attachments.
    #[serde(default)]
    pub media: Vec<MediaInput>,
    /// Author's display name.
    #[serde(default)]
    pub author: Option<String>,
    /// Publication time; in the future it is an embargo. Default: now.
    #[serde(default)]
    pub published_at: Option<DateTime<Utc>>,
}

/// An attachment as submitted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaInput {
    /// http(s) URL of the file.
    pub url: String,
    /// MIME type, e.g. `image/jpeg` or `video/mp4`.
    pub mime_type: String,
    /// Size in bytes.
    #[serde(default)]
    pub length: Option<u64>,
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `title.ar`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Plain text: no control or bidi-override characters, whitespace collapsed.
pub fn clean_text(s: &str) -> String {
    let filtered: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|c| {
            // Explicit embeddings/overrides can reorder what readers see;
            // isolates are applied by the renderer where needed.
            !matches!(
                c,
                '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
            )
        })
        .collect();
    filtered.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Sanitize an HTML fragment for publication.
pub fn clean_html(html: &str) -> String {
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(html)
        .to_string()
        .trim()
        .to_string()
}

fn http_url(s: &str) -> Result<String, String> {
    match url::Url::parse(s.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u.to_string()),
        Ok(u) => Err(format!(
            "must be an http(s) URL, found scheme `{}`",
            u.scheme()
        )),
        Err(e) => Err(format!("not a URL: {e}")),
    }
}

impl NewsInput {
    /// Validate and sanitize into the parts of a [`NewsItem`], reporting
    /// every invalid field.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<ValidNews, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut title = Localized::default();
        let mut body = Localized::default();
        for lang in Lang::ALL {
            let t = self
                .title
                .get(lang)
                .map(clean_text)
                .filter(|t| !t.is_empty());
            if let Some(t) = &t {
                if t.chars().count() > MAX_TITLE_CHARS {
                    errors.push(field(
                        &format!("title.{lang}"),
                        format!("longer than {MAX_TITLE_CHARS} characters"),
                    ));
                }
            }
            let b = self
                .body
                .get(lang)
                .map(clean_html)
                .filter(|b| !b.is_empty());
            if let Some(raw) = self.body.get(lang) {
                if raw.len() > MAX_BODY_BYTES {
                    errors.push(field(
                        &format!("body.{lang}"),
                        format!("longer than {MAX_BODY_BYTES} bytes"),
                    ));
                }
            }
            if b.is_some() && t.is_none() {
                errors.push(field(
                    &format!("title.{lang}"),
                    "a body in this language needs a title in it",
                ));
            }
            title.set(lang, t);
            body.set(lang, b);
        }
        if title.is_empty() {
            errors.push(field("title", "an Arabic or English title is required"));
        }
        let link = match self
            .link
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(l) => match http_url(l) {
                Ok(u) => Some(u),
                Err(e) => {
                    errors.push(field("link", e));
                    None
                }
            },
        };
        let mut categories: Vec<String> = Vec::new();
        for (i, c) in self.categories.iter().enumerate() {
            let c = clean_text(c);
            if c.is_empty() {
                errors.push(field(&format!("categories[{i}]"), "must not be empty"));
            } else if c.chars().count() > 100 {
                errors.push(field(
                    &format!("categories[{i}]"),
                    "longer than 100 characters",
                ));
            } else if !categories.contains(&c) {
                categories.push(c);
            }
        }
        let mut media = Vec::new();
        for (i, m) in self.media.iter().enumerate() {
            let url = match http_url(&m.url) {
                Ok(u) => u,
                Err(e) => {
                    errors.push(field(&format!("media[{i}].url"), e));
                    continue;
                }
            };
            let mime = m.mime_type.trim().to_ascii_lowercase();
            let valid_mime = mime.split_once('/').is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && mime
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || b"/+-.".contains(&c))
            });
            if !valid_mime {
                errors.push(field(
                    &format!("media[{i}].mime_type"),
                    "must be a MIME type such as image/jpeg",
                ));
                continue;
            }
            media.push(Media {
                kind: MediaKind::from_mime(&mime),
                url,
                mime_type: mime,
                length: m.length,
            });
        }
        let author = self
            .author
            .as_deref()
            .map(clean_text)
            .filter(|a| !a.is_empty());
        let published_at = self.published_at.unwrap_or(now);
        if published_at.timestamp() < 0 {
            errors.push(field("published_at", "must be after 1970"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidNews {
            title,
            body,
            link,
            categories,
            media,
            author,
            published_at,
        })
    }
}

/// Validated, sanitized staff input.
#[derive(Debug, Clone)]
pub struct ValidNews {
    title: Localized,
    body: Localized,
    link: Option<String>,
    categories: Vec<String>,
    media: Vec<Media>,
    author: Option<String>,
    published_at: DateTime<Utc>,
}

impl ValidNews {
    /// A new staff item.
    pub fn into_new_item(self, now: DateTime<Utc>) -> NewsItem {
        NewsItem {
            id: crate::model::ItemId::new(),
            origin: Origin::Staff,
            title: self.title,
            body: self.body,
            link: self.link,
            categories: self.categories,
            media: self.media,
            author: self.author,
            published_at: self.published_at,
            updated_at: now,
            created_at: now,
            retracted_at: None,
            revision: 0,
            modified_at: None,
            content_hash: None,
        }
    }

    /// `item` with its content replaced by this input (a new revision).
    pub fn apply_to(self, item: &NewsItem, now: DateTime<Utc>) -> NewsItem {
        NewsItem {
            title: self.title,
            body: self.body,
            link: self.link,
            categories: self.categories,
            media: self.media,
            author: self.author,
            published_at: self.published_at,
            updated_at: now,
            modified_at: Some(now),
            revision: item.revision + 1,
            ..item.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap()
    }

    #[test]
    fn reports_every_problem_at_once() {
        let input = NewsInput {
            link: Some("javascript:alert(1)".into()),
            categories: vec![" ".into()],
            media: vec![MediaInput {
                url: "ftp://x/y".into(),
                mime_type: "image/png".into(),
                length: None,
            }],
            ..Default::default()
        };
        let errs = input.validate(now()).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "link", "categories[0]", "media[0].url"]);
    }

    #[test]
    fn sanitizes_body_and_title() {
        let input = NewsInput {
            title: Localized::one(Lang::Ar, "  خبر\u{202E} <b>عاجل</b>\n "),
            body: Localized::one(
                Lang::Ar,
                "<p onclick=\"x()\">نص <script>alert(1)</script><a href=\"javascript:x\">رابط</a></p>",
            ),
            ..Default::default()
        };
        let item = input.validate(now()).unwrap().into_new_item(now());
        assert_eq!(item.title.ar.as_deref(), Some("خبر <b>عاجل</b>"));
        let body = item.body.ar.unwrap();
        assert!(!body.contains("script"), "{body}");
        assert!(!body.contains("onclick"), "{body}");
        assert!(!body.contains("javascript"), "{body}");
        assert!(body.contains("نص"), "{body}");
        assert_eq!(item.published_at, now());
    }

    #[test]
    fn body_without_title_in_its_language_is_refused() {
        let input = NewsInput {
            title: Localized::one(Lang::Ar, "عنوان"),
            body: Localized::one(Lang::En, "<p>text</p>"),
            ..Default::default()
        };
        let errs = input.validate(now()).unwrap_err();
        assert_eq!(errs[0].field, "title.en");
    }
}
