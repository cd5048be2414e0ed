//! The polite upstream client.
//!
//! Owns: one HTTP(S) or `file://` fetch of a feed document, with
//! - conditional GET (`If-None-Match`, `If-Modified-Since`) and 304;
//! - cache hints from `Cache-Control` (`max-age`, `no-cache`/`no-store`),
//!   `Expires` (relative to the response's `Date`) and `Retry-After`
//!   (seconds or an HTTP date);
//! - time limits: connect, whole request, and silence between two chunks;
//! - a body cap enforced while streaming and again *after* decompression:
//!   we send `Accept-Encoding: gzip, deflate` and decompress ourselves
//!   (reqwest's `gzip` feature stays off) into a capped buffer, so a gzip
//!   bomb fails after at most `max_body_bytes` of output;
//! - a redirect limit, and a per-host concurrency limit ([`HostLimiter`]).
//!
//! Failures are classified where they happen ([`FetchError::is_retryable`]),
//! following the crates.io/lychee habit: the client never retries; the
//! poller schedules the next attempt.

use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::config::FetchConfig;

/// The validators of a stored response, sent back as conditions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag`, sent as `If-None-Match`.
    pub etag: Option<String>,
    /// `Last-Modified`, sent as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

/// What the response said about when to come back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheHints {
    /// `Cache-Control: max-age`.
    pub max_age: Option<Duration>,
    /// `Cache-Control: no-cache` or `no-store`: freshness hints are void.
    pub no_cache: bool,
    /// `Expires`, as a delay from the response's `Date` (or from now).
    pub expires_in: Option<Duration>,
    /// `Retry-After`, as a delay.
    pub retry_after: Option<Duration>,
}

impl CacheHints {
    /// How long the response stays fresh, if it says.
    pub fn freshness(&self) -> Option<Duration> {
        if self.no_cache {
            return None;
        }
        self.max_age.or(self.expires_in)
    }

    fn from_headers(h: &HeaderMap) -> CacheHints {
        let mut hints = CacheHints::default();
        for cc in h.get_all(header::CACHE_CONTROL) {
            let Ok(cc) = cc.to_str() else { continue };
            for directive in cc.split(',') {
                let d = directive.trim().to_ascii_lowercase();
                if d == "no-cache" || d == "no-store" {
                    hints.no_cache = true;
                } else if let Some(v) = d.strip_prefix("max-age=") {
                    hints.max_age = v.trim_matches('"').parse().ok().map(Duration::from_secs);
                }
            }
        }
        let date = header_str(h, header::DATE)
            .and_then(|d| httpdate::parse_http_date(d).ok())
            .unwrap_or_else(SystemTime::now);
        hints.expires_in = header_str(h, header::EXPIRES)
            .and_then(|e| httpdate::parse_http_date(e).ok())
            .map(|e| e.duration_since(date).unwrap_or(Duration::ZERO));
        hints.retry_after = header_str(h, header::RETRY_AFTER).and_then(parse_retry_after);
        hints
    }
}

/// `Retry-After`: delay-seconds or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// A fetched document, or "not modified".
#[derive(Debug, Clone)]
pub enum Fetched {
    /// 200: a new document.
    Modified {
        /// The body, decompressed, at most `max_body_bytes`.
        body: Vec<u8>,
        /// The final URL after redirects (the base for relative links).
        url: Url,
        /// Validators to send next time.
        validators: Validators,
        /// Cache hints.
        hints: CacheHints,
    },
    /// 304: the stored validators still hold.
    NotModified {
        /// Cache hints.
        hints: CacheHints,
    },
}

/// Why a fetch failed, classified as retryable or permanent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Connect, whole-request or between-chunks time limit.
    #[error("timed out ({phase}) fetching {url}")]
    Timeout {
        /// The URL.
        url: String,
        /// `connect`, `request` or `body`.
        phase: &'static str,
    },
    /// DNS, TCP or TLS failure.
    #[error("cannot connect to {url}: {detail}")]
    Connect {
        /// The URL.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The connection failed mid-way.
    #[error("request to {url} failed: {detail}")]
    Transport {
        /// The URL.
        url: String,
        /// What failed.
        detail: String,
    },
    /// A non-success HTTP status.
    #[error("HTTP {status} from {url}{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// The body (after decompression) exceeds the cap.
    #[error("body of {url} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The cap.
        limit: u64,
    },
    /// More redirects than allowed, or a loop.
    #[error("too many redirects (more than {max}) fetching {url}")]
    TooManyRedirects {
        /// The URL.
        url: String,
        /// The limit.
        max: usize,
    },
    /// Undecodable content (bad gzip, unknown content encoding).
    #[error("bad content from {url}: {detail}")]
    BadContent {
        /// The URL.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// A `file://` source could not be read.
    #[error("cannot read {path}: {detail}")]
    File {
        /// The path.
        path: String,
        /// What failed.
        detail: String,
        /// Whether trying again may help (anything but "not found").
        retryable: bool,
    },
    /// Neither http, https nor file.
    #[error("unsupported URL scheme `{0}`")]
    UnsupportedScheme(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl FetchError {
    /// Whether a later attempt may succeed: timeouts, connection failures,
    /// 408, 429 and 5xx. Other 4xx, oversized bodies, redirect loops and bad
    /// content are permanent (the poller still retries them, at the slow end).
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Timeout { .. }
            | FetchError::Connect { .. }
            | FetchError::Transport { .. } => true,
            FetchError::Status { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            FetchError::File { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// The server's `Retry-After`, when it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The metrics label: `retry` or `permanent`.
    pub fn class(&self) -> &'static str {
        if self.is_retryable() {
            "retry"
        } else {
            "permanent"
        }
    }
}

/// Per-host concurrency: `host:port` → a semaphore of `per_host_concurrency` permits.
#[derive(Debug)]
pub struct HostLimiter {
    permits: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimiter {
    /// A limiter allowing `permits` requests in flight per host.
    pub fn new(permits: usize) -> Self {
        HostLimiter {
            permits: permits.max(1),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// The semaphore of `url`'s host (created on first use).
    pub fn semaphore(&self, url: &Url) -> Arc<Semaphore> {
        let key = format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.permits)))
            .clone()
    }

    /// Wait for a permit for `url`'s host.
    pub async fn acquire(&self, url: &Url) -> OwnedSemaphorePermit {
        // The semaphore is never closed, so acquiring cannot fail; fall back
        // to a fresh one rather than panicking if it somehow were.
        match self.semaphore(url).acquire_owned().await {
            Ok(p) => p,
            Err(_) => Arc::new(Semaphore::new(1))
                .try_acquire_owned()
                .unwrap_or_else(|_| unreachable!("a fresh semaphore has a permit")),
        }
    }
}

/// The upstream HTTP/file client.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: u64,
    max_redirects: usize,
    timeout: Duration,
    read_timeout: Duration,
    limiter: Arc<HostLimiter>,
}

impl Fetcher {
    /// Build the client from the `[fetch]` configuration.
    pub fn new(cfg: &FetchConfig) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            .read_timeout(cfg.read_timeout)
            .redirect(reqwest::redirect::Policy::limited(cfg.max_redirects))
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Fetcher {
            client,
            max_body: cfg.max_body_bytes,
            max_redirects: cfg.max_redirects,
            timeout: cfg.timeout,
            read_timeout: cfg.read_timeout,
            limiter: Arc::new(HostLimiter::new(cfg.per_host_concurrency)),
        })
    }

    /// The per-host limiter this fetcher takes permits from.
    pub fn limiter(&self) -> &Arc<HostLimiter> {
        &self.limiter
    }

    /// Fetch `url`, conditionally on `validators`. Takes a per-host permit
    /// for the duration of the request. Never retries.
    pub async fn fetch(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        match url.scheme() {
            "http" | "https" => {
                let _permit = self.limiter.acquire(url).await;
                match tokio::time::timeout(self.timeout, self.fetch_http(url, validators)).await {
                    Ok(r) => r,
                    Err(_) => Err(FetchError::Timeout {
                        url: url.to_string(),
                        phase: "request",
                    }),
                }
            }
            "file" => self.fetch_file(url, validators).await,
            other => Err(FetchError::UnsupportedScheme(other.to_string())),
        }
    }

    async fn fetch_http(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        let u = url.to_string();
        let mut req = self
            .client
            .get(url.clone())
            .header(header::ACCEPT_ENCODING, "gzip, deflate")
            .header(
                header::ACCEPT,
                "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
            );
        if let Some(etag) = validators
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = validators
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            req = req.header(header::IF_MODIFIED_SINCE, lm);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| self.classify(&u, e, "request"))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let hints = CacheHints::from_headers(&headers);
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified { hints });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: u,
                status: status.as_u16(),
                retry_after: hints.retry_after,
            });
        }
        let final_url = resp.url().clone();
        let encoding = header_str(&headers, header::CONTENT_ENCODING)
            .unwrap_or("identity")
            .trim()
            .to_ascii_lowercase();
        let mut sink =
            Sink::new(&encoding, self.max_body).ok_or_else(|| FetchError::BadContent {
                url: u.clone(),
                detail: format!("unsupported Content-Encoding `{encoding}`"),
            })?;
        if encoding == "identity" && resp.content_length().is_some_and(|n| n > self.max_body) {
            return Err(FetchError::TooLarge {
                url: u,
                limit: self.max_body,
            });
        }
        let mut raw_total: u64 = 0;
        let mut stream = resp.bytes_stream();
        loop {
            let next = match tokio::time::timeout(self.read_timeout, stream.next()).await {
                Ok(n) => n,
                Err(_) => {
                    return Err(FetchError::Timeout {
                        url: u,
                        phase: "body",
                    });
                }
            };
            let chunk = match next {
                None => break,
                Some(Ok(c)) => c,
                Some(Err(e)) => return Err(self.classify(&u, e, "body")),
            };
            raw_total += chunk.len() as u64;
            if raw_total > self.max_body {
                return Err(FetchError::TooLarge {
                    url: u,
                    limit: self.max_body,
                });
            }
            sink.write(&chunk)
                .map_err(|e| e.into_fetch(&u, self.max_body))?;
        }
        let body = sink.finish().map_err(|e| e.into_fetch(&u, self.max_body))?;
        let validators = Validators {
            etag: header_str(&headers, header::ETAG).map(str::to_string),
            last_modified: header_str(&headers, header::LAST_MODIFIED).map(str::to_string),
        };
        Ok(Fetched::Modified {
            body,
            url: final_url,
            validators,
            hints,
        })
    }

    fn classify(&self, url: &str, e: reqwest::Error, phase: &'static str) -> FetchError {
        let url = url.to_string();
        if e.is_redirect() {
            FetchError::TooManyRedirects {
                url,
                max: self.max_redirects,
            }
        } else if e.is_timeout() {
            FetchError::Timeout {
                url,
                phase: if e.is_connect() { "connect" } else { phase },
            }
        } else if e.is_connect() {
            FetchError::Connect {
                url,
                detail: error_chain(&e),
            }
        } else {
            FetchError::Transport {
                url,
                detail: error_chain(&e),
            }
        }
    }

    /// A `file://` read: same cap; `Last-Modified` from the file's mtime,
    /// so an unchanged file is "not modified".
    async fn fetch_file(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        use tokio::io::AsyncReadExt;
        let path = url.to_file_path().map_err(|()| FetchError::File {
            path: url.to_string(),
            detail: "not a local file path".into(),
            retryable: false,
        })?;
        let shown = path.display().to_string();
        let io_err = |e: std::io::Error| FetchError::File {
            path: shown.clone(),
            retryable: e.kind() != std::io::ErrorKind::NotFound,
            detail: e.to_string(),
        };
        let file = tokio::fs::File::open(&path).await.map_err(io_err)?;
        let meta = file.metadata().await.map_err(io_err)?;
        if meta.len() > self.max_body {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit: self.max_body,
            });
        }
        // Last-Modified has one-second resolution; the ETag (mtime in
        // nanoseconds and size) also tells apart two writes in one second.
        let modified = meta.modified().ok();
        let last_modified = modified.map(httpdate::fmt_http_date);
        let etag = modified
            .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map(|d| format!("\"{:x}-{:x}\"", d.as_nanos(), meta.len()));
        if etag.is_some() && etag == validators.etag {
            return Ok(Fetched::NotModified {
                hints: CacheHints::default(),
            });
        }
        let mut body = Vec::new();
        file.take(self.max_body + 1)
            .read_to_end(&mut body)
            .await
            .map_err(io_err)?;
        if body.len() as u64 > self.max_body {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit: self.max_body,
            });
        }
        Ok(Fetched::Modified {
            body,
            url: url.clone(),
            validators: Validators {
                etag,
                last_modified,
            },
            hints: CacheHints::default(),
        })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// A `Write` into a buffer that refuses to grow past `cap`.
#[derive(Debug)]
struct Capped {
    buf: Vec<u8>,
    cap: usize,
    exceeded: bool,
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.cap {
            self.exceeded = true;
            return Err(std::io::Error::other("body size limit exceeded"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Why decoding stopped.
#[derive(Debug)]
enum SinkError {
    TooLarge,
    Corrupt(String),
}

impl SinkError {
    fn into_fetch(self, url: &str, limit: u64) -> FetchError {
        match self {
            SinkError::TooLarge => FetchError::TooLarge {
                url: url.to_string(),
                limit,
            },
            SinkError::Corrupt(detail) => FetchError::BadContent {
                url: url.to_string(),
                detail,
            },
        }
    }
}

/// Streaming decompression into a capped buffer: memory stays within the
/// cap plus one chunk (plus the decoder's fixed window).
#[derive(Debug)]
enum Sink {
    Identity(Capped),
    Gzip(flate2::write::MultiGzDecoder<Capped>),
    /// `deflate` should be zlib-wrapped, but some servers send raw deflate;
    /// we decide on the first bytes.
    DeflatePending(Capped),
    Zlib(flate2::write::ZlibDecoder<Capped>),
    Deflate(flate2::write::DeflateDecoder<Capped>),
}

impl Sink {
    fn new(content_encoding: &str, cap: u64) -> Option<Sink> {
        let capped = Capped {
            buf: Vec::new(),
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
            exceeded: false,
        };
        Some(match content_encoding {
            "" | "identity" => Sink::Identity(capped),
            "gzip" | "x-gzip" => Sink::Gzip(flate2::write::MultiGzDecoder::new(capped)),
            "deflate" => Sink::DeflatePending(capped),
            _ => return None,
        })
    }

    fn map_err(e: std::io::Error, exceeded: bool) -> SinkError {
        if exceeded {
            SinkError::TooLarge
        } else {
            SinkError::Corrupt(e.to_string())
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<(), SinkError> {
        if let Sink::DeflatePending(c) = self {
            let capped = std::mem::replace(
                c,
                Capped {
                    buf: Vec::new(),
                    cap: 0,
                    exceeded: false,
                },
            );
            let zlib = match data {
                [a, b, ..] => a & 0x0F == 8 && (u16::from(*a) * 256 + u16::from(*b)) % 31 == 0,
                [a] => *a == 0x78,
                [] => true,
            };
            *self = if zlib {
                Sink::Zlib(flate2::write::ZlibDecoder::new(capped))
            } else {
                Sink::Deflate(flate2::write::DeflateDecoder::new(capped))
            };
        }
        match self {
            Sink::Identity(c) => c.write_all(data).map_err(|_| SinkError::TooLarge),
            Sink::Gzip(d) => d
                .write_all(data)
                .map_err(|e| Self::map_err(e, d.get_ref().exceeded)),
            Sink::Zlib(d) => d
                .write_all(data)
                .map_err(|e| Self::map_err(e, d.get_ref().exceeded)),
            Sink::Deflate(d) => d
                .write_all(data)
                .map_err(|e| Self::map_err(e, d.get_ref().exceeded)),
            Sink::DeflatePending(_) => Ok(()),
        }
    }

    fn finish(self) -> Result<Vec<u8>, SinkError> {
        match self {
            Sink::Identity(c) | Sink::DeflatePending(c) => Ok(c.buf),
            Sink::Gzip(mut d) => match d.try_finish() {
                Ok(()) => d
                    .finish()
                    .map(|c| c.buf)
                    .map_err(|e| SinkError::Corrupt(e.to_string())),
                Err(e) => Err(Self::map_err(e, d.get_ref().exceeded)),
            },
            Sink::Zlib(mut d) => match d.try_finish() {
                Ok(()) => d
                    .finish()
                    .map(|c| c.buf)
                    .map_err(|e| SinkError::Corrupt(e.to_string())),
                Err(e) => Err(Self::map_err(e, d.get_ref().exceeded)),
            },
            Sink::Deflate(mut d) => match d.try_finish() {
                Ok(()) => d
                    .finish()
                    .map(|c| c.buf)
                    .map_err(|e| SinkError::Corrupt(e.to_string())),
                Err(e) => Err(Self::map_err(e, d.get_ref().exceeded)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;

    fn decode_all(
        encoding: &str,
        data: &[u8],
        cap: u64,
        chunk: usize,
    ) -> Result<Vec<u8>, SinkError> {
        let mut s = Sink::new(encoding, cap).unwrap();
        for c in data.chunks(chunk) {
            s.write(c)?;
        }
        s.finish()
    }

    #[test]
    fn gzip_zlib_and_raw_deflate_round_trip() {
        let text = "<rss>وزارة</rss>".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            decode_all("gzip", &gz, 1 << 20, 7).unwrap(),
            text.as_bytes()
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(text.as_bytes()).unwrap();
        assert_eq!(
            decode_all("deflate", &z.finish().unwrap(), 1 << 20, 5).unwrap(),
            text.as_bytes()
        );
        let mut d = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
        d.write_all(text.as_bytes()).unwrap();
        assert_eq!(
            decode_all("deflate", &d.finish().unwrap(), 1 << 20, 5).unwrap(),
            text.as_bytes()
        );
        assert!(Sink::new("br", 10).is_none());
    }

    #[test]
    fn gzip_bomb_stops_at_the_cap() {
        // 64 MiB of zeros compress to ~64 KiB; with a 1 MiB cap decoding
        // must stop early and never hold more than the cap.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 200_000, "{}", bomb.len());
        let mut s = Sink::new("gzip", 1 << 20).unwrap();
        let mut fed = 0;
        let mut failed = false;
        for c in bomb.chunks(8192) {
            fed += c.len();
            if let Err(e) = s.write(c) {
                assert!(matches!(e, SinkError::TooLarge), "{e:?}");
                failed = true;
                break;
            }
        }
        assert!(failed, "the bomb was fully decoded");
        // 1 MiB of output needs about 1 KiB of input at this ratio.
        assert!(fed < 64 * 1024, "fed {fed} bytes before failing");
        if let Sink::Gzip(d) = &s {
            assert!(d.get_ref().buf.len() <= 1 << 20);
        }
    }

    #[test]
    fn corrupt_gzip_is_bad_content() {
        let err = decode_all(
            "gzip",
            b"\x1f\x8b\x08\x00garbage-garbage-garbage",
            1 << 20,
            4,
        )
        .unwrap_err();
        assert!(matches!(err, SinkError::Corrupt(_)), "{err:?}");
    }

    #[test]
    fn identity_cap() {
        assert!(matches!(
            decode_all("identity", &[1; 11], 10, 3),
            Err(SinkError::TooLarge)
        ));
        assert_eq!(decode_all("identity", &[1; 10], 10, 3).unwrap().len(), 10);
    }

    #[test]
    fn cache_hints() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=600"),
        );
        h.insert(
            header::DATE,
            HeaderValue::from_static("Fri, 27 Nov 2026 09:00:00 GMT"),
        );
        h.insert(
            header::EXPIRES,
            HeaderValue::from_static("Fri, 27 Nov 2026 10:00:00 GMT"),
        );
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        let hints = CacheHints::from_headers(&h);
        assert_eq!(hints.max_age, Some(Duration::from_secs(600)));
        assert_eq!(hints.expires_in, Some(Duration::from_secs(3600)));
        assert_eq!(hints.retry_after, Some(Duration::from_secs(120)));
        assert_eq!(hints.freshness(), Some(Duration::from_secs(600)));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        assert_eq!(CacheHints::from_headers(&h).freshness(), None);
        h.remove(header::CACHE_CONTROL);
        assert_eq!(
            CacheHints::from_headers(&h).freshness(),
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after(" 30 "), Some(Duration::from_secs(30)));
        let later = SystemTime::now() + Duration::from_secs(300);
        let d = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(
            d > Duration::from_secs(290) && d <= Duration::from_secs(300),
            "{d:?}"
        );
        assert_eq!(
            parse_retry_after("Fri, 01 Jan 2010 00:00:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn classification() {
        let s = |status| FetchError::Status {
            url: "u".into(),
            status,
            retry_after: Some(Duration::from_secs(9)),
        };
        assert!(s(429).is_retryable());
        assert!(s(408).is_retryable());
        assert!(s(503).is_retryable());
        assert!(!s(404).is_retryable());
        assert!(!s(410).is_retryable());
        assert_eq!(s(429).retry_after(), Some(Duration::from_secs(9)));
        assert!(
            !FetchError::TooLarge {
                url: "u".into(),
                limit: 1
            }
            .is_retryable()
        );
        assert!(
            !FetchError::TooManyRedirects {
                url: "u".into(),
                max: 1
            }
            .is_retryable()
        );
        assert!(
            FetchError::Timeout {
                url: "u".into(),
                phase: "body"
            }
            .is_retryable()
        );
        assert_eq!(s(500).class(), "retry");
        assert_eq!(s(404).class(), "permanent");
    }

    #[tokio::test]
    async fn file_urls_cap_and_validators() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("feed.xml");
        std::fs::write(&p, b"<rss/>").unwrap();
        let url = Url::from_file_path(&p).unwrap();
        let cfg = FetchConfig {
            max_body_bytes: 100,
            ..FetchConfig::default()
        };
        let f = Fetcher::new(&cfg).unwrap();
        let Fetched::Modified {
            body, validators, ..
        } = f.fetch(&url, &Validators::default()).await.unwrap()
        else {
            panic!("expected a body");
        };
        assert_eq!(body, b"<rss/>");
        assert!(validators.last_modified.is_some());
        assert!(validators.etag.is_some());
        assert!(matches!(
            f.fetch(&url, &validators).await.unwrap(),
            Fetched::NotModified { .. }
        ));
        std::fs::write(&p, vec![b'x'; 101]).unwrap();
        assert!(matches!(
            f.fetch(&url, &Validators::default()).await.unwrap_err(),
            FetchError::TooLarge { limit: 100, .. }
        ));
        let missing = Url::from_file_path(dir.path().join("missing.xml")).unwrap();
        let err = f.fetch(&missing, &Validators::default()).await.unwrap_err();
        assert!(
            matches!(
                err,
                FetchError::File {
                    retryable: false,
                    ..
                }
            ),
            "{err:?}"
        );
        let ftp = Url::parse("ftp://example.om/feed").unwrap();
        assert!(matches!(
            f.fetch(&ftp, &Validators::default()).await.unwrap_err(),
            FetchError::UnsupportedScheme(_)
        ));
    }
}
