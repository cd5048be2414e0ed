//! [`FakeFacebook`]: an in-process Graph API fake on 127.0.0.1 for the tests
//! and `musharaka sandbox`, speaking `shared/contracts/facebook-graph.md`:
//!
//! - `POST /{page}/feed` (`message`, `link`) → `{"id"}`; a repeated message
//!   → HTTP 400 code 506 (switchable).
//! - `POST /{page}/photos` (`url`, `caption` or `message`) → `{"id","post_id"}`.
//! - `GET /{page}/published_posts` (and `/{page}/feed`): `since`, `limit`,
//!   `after`, `fields`; newest first; `paging.cursors` + `next` (absent on the
//!   last page); `+0000` timestamps.
//! - `DELETE /{post}` → `{"success":true}`; unknown or deleted → code 100/33.
//! - `GET /debug_token` (valid and invalid shapes of oauth.md §4).
//!
//! Paths may carry any `/vNN.N/` prefix or none. The token is accepted as
//! `access_token` (query, form or JSON body) or `Authorization: Bearer`;
//! `appsecret_proof` is checked when required. Responses carry
//! `X-App-Usage` and `X-Business-Use-Case-Usage` from the second call on.
//!
//! Faults ([`FaultPlan`]): `RateLimit(d)` → code 80001 with the BUC header's
//! `estimated_time_to_regain_access` = `d` in whole minutes (rounded up), or
//! code 4 (HTTP 403, `is_transient`) per [`RateLimitKind`]; `ServerError(s)`
//! → status `s` without acting; `Latency(d)` → wait, then handle;
//! `DropAfterAct` → act, then cut the connection; `ExpireToken` → 190/463
//! for that call; `RevokeRefresh` → 190/460 on every call from then on (the
//! session was invalidated); `QuotaExhausted` → code 32 (Page request
//! limit; Graph has no daily quota); `InterruptUpload` → cut the connection
//! without acting (Graph photo posts take a URL, not an upload).

use super::auth::appsecret_proof;
use super::config::valid_version;
use super::wire::TIME_FORMAT;
use crate::publish::fake::{FakePost, Fault, FaultPlan, Target, dropped_connection};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which rate-limit answer a `Fault::RateLimit` produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitKind {
    /// Code 4, HTTP 403, `is_transient: true`, an `X-App-Usage` header at
    /// 100 % and no time estimate (the default answer of an app limit).
    App,
    /// Code 80001, HTTP 400, an `X-Business-Use-Case-Usage` header whose
    /// `estimated_time_to_regain_access` is the fault's duration in minutes.
    BusinessUseCase,
}

/// The longest message Graph takes (widely cited).
const MESSAGE_LIMIT: usize = 63_206;

struct Shared {
    page_id: String,
    page_token: String,
    app_id: String,
    app_secret: String,
    base_url: String,
    faults: FaultPlan,
    posts: Mutex<Vec<FakePost>>,
    accepted: AtomicU64,
    calls: AtomicU64,
    next_id: AtomicU64,
    reject_duplicates: AtomicBool,
    require_proof: AtomicBool,
    revoked: AtomicBool,
    rate_limit_kind: Mutex<RateLimitKind>,
    page_cap: AtomicUsize,
}

impl Shared {
    fn posts(&self) -> std::sync::MutexGuard<'_, Vec<FakePost>> {
        self.posts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A Graph API fake for one Page, listening on 127.0.0.1.
pub struct FakeFacebook {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: crate::publish::fake::Serving,
}

impl std::fmt::Debug for FakeFacebook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeFacebook")
            .field("addr", &self.addr)
            .field("page_id", &self.shared.page_id)
            .finish_non_exhaustive()
    }
}

impl FakeFacebook {
    /// Start on 127.0.0.1 (a free port) with a fresh Page, Page token and
    /// app secret.
    pub async fn start() -> std::io::Result<FakeFacebook> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let r: [u8; 16] = rand::random();
        let s: [u8; 16] = rand::random();
        let shared = Arc::new(Shared {
            page_id: "546349135390552".into(),
            page_token: format!("EAAB{}", hex::encode(r)),
            app_id: "1234567890123".into(),
            app_secret: hex::encode(s),
            base_url: format!("http://{addr}"),
            faults: FaultPlan::default(),
            posts: Mutex::new(Vec::new()),
            accepted: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            next_id: AtomicU64::new(1_116_689_038_356_556),
            reject_duplicates: AtomicBool::new(true),
            require_proof: AtomicBool::new(false),
            revoked: AtomicBool::new(false),
            rate_limit_kind: Mutex::new(RateLimitKind::BusinessUseCase),
            page_cap: AtomicUsize::new(100),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let server = crate::publish::fake::Serving::start(listener, app);
        Ok(FakeFacebook {
            shared,
            addr,
            server,
        })
    }

    /// `http://127.0.0.1:{port}` (no version: the client adds its own).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// Faults to inject into coming requests.
    pub fn faults(&self) -> &FaultPlan {
        &self.shared.faults
    }

    /// Every post accepted, in order (deleted ones flagged).
    pub fn posts(&self) -> Vec<FakePost> {
        self.shared.posts().clone()
    }

    /// How many posts were accepted (created), deleted ones included.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Refuse a message equal to a live post's with code 506 (default on).
    pub fn set_reject_duplicates(&self, on: bool) {
        self.shared.reject_duplicates.store(on, Ordering::SeqCst);
    }

    /// Require `appsecret_proof` on every call ("Require App Secret").
    pub fn set_require_appsecret_proof(&self, on: bool) {
        self.shared.require_proof.store(on, Ordering::SeqCst);
    }

    /// What a `Fault::RateLimit` answers (default: BusinessUseCase).
    pub fn set_rate_limit_kind(&self, kind: RateLimitKind) {
        *self
            .shared
            .rate_limit_kind
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = kind;
    }

    /// Serve at most `n` posts per page (Graph's own cap is 100), to
    /// exercise cursor paging with few posts.
    pub fn set_page_size_cap(&self, n: usize) {
        self.shared.page_cap.store(n.max(1), Ordering::SeqCst);
    }

    /// The Page id.
    pub fn page_id(&self) -> &str {
        &self.shared.page_id
    }

    /// The Page token the fake accepts (for tests that look for leaks).
    pub fn page_token(&self) -> &str {
        &self.shared.page_token
    }

    /// The app secret (for tests that look for leaks).
    pub fn app_secret(&self) -> &str {
        &self.shared.app_secret
    }

    /// Write the Page token and app secret into `secret_dir` and return an
    /// account `settings` table referring to them (`{ file = … }`), with
    /// `page_id`, `app_id` and `api_version = "v21.0"`.
    ///
    /// Panics when the files cannot be written (test and sandbox set-up).
    pub fn settings(&self, secret_dir: &Path) -> toml::Table {
        let write =
            |name: &str, value: &str| crate::publish::fake::secret_file(secret_dir, name, value);
        let mut t = toml::Table::new();
        t.insert("page_id".into(), self.shared.page_id.clone().into());
        t.insert(
            "page_token".into(),
            write("fb-page-token", &self.shared.page_token),
        );
        t.insert(
            "app_secret".into(),
            write("fb-app-secret", &self.shared.app_secret),
        );
        t.insert("app_id".into(), self.shared.app_id.clone().into());
        t.insert("api_version".into(), "v21.0".into());
        t
    }

    /// Stop serving and wait for the server task (at most 5 s).
    pub async fn shutdown(mut self) {
        self.server.shutdown().await;
    }
}

/// A request, its parameters merged (body over query).
struct Req {
    method: Method,
    segments: Vec<String>,
    version: String,
    params: HashMap<String, String>,
    bearer: Option<String>,
}

impl Req {
    fn param(&self, k: &str) -> Option<&str> {
        self.params.get(k).map(String::as_str)
    }
}

fn parse_request(method: Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Req {
    let mut segments: Vec<String> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let version = match segments.first() {
        Some(v) if valid_version(v) => segments.remove(0),
        _ => "v21.0".to_string(),
    };
    let mut params: HashMap<String, String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
            for (k, v) in map {
                let v = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                params.insert(k, v);
            }
        }
    } else if !body.is_empty() {
        params.extend(url::form_urlencoded::parse(body).into_owned());
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    Req {
        method,
        segments,
        version,
        params,
        bearer,
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Feed,
    Photos,
    Posts,
    Delete,
    DebugToken,
}

fn route(req: &Req, page_id: &str) -> Result<Route, Box<Response>> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let r = match (&req.method, segs.as_slice()) {
        (&Method::GET, ["debug_token"]) => Route::DebugToken,
        (&Method::POST, [_, "feed"]) => Route::Feed,
        (&Method::POST, [_, "photos"]) => Route::Photos,
        (&Method::GET, [_, "published_posts" | "feed"]) => Route::Posts,
        (&Method::DELETE, [_]) => Route::Delete,
        _ => {
            return Err(Box::new(unsupported(
                req,
                segs.first().copied().unwrap_or(""),
            )));
        }
    };
    if matches!(r, Route::Feed | Route::Photos | Route::Posts) && segs[0] != page_id {
        return Err(Box::new(unsupported(req, segs[0])));
    }
    Ok(r)
}

fn unsupported(req: &Req, id: &str) -> Response {
    graph_error(
        StatusCode::BAD_REQUEST,
        100,
        Some(33),
        "GraphMethodException",
        &format!(
            "Unsupported {} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
            req.method.as_str().to_lowercase()
        ),
        None,
    )
}

fn graph_error(
    status: StatusCode,
    code: i64,
    subcode: Option<i64>,
    kind: &str,
    message: &str,
    transient: Option<bool>,
) -> Response {
    let mut e = json!({
        "message": message,
        "type": kind,
        "code": code,
        "fbtrace_id": format!("Fake{}", hex::encode(rand::random::<[u8; 4]>())),
    });
    if let Some(s) = subcode {
        e["error_subcode"] = json!(s);
    }
    if let Some(t) = transient {
        e["is_transient"] = json!(t);
    }
    json_response(status, &json!({ "error": e }))
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=UTF-8")
        .body(Body::from(v.to_string()))
        .unwrap_or_default()
}

fn with_header(mut r: Response, name: &'static str, value: String) -> Response {
    if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
        r.headers_mut().insert(name, v);
    }
    r
}

fn target(r: Route) -> Target {
    match r {
        Route::Feed | Route::Photos => Target::Publish,
        Route::Posts => Target::Lookup,
        Route::Delete => Target::Delete,
        Route::DebugToken => Target::Token,
    }
}

async fn handle(
    State(st): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let calls = st.calls.fetch_add(1, Ordering::SeqCst) + 1;
    let req = parse_request(method, &uri, &headers, &body);
    let mut r = answer(&st, &req).await;
    r = with_header(r, "facebook-api-version", req.version.clone());
    if calls >= 2 && !r.headers().contains_key("x-app-usage") {
        let pct = calls.min(100);
        r = with_header(
            r,
            "x-app-usage",
            json!({"call_count": pct, "total_cputime": pct / 2, "total_time": pct / 2}).to_string(),
        );
    }
    if calls >= 2 && !r.headers().contains_key("x-business-use-case-usage") {
        let pct = calls.min(100);
        r = with_header(
            r,
            "x-business-use-case-usage",
            json!({ st.page_id.clone(): [{"type": "pages", "call_count": pct,
                "total_cputime": pct / 2, "total_time": pct / 2,
                "estimated_time_to_regain_access": 0}] })
            .to_string(),
        );
    }
    r
}

async fn answer(st: &Shared, req: &Req) -> Response {
    let route = match route(req, &st.page_id) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let mut drop_after_act = false;
    if let Some(fault) = st.faults.take(target(route)) {
        match fault {
            Fault::Latency(d) => tokio::time::sleep(d).await,
            Fault::RateLimit(d) => return rate_limited(st, d),
            Fault::ServerError(s) => {
                let status = StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return graph_error(
                    status,
                    2,
                    None,
                    "OAuthException",
                    "An unexpected error has occurred. Please retry your request later.",
                    Some(true),
                );
            }
            Fault::DropAfterAct => drop_after_act = true,
            Fault::ExpireToken => {
                return token_error(
                    463,
                    "Error validating access token: Session has expired on Friday, 01-May-26 01:00:00 PDT. The current time is Friday, 01-May-26 02:00:00 PDT.",
                );
            }
            Fault::RevokeRefresh => st.revoked.store(true, Ordering::SeqCst),
            Fault::QuotaExhausted => {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    32,
                    None,
                    "OAuthException",
                    "(#32) Page request limit reached",
                    Some(true),
                );
            }
            Fault::InterruptUpload(_) => return dropped_connection(),
        }
    }
    if let Err(resp) = authenticate(st, req, route) {
        return *resp;
    }
    let resp = match route {
        Route::Feed => create(st, req, false),
        Route::Photos => create(st, req, true),
        Route::Posts => list(st, req),
        Route::Delete => delete(st, req),
        Route::DebugToken => debug_token(st, req),
    };
    if drop_after_act {
        return dropped_connection();
    }
    resp
}

fn rate_limited(st: &Shared, d: Duration) -> Response {
    let kind = *st.rate_limit_kind.lock().unwrap_or_else(|p| p.into_inner());
    match kind {
        RateLimitKind::App => with_header(
            graph_error(
                StatusCode::FORBIDDEN,
                4,
                None,
                "OAuthException",
                "(#4) Application request limit reached",
                Some(true),
            ),
            "x-app-usage",
            json!({"call_count": 100, "total_cputime": 40, "total_time": 60}).to_string(),
        ),
        RateLimitKind::BusinessUseCase => {
            let minutes = d.as_secs().div_ceil(60);
            with_header(
                graph_error(
                    StatusCode::BAD_REQUEST,
                    80001,
                    None,
                    "OAuthException",
                    "(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
                    Some(true),
                ),
                "x-business-use-case-usage",
                json!({ st.page_id.clone(): [{"type": "pages", "call_count": 100,
                    "total_cputime": 30, "total_time": 40,
                    "estimated_time_to_regain_access": minutes}] })
                .to_string(),
            )
        }
    }
}

fn token_error(subcode: i64, message: &str) -> Response {
    graph_error(
        StatusCode::BAD_REQUEST,
        190,
        Some(subcode),
        "OAuthException",
        message,
        None,
    )
}

const REVOKED: &str = "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.";

/// The token (and proof) of a call; `Err` is the answer to send instead.
fn authenticate(st: &Shared, req: &Req, route: Route) -> Result<(), Box<Response>> {
    let Some(token) = req
        .param("access_token")
        .map(str::to_owned)
        .or(req.bearer.clone())
    else {
        return Err(Box::new(graph_error(
            StatusCode::BAD_REQUEST,
            2500,
            None,
            "OAuthException",
            "An active access token must be used to query information about the current user.",
            None,
        )));
    };
    let app_token = format!("{}|{}", st.app_id, st.app_secret);
    let known = token == st.page_token || (route == Route::DebugToken && token == app_token);
    if !known {
        return Err(Box::new(graph_error(
            StatusCode::BAD_REQUEST,
            190,
            None,
            "OAuthException",
            "Invalid OAuth access token - Cannot parse access token",
            None,
        )));
    }
    if token == st.page_token && st.revoked.load(Ordering::SeqCst) {
        return Err(Box::new(token_error(460, REVOKED)));
    }
    if st.require_proof.load(Ordering::SeqCst) {
        match req.param("appsecret_proof") {
            None => {
                return Err(Box::new(graph_error(
                    StatusCode::BAD_REQUEST,
                    100,
                    None,
                    "GraphMethodException",
                    "API calls from the server require an appsecret_proof argument",
                    None,
                )));
            }
            Some(p) if p != appsecret_proof(&st.app_secret, &token) => {
                return Err(Box::new(graph_error(
                    StatusCode::BAD_REQUEST,
                    100,
                    None,
                    "GraphMethodException",
                    "Invalid appsecret_proof provided in the API argument",
                    None,
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn create(st: &Shared, req: &Req, photo: bool) -> Response {
    let text = if photo {
        req.param("caption").or(req.param("message"))
    } else {
        req.param("message")
    }
    .unwrap_or("")
    .to_string();
    let link = req
        .param("link")
        .filter(|l| !l.is_empty())
        .map(str::to_owned);
    if photo && req.param("url").is_none_or(str::is_empty) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            324,
            None,
            "OAuthException",
            "(#324) Requires upload file",
            None,
        );
    }
    if !photo && text.is_empty() && link.is_none() {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "OAuthException",
            "(#100) Missing message or attachment",
            None,
        );
    }
    if text.chars().count() > MESSAGE_LIMIT {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "OAuthException",
            "(#100) Param message must be at most 63206 characters long",
            None,
        );
    }
    let mut posts = st.posts();
    if !photo
        && st.reject_duplicates.load(Ordering::SeqCst)
        && !text.is_empty()
        && posts.iter().any(|p| !p.deleted && p.text == text)
    {
        return graph_error(
            StatusCode::BAD_REQUEST,
            506,
            None,
            "OAuthException",
            "(#506) Duplicate status message",
            None,
        );
    }
    let n = st.next_id.fetch_add(2, Ordering::SeqCst);
    let post_id = format!("{}_{}", st.page_id, n + 1);
    posts.push(FakePost {
        id: post_id.clone(),
        text,
        title: None,
        link: if photo { None } else { link },
        deleted: false,
        created_at: Utc::now(),
    });
    drop(posts);
    st.accepted.fetch_add(1, Ordering::SeqCst);
    if photo {
        json_response(
            StatusCode::OK,
            &json!({"id": n.to_string(), "post_id": post_id}),
        )
    } else {
        json_response(StatusCode::OK, &json!({ "id": post_id }))
    }
}

fn cursor(offset: usize) -> String {
    hex::encode(format!("fake-offset:{offset}"))
}

fn offset_of(cursor: &str) -> Option<usize> {
    let raw = hex::decode(cursor).ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("fake-offset:")?
        .parse()
        .ok()
}

/// `since` as Graph takes it: Unix seconds, or an ISO 8601 / RFC 3339 time.
fn parse_since(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(n) = s.parse::<i64>() {
        return DateTime::from_timestamp(n, 0);
    }
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, TIME_FORMAT))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn list(st: &Shared, req: &Req) -> Response {
    let since = match req.param("since") {
        None => None,
        Some(s) => match parse_since(s) {
            Some(t) => Some(t),
            None => {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    100,
                    None,
                    "OAuthException",
                    "(#100) The since parameter is not a valid time",
                    None,
                );
            }
        },
    };
    let cap = st.page_cap.load(Ordering::SeqCst).min(100);
    let limit = req
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, cap);
    let offset = match req.param("after") {
        None => 0,
        Some(c) => match offset_of(c) {
            Some(o) => o,
            None => {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    100,
                    None,
                    "OAuthException",
                    "(#100) Invalid cursor",
                    None,
                );
            }
        },
    };
    let fields: Vec<String> = req
        .param("fields")
        .unwrap_or("id,message,created_time")
        .split(',')
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    let mut live: Vec<FakePost> = st
        .posts()
        .iter()
        .filter(|p| !p.deleted && since.is_none_or(|s| p.created_at >= s))
        .cloned()
        .collect();
    // Newest first; among equal times, the later post first.
    live.reverse();
    live.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    let total = live.len();
    let page: Vec<Value> = live
        .iter()
        .skip(offset)
        .take(limit)
        .map(|p| {
            let mut o = serde_json::Map::new();
            o.insert("id".into(), json!(p.id));
            for f in &fields {
                match f.as_str() {
                    "message" if !p.text.is_empty() => {
                        o.insert("message".into(), json!(p.text));
                    }
                    "created_time" => {
                        o.insert(
                            "created_time".into(),
                            json!(p.created_at.format(TIME_FORMAT).to_string()),
                        );
                    }
                    "permalink_url" => {
                        let (page, post) = p.id.split_once('_').unwrap_or((&st.page_id, &p.id));
                        o.insert(
                            "permalink_url".into(),
                            json!(format!("https://www.facebook.com/{page}/posts/{post}")),
                        );
                    }
                    _ => {}
                }
            }
            Value::Object(o)
        })
        .collect();
    if page.is_empty() {
        return json_response(StatusCode::OK, &json!({ "data": [] }));
    }
    let end = offset + page.len();
    let mut paging = json!({ "cursors": { "before": cursor(offset), "after": cursor(end) } });
    if end < total {
        let mut next = url::Url::parse(&format!(
            "{}/{}/{}/published_posts",
            st.base_url, req.version, st.page_id
        ))
        .ok();
        if let Some(u) = next.as_mut() {
            let mut q = u.query_pairs_mut();
            q.append_pair("access_token", &st.page_token);
            q.append_pair("fields", &fields.join(","));
            q.append_pair("limit", &limit.to_string());
            if let Some(s) = req.param("since") {
                q.append_pair("since", s);
            }
            q.append_pair("after", &cursor(end));
        }
        if let Some(u) = next {
            paging["next"] = json!(u.to_string());
        }
    }
    json_response(StatusCode::OK, &json!({ "data": page, "paging": paging }))
}

fn delete(st: &Shared, req: &Req) -> Response {
    let id = req.segments.first().map(String::as_str).unwrap_or("");
    let mut posts = st.posts();
    match posts.iter_mut().find(|p| p.id == id && !p.deleted) {
        Some(p) => {
            p.deleted = true;
            json_response(StatusCode::OK, &json!({ "success": true }))
        }
        None => {
            drop(posts);
            unsupported(req, id)
        }
    }
}

fn debug_token(st: &Shared, req: &Req) -> Response {
    let input = req.param("input_token").unwrap_or("");
    let now = Utc::now().timestamp();
    let data = if input == st.page_token && !st.revoked.load(Ordering::SeqCst) {
        json!({
            "app_id": st.app_id, "type": "PAGE", "application": "Musharaka (fake)",
            "data_access_expires_at": now + 90 * 86_400, "expires_at": 0, "is_valid": true,
            "issued_at": now - 86_400, "profile_id": st.page_id,
            "scopes": ["pages_show_list", "pages_manage_posts", "pages_read_engagement"],
            "granular_scopes": [{"scope": "pages_manage_posts", "target_ids": [st.page_id]}],
            "user_id": "6780462125377510"
        })
    } else if input == st.page_token {
        json!({
            "app_id": st.app_id, "type": "PAGE", "application": "Musharaka (fake)",
            "is_valid": false, "expires_at": 0, "profile_id": st.page_id, "scopes": [],
            "error": {"code": 190, "message": REVOKED, "subcode": 460}
        })
    } else {
        json!({
            "is_valid": false, "scopes": [],
            "error": {"code": 190, "message": "Invalid OAuth access token.", "subcode": 467}
        })
    };
    json_response(StatusCode::OK, &json!({ "data": data }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(offset_of(&cursor(0)), Some(0));
        assert_eq!(offset_of(&cursor(250)), Some(250));
        assert_eq!(offset_of("QVFIUmx"), None);
    }

    #[test]
    fn since_takes_unix_and_iso() {
        assert_eq!(
            parse_since("1701413571").map(|t| t.timestamp()),
            Some(1_701_413_571)
        );
        assert_eq!(
            parse_since("2023-12-01T06:52:51+0000").map(|t| t.timestamp()),
            Some(1_701_413_571)
        );
        assert_eq!(
            parse_since("2023-12-01T06:52:51Z").map(|t| t.timestamp()),
            Some(1_701_413_571)
        );
        assert_eq!(parse_since("yesterday"), None);
    }

    #[test]
    fn version_prefixes_are_optional() {
        let h = HeaderMap::new();
        let with = parse_request(
            Method::GET,
            &"/v24.0/1/feed?a=b".parse().expect("uri"),
            &h,
            b"",
        );
        assert_eq!(with.segments, ["1", "feed"]);
        assert_eq!(with.version, "v24.0");
        let without = parse_request(Method::GET, &"/1/feed".parse().expect("uri"), &h, b"");
        assert_eq!(without.segments, ["1", "feed"]);
    }
}
