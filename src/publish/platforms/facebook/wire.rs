//! Serde shapes of the Graph API calls we make
//! (`shared/contracts/facebook-graph.md` §1, §2, §5; `oauth.md` §4), shared
//! by the client and the fake so both speak the same format.
//!
//! Only `message`, `type` and `code` of an error are always present, so
//! everything else is optional here.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// `{"error":{…}}`, the Graph error envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: GraphError,
}

/// A Graph error. Dispatch on `code`/`error_subcode`, never on the message
/// (localised) or the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GraphError {
    /// Human text, e.g. `(#506) Duplicate status message`.
    #[serde(default)]
    pub message: String,
    /// `OAuthException`, `GraphMethodException`, …
    #[serde(default, rename = "type")]
    pub kind: String,
    /// The error code (see the contract's table).
    #[serde(default)]
    pub code: i64,
    /// Finer reason, e.g. 463 (expired) or 460 (session invalidated) for 190.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_subcode: Option<i64>,
    /// Meta's hint that a retry may work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_transient: Option<bool>,
    /// Meta's trace id, for support requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
    /// Title for end users (localised).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_user_title: Option<String>,
    /// Message for end users (localised).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_user_msg: Option<String>,
}

/// `POST /{page-id}/feed` → `{"id":"{page}_{post}"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedCreated {
    /// The Page post id.
    pub id: String,
}

/// `POST /{page-id}/photos` → `{"id":"{photo}","post_id":"{page}_{post}"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoCreated {
    /// The photo id.
    pub id: String,
    /// The Page post carrying the photo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
}

/// `{"success":true}`; the docs also show `"true"` (a string) for some calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Success {
    /// Parsed from a boolean or the strings `"true"`/`"false"`.
    #[serde(deserialize_with = "bool_or_string")]
    pub success: bool,
}

fn bool_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        B(bool),
        S(String),
    }
    Ok(match B::deserialize(d)? {
        B::B(b) => b,
        B::S(s) => s == "true",
    })
}

/// A page of `GET /{page-id}/published_posts`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PostsPage {
    /// The posts, newest first. `[]` is the end.
    #[serde(default)]
    pub data: Vec<PagePost>,
    /// Cursors; `next` is missing on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

/// One post as read back (only the requested fields are present).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PagePost {
    /// `{page}_{post}`.
    pub id: String,
    /// The text (a photo post's caption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `2023-12-01T06:52:51+0000` (offset without a colon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    /// A public URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permalink_url: Option<String>,
}

/// Cursor paging.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Paging {
    /// `before` / `after` cursors (may be present on the last page too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursors: Option<Cursors>,
    /// URL of the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Opaque cursors.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cursors {
    /// Cursor of the first item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Cursor of the last item: send as `after` for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// `GET /debug_token` → `{"data":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebugToken {
    /// What Meta knows about the token.
    pub data: DebugTokenData,
}

/// The inspected token.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DebugTokenData {
    /// The app the token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// `PAGE` for a Page token.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether the token works.
    #[serde(default)]
    pub is_valid: bool,
    /// Unix seconds; `0` = never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Unix seconds; data access ends then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_access_expires_at: Option<i64>,
    /// The Page id, for a Page token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    /// Granted permissions.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Why the token is invalid (shape unconfirmed in the docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<DebugTokenError>,
}

/// The error inside an invalid token's `data`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DebugTokenError {
    /// 190 in practice.
    #[serde(default)]
    pub code: i64,
    /// Human text.
    #[serde(default)]
    pub message: String,
    /// 463 expired, 460 session invalidated, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcode: Option<i64>,
}

/// `X-Business-Use-Case-Usage`: per Page or business id, usage entries.
pub type BusinessUseCaseUsage = HashMap<String, Vec<BucEntry>>;

/// One entry of `X-Business-Use-Case-Usage` (values are percent of the limit).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BucEntry {
    /// `pages`, `ads_management`, …
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Percent of calls used.
    #[serde(default)]
    pub call_count: u64,
    /// Percent of CPU time used.
    #[serde(default)]
    pub total_cputime: u64,
    /// Percent of total time used.
    #[serde(default)]
    pub total_time: u64,
    /// Minutes until calls are allowed again.
    #[serde(default)]
    pub estimated_time_to_regain_access: u64,
}

/// `X-App-Usage` / `X-Page-Usage` (percent of the limit; no time estimate).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AppUsage {
    /// Percent of calls used.
    #[serde(default)]
    pub call_count: u64,
    /// Percent of CPU time used.
    #[serde(default)]
    pub total_cputime: u64,
    /// Percent of total time used.
    #[serde(default)]
    pub total_time: u64,
}

/// The longest `estimated_time_to_regain_access` (minutes) in a
/// `X-Business-Use-Case-Usage` header value, if it parses.
pub fn regain_minutes(header: &str) -> Option<u64> {
    let usage: BusinessUseCaseUsage = serde_json::from_str(header).ok()?;
    usage
        .values()
        .flatten()
        .map(|e| e.estimated_time_to_regain_access)
        .max()
}

/// Graph read timestamps: `2023-12-01T06:52:51+0000`.
pub const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%z";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_envelope_parses_with_only_the_required_fields() {
        let e: ErrorEnvelope = serde_json::from_str(
            r#"{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4}}"#,
        )
        .expect("parse");
        assert_eq!(e.error.code, 4);
        assert_eq!(e.error.is_transient, None);
    }

    #[test]
    fn success_accepts_a_bool_or_a_string() {
        let a: Success = serde_json::from_str(r#"{"success":true}"#).expect("bool");
        let b: Success = serde_json::from_str(r#"{"success":"true"}"#).expect("string");
        let c: Success = serde_json::from_str(r#"{"success":false}"#).expect("false");
        assert!(a.success && b.success && !c.success);
    }

    #[test]
    fn regain_minutes_takes_the_largest_estimate() {
        let h = r#"{"546349135390552":[{"type":"pages","call_count":100,"total_cputime":5,"total_time":8,"estimated_time_to_regain_access":7},{"type":"pages","estimated_time_to_regain_access":3}]}"#;
        assert_eq!(regain_minutes(h), Some(7));
        assert_eq!(regain_minutes("not json"), None);
        assert_eq!(regain_minutes("{}"), None);
    }

    #[test]
    fn graph_timestamps_parse() {
        let t = chrono::DateTime::parse_from_str("2023-12-01T06:52:51+0000", TIME_FORMAT)
            .expect("parse");
        assert_eq!(t.timestamp(), 1_701_413_571);
    }
}
