//! [`XPublisher`]: the X API v2 calls of one account, each failure
//! classified where it happens (`platform.rs` documents the classes). The
//! client never retries and never sleeps; the outbox worker decides.
//!
//! | outcome | class |
//! |---|---|
//! | 429, `x-rate-limit-reset` | `RateLimited` until the reset (else now + 15 min) |
//! | `…/usage-capped` problem, 402 | `QuotaExhausted` |
//! | 401 | `AuthExpired` (OAuth 2.0: refresh) / `Reauthorize` (OAuth 1.0a) |
//! | 403 "duplicate content" | `Duplicate` |
//! | other 4xx | `Permanent`, with the problem's detail |
//! | 5xx | `Unknown` when the call may have acted (POST, DELETE), else `Transient` |
//! | connect error | `Transient` |
//! | timeout / reset / bad body after sending | `Unknown` when it may have acted, else `Transient` |

use super::auth::{OAuth1Keys, OAuth2};
use super::wire::{CreateTweet, Data, Deleted, Problem, Timeline, Tweet, User};
use crate::config::Account;
use crate::publish::{DeliveryError, Outgoing, Platform, Posted, Publisher, Rendered};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use url::Url;

/// How the account authenticates.
#[derive(Debug)]
pub enum XAuth {
    /// OAuth 2.0 bearer tokens, refreshed with rotation.
    OAuth2(Box<OAuth2>),
    /// OAuth 1.0a signatures.
    OAuth1(OAuth1Keys),
}

/// The X publisher of one account.
#[derive(Debug)]
pub struct XPublisher {
    pub(super) account: Account,
    pub(super) base_url: Url,
    pub(super) http: reqwest::Client,
    pub(super) auth: XAuth,
    /// Configured, or looked up once with `GET /2/users/me`.
    pub(super) user_id: tokio::sync::OnceCell<String>,
}

/// Reconciliation looks this far before `post.since` (clock skew).
const FIND_SLACK: chrono::Duration = chrono::Duration::minutes(2);
/// A bound on timeline pages read by one `find`.
const MAX_PAGES: usize = 30;

impl XPublisher {
    fn url(&self, path: &str) -> Result<Url, DeliveryError> {
        self.base_url
            .join(path)
            .map_err(|e| DeliveryError::Permanent {
                detail: format!("x: bad URL {path}: {e}"),
            })
    }

    /// One call: authenticate, send, classify. `Ok` carries a 2xx status
    /// and its body.
    async fn call(
        &self,
        method: Method,
        url: Url,
        json: Option<&CreateTweet>,
    ) -> Result<(StatusCode, bytes::Bytes), DeliveryError> {
        self.call_accepting(method, url, json, &[]).await
    }

    /// [`Self::call`], also passing the statuses in `accept` through.
    async fn call_accepting(
        &self,
        method: Method,
        url: Url,
        json: Option<&CreateTweet>,
        accept: &[StatusCode],
    ) -> Result<(StatusCode, bytes::Bytes), DeliveryError> {
        let acts = method != Method::GET;
        let mut req = self.http.request(method.clone(), url.clone());
        req = match &self.auth {
            XAuth::OAuth2(o) => req.bearer_auth(o.access_token(&self.http).await?.expose()),
            XAuth::OAuth1(k) => req.header(
                reqwest::header::AUTHORIZATION,
                k.sign(method.as_str(), &url),
            ),
        };
        if let Some(body) = json {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| transport_error(e, acts))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| transport_error(e, acts))?;
        if status.is_success() || accept.contains(&status) {
            return Ok((status, body));
        }
        let oauth2 = matches!(self.auth, XAuth::OAuth2(_));
        let err = classify(status, &headers, &body, acts, oauth2, Utc::now());
        tracing::warn!(
            account = %self.account.id,
            method = %method,
            path = url.path(),
            status = status.as_u16(),
            class = err.class(),
            "x: call failed"
        );
        Err(err)
    }

    async fn user_id(&self) -> Result<&str, DeliveryError> {
        self.user_id
            .get_or_try_init(|| async {
                let (_, body) = self
                    .call(Method::GET, self.url("2/users/me")?, None)
                    .await?;
                let me: Data<User> = parse(&body, false)?;
                Ok::<_, DeliveryError>(me.data.id)
            })
            .await
            .map(String::as_str)
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8], acted: bool) -> Result<T, DeliveryError> {
    serde_json::from_slice(body).map_err(|e| {
        let detail = format!("x: unexpected response body: {e}");
        if acted {
            DeliveryError::Unknown { detail }
        } else {
            DeliveryError::Transient { detail }
        }
    })
}

/// A reqwest error as a delivery failure. Connect errors never reached the
/// server; anything later may have acted when the request `acts`.
pub(super) fn transport_error(e: reqwest::Error, acts: bool) -> DeliveryError {
    let early = e.is_connect() || e.is_builder();
    // Credentials travel in headers, never in the URL or the error chain.
    let e = e.without_url();
    let mut detail = format!("x: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(&format!(": {s}"));
        source = s.source();
    }
    if early || !acts {
        DeliveryError::Transient { detail }
    } else {
        DeliveryError::Unknown { detail }
    }
}

/// `x-rate-limit-reset` (epoch seconds) as a time, else `now` + 15 min.
pub(super) fn reset_time(headers: &HeaderMap, now: DateTime<Utc>) -> DateTime<Utc> {
    header_reset(headers).unwrap_or(now + chrono::Duration::minutes(15))
}

/// The end of the rate-limit window. The header has whole epoch seconds
/// (rounded down), so the window really ends up to a second later: waiting
/// for the second after it avoids a burst of 429s at the boundary.
fn header_reset(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    headers
        .get("x-rate-limit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|s| DateTime::from_timestamp(s.saturating_add(1), 0))
}

/// Classify a non-2xx answer.
pub(super) fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    acts: bool,
    oauth2: bool,
    now: DateTime<Utc>,
) -> DeliveryError {
    let problem: Problem = serde_json::from_slice(body).unwrap_or_default();
    let words = problem.describe();
    let detail = if words.is_empty() {
        format!("x: HTTP {status}")
    } else {
        format!("x: HTTP {}: {words}", status.as_u16())
    };
    let code = status.as_u16();
    if problem.is("usage-capped") || code == 402 {
        // Monthly caps: the reset header (when sent) is the best we know.
        return DeliveryError::QuotaExhausted {
            until: header_reset(headers).unwrap_or(now + chrono::Duration::hours(24)),
            detail,
        };
    }
    let remaining_zero = headers
        .get("x-rate-limit-remaining")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0");
    match code {
        429 => DeliveryError::RateLimited {
            until: reset_time(headers, now),
            detail,
        },
        401 if oauth2 => DeliveryError::AuthExpired { detail },
        401 => DeliveryError::Reauthorize { detail },
        403 if words.to_ascii_lowercase().contains("duplicate content") => {
            DeliveryError::Duplicate { detail }
        }
        // Some limits answer 403 with the window spent (`remaining: 0`).
        403 if remaining_zero && problem.is("rate-limit-exceeded") => DeliveryError::RateLimited {
            until: reset_time(headers, now),
            detail,
        },
        400..=499 => DeliveryError::Permanent { detail },
        _ if acts => DeliveryError::Unknown { detail },
        _ => DeliveryError::Transient { detail },
    }
}

#[async_trait]
impl Publisher for XPublisher {
    fn account_id(&self) -> &str {
        &self.account.id
    }

    fn platform(&self) -> Platform {
        Platform::X
    }

    fn skip_reason(&self, _post: &Outgoing) -> Option<String> {
        None
    }

    fn render(&self, post: &Outgoing) -> Result<Rendered, DeliveryError> {
        Ok(compose(post, &self.account))
    }

    async fn publish(&self, post: &Outgoing) -> Result<Posted, DeliveryError> {
        let text = compose(post, &self.account).text;
        let (_, body) = self
            .call(
                Method::POST,
                self.url("2/tweets")?,
                Some(&CreateTweet { text }),
            )
            .await?;
        let created: Data<Tweet> = parse(&body, true)?;
        Ok(posted(created.data.id))
    }

    async fn find(&self, post: &Outgoing) -> Result<Option<Posted>, DeliveryError> {
        let user = self.user_id().await?.to_string();
        let start = (post.since - FIND_SLACK).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut token: Option<String> = None;
        let mut found: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = self.url(&format!("2/users/{user}/tweets"))?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("start_time", &start)
                    .append_pair("max_results", "100")
                    .append_pair("tweet.fields", "created_at,entities");
                if let Some(t) = &token {
                    q.append_pair("pagination_token", t);
                }
            }
            let (_, body) = self.call(Method::GET, url, None).await?;
            let page: Timeline = parse(&body, false)?;
            // Newest first: the last match is the oldest, i.e. the original.
            for t in page.data.unwrap_or_default() {
                if carries_link(&t, &post.link) {
                    found = Some(t.id);
                }
            }
            match page.meta.next_token {
                Some(next) if Some(&next) != token.as_ref() => token = Some(next),
                _ => break,
            }
        }
        Ok(found.map(posted))
    }

    async fn delete(&self, post_id: &str) -> Result<(), DeliveryError> {
        if !super::config::valid_id(post_id) {
            return Err(DeliveryError::Permanent {
                detail: format!("x: `{post_id}` is not a post id"),
            });
        }
        let url = self.url(&format!("2/tweets/{post_id}"))?;
        let (status, body) = self
            .call_accepting(Method::DELETE, url, None, &[StatusCode::NOT_FOUND])
            .await?;
        // Already gone (deleted by staff, or by an earlier attempt that
        // acted): 404, or `deleted: false`.
        let deleted =
            status != StatusCode::NOT_FOUND && parse::<Data<Deleted>>(&body, true)?.data.deleted;
        if !deleted {
            tracing::info!(account = %self.account.id, post_id, "x: post was already gone");
        }
        Ok(())
    }

    async fn refresh_auth(&self) -> Result<(), DeliveryError> {
        match &self.auth {
            XAuth::OAuth2(o) => o.refresh(&self.http).await,
            XAuth::OAuth1(_) => Err(DeliveryError::Reauthorize {
                detail: "x: OAuth 1.0a keys were rejected; they cannot be refreshed".into(),
            }),
        }
    }
}

fn posted(id: String) -> Posted {
    Posted {
        url: format!("https://x.com/i/web/status/{id}"),
        id,
    }
}

/// Whether a timeline tweet carries `link`: in the text, or (X rewrites
/// links to t.co) as an expanded URL entity.
fn carries_link(t: &Tweet, link: &str) -> bool {
    t.text.contains(link)
        || t.entities.as_ref().is_some_and(|e| {
            e.urls
                .iter()
                .any(|u| u.expanded_url.as_deref() == Some(link))
        })
}

// ---- Text ------------------------------------------------------------------

/// X's limit, in weighted length.
const LIMIT: usize = 280;

/// The default post layout; an account's `template` replaces it.
pub const DEFAULT_TEMPLATE: &str = "{title}\n{link}\n{hashtags}";

/// The post text from the account's template, shortened at a word boundary
/// with `…` to fit 280 weighted characters (twitter-text v3), never cutting
/// the link or a hashtag.
fn compose(post: &Outgoing, account: &Account) -> Rendered {
    use crate::publish::text;
    let mut tags: Vec<&str> = Vec::new();
    for t in post.hashtags.iter().chain(account.hashtags.iter()) {
        if !t.is_empty() && !tags.contains(&t.as_str()) {
            tags.push(t);
        }
    }
    let template = account
        .template
        .as_deref()
        .and_then(|t| text::Template::parse(t).ok())
        .or_else(|| text::Template::parse(DEFAULT_TEMPLATE).ok());
    let composed = template.and_then(|tpl| {
        text::compose_x(
            &tpl,
            &post.title,
            &post.summary,
            &post.link,
            &tags,
            LIMIT,
            text::v3_config(),
        )
        .ok()
    });
    // A URL always weighs 23, so the link alone always fits.
    let text = composed.unwrap_or_else(|| post.link.clone());
    Rendered {
        length: text::x_length(&text),
        text,
        title: None,
        limit: LIMIT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ItemId, Lang};
    use crate::publish::JobId;
    use reqwest::header::HeaderValue;

    fn account() -> Account {
        Account {
            id: "x-ar".into(),
            platform: Platform::X,
            lang: Lang::Ar,
            base_url: None,
            template: None,
            hashtags: vec!["السعودية".into()],
            delete_on_retract: true,
            enabled: true,
            settings: toml::Table::new(),
        }
    }

    fn post(title: &str) -> Outgoing {
        Outgoing {
            job_id: JobId::new(),
            item_id: ItemId::new(),
            lang: Lang::Ar,
            title: title.into(),
            summary: String::new(),
            link: "https://portal.gov.om/news/1".into(),
            hashtags: vec!["أخبار".into(), "السعودية".into()],
            image: None,
            video: None,
            since: Utc::now(),
        }
    }

    use crate::publish::text::x_length as weighted_length;

    #[test]
    fn weights() {
        assert_eq!(weighted_length("abc"), 3);
        assert_eq!(weighted_length("مرحبا"), 5);
        assert_eq!(weighted_length("中文"), 4);
        assert_eq!(weighted_length("\u{200F}"), 2);
        // U+2026 lies outside U+2010–U+201F.
        assert_eq!(weighted_length("…"), 2);
        assert_eq!(weighted_length("\u{201C}"), 1);
        assert_eq!(
            weighted_length("see https://example.com/a/very/long/path/indeed x"),
            4 + 23 + 2
        );
    }

    #[test]
    fn compose_short() {
        let r = compose(&post("افتتاح مركز"), &account());
        assert_eq!(
            r.text,
            "افتتاح مركز\nhttps://portal.gov.om/news/1\n#أخبار #السعودية"
        );
        assert_eq!(r.length, 11 + 1 + 23 + 1 + 16);
        assert_eq!(r.limit, 280);
    }

    #[test]
    fn compose_truncates_title_at_char_boundary() {
        let r = compose(&post(&"中".repeat(200)), &account());
        assert!(r.length <= 280, "{}", r.length);
        assert!(r.length >= 278, "{}", r.length);
        assert!(r.text.contains("…\nhttps://portal.gov.om/news/1"));
        assert_eq!(r.length, crate::publish::text::x_length(&r.text));
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn classification() {
        let now = Utc::now();
        let c = |s: u16, h: &HeaderMap, b: &str, acts: bool, o2: bool| {
            classify(
                StatusCode::from_u16(s).expect("status"),
                h,
                b.as_bytes(),
                acts,
                o2,
                now,
            )
        };
        let none = HeaderMap::new();
        let h = headers(&[
            ("x-rate-limit-reset", "1900000000"),
            ("x-rate-limit-remaining", "0"),
        ]);
        assert_eq!(
            c(
                429,
                &h,
                r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#,
                true,
                true
            ),
            DeliveryError::RateLimited {
                // The header's whole second, plus one: the window ends within it.
                until: DateTime::from_timestamp(1_900_000_001, 0).expect("ts"),
                detail: "x: HTTP 429: Too Many Requests".into()
            }
        );
        assert!(
            matches!(c(429, &none, "", true, true), DeliveryError::RateLimited { until, .. } if until == now + chrono::Duration::minutes(15))
        );
        assert!(matches!(
            c(
                429,
                &none,
                r#"{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.twitter.com/2/problems/usage-capped"}"#,
                true,
                true
            ),
            DeliveryError::QuotaExhausted { .. }
        ));
        assert_eq!(c(401, &none, "", true, true).class(), "auth_expired");
        assert_eq!(c(401, &none, "", true, false).class(), "reauthorize");
        assert_eq!(
            c(
                403,
                &none,
                r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#,
                true,
                true
            ),
            DeliveryError::Duplicate {
                detail:
                    "x: HTTP 403: You are not allowed to create a Tweet with duplicate content."
                        .into()
            }
        );
        assert_eq!(
            c(
                403,
                &none,
                r#"{"detail":"Reply to this conversation is not allowed"}"#,
                true,
                true
            )
            .class(),
            "permanent"
        );
        assert_eq!(c(400, &none, "", false, true).class(), "permanent");
        assert_eq!(c(503, &none, "", true, true).class(), "unknown");
        assert_eq!(c(503, &none, "", false, true).class(), "transient");
    }

    #[test]
    fn links_match_in_text_or_entities() {
        let link = "https://portal.gov.om/news/1";
        let mut t = Tweet {
            id: "1".into(),
            text: "خبر https://t.co/abc".into(),
            edit_history_tweet_ids: vec![],
            created_at: None,
            entities: None,
        };
        assert!(!carries_link(&t, link));
        t.entities = Some(super::super::wire::Entities {
            urls: vec![super::super::wire::UrlEntity {
                start: 4,
                end: 20,
                url: "https://t.co/abc".into(),
                expanded_url: Some(link.into()),
                display_url: None,
            }],
        });
        assert!(carries_link(&t, link));
        t.entities = None;
        t.text = format!("خبر {link}");
        assert!(carries_link(&t, link));
    }
}
