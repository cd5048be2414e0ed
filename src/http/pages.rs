//! Public HTML pages: the bilingual index at `/` (with `<link rel="alternate">`
//! feed autodiscovery) and the permalink page of a staff item at `/news/{id}`.
//!
//! Every piece of text is HTML-escaped, and text of one direction inside a
//! page of the other is wrapped in `<bdi>` so it cannot reorder its
//! surroundings.

use crate::http::AppState;
use crate::model::{ItemId, Lang};
use crate::render::Format;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use std::fmt::Write as _;
use std::sync::Arc;

/// Escape text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,'Noto Naskh Arabic','Segoe UI',Tahoma,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.6}section{margin-bottom:2rem}ul{padding-inline-start:1.2rem}code{direction:ltr;unicode-bidi:isolate}";

/// `GET /`
pub async fn index(State(state): State<Arc<AppState>>) -> Response {
    let mut links = String::new();
    let mut sections = String::new();
    for lang in Lang::ALL {
        let (heading, formats_label) = match lang {
            Lang::Ar => ("الأخبار بالعربية", "الصيغ"),
            Lang::En => ("News in English", "Formats"),
        };
        let _ = write!(
            sections,
            "<section lang=\"{}\" dir=\"{}\"><h2>{heading}</h2><ul>",
            lang.tag(),
            lang.dir()
        );
        for ch in state.config.channels.values().filter(|c| c.lang == lang) {
            for f in Format::ALL {
                let url = ch.url(&format!("feeds/{}.{}", ch.id, f.ext()));
                let mime = f.content_type().split(';').next().unwrap_or_default();
                let _ = writeln!(
                    links,
                    "<link rel=\"alternate\" type=\"{mime}\" hreflang=\"{}\" title=\"{} ({})\" href=\"{}\">",
                    lang.tag(),
                    escape(&ch.title),
                    f.ext().to_uppercase(),
                    escape(&url)
                );
            }
            let _ = write!(
                sections,
                "<li><strong>{}</strong> — {}<br>{formats_label}: ",
                escape(&ch.title),
                escape(&ch.description)
            );
            for (i, f) in Format::ALL.iter().enumerate() {
                if i > 0 {
                    sections.push_str(" · ");
                }
                let url = ch.url(&format!("feeds/{}.{}", ch.id, f.ext()));
                let _ = write!(
                    sections,
                    "<a href=\"{}\" dir=\"ltr\">{}</a>",
                    escape(&url),
                    f.ext().to_uppercase()
                );
            }
            sections.push_str("</li>");
        }
        sections.push_str("</ul></section>");
    }
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"ar\" dir=\"rtl\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>موجز الأخبار · News feeds</title>\n{links}<style>{STYLE}</style>\n</head>\n<body>\n<h1>موجز الأخبار <bdi lang=\"en\">· News feeds</bdi></h1>\n{sections}\n</body>\n</html>\n"
    );
    ([(header::CACHE_CONTROL, "public, max-age=60")], Html(page)).into_response()
}

/// `GET /news/{id}`: the permalink of an item without a link of its own.
pub async fn news_page(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            Html("<!DOCTYPE html><html lang=\"ar\" dir=\"rtl\"><meta charset=\"utf-8\"><title>غير موجود · Not found</title><p>الخبر غير موجود. <bdi lang=\"en\">Not found.</bdi></p></html>".to_string()),
        )
            .into_response()
    };
    let Ok(id) = id.parse::<ItemId>() else {
        return not_found();
    };
    let item = match state.store.get_news(id).await {
        Ok(Some(item)) if item.is_live(Utc::now()) => item,
        Ok(_) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "news page: store read failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut body = String::new();
    let mut first_title = String::new();
    for lang in item.languages() {
        let title = item.title.get(lang).unwrap_or_default();
        if first_title.is_empty() {
            first_title = title.to_string();
        }
        let _ = write!(
            body,
            "<article lang=\"{}\" dir=\"{}\"><h1>{}</h1><p><time datetime=\"{}\">{}</time></p>{}</article>",
            lang.tag(),
            lang.dir(),
            escape(title),
            item.published_at.to_rfc3339(),
            item.published_at.format("%Y-%m-%d %H:%M UTC"),
            // Bodies were sanitized when stored.
            item.body.get(lang).unwrap_or_default()
        );
    }
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"ar\" dir=\"rtl\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        escape(&first_title)
    );
    Html(page).into_response()
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
