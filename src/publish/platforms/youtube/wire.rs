//! Wire shapes of the YouTube Data API v3 and Google's token endpoint
//! (`shared/contracts/youtube-data-v3.md`, `oauth.md` §3), and what their
//! errors mean for the outbox.
//!
//! Owns: serde structs, the error classification table (contract §4) and the
//! quota reset time (midnight America/Los_Angeles, computed without a tz
//! database). Does not own: sending anything (`client`, `upload`, `auth`).

use crate::publish::DeliveryError;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// The video resource sent to start an upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoInsert {
    /// Title, description, tags, category, language.
    pub snippet: InsertSnippet,
    /// Privacy.
    pub status: InsertStatus,
}

/// `snippet` of [`VideoInsert`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsertSnippet {
    /// ≤ 100 characters, no `<` `>`.
    pub title: String,
    /// ≤ 5,000 bytes, no `<` `>`.
    pub description: String,
    /// Tags (hashtags without `#`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// `"25"` News & Politics by default.
    pub category_id: String,
    /// The account's language (`ar`, `en`).
    pub default_language: String,
}

/// `status` of [`VideoInsert`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsertStatus {
    /// `public`, `unlisted` or `private`.
    pub privacy_status: String,
    /// Always false: news is not made for kids.
    pub self_declared_made_for_kids: bool,
}

/// The video resource returned when an upload completes (fields we read).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Video {
    /// The video id.
    pub id: String,
}

/// `channels.list` response (fields we read).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChannelList {
    /// Channels of the authorised user.
    #[serde(default)]
    pub items: Vec<Channel>,
}

/// A channel.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    /// `contentDetails` part.
    pub content_details: Option<ChannelContentDetails>,
}

/// `contentDetails` of a channel.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelContentDetails {
    /// Built-in playlists.
    pub related_playlists: RelatedPlaylists,
}

/// `relatedPlaylists`.
#[derive(Debug, Clone, Deserialize)]
pub struct RelatedPlaylists {
    /// The uploads playlist id.
    pub uploads: Option<String>,
}

/// `playlistItems.list` response (fields we read).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistItemList {
    /// Missing on the last page.
    pub next_page_token: Option<String>,
    /// Newest first for the uploads playlist.
    #[serde(default)]
    pub items: Vec<PlaylistItem>,
}

/// One playlist item.
#[derive(Debug, Clone, Deserialize)]
pub struct PlaylistItem {
    /// `snippet` part.
    pub snippet: PlaylistItemSnippet,
}

/// `snippet` of a playlist item.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistItemSnippet {
    /// When the item was added (for uploads: the upload time).
    pub published_at: Option<DateTime<Utc>>,
    /// Video title.
    #[serde(default)]
    pub title: String,
    /// Video description.
    #[serde(default)]
    pub description: String,
    /// The video it points at.
    pub resource_id: ResourceId,
}

/// `resourceId` of a playlist item.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceId {
    /// The video id.
    pub video_id: Option<String>,
}

/// Google error envelope: `{"error":{"code":…,"message":…,"errors":[{"reason":…}]}}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ErrorBody,
}

/// Body of [`ErrorEnvelope`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorBody {
    /// HTTP status repeated.
    #[serde(default)]
    pub code: u16,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// Detailed errors; `errors[0].reason` is what we dispatch on.
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
    /// `UNAUTHENTICATED`, `PERMISSION_DENIED`, … (newer responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// One of [`ErrorBody::errors`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorItem {
    /// E.g. `quotaExceeded`.
    #[serde(default)]
    pub reason: String,
    /// E.g. `youtube.quota`.
    #[serde(default)]
    pub domain: String,
    /// Message.
    #[serde(default)]
    pub message: String,
}

/// A successful token refresh.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    /// The new access token.
    pub access_token: String,
    /// Lifetime in seconds (about 3599).
    pub expires_in: Option<i64>,
    /// Normally absent (Google does not rotate); stored when present.
    pub refresh_token: Option<String>,
}

/// A refused token refresh: `{"error":"invalid_grant","error_description":…}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenError {
    /// `invalid_grant`, `invalid_client`, …
    #[serde(default)]
    pub error: String,
    /// Description.
    #[serde(default)]
    pub error_description: Option<String>,
}

/// Whether a failed call may already have acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// A read (GET): a 5xx or a broken answer changed nothing → `Transient`.
    Read,
    /// A write (upload session, chunk, delete): a 5xx may have acted → `Unknown`.
    Write,
}

/// Longest platform message kept in an error detail.
const DETAIL_MAX: usize = 300;

fn clip(s: &str) -> String {
    if s.len() <= DETAIL_MAX {
        return s.to_string();
    }
    let mut end = DETAIL_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Classify a non-success API answer by `error.errors[0].reason` (contract §4):
///
/// | status | reason | class |
/// |---|---|---|
/// | any | `quotaExceeded` | `QuotaExhausted` until next midnight Pacific |
/// | 403/429 | `rateLimitExceeded`, `userRateLimitExceeded` | `RateLimited` for 1 min |
/// | 429 | other | `RateLimited` for 1 min |
/// | 401 | any (`authError`) | `AuthExpired`: refresh once, retry |
/// | 403 | `forbidden`, `insufficientPermissions`, other | `Permanent`: not the owner or a scope missing; a refresh cannot fix it, and re-consent is a staff decision the detail names |
/// | other 4xx | any (`videoNotFound`, `invalidTitle`, …) | `Permanent` |
/// | 5xx | any | `Unknown` for writes, `Transient` for reads |
///
/// The detail holds the status, reason and Google's message, never a token.
pub fn classify(status: u16, body: &[u8], call: Call, now: DateTime<Utc>) -> DeliveryError {
    let env: ErrorEnvelope = serde_json::from_slice(body).unwrap_or_default();
    let reason = env
        .error
        .errors
        .first()
        .map(|e| e.reason.as_str())
        .unwrap_or("");
    let message = if env.error.message.is_empty() {
        String::from_utf8_lossy(&body[..body.len().min(DETAIL_MAX)]).into_owned()
    } else {
        env.error.message.clone()
    };
    let detail = if reason.is_empty() {
        format!("HTTP {status}: {}", clip(&message))
    } else {
        format!("HTTP {status} {reason}: {}", clip(&message))
    };
    match (status, reason) {
        (_, "quotaExceeded") => DeliveryError::QuotaExhausted {
            until: next_pacific_midnight(now),
            detail,
        },
        (403 | 429, "rateLimitExceeded" | "userRateLimitExceeded") | (429, _) => {
            DeliveryError::RateLimited {
                until: now + Duration::minutes(1),
                detail,
            }
        }
        (401, _) => DeliveryError::AuthExpired { detail },
        (500..=599, _) => match call {
            Call::Read => DeliveryError::Transient { detail },
            Call::Write => DeliveryError::Unknown { detail },
        },
        _ => DeliveryError::Permanent { detail },
    }
}

/// Classify a transport failure. A connect error never reached Google →
/// `Transient`; a timeout or a broken connection or body after sending →
/// `Unknown` for writes, `Transient` for reads (a read changes nothing).
/// The URL is left out of the detail (upload session URIs are capabilities).
pub fn classify_transport(e: &reqwest::Error, call: Call, what: &str) -> DeliveryError {
    let kind = if e.is_connect() {
        "cannot connect"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "broken response body"
    } else {
        "connection failed"
    };
    let source = std::error::Error::source(e)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    let detail = format!("{what}: {kind}{source}");
    if e.is_connect() || call == Call::Read {
        DeliveryError::Transient { detail }
    } else {
        DeliveryError::Unknown { detail }
    }
}

/// The `n`th `weekday` of `month` in `year` (n ≥ 1).
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u32) -> NaiveDate {
    // Every month has a 1st; the result is within the month for n ≤ 4.
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let shift = (7 + weekday.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
    first + Duration::days(i64::from(shift + 7 * (n - 1)))
}

/// US daylight time (since 2007): from the second Sunday of March 02:00
/// PST (10:00 UTC) to the first Sunday of November 02:00 PDT (09:00 UTC).
fn is_pdt(t: DateTime<Utc>) -> bool {
    let y = t.year();
    let start = nth_weekday(y, 3, Weekday::Sun, 2).and_time(NaiveTime::MIN) + Duration::hours(10);
    let end = nth_weekday(y, 11, Weekday::Sun, 1).and_time(NaiveTime::MIN) + Duration::hours(9);
    let t = t.naive_utc();
    start <= t && t < end
}

/// Whether local midnight starting `date` is in daylight time: the switches
/// happen at 02:00, so midnight of a switch day still has the old offset.
fn midnight_is_pdt(date: NaiveDate) -> bool {
    let y = date.year();
    date > nth_weekday(y, 3, Weekday::Sun, 2) && date <= nth_weekday(y, 11, Weekday::Sun, 1)
}

/// The next midnight in America/Los_Angeles strictly after `now`, when the
/// YouTube quota resets. Fixed rule, no tz database: UTC−8 (PST), UTC−7
/// (PDT) between the US switch dates.
pub fn next_pacific_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let offset = if is_pdt(now) { 7 } else { 8 };
    let local_date = (now - Duration::hours(offset)).date_naive();
    let next = local_date + Duration::days(1);
    let back = if midnight_is_pdt(next) { 7 } else { 8 };
    Utc.from_utc_datetime(&(next.and_time(NaiveTime::MIN) + Duration::hours(back)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const QUOTA: &str = r#"{"error":{"code":403,"message":"The request cannot be completed because you have exceeded your \u003ca href=\"/youtube/v3/getting-started#quota\"\u003equota\u003c/a\u003e.","errors":[{"message":"quota","domain":"youtube.quota","reason":"quotaExceeded"}]}}"#;

    fn env(code: u16, reason: &str) -> Vec<u8> {
        format!(
            r#"{{"error":{{"code":{code},"message":"m","errors":[{{"message":"m","domain":"global","reason":"{reason}"}}]}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn second_sunday_of_march_and_first_of_november() {
        assert_eq!(
            nth_weekday(2026, 3, Weekday::Sun, 2),
            NaiveDate::from_ymd_opt(2026, 3, 8).unwrap()
        );
        assert_eq!(
            nth_weekday(2026, 11, Weekday::Sun, 1),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
        );
        assert_eq!(
            nth_weekday(2025, 3, Weekday::Sun, 2),
            NaiveDate::from_ymd_opt(2025, 3, 9).unwrap()
        );
        assert_eq!(
            nth_weekday(2025, 11, Weekday::Sun, 1),
            NaiveDate::from_ymd_opt(2025, 11, 2).unwrap()
        );
    }

    #[test]
    fn pacific_midnight_in_winter_and_summer() {
        // 23:59:59 PST on Jan 14 → midnight Jan 15 = 08:00 UTC.
        assert_eq!(
            next_pacific_midnight(t("2026-01-15T07:59:59Z")),
            t("2026-01-15T08:00:00Z")
        );
        // Exactly midnight → the next one.
        assert_eq!(
            next_pacific_midnight(t("2026-01-15T08:00:00Z")),
            t("2026-01-16T08:00:00Z")
        );
        // July: PDT, midnight = 07:00 UTC.
        assert_eq!(
            next_pacific_midnight(t("2026-07-04T12:00:00Z")),
            t("2026-07-05T07:00:00Z")
        );
        // Year boundary.
        assert_eq!(
            next_pacific_midnight(t("2026-12-31T20:00:00Z")),
            t("2027-01-01T08:00:00Z")
        );
    }

    #[test]
    fn pacific_midnight_around_the_spring_switch() {
        // Sat Mar 7 2026 04:00 PST → Sun Mar 8 00:00 PST (still standard).
        assert_eq!(
            next_pacific_midnight(t("2026-03-07T12:00:00Z")),
            t("2026-03-08T08:00:00Z")
        );
        // Sun Mar 8 01:59 PST, just before the switch → Mon Mar 9 00:00 PDT.
        assert_eq!(
            next_pacific_midnight(t("2026-03-08T09:59:00Z")),
            t("2026-03-09T07:00:00Z")
        );
        // Sun Mar 8 03:00 PDT, just after → same.
        assert_eq!(
            next_pacific_midnight(t("2026-03-08T10:00:00Z")),
            t("2026-03-09T07:00:00Z")
        );
        // Sun Mar 8 23:30 PDT (= Mar 9 06:30 UTC) → Mar 9 07:00 UTC.
        assert_eq!(
            next_pacific_midnight(t("2026-03-09T06:30:00Z")),
            t("2026-03-09T07:00:00Z")
        );
    }

    #[test]
    fn pacific_midnight_around_the_autumn_switch() {
        // Sat Oct 31 05:00 PDT → Sun Nov 1 00:00 PDT = 07:00 UTC.
        assert_eq!(
            next_pacific_midnight(t("2026-10-31T12:00:00Z")),
            t("2026-11-01T07:00:00Z")
        );
        // Sun Nov 1 01:30 PDT (first 01:30) → Mon Nov 2 00:00 PST = 08:00 UTC.
        assert_eq!(
            next_pacific_midnight(t("2026-11-01T08:30:00Z")),
            t("2026-11-02T08:00:00Z")
        );
        // Sun Nov 1 01:30 PST (second 01:30) → same.
        assert_eq!(
            next_pacific_midnight(t("2026-11-01T09:30:00Z")),
            t("2026-11-02T08:00:00Z")
        );
        // Sun Nov 1 23:30 PST (= Nov 2 07:30 UTC) → Nov 2 08:00 UTC.
        assert_eq!(
            next_pacific_midnight(t("2026-11-02T07:30:00Z")),
            t("2026-11-02T08:00:00Z")
        );
    }

    #[test]
    fn classification_follows_the_contract_table() {
        let now = t("2026-07-04T12:00:00Z");
        match classify(403, QUOTA.as_bytes(), Call::Write, now) {
            DeliveryError::QuotaExhausted { until, detail } => {
                assert_eq!(until, t("2026-07-05T07:00:00Z"));
                assert!(detail.contains("quotaExceeded"), "{detail}");
            }
            e => panic!("{e:?}"),
        }
        for (code, reason) in [
            (403, "rateLimitExceeded"),
            (403, "userRateLimitExceeded"),
            (429, "rateLimitExceeded"),
            (429, ""),
        ] {
            assert_eq!(
                classify(code, &env(code, reason), Call::Write, now),
                DeliveryError::RateLimited {
                    until: now + Duration::minutes(1),
                    detail: if reason.is_empty() {
                        format!("HTTP {code}: m")
                    } else {
                        format!("HTTP {code} {reason}: m")
                    }
                }
            );
        }
        let class =
            |code, reason: &str, call| classify(code, &env(code, reason), call, now).class();
        assert_eq!(class(401, "authError", Call::Read), "auth_expired");
        assert_eq!(class(403, "forbidden", Call::Write), "permanent");
        assert_eq!(
            class(403, "insufficientPermissions", Call::Read),
            "permanent"
        );
        assert_eq!(class(400, "invalidTitle", Call::Write), "permanent");
        assert_eq!(class(404, "videoNotFound", Call::Write), "permanent");
        assert_eq!(class(503, "backendError", Call::Write), "unknown");
        assert_eq!(class(500, "backendError", Call::Read), "transient");
        // Not an envelope at all: the status decides, the body is the detail.
        let e = classify(502, b"<html>bad gateway</html>", Call::Write, now);
        assert_eq!(e.class(), "unknown");
        assert!(e.to_string().contains("bad gateway"));
    }
}
