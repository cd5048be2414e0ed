//! [`FacebookPublisher`]: the Graph API calls of one Page account
//! (`shared/contracts/facebook-graph.md`), each failure classified where it
//! happens. The client never retries and never sleeps.
//!
//! - publish: an item with an image → `POST /{page}/photos` (`url`,
//!   `caption`); otherwise `POST /{page}/feed` (`message`, `link`).
//! - find: `GET /{page}/published_posts` since the job was created (less two
//!   minutes of clock skew), cursor paging, a post whose message carries the
//!   item link. Graph has no idempotency key, so this is how an unknown
//!   outcome is settled.
//! - delete: `DELETE /{post}`.
//! - refresh_auth: Page tokens have no refresh grant → `Reauthorize`.
//!
//! The token travels as `access_token` in the query (reads, deletes) or the
//! form body (posts); every error text is taken from
//! `reqwest::Error::without_url()` and then scrubbed of every secret value.
//!
//! Classification (contract §5; dispatch on the Graph `code`, never the
//! message or the HTTP status, except where no code settles it):
//!
//! | what | class |
//! |---|---|
//! | code 4, 17, 32, 341, 613, 80000–80014 | `RateLimited` until now + `estimated_time_to_regain_access` (X-Business-Use-Case-Usage), else now + 15 min |
//! | code 190, 102 | `Reauthorize` (no refresh exists) |
//! | code 506 | `Duplicate` |
//! | code 10, 100, 200–299, 368 | `Permanent` |
//! | other code, HTTP 5xx | POST: `Unknown`; GET/DELETE: `Transient` |
//! | other code, `is_transient: true` | `Transient` |
//! | code 1, 2 (temporary / service) | POST: `Unknown`; GET/DELETE: `Transient` |
//! | anything else | `Permanent` |
//! | cannot connect | `Transient` |
//! | timeout, reset or body error after sending | POST: `Unknown`; GET/DELETE: `Transient` |
//!
//! Reads and deletes cannot create a post, so a failure after sending them
//! is `Transient`, not `Unknown`: there is nothing to reconcile, and a
//! repeated delete of a post already gone succeeds (see [`Publisher::delete`]
//! below).

use super::auth::Credentials;
use super::config::{DEFAULT_BASE_URL, FacebookSettings};
use super::wire::{ErrorEnvelope, FeedCreated, GraphError, PhotoCreated, PostsPage, Success};
use crate::config::Account;
use crate::publish::platforms::BuildContext;
use crate::publish::{DeliveryError, Outgoing, Platform, Posted, Publisher, Rendered};
use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use url::Url;

/// Rate limit wait when Graph gives no estimate.
const DEFAULT_RATE_LIMIT_WAIT: chrono::Duration = chrono::Duration::minutes(15);
/// Clock skew allowed when looking for a post made since a job was created.
const SINCE_SKEW: chrono::Duration = chrono::Duration::seconds(120);
/// Page size of reconciliation reads (Graph's maximum).
const PAGE_LIMIT: u32 = 100;
/// Pages read at most by one reconciliation (10,000 posts).
const MAX_PAGES: usize = 100;

/// What a call does, which decides what a failure after sending means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    /// Creates a post: a failure after sending may have acted.
    Create,
    /// Reads: never acts.
    Read,
    /// Deletes: idempotent here, retrying is safe.
    Delete,
}

impl Call {
    fn may_have_acted(self) -> bool {
        self == Call::Create
    }
}

/// One Facebook Page account.
pub struct FacebookPublisher {
    account: Account,
    settings: FacebookSettings,
    creds: Credentials,
    base: Url,
    http: reqwest::Client,
}

impl std::fmt::Debug for FacebookPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacebookPublisher")
            .field("account", &self.account.id)
            .field("page_id", &self.settings.page_id)
            .field("base", &self.base.as_str())
            .field("api_version", &self.settings.api_version)
            .finish_non_exhaustive()
    }
}

impl FacebookPublisher {
    /// Check the settings, read the secrets and set up the HTTP client.
    /// The error names the account and what is wrong, never a secret.
    pub fn new(account: &Account, ctx: &BuildContext) -> Result<FacebookPublisher, String> {
        let settings = FacebookSettings::from_table(&account.settings).map_err(|problems| {
            let list: Vec<String> = problems
                .iter()
                .map(|(k, m)| format!("settings.{k}: {m}"))
                .collect();
            format!("account {}: {}", account.id, list.join("; "))
        })?;
        let page_token = settings
            .page_token
            .resolve(&ctx.config_dir)
            .map_err(|e| format!("account {}: settings.page_token: {e}", account.id))?;
        let app_secret = match &settings.app_secret {
            Some(r) => Some(
                r.resolve(&ctx.config_dir)
                    .map_err(|e| format!("account {}: settings.app_secret: {e}", account.id))?,
            ),
            None => None,
        };
        let mut base = match &account.base_url {
            Some(u) => u.clone(),
            None => Url::parse(DEFAULT_BASE_URL)
                .map_err(|e| format!("account {}: default base URL: {e}", account.id))?,
        };
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(format!(
                "account {}: base_url must be an http(s) URL, not {base}",
                account.id
            ));
        }
        base.set_query(None);
        base.set_fragment(None);
        let http = reqwest::Client::builder()
            .connect_timeout(ctx.publish.connect_timeout)
            .timeout(ctx.publish.timeout)
            .user_agent(concat!("musharaka/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("account {}: HTTP client: {}", account.id, e.without_url()))?;
        let creds = Credentials::new(page_token, app_secret, settings.app_id.clone());
        Ok(FacebookPublisher {
            account: account.clone(),
            settings,
            creds,
            base,
            http,
        })
    }

    /// The account's resolved secrets.
    pub(crate) fn credentials(&self) -> &Credentials {
        &self.creds
    }

    /// The daily health check of the Page token (see [`super::auth::debug_token`]).
    pub async fn check_token(&self) -> Result<super::auth::TokenHealth, DeliveryError> {
        super::auth::debug_token(self).await
    }

    /// `{base}/{version}/{segments…}`, each segment escaped.
    fn endpoint(&self, segments: &[&str]) -> Result<Url, DeliveryError> {
        let mut url = self.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| DeliveryError::Permanent {
                    detail: "base URL cannot carry a path".into(),
                })?;
            path.pop_if_empty().push(&self.settings.api_version);
            for s in segments {
                path.push(s);
            }
        }
        Ok(url)
    }

    /// `GET` a JSON answer.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: Vec<(&'static str, String)>,
    ) -> Result<T, DeliveryError> {
        let req = self.http.get(self.endpoint(segments)?).query(&query);
        let body = self.send(Call::Read, req).await?;
        self.parse(Call::Read, &body)
    }

    /// `POST` a form (the credentials added) and read the JSON answer.
    async fn post_form<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        mut form: Vec<(&'static str, String)>,
    ) -> Result<T, DeliveryError> {
        form.extend(self.creds.params());
        let req = self.http.post(self.endpoint(segments)?).form(&form);
        let body = self.send(Call::Create, req).await?;
        self.parse(Call::Create, &body)
    }

    /// Send; the status, the `X-Business-Use-Case-Usage` header and the
    /// body, or the transport failure classified.
    async fn exchange(
        &self,
        call: Call,
        req: reqwest::RequestBuilder,
    ) -> Result<(u16, Option<String>, Bytes), DeliveryError> {
        let resp = req.send().await.map_err(|e| self.transport(call, e))?;
        let status = resp.status().as_u16();
        let buc = resp
            .headers()
            .get("x-business-use-case-usage")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp.bytes().await.map_err(|e| self.transport(call, e))?;
        Ok((status, buc, body))
    }

    /// Send; a 2xx body, or the failure classified.
    async fn send(&self, call: Call, req: reqwest::RequestBuilder) -> Result<Bytes, DeliveryError> {
        let (status, buc, body) = self.exchange(call, req).await?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        Err(self.failure(call, status, buc.as_deref(), &body))
    }

    fn failure(&self, call: Call, status: u16, buc: Option<&str>, body: &[u8]) -> DeliveryError {
        let e = classify(call, status, buc, body, Utc::now());
        tracing::debug!(
            account = %self.account.id,
            status,
            class = e.class(),
            "facebook call failed"
        );
        self.scrub(e)
    }

    fn parse<T: DeserializeOwned>(&self, call: Call, body: &[u8]) -> Result<T, DeliveryError> {
        serde_json::from_slice(body).map_err(|e| {
            let detail = format!("unreadable Graph answer: {e}");
            self.scrub(if call.may_have_acted() {
                DeliveryError::Unknown { detail }
            } else {
                DeliveryError::Transient { detail }
            })
        })
    }

    /// A transport failure, without the URL (it may carry the token).
    fn transport(&self, call: Call, e: reqwest::Error) -> DeliveryError {
        let connect = e.is_connect();
        let timeout = e.is_timeout();
        let builder = e.is_builder();
        let e = e.without_url();
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        let detail = self.creds.redact(&detail);
        if builder {
            DeliveryError::Permanent { detail }
        } else if connect {
            DeliveryError::Transient {
                detail: format!("cannot connect to Graph: {detail}"),
            }
        } else if call.may_have_acted() {
            let what = if timeout {
                "timed out after sending"
            } else {
                "failed after sending"
            };
            DeliveryError::Unknown {
                detail: format!("{what}: {detail}"),
            }
        } else {
            DeliveryError::Transient { detail }
        }
    }

    /// The same error with every secret value removed from its text.
    fn scrub(&self, e: DeliveryError) -> DeliveryError {
        let r = |d: String| self.creds.redact(&d);
        match e {
            DeliveryError::RateLimited { until, detail } => DeliveryError::RateLimited {
                until,
                detail: r(detail),
            },
            DeliveryError::QuotaExhausted { until, detail } => DeliveryError::QuotaExhausted {
                until,
                detail: r(detail),
            },
            DeliveryError::Transient { detail } => DeliveryError::Transient { detail: r(detail) },
            DeliveryError::Unknown { detail } => DeliveryError::Unknown { detail: r(detail) },
            DeliveryError::AuthExpired { detail } => {
                DeliveryError::AuthExpired { detail: r(detail) }
            }
            DeliveryError::Reauthorize { detail } => {
                DeliveryError::Reauthorize { detail: r(detail) }
            }
            DeliveryError::Duplicate { detail } => DeliveryError::Duplicate { detail: r(detail) },
            DeliveryError::Permanent { detail } => DeliveryError::Permanent { detail: r(detail) },
        }
    }

    fn post_url(id: &str) -> String {
        format!("https://www.facebook.com/{id}")
    }
}

#[async_trait]
impl Publisher for FacebookPublisher {
    fn account_id(&self) -> &str {
        &self.account.id
    }

    fn platform(&self) -> Platform {
        Platform::Facebook
    }

    fn skip_reason(&self, _post: &Outgoing) -> Option<String> {
        // A Page carries text, links and images alike.
        None
    }

    fn render(&self, post: &Outgoing) -> Result<Rendered, DeliveryError> {
        Ok(compose(post, &self.account))
    }

    async fn publish(&self, post: &Outgoing) -> Result<Posted, DeliveryError> {
        let rendered = compose(post, &self.account);
        let page = self.settings.page_id.as_str();
        let id = match &post.image {
            Some(image) => {
                let created: PhotoCreated = self
                    .post_form(
                        &[page, "photos"],
                        vec![("url", image.url.clone()), ("caption", rendered.text)],
                    )
                    .await?;
                // A published photo always names its Page post; the photo id
                // is a usable fallback (it has a page of its own).
                created.post_id.unwrap_or(created.id)
            }
            None => {
                let created: FeedCreated = self
                    .post_form(
                        &[page, "feed"],
                        vec![("message", rendered.text), ("link", post.link.clone())],
                    )
                    .await?;
                created.id
            }
        };
        tracing::info!(account = %self.account.id, post_id = %id, "facebook: posted");
        Ok(Posted {
            url: Self::post_url(&id),
            id,
        })
    }

    async fn find(&self, post: &Outgoing) -> Result<Option<Posted>, DeliveryError> {
        let since = (post.since - SINCE_SKEW).timestamp().to_string();
        let page = self.settings.page_id.as_str();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = self.creds.params();
            query.push(("fields", "id,message,created_time,permalink_url".into()));
            query.push(("since", since.clone()));
            query.push(("limit", PAGE_LIMIT.to_string()));
            if let Some(a) = &after {
                query.push(("after", a.clone()));
            }
            let answer: PostsPage = self.get_json(&[page, "published_posts"], query).await?;
            if let Some(found) = answer.data.iter().find(|p| {
                p.message
                    .as_deref()
                    .is_some_and(|m| carries_link(m, &post.link))
            }) {
                return Ok(Some(Posted {
                    id: found.id.clone(),
                    url: Self::post_url(&found.id),
                }));
            }
            if answer.data.is_empty() {
                return Ok(None);
            }
            let Some(paging) = answer.paging else {
                return Ok(None);
            };
            // `next` missing = last page (cursors may still be there). We
            // send `after` ourselves rather than follow `next` verbatim: our
            // query must keep its appsecret_proof and fields.
            let Some(next) = paging.next else {
                return Ok(None);
            };
            let cursor = paging.cursors.and_then(|c| c.after).or_else(|| {
                Url::parse(&next).ok().and_then(|u| {
                    u.query_pairs()
                        .find(|(k, _)| k == "after")
                        .map(|(_, v)| v.into_owned())
                })
            });
            match cursor {
                Some(c) if after.as_deref() != Some(c.as_str()) => after = Some(c),
                _ => return Ok(None),
            }
        }
        tracing::warn!(
            account = %self.account.id,
            "facebook: reconciliation stopped after {MAX_PAGES} pages without a match"
        );
        Ok(None)
    }

    /// A post already gone (code 100, subcode 33: "does not exist") counts
    /// as deleted, so a delete repeated after a lost answer succeeds.
    async fn delete(&self, post_id: &str) -> Result<(), DeliveryError> {
        if !super::config::valid_id(post_id) {
            return Err(DeliveryError::Permanent {
                detail: format!("not a Graph post id: {post_id:?}"),
            });
        }
        let req = self
            .http
            .delete(self.endpoint(&[post_id])?)
            .query(&self.creds.params());
        let (status, buc, body) = self.exchange(Call::Delete, req).await?;
        if (200..300).contains(&status) {
            let answer: Success = self.parse(Call::Delete, &body)?;
            return if answer.success {
                Ok(())
            } else {
                Err(DeliveryError::Permanent {
                    detail: format!("Graph did not delete {post_id} (success: false)"),
                })
            };
        }
        if let Ok(ErrorEnvelope { error }) = serde_json::from_slice::<ErrorEnvelope>(&body) {
            if error.code == 100 && error.error_subcode == Some(33) {
                tracing::info!(account = %self.account.id, post_id, "facebook: post already gone");
                return Ok(());
            }
        }
        Err(self.failure(Call::Delete, status, buc.as_deref(), &body))
    }

    /// Long-lived Page tokens have no refresh grant (oauth.md §4): a token
    /// Graph refuses (error 190) can only be replaced by a staff member who
    /// logs in again. So the account is parked until then.
    async fn refresh_auth(&self) -> Result<(), DeliveryError> {
        Err(DeliveryError::Reauthorize {
            detail: "Facebook Page tokens cannot be refreshed: a Page admin must log in again \
                     and configure a new long-lived Page token"
                .into(),
        })
    }
}

/// Classify a non-2xx answer (see the module table). `buc` is the
/// `X-Business-Use-Case-Usage` header, if any.
pub(crate) fn classify(
    call: Call,
    status: u16,
    buc: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> DeliveryError {
    let acted_or = |detail: String| {
        if call.may_have_acted() {
            DeliveryError::Unknown { detail }
        } else {
            DeliveryError::Transient { detail }
        }
    };
    let Ok(ErrorEnvelope { error: e }) = serde_json::from_slice::<ErrorEnvelope>(body) else {
        // No Graph error: a proxy or an outage spoke. Only the status is left.
        let text: String = String::from_utf8_lossy(body).chars().take(200).collect();
        let detail = format!("HTTP {status}: {text}");
        return match status {
            429 => DeliveryError::RateLimited {
                until: now + DEFAULT_RATE_LIMIT_WAIT,
                detail,
            },
            408 | 500..=599 => acted_or(detail),
            _ => DeliveryError::Permanent { detail },
        };
    };
    let detail = describe(status, &e);
    match e.code {
        4 | 17 | 32 | 341 | 613 | 80000..=80014 => {
            let wait = buc
                .and_then(super::wire::regain_minutes)
                .filter(|m| *m > 0)
                .and_then(|m| i64::try_from(m).ok())
                .map_or(DEFAULT_RATE_LIMIT_WAIT, chrono::Duration::minutes);
            DeliveryError::RateLimited {
                until: now + wait,
                detail,
            }
        }
        190 | 102 => DeliveryError::Reauthorize { detail },
        506 => DeliveryError::Duplicate { detail },
        10 | 100 | 200..=299 | 368 => DeliveryError::Permanent { detail },
        _ if status >= 500 => acted_or(detail),
        _ if e.is_transient == Some(true) => DeliveryError::Transient { detail },
        1 | 2 => acted_or(detail),
        _ => DeliveryError::Permanent { detail },
    }
}

fn describe(status: u16, e: &GraphError) -> String {
    let mut d = format!("{} (HTTP {status}, code {}", e.message, e.code);
    if let Some(s) = e.error_subcode {
        d.push_str(&format!(", subcode {s}"));
    }
    if !e.kind.is_empty() {
        d.push_str(&format!(", type {}", e.kind));
    }
    if let Some(t) = &e.fbtrace_id {
        d.push_str(&format!(", fbtrace_id {t}"));
    }
    d.push(')');
    d
}

/// Whether `message` carries `link` as a whole URL (not a longer one that
/// starts with it: `/news/1` must not match `/news/12`).
fn carries_link(message: &str, link: &str) -> bool {
    if link.is_empty() {
        return false;
    }
    message.match_indices(link).any(|(i, _)| {
        message[i + link.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || "/-_~%?#&=+".contains(c)))
    })
}

/// The default Page message layout; an account's `template` replaces it.
/// The link is last: reconciliation looks for it.
pub const DEFAULT_TEMPLATE: &str = "{title}\n\n{summary}\n\n{hashtags}\n\n{link}";

/// The Page message from the account's template, at most 63,206 characters:
/// the summary is cut at a word boundary with "…" first, then the title; the
/// link and hashtags are never cut. Empty parts leave no blank lines behind.
fn compose(post: &Outgoing, account: &Account) -> Rendered {
    use crate::publish::text;
    let mut tags: Vec<String> = Vec::new();
    for t in post.hashtags.iter().chain(account.hashtags.iter()) {
        let t = t.trim().trim_start_matches('#').to_string();
        if !t.is_empty() && !tags.contains(&t) {
            tags.push(t);
        }
    }
    let template = account
        .template
        .as_deref()
        .and_then(|t| text::Template::parse(t).ok())
        .or_else(|| text::Template::parse(DEFAULT_TEMPLATE).ok());
    let composed = template
        .and_then(|tpl| {
            text::compose_facebook(
                &tpl,
                post.title.trim(),
                post.summary.trim(),
                &post.link,
                &tags,
            )
            .ok()
        })
        .unwrap_or_else(|| post.link.clone());
    // Collapse the blank lines an empty part leaves.
    let mut message = String::new();
    for part in composed.split("\n\n").filter(|p| !p.trim().is_empty()) {
        if !message.is_empty() {
            message.push_str("\n\n");
        }
        message.push_str(part);
    }
    Rendered {
        length: message.chars().count(),
        text: message,
        title: None,
        limit: text::template::FACEBOOK_MESSAGE_LIMIT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ItemId, Lang};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0)
            .single()
            .expect("time")
    }

    fn graph(status: u16, code: i64, extra: &str) -> (u16, Vec<u8>) {
        let body = format!(
            r#"{{"error":{{"message":"m","type":"OAuthException","code":{code}{extra},"fbtrace_id":"T"}}}}"#
        );
        (status, body.into_bytes())
    }

    fn class_of(call: Call, (status, body): (u16, Vec<u8>)) -> &'static str {
        classify(call, status, None, &body, now()).class()
    }

    #[test]
    fn the_error_table() {
        use Call::*;
        type Case = (Call, (u16, Vec<u8>), &'static str);
        let cases: Vec<Case> = vec![
            (
                Create,
                graph(403, 4, r#","is_transient":true"#),
                "rate_limited",
            ),
            (Create, graph(400, 17, ""), "rate_limited"),
            (Read, graph(400, 32, ""), "rate_limited"),
            (Create, graph(400, 613, ""), "rate_limited"),
            (Create, graph(400, 80001, ""), "rate_limited"),
            (Create, graph(400, 341, ""), "rate_limited"),
            (
                Create,
                graph(400, 190, r#","error_subcode":463"#),
                "reauthorize",
            ),
            (
                Read,
                graph(401, 190, r#","error_subcode":460"#),
                "reauthorize",
            ),
            (Create, graph(400, 102, ""), "reauthorize"),
            (Create, graph(400, 506, ""), "duplicate"),
            (Create, graph(400, 10, ""), "permanent"),
            (Create, graph(403, 200, ""), "permanent"),
            (Create, graph(400, 299, ""), "permanent"),
            (Create, graph(400, 100, ""), "permanent"),
            (Create, graph(400, 368, ""), "permanent"),
            (Create, graph(500, 2, r#","is_transient":true"#), "unknown"),
            (Read, graph(500, 2, r#","is_transient":true"#), "transient"),
            (Delete, graph(503, 1, ""), "transient"),
            (
                Create,
                graph(400, 9007, r#","is_transient":true"#),
                "transient",
            ),
            (Create, graph(400, 1, ""), "unknown"),
            (Read, graph(400, 2, ""), "transient"),
            (Create, graph(400, 9007, ""), "permanent"),
            // 190 wins over a 5xx status: dispatch on the code.
            (Create, graph(500, 190, ""), "reauthorize"),
            (
                Create,
                (502, b"<html>Bad gateway</html>".to_vec()),
                "unknown",
            ),
            (
                Read,
                (502, b"<html>Bad gateway</html>".to_vec()),
                "transient",
            ),
            (Create, (429, b"slow down".to_vec()), "rate_limited"),
            (Create, (404, b"not found".to_vec()), "permanent"),
        ];
        for (call, answer, want) in cases {
            let body = String::from_utf8_lossy(&answer.1).into_owned();
            assert_eq!(class_of(call, answer), want, "{call:?} {body}");
        }
    }

    #[test]
    fn http_403_code_4_waits_fifteen_minutes_without_an_estimate() {
        let (status, body) = graph(403, 4, r#","is_transient":true"#);
        match classify(Call::Create, status, None, &body, now()) {
            DeliveryError::RateLimited { until, detail } => {
                assert_eq!(until, now() + chrono::Duration::minutes(15));
                assert!(
                    detail.contains("code 4") && detail.contains("HTTP 403"),
                    "{detail}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_business_use_case_estimate_sets_the_reset() {
        let (status, body) = graph(400, 80001, "");
        let buc = r#"{"546349135390552":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":42}]}"#;
        match classify(Call::Read, status, Some(buc), &body, now()) {
            DeliveryError::RateLimited { until, .. } => {
                assert_eq!(until, now() + chrono::Duration::minutes(42));
            }
            other => panic!("{other:?}"),
        }
        // A zero estimate is no estimate.
        let zero = buc.replace("42", "0");
        match classify(Call::Read, status, Some(&zero), &body, now()) {
            DeliveryError::RateLimited { until, .. } => {
                assert_eq!(until, now() + chrono::Duration::minutes(15));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn details_carry_code_subcode_and_trace() {
        let (status, body) = graph(400, 190, r#","error_subcode":463"#);
        let d = classify(Call::Create, status, None, &body, now()).to_string();
        assert!(
            d.contains("code 190") && d.contains("subcode 463") && d.contains("fbtrace_id T"),
            "{d}"
        );
    }

    #[test]
    fn links_match_whole() {
        assert!(carries_link("t\n\nhttps://p.om/n/1", "https://p.om/n/1"));
        assert!(carries_link(
            "see https://p.om/n/1. more",
            "https://p.om/n/1"
        ));
        assert!(!carries_link("https://p.om/n/12", "https://p.om/n/1"));
        assert!(!carries_link("https://p.om/n/1/x", "https://p.om/n/1"));
        assert!(carries_link(
            "https://p.om/n/12 https://p.om/n/1",
            "https://p.om/n/1"
        ));
        assert!(!carries_link("anything", ""));
    }

    fn account() -> Account {
        Account {
            id: "fb-ar".into(),
            platform: Platform::Facebook,
            lang: Lang::Ar,
            base_url: None,
            template: None,
            hashtags: vec!["عمان".into()],
            delete_on_retract: true,
            enabled: true,
            settings: toml::Table::new(),
        }
    }

    fn outgoing(title: &str, summary: &str) -> Outgoing {
        Outgoing {
            job_id: crate::publish::JobId::new(),
            item_id: ItemId::new(),
            lang: Lang::Ar,
            title: title.into(),
            summary: summary.into(),
            link: "https://portal.example.om/ar/news/1".into(),
            hashtags: vec!["#خدمات".into(), "عمان".into()],
            image: None,
            video: None,
            since: now(),
        }
    }

    #[test]
    fn compose_lays_out_title_summary_tags_link() {
        let r = compose(&outgoing("خبر جديد", "نص الخبر"), &account());
        assert_eq!(
            r.text,
            "خبر جديد\n\nنص الخبر\n\n#خدمات #عمان\n\nhttps://portal.example.om/ar/news/1"
        );
        assert_eq!(r.length, r.text.chars().count());
        assert_eq!(r.limit, 63_206);
        let r = compose(&outgoing("Title", ""), &account());
        assert_eq!(
            r.text,
            "Title\n\n#خدمات #عمان\n\nhttps://portal.example.om/ar/news/1"
        );
    }

    #[test]
    fn compose_cuts_a_long_summary_at_a_word() {
        let summary = "كلمة ".repeat(20_000);
        let r = compose(&outgoing("عنوان", &summary), &account());
        assert!(r.length <= 63_206 && r.length > 63_000, "{}", r.length);
        assert!(r.text.ends_with("\n\nhttps://portal.example.om/ar/news/1"));
        let body = r.text.split("\n\n").nth(1).expect("summary");
        assert!(
            body.ends_with("كلمة…") || body.ends_with("…"),
            "{}",
            &body[body.len() - 30..]
        );
        assert!(!body.contains("كلم…"), "cut inside a word");
        assert!(r.text.starts_with("عنوان\n\n"));
    }
}
