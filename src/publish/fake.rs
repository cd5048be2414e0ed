//! Shared machinery of the in-process platform fakes (`platforms/*/fake.rs`):
//! a fault plan the tests and `musharaka sandbox` fill, and helpers to apply
//! a fault to a request the way the real service (or the network) would.
//!
//! The fakes are real HTTP servers on 127.0.0.1 speaking the platforms' wire
//! formats (`../shared/contracts/`); they power the tests and the sandbox.

use axum::body::Body;
use axum::response::Response;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// A fault to inject into the next matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer 429 with rate-limit headers resetting after this long.
    RateLimit(Duration),
    /// Answer with this 5xx status without acting.
    ServerError(u16),
    /// Wait this long before handling (the client may time out).
    Latency(Duration),
    /// Act on the request (the post is created), then drop the connection
    /// before the response is complete: the client cannot know.
    DropAfterAct,
    /// Treat the presented access token as expired (401), once.
    ExpireToken,
    /// Refuse refresh tokens from now on (re-authorization needed).
    RevokeRefresh,
    /// The daily quota is spent (YouTube 403 quotaExceeded; X usage cap).
    QuotaExhausted,
    /// Cut an upload after this many bytes of the body were stored.
    InterruptUpload(u64),
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Any API request.
    Any,
    /// Requests that create a post (or upload a video).
    Publish,
    /// Lookups used for reconciliation.
    Lookup,
    /// Deletions.
    Delete,
    /// The token endpoint.
    Token,
}

/// Faults waiting to be applied, in order.
#[derive(Debug, Default)]
pub struct FaultPlan {
    queue: Mutex<VecDeque<(Target, Fault)>>,
}

impl FaultPlan {
    /// Queue `fault` for the next request matching `target`, `times` times.
    pub fn inject(&self, target: Target, fault: Fault, times: usize) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..times {
            q.push_back((target, fault.clone()));
        }
    }

    /// Take the first queued fault that applies to a request of `kind`.
    pub fn take(&self, kind: Target) -> Option<Fault> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let pos = q
            .iter()
            .position(|(t, _)| *t == Target::Any || *t == kind)?;
        q.remove(pos).map(|(_, f)| f)
    }

    /// Drop every queued fault.
    pub fn clear(&self) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Faults still queued.
    pub fn pending(&self) -> usize {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// A response whose body fails after the headers: hyper aborts the
/// connection, and the client sees an incomplete message.
pub fn dropped_connection() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fake: connection dropped after acting",
        ))
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("content-length", "4096")
        .body(Body::from_stream(stream))
        .unwrap_or_default()
}

/// A post a fake accepted, as the tests and the sandbox inspect it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FakePost {
    /// The platform id the fake gave it.
    pub id: String,
    /// Text (tweet text, page message or caption, video description).
    pub text: String,
    /// Title, where the platform has one (video title).
    pub title: Option<String>,
    /// Link field, where the platform has one (Facebook `link`).
    pub link: Option<String>,
    /// Deleted since.
    pub deleted: bool,
    /// When the fake accepted it.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl FakePost {
    /// Whether this post carries `marker` (the item link) anywhere.
    pub fn carries(&self, marker: &str) -> bool {
        self.text.contains(marker)
            || self.link.as_deref() == Some(marker)
            || self.title.as_deref().is_some_and(|t| t.contains(marker))
    }
}

/// A fake's HTTP server task: stops gracefully on [`Serving::shutdown`],
/// and is aborted when dropped.
#[derive(Debug)]
pub struct Serving {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Serving {
    /// Serve `app` on `listener` until shut down.
    pub fn start(listener: tokio::net::TcpListener, app: axum::Router) -> Serving {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "fake platform server stopped");
            }
        });
        Serving {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stop accepting and wait for the server task (at most 5 s).
    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Write a fake's secret into `dir/name` and return the account-settings
/// reference to it (`{ file = "…" }`): the daemon reads fake credentials the
/// way it reads real ones. Panics when the file cannot be written (test and
/// sandbox set-up, where that is a broken environment).
pub fn secret_file(dir: &std::path::Path, name: &str, value: &str) -> toml::Value {
    let path = dir.join(name);
    if let Err(e) = std::fs::write(&path, format!("{value}\n")) {
        panic!("fake platform: cannot write {}: {e}", path.display());
    }
    let mut t = toml::Table::new();
    t.insert(
        "file".into(),
        toml::Value::String(path.to_string_lossy().into_owned()),
    );
    toml::Value::Table(t)
}
