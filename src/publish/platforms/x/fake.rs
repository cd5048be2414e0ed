//! [`FakeX`]: an in-process fake of the X API v2 on 127.0.0.1, speaking the
//! contract's wire formats (`x-api-v2.md`, `oauth.md` §1–2) for the tests and
//! `musharaka sandbox`.
//!
//! It implements `POST /2/tweets` (string ids, duplicate 403, too-long 403,
//! a per-user rate window), `DELETE /2/tweets/:id`, `GET /2/users/me`,
//! `GET /2/users/:id/tweets` (start_time, since_id, max_results 5–100,
//! newest first, pagination tokens, t.co-rewritten text with
//! `entities.urls[].expanded_url`), `POST /2/oauth2/token` with refresh
//! token rotation, Bearer and OAuth 1.0a verification, `x-rate-limit-*`
//! headers on every response, and the faults of a [`FaultPlan`].
//!
//! Not faked: app-only bearer tokens (403 Unsupported Authentication),
//! the authorization-code grant, replies, media, mentions and search.

use super::auth::{self, parse_oauth_header};
use super::wire::{
    CreateTweet, Data, Deleted, Entities, Meta, Problem, Timeline, TokenError, TokenResponse,
    Tweet, UrlEntity, User,
};
use crate::publish::fake::{FakePost, Fault, FaultPlan, Target, dropped_connection};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use base64::Engine;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The id of the fake's one user.
pub const USER_ID: &str = "2244994945";
const CLIENT_ID: &str = "ZmFrZS14LWNsaWVudC1pZA";
const FIRST_ID: u64 = 1_790_000_000_000_000_001;
const PAGE_TOKEN_PREFIX: &str = "7140dibdnow";
const DUPLICATE: &str = "You are not allowed to create a Tweet with duplicate content.";
const TOO_LONG: &str = "Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.";

/// A running fake X API. Stops when dropped (or with [`FakeX::shutdown`]).
#[derive(Debug)]
pub struct FakeX {
    inner: Arc<Inner>,
    base_url: url::Url,
    server: crate::publish::fake::Serving,
}

#[derive(Debug)]
struct Inner {
    faults: FaultPlan,
    client_secret: String,
    consumer_key: String,
    consumer_secret: String,
    token: String,
    token_secret: String,
    state: Mutex<St>,
}

#[derive(Debug)]
struct St {
    tweets: Vec<(FakePost, String)>,
    next_id: u64,
    accepted: u64,
    reject_duplicates: bool,
    post_limit: u32,
    post_window: Duration,
    /// Per user: window start and posts counted in it.
    windows: HashMap<String, (DateTime<Utc>, u32)>,
    refresh_tokens: HashSet<String>,
    access_tokens: HashMap<String, DateTime<Utc>>,
    token_lifetime: Duration,
    revoked: bool,
    refreshes: u64,
    nonces: HashSet<String>,
    issued: Vec<String>,
}

impl Inner {
    fn st(&self) -> std::sync::MutexGuard<'_, St> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn mint() -> String {
    hex::encode(rand::random::<[u8; 20]>())
}

impl FakeX {
    /// Start on 127.0.0.1 on a free port.
    pub async fn start() -> std::io::Result<FakeX> {
        let inner = Arc::new(Inner {
            faults: FaultPlan::default(),
            client_secret: mint(),
            consumer_key: mint(),
            consumer_secret: mint(),
            token: format!("{USER_ID}-{}", mint()),
            token_secret: mint(),
            state: Mutex::new(St {
                tweets: Vec::new(),
                next_id: FIRST_ID,
                accepted: 0,
                reject_duplicates: true,
                post_limit: 100,
                post_window: Duration::from_secs(15 * 60),
                windows: HashMap::new(),
                refresh_tokens: HashSet::new(),
                access_tokens: HashMap::new(),
                token_lifetime: Duration::from_secs(7200),
                revoked: false,
                refreshes: 0,
                nonces: HashSet::new(),
                issued: Vec::new(),
            }),
        });
        {
            let mut st = inner.st();
            let v = vec![
                inner.client_secret.clone(),
                inner.consumer_key.clone(),
                inner.consumer_secret.clone(),
                inner.token.clone(),
                inner.token_secret.clone(),
            ];
            st.issued.extend(v);
        }
        let app = Router::new()
            .route("/2/tweets", post(create))
            .route("/2/tweets/{id}", delete(remove))
            .route("/2/users/me", get(me))
            .route("/2/users/{id}/tweets", get(timeline))
            .route("/2/oauth2/token", post(token))
            .layer(axum::middleware::map_response(default_limits))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr: SocketAddr = listener.local_addr()?;
        let base_url = url::Url::parse(&format!("http://{addr}/"))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let server = crate::publish::fake::Serving::start(listener, app);
        Ok(FakeX {
            inner,
            base_url,
            server,
        })
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> url::Url {
        self.base_url.clone()
    }

    /// Faults to apply to the next requests.
    pub fn faults(&self) -> &FaultPlan {
        &self.inner.faults
    }

    /// Every post accepted, deleted ones included, oldest first.
    pub fn posts(&self) -> Vec<FakePost> {
        self.inner
            .st()
            .tweets
            .iter()
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Posts ever accepted.
    pub fn accepted(&self) -> u64 {
        self.inner.st().accepted
    }

    /// Refuse a repeated text by the same user with the duplicate 403
    /// (on by default, as X does).
    pub fn set_reject_duplicates(&self, on: bool) {
        self.inner.st().reject_duplicates = on;
    }

    /// Allow `n` posts per user per `window` (default 100 per 15 min).
    pub fn set_post_limit(&self, n: u32, window: Duration) {
        let mut st = self.inner.st();
        st.post_limit = n;
        st.post_window = window;
        st.windows.clear();
    }

    /// Lifetime of access tokens issued from now on (default 2 h).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.inner.st().token_lifetime = lifetime;
    }

    /// Successful refresh-token grants so far.
    pub fn token_refreshes(&self) -> u64 {
        self.inner.st().refreshes
    }

    /// Every secret value the fake issued or holds (client secret, OAuth
    /// 1.0a keys, refresh and access tokens), to assert none leaks.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.inner.st().issued.clone()
    }

    /// The account's user id.
    pub fn user_id(&self) -> &'static str {
        USER_ID
    }

    /// Write the secret files of an account into `secret_dir` and return
    /// its `settings` table (`auth` = `"oauth2"` or `"oauth1"`). For
    /// OAuth 2.0 each call issues a fresh initial refresh token, as when
    /// staff authorize the app again.
    pub fn settings(&self, secret_dir: &Path, auth: &str) -> toml::Table {
        let _ = std::fs::create_dir_all(secret_dir);
        let file =
            |name: &str, value: &str| crate::publish::fake::secret_file(secret_dir, name, value);
        let mut t = toml::Table::new();
        if auth == "oauth1" {
            t.insert("auth".into(), "oauth1".into());
            t.insert(
                "consumer_key".into(),
                file("x-consumer-key", &self.inner.consumer_key),
            );
            t.insert(
                "consumer_secret".into(),
                file("x-consumer-secret", &self.inner.consumer_secret),
            );
            t.insert("token".into(), file("x-token", &self.inner.token));
            t.insert(
                "token_secret".into(),
                file("x-token-secret", &self.inner.token_secret),
            );
            t.insert("user_id".into(), USER_ID.into());
        } else {
            let rt = mint();
            {
                let mut st = self.inner.st();
                st.refresh_tokens.insert(rt.clone());
                st.issued.push(rt.clone());
            }
            t.insert("auth".into(), "oauth2".into());
            t.insert("client_id".into(), CLIENT_ID.into());
            t.insert(
                "client_secret".into(),
                file("x-client-secret", &self.inner.client_secret),
            );
            t.insert("refresh_token".into(), file("x-refresh-token", &rt));
        }
        t
    }

    /// Stop serving and wait for the server task.
    pub async fn shutdown(mut self) {
        self.server.shutdown().await;
    }
}

// ---- responses ------------------------------------------------------------

fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    let mut r = (status, serde_json::to_string(body).unwrap_or_default()).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn problem(status: u16, title: &str, detail: &str, kind: &str) -> Response {
    json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &Problem {
            title: title.into(),
            detail: Some(detail.into()),
            kind: kind.into(),
            status: Some(status),
            errors: Vec::new(),
        },
    )
}

fn unauthorized() -> Response {
    problem(401, "Unauthorized", "Unauthorized", "about:blank")
}

fn invalid_request(param: &str, value: &str, message: String) -> Response {
    let body = serde_json::json!({
        "errors": [{"parameters": {param: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    });
    json(StatusCode::BAD_REQUEST, &body)
}

fn set_limits(r: &mut Response, limit: u32, remaining: u32, reset: DateTime<Utc>) {
    let h = r.headers_mut();
    for (k, v) in [
        ("x-rate-limit-limit", limit.to_string()),
        ("x-rate-limit-remaining", remaining.to_string()),
        ("x-rate-limit-reset", reset.timestamp().to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
}

/// Endpoints without a modelled window still send the headers.
async fn default_limits(mut r: Response) -> Response {
    if !r.headers().contains_key("x-rate-limit-limit") {
        set_limits(&mut r, 900, 899, Utc::now() + chrono::Duration::minutes(15));
    }
    r
}

fn rate_limited(reset: DateTime<Utc>, limit: u32) -> Response {
    let mut r = problem(429, "Too Many Requests", "Too Many Requests", "about:blank");
    set_limits(&mut r, limit, 0, reset);
    r
}

fn usage_capped() -> Response {
    let body = serde_json::json!({
        "title": "UsageCapExceeded",
        "detail": "Usage cap exceeded: Monthly product cap",
        "type": "https://api.twitter.com/2/problems/usage-capped",
        "period": "Monthly",
        "scope": "Product",
    });
    json(StatusCode::TOO_MANY_REQUESTS, &body)
}

// ---- faults and authentication ----------------------------------------------

/// Apply the next fault for `target`: `Err` is the response to give,
/// `Ok(true)` means "act, then drop the connection".
async fn apply_fault(inner: &Inner, target: Target, token_endpoint: bool) -> Result<bool, Fault> {
    let mut fault = inner.faults.take(target);
    if let Some(Fault::Latency(d)) = fault {
        tokio::time::sleep(d).await;
        fault = None;
    }
    match fault {
        None | Some(Fault::InterruptUpload(_)) | Some(Fault::Latency(_)) => Ok(false),
        Some(Fault::DropAfterAct) => Ok(true),
        Some(Fault::RevokeRefresh) => {
            inner.st().revoked = true;
            Ok(false)
        }
        Some(Fault::ExpireToken) | Some(Fault::QuotaExhausted) if token_endpoint => Ok(false),
        Some(f) => Err(f),
    }
}

fn fault_response(inner: &Inner, f: Fault, headers: &HeaderMap) -> Response {
    match f {
        Fault::RateLimit(d) => {
            let reset = Utc::now() + chrono::Duration::from_std(d).unwrap_or_default();
            // Round up: the client must not come back before the reset.
            let reset = DateTime::from_timestamp(reset.timestamp() + 1, 0).unwrap_or(reset);
            rate_limited(reset, 100)
        }
        Fault::ServerError(s) => problem(
            s,
            "Service Unavailable",
            "Service Unavailable",
            "about:blank",
        ),
        Fault::QuotaExhausted => usage_capped(),
        Fault::ExpireToken => {
            // The presented token is dead from now on.
            if let Some(t) = bearer(headers) {
                inner.st().access_tokens.remove(&t);
            }
            unauthorized()
        }
        _ => problem(500, "Internal Server Error", "fake", "about:blank"),
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let h = headers.get("authorization")?.to_str().ok()?;
    h.strip_prefix("Bearer ").map(str::to_string)
}

/// Whether the request carries a valid Bearer token or OAuth 1.0a signature.
fn authenticate(inner: &Inner, method: &Method, uri: &Uri, headers: &HeaderMap) -> bool {
    if let Some(t) = bearer(headers) {
        let st = inner.st();
        return match st.access_tokens.get(&t) {
            Some(exp) => *exp > Utc::now(),
            None => false,
        };
    }
    let Some(h) = headers.get("authorization").and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Some(params) = parse_oauth_header(h) else {
        return false;
    };
    let get = |k: &str| {
        params
            .iter()
            .find(|(pk, _)| pk == k)
            .map(|(_, v)| v.as_str())
    };
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let ts_ok = get("oauth_timestamp")
        .and_then(|t| t.parse::<i64>().ok())
        .is_some_and(|t| (Utc::now().timestamp() - t).abs() <= 300);
    if get("oauth_consumer_key") != Some(inner.consumer_key.as_str())
        || get("oauth_token") != Some(inner.token.as_str())
        || get("oauth_signature_method") != Some("HMAC-SHA1")
        || get("oauth_version").is_some_and(|v| v != "1.0")
        || !ts_ok
    {
        return false;
    }
    let mut signed: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    signed.extend(
        params
            .iter()
            .filter(|(k, _)| k != "oauth_signature")
            .cloned(),
    );
    let base = auth::signature_base_string(
        method.as_str(),
        &format!("http://{}{}", host.to_ascii_lowercase(), uri.path()),
        &signed,
    );
    let expected = auth::hmac_sha1_signature(&base, &inner.consumer_secret, &inner.token_secret);
    if get("oauth_signature") != Some(expected.as_str()) {
        return false;
    }
    let nonce = get("oauth_nonce").unwrap_or_default().to_string();
    if nonce.is_empty() || !inner.st().nonces.insert(nonce) {
        return false;
    }
    true
}

/// Fault, then authentication. `Ok(drop)` to go on.
async fn prelude(
    inner: &Inner,
    target: Target,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<bool, Response> {
    let drop = match apply_fault(inner, target, false).await {
        Ok(d) => d,
        Err(f) => return Err(fault_response(inner, f, headers)),
    };
    if !authenticate(inner, method, uri, headers) {
        return Err(unauthorized());
    }
    Ok(drop)
}

// ---- text ---------------------------------------------------------------------

/// Simplified v3 weight (URLs 23, light ranges 1, others 2).
fn weight(text: &str) -> usize {
    text.split_inclusive(char::is_whitespace)
        .map(|w| {
            let t = w.trim_end();
            let tail = &w[t.len()..];
            let head = if is_url(t) {
                23
            } else {
                t.chars().map(char_weight).sum()
            };
            head + tail.chars().map(char_weight).sum::<usize>()
        })
        .sum()
}

fn char_weight(c: char) -> usize {
    match c as u32 {
        0x0000..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
        _ => 2,
    }
}

fn is_url(w: &str) -> bool {
    w.starts_with("http://") || w.starts_with("https://")
}

/// The text as X shows it (links as t.co) and its URL entities.
fn shorten(text: &str) -> (String, Vec<UrlEntity>) {
    let mut out = String::new();
    let mut urls = Vec::new();
    let mut pos = 0;
    for w in text.split_inclusive(char::is_whitespace) {
        let t = w.trim_end();
        if is_url(t) {
            let tco = format!("https://t.co/{}", &auth::fingerprint(t)[..10]);
            let n = tco.chars().count();
            urls.push(UrlEntity {
                start: pos,
                end: pos + n,
                url: tco.clone(),
                expanded_url: Some(t.to_string()),
                display_url: Some(
                    t.split("://")
                        .nth(1)
                        .unwrap_or(t)
                        .chars()
                        .take(25)
                        .collect(),
                ),
            });
            out.push_str(&tco);
            out.push_str(&w[t.len()..]);
            pos += n + w[t.len()..].chars().count();
        } else {
            out.push_str(w);
            pos += w.chars().count();
        }
    }
    (out, urls)
}

fn to_tweet(p: &FakePost, fields: &[&str]) -> Tweet {
    let (text, urls) = shorten(&p.text);
    Tweet {
        id: p.id.clone(),
        text,
        edit_history_tweet_ids: vec![p.id.clone()],
        created_at: fields
            .contains(&"created_at")
            .then(|| p.created_at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
        entities: (fields.contains(&"entities") && !urls.is_empty()).then_some(Entities { urls }),
    }
}

// ---- handlers -------------------------------------------------------------------

async fn create(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let drop = match prelude(&inner, Target::Publish, &method, &uri, &headers).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let Ok(req) = serde_json::from_slice::<CreateTweet>(&body) else {
        return invalid_request("text", "", "The `text` field is required".into());
    };
    let now = Utc::now();
    let mut st = inner.st();
    let (limit, window) = (st.post_limit, st.post_window);
    let window = chrono::Duration::from_std(window).unwrap_or_default();
    let entry = st.windows.entry(USER_ID.to_string()).or_insert((now, 0));
    if entry.0 + window <= now {
        *entry = (now, 0);
    }
    let reset = entry.0 + window;
    if entry.1 >= limit {
        return rate_limited(reset, limit);
    }
    entry.1 += 1;
    let remaining = limit - entry.1;
    let with_limits = |mut r: Response| {
        set_limits(&mut r, limit, remaining, reset);
        r
    };
    if req.text.trim().is_empty() {
        return with_limits(invalid_request(
            "text",
            "",
            "The `text` field must not be empty".into(),
        ));
    }
    if weight(&req.text) > 280 {
        return with_limits(problem(403, "Forbidden", TOO_LONG, "about:blank"));
    }
    if st.reject_duplicates
        && st
            .tweets
            .iter()
            .any(|(p, a)| a == USER_ID && !p.deleted && p.text == req.text)
    {
        return with_limits(problem(403, "Forbidden", DUPLICATE, "about:blank"));
    }
    let id = st.next_id.to_string();
    st.next_id += 1;
    st.accepted += 1;
    let post = FakePost {
        id: id.clone(),
        text: req.text,
        title: None,
        link: None,
        deleted: false,
        created_at: now,
    };
    let tweet = to_tweet(&post, &[]);
    st.tweets.push((post, USER_ID.to_string()));
    drop_lock(st);
    if drop {
        return dropped_connection();
    }
    with_limits(json(StatusCode::CREATED, &Data { data: tweet }))
}

fn drop_lock<T>(_guard: T) {}

async fn remove(
    State(inner): State<Arc<Inner>>,
    UrlPath(id): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let drop = match prelude(&inner, Target::Delete, &method, &uri, &headers).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let mut st = inner.st();
    let Some((p, _)) = st
        .tweets
        .iter_mut()
        .find(|(p, a)| p.id == id && a == USER_ID && !p.deleted)
    else {
        return problem(
            404,
            "Not Found Error",
            &format!("Could not find tweet with id: [{id}]."),
            "https://api.twitter.com/2/problems/resource-not-found",
        );
    };
    p.deleted = true;
    drop_lock(st);
    if drop {
        return dropped_connection();
    }
    json(
        StatusCode::OK,
        &Data {
            data: Deleted { deleted: true },
        },
    )
}

async fn me(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    match prelude(&inner, Target::Lookup, &method, &uri, &headers).await {
        Ok(true) => dropped_connection(),
        Ok(false) => json(
            StatusCode::OK,
            &Data {
                data: User {
                    id: USER_ID.into(),
                    name: "بوابة الخدمات".into(),
                    username: "portal".into(),
                },
            },
        ),
        Err(r) => r,
    }
}

async fn timeline(
    State(inner): State<Arc<Inner>>,
    UrlPath(user): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let drop = match prelude(&inner, Target::Lookup, &method, &uri, &headers).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let q: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let max = match q.get("max_results") {
        None => 10,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (5..=100).contains(&n) => n,
            _ => {
                return invalid_request(
                    "max_results",
                    v,
                    format!(
                        "The `max_results` query parameter value [{v}] is not between 5 and 100"
                    ),
                );
            }
        },
    };
    let start = match q.get("start_time") {
        None => None,
        Some(v) => match DateTime::parse_from_rfc3339(v) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => {
                return invalid_request(
                    "start_time",
                    v,
                    format!(
                        "Invalid 'start_time':'{v}'. 'start_time' must be a valid RFC 3339 time"
                    ),
                );
            }
        },
    };
    let since_id = q.get("since_id").and_then(|v| v.parse::<u64>().ok());
    let offset = match q.get("pagination_token") {
        None => 0,
        Some(v) => match v
            .strip_prefix(PAGE_TOKEN_PREFIX)
            .and_then(|h| usize::from_str_radix(h, 16).ok())
        {
            Some(o) => o,
            None => {
                return invalid_request(
                    "pagination_token",
                    v,
                    format!("The `pagination_token` query parameter value [{v}] is invalid"),
                );
            }
        },
    };
    let fields: Vec<String> = q
        .get("tweet.fields")
        .map(|f| f.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let st = inner.st();
    let all: Vec<&FakePost> = st
        .tweets
        .iter()
        .rev()
        .filter(|(p, a)| *a == user && !p.deleted)
        .filter(|(p, _)| start.is_none_or(|s| p.created_at >= s))
        .filter(|(p, _)| since_id.is_none_or(|s| p.id.parse::<u64>().is_ok_and(|id| id > s)))
        .map(|(p, _)| p)
        .collect();
    let page: Vec<Tweet> = all
        .iter()
        .skip(offset)
        .take(max)
        .map(|p| to_tweet(p, &fields))
        .collect();
    let next = offset + page.len();
    let body = Timeline {
        meta: Meta {
            result_count: page.len() as u32,
            newest_id: page.first().map(|t| t.id.clone()),
            oldest_id: page.last().map(|t| t.id.clone()),
            next_token: (next < all.len()).then(|| format!("{PAGE_TOKEN_PREFIX}{next:x}")),
        },
        data: (!page.is_empty()).then_some(page),
    };
    drop_lock(st);
    if drop {
        return dropped_connection();
    }
    json(StatusCode::OK, &body)
}

fn token_error(status: u16, error: &str, description: &str) -> Response {
    json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &TokenError {
            error: error.into(),
            error_description: description.into(),
        },
    )
}

async fn token(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let drop = match apply_fault(&inner, Target::Token, true).await {
        Ok(d) => d,
        Err(f) => return fault_response(&inner, f, &headers),
    };
    let form_encoded = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return token_error(
            400,
            "invalid_request",
            "Missing required parameter [grant_type].",
        );
    }
    let basic_ok = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|d| d == format!("{CLIENT_ID}:{}", inner.client_secret).as_bytes());
    if !basic_ok {
        return token_error(
            401,
            "unauthorized_client",
            "Missing valid authorization header",
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    match form.get("grant_type").map(String::as_str) {
        Some("refresh_token") => {}
        Some("authorization_code") => {
            return token_error(
                400,
                "invalid_request",
                "Value passed for the authorization code was invalid.",
            );
        }
        _ => {
            return token_error(
                400,
                "invalid_request",
                "Missing required parameter [grant_type].",
            );
        }
    }
    let presented = form.get("refresh_token").cloned().unwrap_or_default();
    let mut st = inner.st();
    if st.revoked || !st.refresh_tokens.remove(&presented) {
        return token_error(
            400,
            "invalid_request",
            "Value passed for the token was invalid.",
        );
    }
    let (rt, at) = (mint(), mint());
    let lifetime = st.token_lifetime;
    st.refresh_tokens.insert(rt.clone());
    st.access_tokens.insert(
        at.clone(),
        Utc::now() + chrono::Duration::from_std(lifetime).unwrap_or_default(),
    );
    st.issued.push(rt.clone());
    st.issued.push(at.clone());
    st.refreshes += 1;
    drop_lock(st);
    if drop {
        return dropped_connection();
    }
    json(
        StatusCode::OK,
        &TokenResponse {
            token_type: "bearer".into(),
            expires_in: Some(lifetime.as_secs()),
            access_token: at,
            scope: "tweet.write users.read tweet.read offline.access".into(),
            refresh_token: Some(rt),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_rewrites_links_with_entities() {
        let (text, urls) = shorten("خبر\nhttps://portal.gov.example/n/1 #وسم");
        assert!(text.starts_with("خبر\nhttps://t.co/"), "{text}");
        assert_eq!(urls.len(), 1);
        assert_eq!(
            urls[0].expanded_url.as_deref(),
            Some("https://portal.gov.example/n/1")
        );
        let chars: Vec<char> = text.chars().collect();
        let s: String = chars[urls[0].start..urls[0].end].iter().collect();
        assert_eq!(s, urls[0].url);
    }

    #[test]
    fn weight_rule() {
        assert_eq!(weight("abc https://example.com/x"), 4 + 23);
        assert_eq!(weight(&"ب".repeat(280)), 280);
        assert_eq!(weight(&"中".repeat(141)), 282);
    }
}
