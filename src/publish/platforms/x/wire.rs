//! Serde shapes of the X API v2 contract (`shared/contracts/x-api-v2.md`,
//! `oauth.md` §1), shared by the client and the fake. Only the fields the
//! daemon uses; unknown fields are ignored on input. Ids are JSON strings.

use serde::{Deserialize, Serialize};

/// `POST /2/tweets` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateTweet {
    /// The post text.
    pub text: String,
}

/// `{"data": …}` envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Data<T> {
    /// The payload.
    pub data: T,
}

/// A tweet as `POST /2/tweets` and the timelines return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tweet {
    /// String id.
    pub id: String,
    /// Text (links rewritten to t.co by X).
    pub text: String,
    /// Ids of the edit history (always present, not relied upon).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edit_history_tweet_ids: Vec<String>,
    /// `2024-01-15T10:30:00.000Z`, with `tweet.fields=created_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// With `tweet.fields=entities`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entities: Option<Entities>,
}

/// Entities of a tweet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    /// Links in the text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<UrlEntity>,
}

/// A link in a tweet's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlEntity {
    /// Start (code points).
    pub start: usize,
    /// End (exclusive).
    pub end: usize,
    /// The t.co link as it appears in the text.
    pub url: String,
    /// The link as posted.
    #[serde(default)]
    pub expanded_url: Option<String>,
    /// Shortened display form.
    #[serde(default)]
    pub display_url: Option<String>,
}

/// `DELETE /2/tweets/:id` payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    /// Whether it was deleted.
    pub deleted: bool,
}

/// `GET /2/users/me` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// String id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Handle.
    #[serde(default)]
    pub username: String,
}

/// A timeline page (`GET /2/users/:id/tweets`). Empty: no `data` key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// Tweets, newest first; absent when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<Tweet>>,
    /// Paging.
    #[serde(default)]
    pub meta: Meta,
}

/// Timeline `meta`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Tweets on this page.
    #[serde(default)]
    pub result_count: u32,
    /// Newest id on this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_id: Option<String>,
    /// Oldest id on this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_id: Option<String>,
    /// Send back as `pagination_token`; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// An RFC 7807-style problem body. `type` suffixes name the kind
/// (`…/usage-capped`, `…/invalid-request`); `about:blank` is generic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Short title.
    #[serde(default)]
    pub title: String,
    /// Human-readable detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Problem type URI.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// HTTP status, usually present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Parameter errors of a 400.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<serde_json::Value>,
}

impl Problem {
    /// Whether `type` ends with `/problems/<suffix>` (the prefix moved from
    /// api.twitter.com to api.x.com).
    pub fn is(&self, suffix: &str) -> bool {
        self.kind
            .strip_suffix(suffix)
            .is_some_and(|p| p.ends_with("/problems/"))
    }

    /// The best one-line description.
    pub fn describe(&self) -> String {
        match (&self.detail, self.title.is_empty()) {
            (Some(d), _) if !d.is_empty() => d.clone(),
            (_, false) => self.title.clone(),
            _ => String::new(),
        }
    }
}

/// `POST /2/oauth2/token` success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// `bearer`.
    #[serde(default)]
    pub token_type: String,
    /// Seconds the access token lives (7200).
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// The access token.
    pub access_token: String,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: String,
    /// The rotated refresh token (only with `offline.access`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// `POST /2/oauth2/token` failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenError {
    /// `invalid_request`, `invalid_grant`, `unauthorized_client`, …
    pub error: String,
    /// Human-readable detail.
    #[serde(default)]
    pub error_description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_types_match_on_suffix() {
        let p: Problem = serde_json::from_str(
            r#"{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.twitter.com/2/problems/usage-capped","period":"Monthly","scope":"Product"}"#,
        )
        .expect("json");
        assert!(p.is("usage-capped"));
        assert!(!p.is("capped"));
        assert_eq!(p.describe(), "Usage cap exceeded: Monthly product cap");
        let p = Problem {
            kind: "https://api.x.com/2/problems/usage-capped".into(),
            ..Problem::default()
        };
        assert!(p.is("usage-capped"));
    }

    #[test]
    fn empty_timeline_has_no_data() {
        let t: Timeline = serde_json::from_str(r#"{"meta":{"result_count":0}}"#).expect("json");
        assert_eq!(t.data, None);
        let s = serde_json::to_string(&t).expect("ser");
        assert!(!s.contains("data"), "{s}");
    }
}
