//! JSON Feed 1.1 writer (<https://www.jsonfeed.org/version/1.1/>), with serde.
//! Field order is the structs' declaration order; optional fields are left
//! out when empty, as the spec prefers.

use super::text::{self, clean, clean_line};
use super::{Format, Page, RenderError};
use crate::model::NewsItem;
use serde::Serialize;

/// The spec's version URL.
pub(crate) const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct Feed {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    favicon: Option<String>,
    authors: Vec<Author>,
    language: &'static str,
    items: Vec<Item>,
}

#[derive(Serialize)]
struct Author {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct Item {
    id: String,
    url: String,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<String>,
    /// JSON Feed requires `content_html` or `content_text`: the title stands
    /// in when an item has no body in this language.
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<String>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    language: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment>,
}

#[derive(Serialize)]
struct Attachment {
    url: String,
    mime_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
}

fn item(page: &Page<'_>, it: &NewsItem) -> Item {
    let lang = page.channel.lang;
    let title = it.title.get(lang).map(clean_line).unwrap_or_default();
    let content_html = it.body.get(lang).map(clean);
    Item {
        id: text::item_guid(it),
        url: text::permalink(page.channel, it),
        content_text: content_html.is_none().then(|| title.clone()),
        title,
        content_html,
        date_published: text::rfc3339(it.published_at),
        date_modified: text::rfc3339(text::item_updated(it)),
        authors: text::author(it)
            .map(|name| Author { name, url: None })
            .into_iter()
            .collect(),
        tags: text::categories(it),
        language: lang.tag(),
        attachments: text::usable_media(it)
            .map(|(url, mime_type, m)| Attachment {
                url,
                mime_type,
                size_in_bytes: m.length,
            })
            .collect(),
    }
}

/// The JSON Feed document of one page.
pub(crate) fn render(page: &Page<'_>) -> Result<Vec<u8>, RenderError> {
    let ch = page.channel;
    let title = clean_line(&ch.title);
    let description = clean(&ch.description);
    let feed = Feed {
        version: VERSION,
        title: title.clone(),
        home_page_url: ch.site_link.to_string(),
        feed_url: page.self_url(Format::Json),
        description: (!description.trim().is_empty()).then_some(description),
        next_url: page.older().map(|p| page.url_of(p, Format::Json)),
        icon: ch.image.as_ref().map(|u| u.to_string()),
        favicon: ch.image.as_ref().map(|u| u.to_string()),
        authors: vec![Author {
            name: title,
            url: Some(ch.site_link.to_string()),
        }],
        language: ch.lang.tag(),
        items: page.items.iter().map(|it| item(page, it)).collect(),
    };
    let mut body = serde_json::to_vec_pretty(&feed).map_err(|source| RenderError::Json {
        channel: ch.id.clone(),
        source,
    })?;
    body.push(b'\n');
    Ok(body)
}
