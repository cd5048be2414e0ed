//! The resumable upload protocol of `videos.insert` (contract §1), and the
//! durable record of upload sessions that lets an upload survive a dropped
//! connection, a 5xx or a restart of the daemon.
//!
//! Owns: starting a session, chunk arithmetic (multiples of 262,144 bytes
//! except the last), `308` + `Range` bookkeeping, the `bytes */total` status
//! probe, and [`UploadSessions`]. Resuming after an interrupted chunk is part
//! of the protocol, not a retry policy: it happens at most [`MAX_RESUMES`]
//! times per call, without sleeping, then the call returns `Unknown` with
//! the session kept, so the next call (after reconciliation) resumes it.
//! Does not own: fetching the video, tokens (`auth`), backoff (outbox).

use super::auth::GoogleAuth;
use super::config::CHUNK_ALIGN;
use super::wire::{self, Call, Video, VideoInsert};
use crate::publish::{DeliveryError, JobId};
use crate::store::StoreError;
use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use url::Url;

/// Interruptions (dropped connection, 5xx, lost session) one `publish` call
/// resumes from before it gives up with `Unknown`.
pub const MAX_RESUMES: u32 = 3;

/// An upload session in progress, stored durably per outbox job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSession {
    /// The account uploading.
    pub account_id: String,
    /// The session URI from the `Location` header (a capability: never logged).
    pub session_uri: String,
    /// Size of the video in bytes.
    pub total: u64,
    /// Bytes Google confirmed (`Range` last + 1) at the last answer.
    pub offset: u64,
    /// When the session was started.
    pub started_at: DateTime<Utc>,
    /// When this record was written.
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Display for UploadSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "upload session of {} ({}/{} bytes)",
            self.account_id, self.offset, self.total
        )
    }
}

/// Durable upload sessions by outbox job. Every method that returns `Ok`
/// has flushed its write (the sled store implements it in a `yt_uploads`
/// tree: job id (16 bytes) → JSON [`UploadSession`]).
#[async_trait]
pub trait UploadSessions: Send + Sync + std::fmt::Debug {
    /// The session of `job`, if one is in progress.
    async fn get_upload(&self, job: JobId) -> Result<Option<UploadSession>, StoreError>;
    /// Create or replace the session of `job` (durably).
    async fn put_upload(&self, job: JobId, session: &UploadSession) -> Result<(), StoreError>;
    /// Forget the session of `job` (durably); no error when there is none.
    async fn remove_upload(&self, job: JobId) -> Result<(), StoreError>;
}

/// Upload sessions in memory: for tests, and for `build` until the store
/// implements [`UploadSessions`] (a restart then starts uploads over).
#[derive(Debug, Default)]
pub struct MemoryUploadSessions {
    map: Mutex<HashMap<JobId, UploadSession>>,
}

impl MemoryUploadSessions {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl UploadSessions for MemoryUploadSessions {
    async fn get_upload(&self, job: JobId) -> Result<Option<UploadSession>, StoreError> {
        Ok(self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&job)
            .cloned())
    }
    async fn put_upload(&self, job: JobId, session: &UploadSession) -> Result<(), StoreError> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(job, session.clone());
        Ok(())
    }
    async fn remove_upload(&self, job: JobId) -> Result<(), StoreError> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&job);
        Ok(())
    }
}

/// The byte range `[start, end)` of the next chunk from `offset`: `chunk_size`
/// bytes (a multiple of 262,144), or the rest when that is smaller.
pub fn next_chunk(offset: u64, total: u64, chunk_size: u64) -> (u64, u64) {
    (offset, total.min(offset.saturating_add(chunk_size)))
}

/// `Content-Range` of the bytes `[start, end)` of `total`.
pub fn content_range(start: u64, end: u64, total: u64) -> String {
    format!("bytes {start}-{}/{total}", end.saturating_sub(1))
}

/// The next offset from a 308's `Range: bytes=0-<last>` (last + 1); `0`
/// when the header is missing ("nothing stored"); `None` when malformed.
pub fn offset_from_range(range: Option<&str>) -> Option<u64> {
    let Some(r) = range else { return Some(0) };
    let last = r.trim().strip_prefix("bytes=")?.split_once('-')?.1;
    last.trim().parse::<u64>().ok()?.checked_add(1)
}

/// Whether `len` is a valid size for a chunk that does not end the file.
pub fn aligned(len: u64) -> bool {
    len > 0 && len % CHUNK_ALIGN == 0
}

/// What one `PUT` to the session URI achieved.
enum Step {
    /// 308: Google holds the bytes before this offset (maybe a new URI).
    Received(u64, Option<String>),
    /// 200/201: the video exists.
    Done(Video),
    /// 404/410: the session is gone; start a new one.
    Gone,
    /// Dropped connection, timeout, 5xx, unreadable answer: probe and resume.
    Interrupted(String),
    /// Anything else, classified.
    Failed(DeliveryError),
}

/// Everything an upload needs.
pub(crate) struct Upload<'a> {
    /// HTTP client with redirects disabled (308 is the protocol here).
    pub http: &'a reqwest::Client,
    /// Tokens.
    pub auth: &'a GoogleAuth,
    /// Durable sessions.
    pub sessions: &'a dyn UploadSessions,
    /// `{upload_base}` (without `/videos`).
    pub upload_base: &'a Url,
    /// Chunk size, a multiple of 262,144.
    pub chunk_size: u64,
    /// Time limit of API calls (session start, probe).
    pub api_timeout: Duration,
    /// Time limit of one chunk.
    pub chunk_timeout: Duration,
    /// The job (key of the stored session).
    pub job: JobId,
    /// The account (checked against the stored session).
    pub account_id: &'a str,
}

impl Upload<'_> {
    /// Upload `video` with `resource` as its metadata, resuming a stored
    /// session of the job if there is one. The stored session is removed
    /// once the video exists, or when it turns out to be gone.
    pub(crate) async fn run(
        &self,
        resource: &VideoInsert,
        content_type: &str,
        video: &Bytes,
    ) -> Result<Video, DeliveryError> {
        let total = video.len() as u64;
        let mut session = match self.sessions.get_upload(self.job).await {
            Ok(Some(s)) if s.account_id == self.account_id && s.total == total => Some(s),
            Ok(Some(_)) => {
                // The attachment changed size: that session cannot finish it.
                self.forget().await;
                None
            }
            Ok(None) => None,
            Err(e) => return Err(store_failure(e)),
        };
        // A stored session's state is unknown until probed.
        let mut probe = session.is_some();
        let mut interruptions = 0u32;
        loop {
            let mut s = match session.take() {
                Some(s) => s,
                None => {
                    probe = false;
                    self.start(resource, content_type, total).await?
                }
            };
            let step = if probe {
                self.put(
                    &s.session_uri,
                    format!("bytes */{total}"),
                    Bytes::new(),
                    true,
                )
                .await
            } else {
                let (start, end) = next_chunk(s.offset, total, self.chunk_size);
                let body = video.slice(start as usize..end as usize);
                self.put(
                    &s.session_uri,
                    content_range(start, end, total),
                    body,
                    false,
                )
                .await
            };
            let interrupted = |n: &mut u32, what: String| {
                *n += 1;
                if *n > MAX_RESUMES {
                    Err(DeliveryError::Unknown {
                        detail: format!(
                            "upload interrupted {n} times, last: {what}; the session is kept to resume"
                        ),
                    })
                } else {
                    tracing::info!(account = self.account_id, job = %self.job, interruptions = *n, %what, "youtube upload interrupted, resuming");
                    Ok(())
                }
            };
            match step {
                Step::Received(offset, location) => {
                    let progressed = offset > s.offset || probe;
                    probe = false;
                    if offset > total {
                        return Err(DeliveryError::Unknown {
                            detail: format!("upload: Google reports {offset} bytes of {total}"),
                        });
                    }
                    s.offset = offset;
                    if let Some(uri) = location {
                        s.session_uri = uri;
                    }
                    s.updated_at = Utc::now();
                    if let Err(e) = self.sessions.put_upload(self.job, &s).await {
                        // The URI is stored already; the offset is re-learnt by a probe.
                        tracing::warn!(account = self.account_id, job = %self.job, error = %e, "cannot record upload progress");
                    }
                    if !progressed {
                        interrupted(&mut interruptions, "no progress after a chunk".into())?;
                        probe = true;
                    }
                    session = Some(s);
                }
                Step::Done(v) => {
                    self.forget().await;
                    return Ok(v);
                }
                Step::Gone => {
                    self.forget().await;
                    interrupted(&mut interruptions, "upload session gone".into())?;
                }
                Step::Interrupted(what) => {
                    interrupted(&mut interruptions, what)?;
                    probe = true;
                    session = Some(s);
                }
                Step::Failed(e) => {
                    if matches!(e, DeliveryError::Permanent { .. }) {
                        self.forget().await;
                    }
                    return Err(e);
                }
            }
        }
    }

    async fn forget(&self) {
        if let Err(e) = self.sessions.remove_upload(self.job).await {
            tracing::warn!(account = self.account_id, job = %self.job, error = %e, "cannot remove upload session");
        }
    }

    /// `POST {upload_base}/videos?uploadType=resumable&part=snippet,status`
    /// → 200 + `Location`, stored before any byte is sent. Nothing can
    /// exist from a session without bytes, so every failure here is
    /// `Transient` or classified as a read.
    async fn start(
        &self,
        resource: &VideoInsert,
        content_type: &str,
        total: u64,
    ) -> Result<UploadSession, DeliveryError> {
        let mut url = join(self.upload_base, "videos");
        url.query_pairs_mut()
            .append_pair("uploadType", "resumable")
            .append_pair("part", "snippet,status");
        let body = serde_json::to_vec(resource).map_err(|e| DeliveryError::Permanent {
            detail: format!("cannot encode the video resource: {e}"),
        })?;
        let token = self.auth.access_token().await?;
        let resp = self
            .http
            .post(url)
            .bearer_auth(token.expose())
            .header("content-type", "application/json; charset=UTF-8")
            .header("x-upload-content-length", total.to_string())
            .header("x-upload-content-type", content_type)
            .timeout(self.api_timeout)
            .body(body)
            .send()
            .await
            .map_err(|e| wire::classify_transport(&e, Call::Read, "upload session start"))?;
        let status = resp.status();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| wire::classify_transport(&e, Call::Read, "upload session start"))?;
        if !status.is_success() {
            return Err(wire::classify(
                status.as_u16(),
                &bytes,
                Call::Read,
                Utc::now(),
            ));
        }
        let Some(session_uri) = location.filter(|l| Url::parse(l).is_ok()) else {
            return Err(DeliveryError::Transient {
                detail: format!("upload session start: HTTP {status} without a Location"),
            });
        };
        let now = Utc::now();
        let s = UploadSession {
            account_id: self.account_id.to_string(),
            session_uri,
            total,
            offset: 0,
            started_at: now,
            updated_at: now,
        };
        self.sessions
            .put_upload(self.job, &s)
            .await
            .map_err(store_failure)?;
        Ok(s)
    }

    /// One `PUT` to the session URI: a chunk, or (empty body, `bytes */total`)
    /// the status probe.
    async fn put(&self, uri: &str, range: String, body: Bytes, probe: bool) -> Step {
        let token = match self.auth.access_token().await {
            Ok(t) => t,
            Err(e) => return Step::Failed(e),
        };
        let what = if probe {
            "upload probe"
        } else {
            "upload chunk"
        };
        let len = body.len();
        let resp = self
            .http
            .put(uri)
            .bearer_auth(token.expose())
            .header("content-range", range)
            .header("content-length", len.to_string())
            .timeout(if probe {
                self.api_timeout
            } else {
                self.chunk_timeout
            })
            .body(body)
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                return Step::Interrupted(
                    wire::classify_transport(&e, Call::Write, what).to_string(),
                );
            }
        };
        let status = resp.status();
        let range = resp
            .headers()
            .get("range")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .filter(|l| Url::parse(l).is_ok())
            .map(str::to_string);
        // Read the whole answer before trusting the status: a connection cut
        // after the headers is an interruption, whatever the status said.
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Step::Interrupted(
                    wire::classify_transport(&e, Call::Write, what).to_string(),
                );
            }
        };
        match status {
            StatusCode::PERMANENT_REDIRECT => match offset_from_range(range.as_deref()) {
                Some(offset) => Step::Received(offset, location),
                None => Step::Interrupted(format!("{what}: unreadable Range header")),
            },
            StatusCode::OK | StatusCode::CREATED => match serde_json::from_slice::<Video>(&bytes) {
                Ok(v) => Step::Done(v),
                Err(e) => Step::Interrupted(format!("{what}: unreadable video resource: {e}")),
            },
            StatusCode::NOT_FOUND | StatusCode::GONE => Step::Gone,
            s if s.is_server_error() => Step::Interrupted(
                wire::classify(s.as_u16(), &bytes, Call::Write, Utc::now()).to_string(),
            ),
            s => Step::Failed(wire::classify(s.as_u16(), &bytes, Call::Write, Utc::now())),
        }
    }
}

/// `base` + `/` + `path`, keeping the base's path.
pub(crate) fn join(base: &Url, path: &str) -> Url {
    let mut u = base.clone();
    let p = format!("{}/{path}", base.path().trim_end_matches('/'));
    u.set_path(&p);
    u
}

fn store_failure(e: StoreError) -> DeliveryError {
    DeliveryError::Transient {
        detail: format!("upload session store: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_aligned_except_the_last() {
        let total = 1_000_000;
        let mut offset = 0;
        let mut ranges = Vec::new();
        while offset < total {
            let (s, e) = next_chunk(offset, total, CHUNK_ALIGN);
            ranges.push(content_range(s, e, total));
            if e < total {
                assert!(aligned(e - s));
            }
            offset = e;
        }
        assert_eq!(
            ranges,
            [
                "bytes 0-262143/1000000",
                "bytes 262144-524287/1000000",
                "bytes 524288-786431/1000000",
                "bytes 786432-999999/1000000",
            ]
        );
        // Resuming from an unaligned offset keeps full-size chunks.
        assert_eq!(next_chunk(100_000, total, CHUNK_ALIGN), (100_000, 362_144));
        assert_eq!(next_chunk(900_000, total, CHUNK_ALIGN), (900_000, total));
        assert!(!aligned(0) && !aligned(262_145) && aligned(524_288));
    }

    #[test]
    fn range_header_gives_the_next_offset() {
        assert_eq!(offset_from_range(Some("bytes=0-262143")), Some(262_144));
        assert_eq!(offset_from_range(Some("bytes=0-0")), Some(1));
        assert_eq!(offset_from_range(None), Some(0));
        assert_eq!(offset_from_range(Some("bytes 0-1")), None);
        assert_eq!(offset_from_range(Some("bytes=0-x")), None);
    }

    #[test]
    fn join_keeps_the_base_path() {
        let b = Url::parse("http://127.0.0.1:9/upload/youtube/v3/").unwrap();
        assert_eq!(
            join(&b, "videos").as_str(),
            "http://127.0.0.1:9/upload/youtube/v3/videos"
        );
    }

    #[tokio::test]
    async fn memory_sessions_round_trip() {
        let m = MemoryUploadSessions::new();
        let job = JobId::new();
        assert_eq!(m.get_upload(job).await.unwrap(), None);
        let s = UploadSession {
            account_id: "yt".into(),
            session_uri: "http://127.0.0.1:9/u?upload_id=1".into(),
            total: 10,
            offset: 4,
            started_at: Utc::now(),
            updated_at: Utc::now(),
        };
        m.put_upload(job, &s).await.unwrap();
        assert_eq!(m.get_upload(job).await.unwrap(), Some(s.clone()));
        assert!(!s.to_string().contains("upload_id"));
        m.remove_upload(job).await.unwrap();
        m.remove_upload(job).await.unwrap();
        assert_eq!(m.get_upload(job).await.unwrap(), None);
    }
}
