//! [`FakeYoutube`]: an in-process fake of the YouTube Data API v3, its
//! resumable upload endpoint and Google's token endpoint, on 127.0.0.1, for
//! the tests and `musharaka sandbox` (contract "What a faithful fake must do").
//!
//! Owns: resumable sessions (200 + `Location` with `upload_id`), chunk `PUT`s
//! with `Content-Range` arithmetic and 262,144-byte alignment checks, 308 +
//! `Range` (omitted when nothing is stored), the `bytes */total` probe, 201
//! with the video resource at completion; `channels.list mine=true`,
//! `playlistItems.list` (uploads, newest first, `nextPageToken` missing on
//! the last page), `DELETE /videos`; the Google error envelope everywhere; a
//! refresh-grant token endpoint without rotation; a daily quota counter
//! (videos.insert 1,600, lists 1, delete 50; failed calls are charged too);
//! a static file server for the video attachment; and the faults of
//! [`FaultPlan`]. It never sends rate-limit headers (YouTube has none).
//!
//! Fault semantics here: `InterruptUpload(n)` stores `n` bytes of a chunk,
//! then drops the connection; `DropAfterAct` on an upload request arms a
//! drop that fires when the video completes (the video exists, the client
//! sees a broken answer); elsewhere it acts, then drops. `RateLimit` →
//! 403 `rateLimitExceeded`; `ServerError(s)` → `s` `backendError`;
//! `QuotaExhausted` → 403 `quotaExceeded`; `ExpireToken` → the presented
//! token expires (401 `authError` until refreshed); `RevokeRefresh` → the
//! refresh token is refused from now on (400 `invalid_grant`).

use crate::publish::fake::{FakePost, Fault, FaultPlan, Target, dropped_connection};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Form, Path as AxPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use url::Url;

/// Quota units of `videos.insert` (quota calculator).
pub const INSERT_COST: u64 = 1_600;
/// Quota units of `videos.delete`.
pub const DELETE_COST: u64 = 50;
/// Quota units of a list call.
pub const LIST_COST: u64 = 1;
/// The default daily quota of a project.
pub const DEFAULT_DAILY_QUOTA: u64 = 10_000;

const CHANNEL_ID: &str = "UCfakeportal";
const UPLOADS: &str = "UUfakeportal";
const ALIGN: usize = 262_144;

#[derive(Debug)]
struct Session {
    total: u64,
    received: Vec<u8>,
    resource: Value,
    video_id: Option<String>,
}

#[derive(Debug, Clone)]
struct Video {
    id: String,
    resource: Value,
    bytes: Arc<Vec<u8>>,
    created_at: DateTime<Utc>,
    deleted: bool,
}

impl Video {
    fn title(&self) -> String {
        self.resource["snippet"]["title"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    fn description(&self) -> String {
        self.resource["snippet"]["description"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    fn json(&self) -> Value {
        let mut snippet = self.resource["snippet"].clone();
        snippet["publishedAt"] = json!(self.created_at.to_rfc3339());
        snippet["channelId"] = json!(CHANNEL_ID);
        let privacy = self.resource["status"]["privacyStatus"]
            .as_str()
            .unwrap_or("public");
        json!({
            "kind": "youtube#video",
            "etag": format!("etag-{}", self.id),
            "id": self.id,
            "snippet": snippet,
            "status": {"uploadStatus": "uploaded", "privacyStatus": privacy},
        })
    }
}

#[derive(Debug)]
struct Inner {
    videos: Vec<Video>,
    sessions: HashMap<String, Session>,
    tokens: HashMap<String, DateTime<Utc>>,
    issued: Vec<String>,
    revoked: bool,
    quota_used: u64,
    daily_quota: u64,
    bytes_received: u64,
    sessions_started: u64,
    media: HashMap<String, Bytes>,
    drop_on_complete: bool,
    seq: u64,
}

#[derive(Debug)]
struct Shared {
    addr: SocketAddr,
    faults: FaultPlan,
    client_id: String,
    client_secret: String,
    refresh_token: String,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The fake service. Stops when dropped (or on [`FakeYoutube::shutdown`]).
#[derive(Debug)]
pub struct FakeYoutube {
    shared: Arc<Shared>,
    server: crate::publish::fake::Serving,
}

/// A Google error envelope response.
fn envelope(status: u16, reason: &str, message: &str) -> Response {
    let domain = match reason {
        "quotaExceeded" => "youtube.quota",
        "rateLimitExceeded" | "userRateLimitExceeded" => "usageLimits",
        _ => "global",
    };
    let mut err = json!({
        "code": status,
        "message": message,
        "errors": [{"message": message, "domain": domain, "reason": reason}],
    });
    if status == 401 {
        err["errors"][0]["location"] = json!("Authorization");
        err["errors"][0]["locationType"] = json!("header");
        err["status"] = json!("UNAUTHENTICATED");
    }
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, axum::Json(json!({ "error": err }))).into_response()
}

fn quota_exceeded() -> Response {
    envelope(
        403,
        "quotaExceeded",
        "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
    )
}

fn bad(reason: &str, message: &str) -> Response {
    envelope(400, reason, message)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_string)
}

/// The fault taken for this request, once the generic ones are applied;
/// or the response that ends it (fault, auth, quota).
async fn gate(
    s: &Shared,
    target: Target,
    headers: &HeaderMap,
    cost: u64,
) -> Result<Option<Fault>, Response> {
    let fault = s.faults.take(target);
    let mut kept = None;
    match fault {
        Some(Fault::Latency(d)) => tokio::time::sleep(d).await,
        Some(Fault::RateLimit(_)) => {
            return Err(envelope(
                403,
                "rateLimitExceeded",
                "The request cannot be completed because you have exceeded your rate limit.",
            ));
        }
        Some(Fault::ServerError(code)) => {
            return Err(envelope(code, "backendError", "Backend Error"));
        }
        Some(Fault::QuotaExhausted) => return Err(quota_exceeded()),
        Some(Fault::ExpireToken) => {
            if let Some(t) = bearer(headers) {
                s.lock().tokens.remove(&t);
            }
        }
        Some(Fault::RevokeRefresh) => s.lock().revoked = true,
        other => kept = other,
    }
    let mut inner = s.lock();
    let valid = bearer(headers)
        .and_then(|t| inner.tokens.get(&t).copied())
        .is_some_and(|exp| exp > Utc::now());
    if !valid {
        return Err(envelope(
            401,
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        ));
    }
    if inner.quota_used + cost > inner.daily_quota {
        return Err(quota_exceeded());
    }
    inner.quota_used += cost;
    Ok(kept)
}

impl FakeYoutube {
    /// Start on 127.0.0.1 with a random port.
    pub async fn start() -> std::io::Result<FakeYoutube> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            addr,
            faults: FaultPlan::default(),
            client_id: "fake-client.apps.googleusercontent.com".into(),
            client_secret: format!("GOCSPX-fake-{:016x}", rand::random::<u64>()),
            refresh_token: format!("1//fake-refresh-{:016x}", rand::random::<u64>()),
            inner: Mutex::new(Inner {
                videos: Vec::new(),
                sessions: HashMap::new(),
                tokens: HashMap::new(),
                issued: Vec::new(),
                revoked: false,
                quota_used: 0,
                daily_quota: DEFAULT_DAILY_QUOTA,
                bytes_received: 0,
                sessions_started: 0,
                media: HashMap::new(),
                drop_on_complete: false,
                seq: 0,
            }),
        });
        let app = Router::new()
            .route("/token", post(token))
            .route(
                "/upload/youtube/v3/videos",
                post(start_upload).put(put_upload),
            )
            .route("/youtube/v3/channels", get(channels))
            .route("/youtube/v3/playlistItems", get(playlist_items))
            .route("/youtube/v3/videos", axum::routing::delete(delete_video))
            .route("/media/{name}", get(media))
            .layer(DefaultBodyLimit::disable())
            .with_state(shared.clone());
        let server = crate::publish::fake::Serving::start(listener, app);
        Ok(FakeYoutube { shared, server })
    }

    fn url(&self, path: &str) -> Url {
        // Infallible: a socket address and a fixed path.
        Url::parse(&format!("http://{}{path}", self.shared.addr)).unwrap()
    }

    /// The data-API root (the account's `base_url`).
    pub fn base_url(&self) -> Url {
        self.url("/youtube/v3")
    }

    /// The upload root (setting `upload_base`).
    pub fn upload_base(&self) -> Url {
        self.url("/upload/youtube/v3")
    }

    /// The token endpoint (setting `token_url`).
    pub fn token_url(&self) -> Url {
        self.url("/token")
    }

    /// Faults to inject.
    pub fn faults(&self) -> &FaultPlan {
        &self.shared.faults
    }

    /// Every uploaded video, oldest first: title = video title, text = description.
    pub fn posts(&self) -> Vec<FakePost> {
        self.shared
            .lock()
            .videos
            .iter()
            .map(|v| FakePost {
                id: v.id.clone(),
                text: v.description(),
                title: Some(v.title()),
                link: None,
                deleted: v.deleted,
                created_at: v.created_at,
            })
            .collect()
    }

    /// The bytes of an uploaded video.
    pub fn video_bytes(&self, id: &str) -> Option<Vec<u8>> {
        let inner = self.shared.lock();
        let v = inner.videos.iter().find(|v| v.id == id)?;
        Some(v.bytes.as_ref().clone())
    }

    /// The video resource the client sent when starting the upload.
    pub fn video_resource(&self, id: &str) -> Option<Value> {
        let inner = self.shared.lock();
        Some(inner.videos.iter().find(|v| v.id == id)?.resource.clone())
    }

    /// Videos accepted (completed uploads, deleted ones included).
    pub fn accepted(&self) -> u64 {
        self.shared.lock().videos.len() as u64
    }

    /// Resumable sessions started.
    pub fn sessions_started(&self) -> u64 {
        self.shared.lock().sessions_started
    }

    /// Chunk bytes stored across all sessions (re-sent bytes count twice).
    pub fn bytes_received(&self) -> u64 {
        self.shared.lock().bytes_received
    }

    /// Quota units spent today.
    pub fn quota_used(&self) -> u64 {
        self.shared.lock().quota_used
    }

    /// Set the daily quota (10,000 by default).
    pub fn set_daily_quota(&self, units: u64) {
        self.shared.lock().daily_quota = units;
    }

    /// Forget every upload session: their URIs answer 404 from now on.
    pub fn forget_upload_sessions(&self) {
        self.shared.lock().sessions.clear();
    }

    /// Every secret value the fake knows (client secret, refresh token,
    /// access tokens issued), to check that none leaks.
    pub fn secrets(&self) -> Vec<String> {
        let inner = self.shared.lock();
        let mut v = vec![
            self.shared.client_secret.clone(),
            self.shared.refresh_token.clone(),
        ];
        v.extend(inner.issued.iter().cloned());
        v
    }

    /// Host `bytes` as a video file and return its URL.
    pub fn serve_video(&self, bytes: Vec<u8>) -> Url {
        let name = {
            let mut inner = self.shared.lock();
            inner.seq += 1;
            let name = format!("video-{}.mp4", inner.seq);
            inner.media.insert(name.clone(), Bytes::from(bytes));
            name
        };
        self.url(&format!("/media/{name}"))
    }

    /// Write the secrets into `secret_dir` and return account settings
    /// pointing at this fake (256 KiB chunks).
    pub fn settings(&self, secret_dir: &Path) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("client_id".into(), self.shared.client_id.clone().into());
        let file =
            |name: &str, value: &str| crate::publish::fake::secret_file(secret_dir, name, value);
        t.insert(
            "client_secret".into(),
            file("youtube-client-secret", &self.shared.client_secret),
        );
        t.insert(
            "refresh_token".into(),
            file("youtube-refresh-token", &self.shared.refresh_token),
        );
        t.insert("token_url".into(), self.token_url().to_string().into());
        t.insert("upload_base".into(), self.upload_base().to_string().into());
        t.insert("chunk_size".into(), (ALIGN as i64).into());
        t.insert("privacy_status".into(), "private".into());
        t
    }

    /// Stop serving and wait for the server task.
    pub async fn shutdown(mut self) {
        self.server.shutdown().await;
    }
}

async fn token(
    State(s): State<Arc<Shared>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    match s.faults.take(Target::Token) {
        Some(Fault::RevokeRefresh) => s.lock().revoked = true,
        Some(Fault::ServerError(code)) => {
            let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (code, axum::Json(json!({"error": "internal_failure"}))).into_response();
        }
        Some(Fault::Latency(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let err = |code: StatusCode, error: &str, desc: &str| {
        (
            code,
            axum::Json(json!({"error": error, "error_description": desc})),
        )
            .into_response()
    };
    if field("grant_type") != "refresh_token" {
        return err(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Invalid grant_type: ",
        );
    }
    if field("client_id") != s.client_id || field("client_secret") != s.client_secret {
        return err(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    }
    let mut inner = s.lock();
    if inner.revoked || field("refresh_token") != s.refresh_token {
        return err(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Token has been expired or revoked.",
        );
    }
    inner.seq += 1;
    let tok = format!("ya29.fake-{}-{:016x}", inner.seq, rand::random::<u64>());
    inner
        .tokens
        .insert(tok.clone(), Utc::now() + chrono::Duration::seconds(3599));
    inner.issued.push(tok.clone());
    // No rotation: no refresh_token in the answer.
    axum::Json(json!({
        "access_token": tok,
        "expires_in": 3599,
        "scope": "https://www.googleapis.com/auth/youtube.force-ssl https://www.googleapis.com/auth/youtube.upload",
        "token_type": "Bearer",
    }))
    .into_response()
}

async fn start_upload(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = match gate(&s, Target::Publish, &headers, INSERT_COST).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if matches!(fault, Some(Fault::InterruptUpload(_))) {
        return dropped_connection();
    }
    if q.get("uploadType").map(String::as_str) != Some("resumable") {
        return bad("invalidParameter", "uploadType must be resumable here");
    }
    let parts = q.get("part").map(String::as_str).unwrap_or_default();
    if !parts.split(',').any(|p| p == "snippet") {
        return bad("required", "'part' is required and must include snippet");
    }
    let Some(total) = headers
        .get("x-upload-content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return bad("badContent", "X-Upload-Content-Length is required");
    };
    let ctype = headers
        .get("x-upload-content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !(ctype.starts_with("video/") || ctype == "application/octet-stream") {
        return bad(
            "invalidContentType",
            "X-Upload-Content-Type must be video/*",
        );
    }
    let Ok(resource) = serde_json::from_slice::<Value>(&body) else {
        return bad("parseError", "Parse Error");
    };
    let title = resource["snippet"]["title"].as_str().unwrap_or_default();
    let description = resource["snippet"]["description"]
        .as_str()
        .unwrap_or_default();
    if title.trim().is_empty() || title.chars().count() > 100 || title.contains(['<', '>']) {
        return bad(
            "invalidTitle",
            "The request metadata specifies an invalid video title.",
        );
    }
    if description.len() > 5_000 || description.contains(['<', '>']) {
        return bad(
            "invalidDescription",
            "The request metadata specifies an invalid video description.",
        );
    }
    let id = {
        let mut inner = s.lock();
        inner.seq += 1;
        inner.sessions_started += 1;
        let id = format!("xa{}_{:08x}", inner.seq, rand::random::<u32>());
        inner.sessions.insert(
            id.clone(),
            Session {
                total,
                received: Vec::new(),
                resource,
                video_id: None,
            },
        );
        if matches!(fault, Some(Fault::DropAfterAct)) {
            inner.drop_on_complete = true;
        }
        id
    };
    let location = format!(
        "http://{}/upload/youtube/v3/videos?uploadType=resumable&upload_id={id}&part=snippet,status",
        s.addr
    );
    Response::builder()
        .status(200)
        .header("location", location)
        .body(Body::empty())
        .unwrap_or_default()
}

enum ContentRange {
    Probe(u64),
    Bytes(u64, u64, u64),
}

fn parse_content_range(v: &str) -> Option<ContentRange> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let total: u64 = total.parse().ok()?;
    if range == "*" {
        return Some(ContentRange::Probe(total));
    }
    let (a, b) = range.split_once('-')?;
    Some(ContentRange::Bytes(a.parse().ok()?, b.parse().ok()?, total))
}

fn resume_incomplete(stored: usize) -> Response {
    let mut r = Response::builder().status(308);
    if stored > 0 {
        r = r.header("range", format!("bytes=0-{}", stored - 1));
    }
    r.body(Body::empty()).unwrap_or_default()
}

/// Make the video of a completed session.
fn complete(inner: &mut Inner, upload_id: &str) -> Option<Value> {
    let session = inner.sessions.get_mut(upload_id)?;
    if let Some(id) = &session.video_id {
        let id = id.clone();
        return inner.videos.iter().find(|v| v.id == id).map(Video::json);
    }
    let bytes = Arc::new(session.received.clone());
    let resource = session.resource.clone();
    inner.seq += 1;
    let id = format!("Vid{:08}", inner.seq);
    if let Some(session) = inner.sessions.get_mut(upload_id) {
        session.video_id = Some(id.clone());
    }
    let v = Video {
        id,
        resource,
        bytes,
        created_at: Utc::now(),
        deleted: false,
    };
    let j = v.json();
    inner.videos.push(v);
    Some(j)
}

async fn put_upload(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = match gate(&s, Target::Publish, &headers, 0).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let upload_id = q.get("upload_id").cloned().unwrap_or_default();
    let mut inner = s.lock();
    if matches!(fault, Some(Fault::DropAfterAct)) {
        inner.drop_on_complete = true;
    }
    let Some(session) = inner.sessions.get_mut(&upload_id) else {
        return envelope(404, "notFound", "The upload session was not found.");
    };
    let range = match headers.get("content-range").and_then(|v| v.to_str().ok()) {
        Some(v) => match parse_content_range(v) {
            Some(r) => r,
            None => return bad("badContent", "Malformed Content-Range"),
        },
        // A single PUT of the whole file.
        None if !body.is_empty() => {
            ContentRange::Bytes(0, body.len() as u64 - 1, body.len() as u64)
        }
        None => ContentRange::Probe(session.total),
    };
    let done = session.video_id.is_some();
    match range {
        ContentRange::Probe(total) => {
            if total != session.total || !body.is_empty() {
                return bad(
                    "badContent",
                    "A status probe has no body and the session's total",
                );
            }
            if matches!(fault, Some(Fault::InterruptUpload(_))) {
                return dropped_connection();
            }
            if done {
                let j = complete(&mut inner, &upload_id);
                return (StatusCode::OK, axum::Json(j)).into_response();
            }
            resume_incomplete(session.received.len())
        }
        ContentRange::Bytes(a, b, total) => {
            if done {
                let j = complete(&mut inner, &upload_id);
                return (StatusCode::OK, axum::Json(j)).into_response();
            }
            let stored = session.received.len() as u64;
            if total != session.total {
                return bad(
                    "badContent",
                    "Content-Range total differs from X-Upload-Content-Length",
                );
            }
            if a != stored {
                return bad(
                    "badContent",
                    &format!("Content-Range starts at {a}, but {stored} bytes are stored"),
                );
            }
            if b < a || b >= total || b - a + 1 != body.len() as u64 {
                return bad("badContent", "Content-Range does not match the body");
            }
            if b + 1 < total && body.len() % ALIGN != 0 {
                return bad(
                    "badContent",
                    "Chunks must be a multiple of 262144 bytes, except the last",
                );
            }
            let keep = match fault {
                Some(Fault::InterruptUpload(n)) => body.len().min(n as usize),
                _ => body.len(),
            };
            session.received.extend_from_slice(&body[..keep]);
            let now_stored = session.received.len();
            let finished = now_stored as u64 == total;
            inner.bytes_received += keep as u64;
            if finished {
                let j = complete(&mut inner, &upload_id);
                if std::mem::take(&mut inner.drop_on_complete)
                    || matches!(fault, Some(Fault::InterruptUpload(_)))
                {
                    return dropped_connection();
                }
                return (StatusCode::CREATED, axum::Json(j)).into_response();
            }
            if matches!(fault, Some(Fault::InterruptUpload(_))) {
                return dropped_connection();
            }
            resume_incomplete(now_stored)
        }
    }
}

async fn channels(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let fault = match gate(&s, Target::Lookup, &headers, LIST_COST).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(part) = q.get("part") else {
        return bad("required", "Required parameter: part");
    };
    if q.get("mine").map(String::as_str) != Some("true") && !q.contains_key("id") {
        return bad("missingRequiredParameter", "No filter selected.");
    }
    let mut item = json!({"kind": "youtube#channel", "etag": "etag-ch", "id": CHANNEL_ID});
    if part.split(',').any(|p| p == "contentDetails") {
        item["contentDetails"] = json!({"relatedPlaylists": {"likes": "", "uploads": UPLOADS}});
    }
    if matches!(fault, Some(Fault::DropAfterAct)) {
        return dropped_connection();
    }
    axum::Json(json!({
        "kind": "youtube#channelListResponse",
        "etag": "etag-list",
        "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
        "items": [item],
    }))
    .into_response()
}

async fn playlist_items(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let fault = match gate(&s, Target::Lookup, &headers, LIST_COST).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if !q.contains_key("part") {
        return bad("required", "Required parameter: part");
    }
    if q.get("playlistId").map(String::as_str) != Some(UPLOADS) {
        return envelope(
            404,
            "playlistNotFound",
            "The playlist identified with the request's playlistId parameter cannot be found.",
        );
    }
    let max = match q.get("maxResults").map(|m| m.parse::<usize>()) {
        None => 5,
        Some(Ok(n)) if n <= 50 => n,
        Some(_) => return bad("invalidValue", "Invalid value for maxResults"),
    };
    let start = match q.get("pageToken") {
        None => 0,
        Some(t) => match t.strip_prefix("p").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => n,
            None => {
                return bad(
                    "invalidPageToken",
                    "The request specifies an invalid page token.",
                );
            }
        },
    };
    let inner = s.lock();
    let live: Vec<&Video> = inner.videos.iter().rev().filter(|v| !v.deleted).collect();
    let items: Vec<Value> = live
        .iter()
        .enumerate()
        .skip(start)
        .take(max)
        .map(|(i, v)| {
            json!({
                "kind": "youtube#playlistItem",
                "etag": format!("etag-pi-{}", v.id),
                "id": format!("PI{}", v.id),
                "snippet": {
                    "publishedAt": v.created_at.to_rfc3339(),
                    "channelId": CHANNEL_ID,
                    "title": v.title(),
                    "description": v.description(),
                    "playlistId": UPLOADS,
                    "position": i,
                    "resourceId": {"kind": "youtube#video", "videoId": v.id},
                },
            })
        })
        .collect();
    let mut page = json!({
        "kind": "youtube#playlistItemListResponse",
        "etag": "etag-pil",
        "pageInfo": {"totalResults": live.len(), "resultsPerPage": max},
        "items": items,
    });
    if start + max < live.len() {
        page["nextPageToken"] = json!(format!("p{}", start + max));
    }
    drop(inner);
    if matches!(fault, Some(Fault::DropAfterAct)) {
        return dropped_connection();
    }
    axum::Json(page).into_response()
}

async fn delete_video(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let fault = match gate(&s, Target::Delete, &headers, DELETE_COST).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let id = q.get("id").cloned().unwrap_or_default();
    let mut inner = s.lock();
    let Some(v) = inner.videos.iter_mut().find(|v| v.id == id && !v.deleted) else {
        return envelope(
            404,
            "videoNotFound",
            "The video that you are trying to delete cannot be found.",
        );
    };
    v.deleted = true;
    drop(inner);
    if matches!(fault, Some(Fault::DropAfterAct)) {
        return dropped_connection();
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn media(State(s): State<Arc<Shared>>, AxPath(name): AxPath<String>) -> Response {
    let Some(bytes) = s.lock().media.get(&name).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    Response::builder()
        .status(200)
        .header("content-type", "video/mp4")
        .header("content-length", bytes.len().to_string())
        .body(Body::from(bytes))
        .unwrap_or_default()
}
