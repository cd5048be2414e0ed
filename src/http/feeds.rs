//! Serving rendered feeds: `/feeds/{channel}.{rss,atom,json}` and the paged
//! archives `/feeds/{channel}/archive/{n}.{ext}`.
//!
//! Documents come pre-rendered and pre-compressed from the [`FeedCache`]; a
//! request only picks a representation: identity, gzip or brotli by
//! `Accept-Encoding`, with a strong ETag per representation, `Last-Modified`,
//! and 304 on `If-None-Match` / `If-Modified-Since`. HEAD is served by axum
//! from the GET handler without a body.

use crate::http::AppState;
use crate::render::{Document, Format, PageId};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// A content coding we can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// No compression.
    Identity,
    /// gzip.
    Gzip,
    /// Brotli.
    Brotli,
}

impl Coding {
    fn suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Gzip => "-gz",
            Coding::Brotli => "-br",
        }
    }
}

/// Choose a coding from `Accept-Encoding` (RFC 9110 §12.5.3): the highest
/// q-value wins, brotli before gzip before identity on ties; `q=0` excludes.
pub fn negotiate(accept: Option<&str>) -> Coding {
    let Some(accept) = accept else {
        return Coding::Identity;
    };
    let mut q_br = None;
    let mut q_gz = None;
    let mut q_id = None;
    let mut q_star = None;
    for part in accept.split(',') {
        let mut it = part.split(';');
        let name = it.next().unwrap_or_default().trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in it {
            if let Some(v) = p.trim().strip_prefix("q=") {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        match name.as_str() {
            "br" => q_br = Some(q),
            "gzip" | "x-gzip" => q_gz = Some(q),
            "identity" => q_id = Some(q),
            "*" => q_star = Some(q),
            _ => {}
        }
    }
    let br = q_br.or(q_star).unwrap_or(0.0);
    let gz = q_gz.or(q_star).unwrap_or(0.0);
    let id = q_id.or(q_star).unwrap_or(1.0).max(0.001);
    if br > 0.0 && br >= gz && br >= id {
        Coding::Brotli
    } else if gz > 0.0 && gz >= id {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

fn etag_for(doc: &Document, coding: Coding) -> String {
    let base = doc.etag.trim_end_matches('"');
    format!("{base}{}\"", coding.suffix())
}

/// Whether `If-None-Match` matches any representation of `doc`.
fn none_match(doc: &Document, inm: &str) -> bool {
    inm.split(',').any(|t| {
        let t = t.trim().trim_start_matches("W/");
        t == "*"
            || [Coding::Identity, Coding::Gzip, Coding::Brotli]
                .iter()
                .any(|c| etag_for(doc, *c) == t)
    })
}

/// Build the response for `doc` given the request headers.
pub fn respond(doc: &Document, headers: &HeaderMap) -> Response {
    let coding = negotiate(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    );
    let etag = etag_for(doc, coding);
    let last_modified = httpdate::fmt_http_date(doc.last_modified.into());
    let not_modified = match headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(inm) => none_match(doc, inm),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .is_some_and(|since| {
                let lm: std::time::SystemTime = doc.last_modified.into();
                // HTTP dates have second precision.
                lm.duration_since(since).map_or(true, |d| d.as_secs() == 0)
            }),
    };
    let mut builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::LAST_MODIFIED, &last_modified)
        .header(header::VARY, "Accept-Encoding")
        .header(header::CACHE_CONTROL, "public, max-age=60");
    if not_modified {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    let body = match coding {
        Coding::Identity => doc.body.clone(),
        Coding::Gzip => {
            builder = builder.header(header::CONTENT_ENCODING, "gzip");
            doc.gzip.clone()
        }
        Coding::Brotli => {
            builder = builder.header(header::CONTENT_ENCODING, "br");
            doc.brotli.clone()
        }
    };
    builder
        .status(StatusCode::OK)
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_static(doc.content_type),
        )
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn split_ext(file: &str) -> Option<(&str, Format)> {
    let (stem, ext) = file.rsplit_once('.')?;
    Some((stem, Format::from_ext(ext)?))
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "no such feed\n",
    )
        .into_response()
}

fn serve(state: &AppState, channel: &str, page: PageId, format: Format, h: &HeaderMap) -> Response {
    match state.cache.get(channel, page, format) {
        Some(doc) => respond(&doc, h),
        None => not_found(),
    }
}

/// `GET /feeds/{channel}.{ext}`
pub async fn current(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    match split_ext(&file) {
        Some((channel, format)) => serve(&state, channel, PageId::Current, format, &headers),
        None => not_found(),
    }
}

/// `GET /feeds/{channel}/archive/{n}.{ext}`
pub async fn archive(
    State(state): State<Arc<AppState>>,
    Path((channel, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some((n, format)) = split_ext(&file) else {
        return not_found();
    };
    match n.parse::<u32>() {
        Ok(n) if n >= 1 => serve(&state, &channel, PageId::Archive(n), format, &headers),
        _ => not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_q_values() {
        assert_eq!(negotiate(None), Coding::Identity);
        assert_eq!(negotiate(Some("gzip")), Coding::Gzip);
        assert_eq!(negotiate(Some("gzip, deflate, br")), Coding::Brotli);
        assert_eq!(negotiate(Some("br;q=0.5, gzip")), Coding::Gzip);
        assert_eq!(negotiate(Some("br;q=0, gzip;q=0")), Coding::Identity);
        assert_eq!(negotiate(Some("*")), Coding::Brotli);
        assert_eq!(negotiate(Some("identity")), Coding::Identity);
        assert_eq!(negotiate(Some("deflate")), Coding::Identity);
    }
}
