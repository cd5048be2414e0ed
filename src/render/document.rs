//! One rendered document: its bytes, compressed once, with its validators.

use super::Format;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::Arc;

/// A rendered feed document, ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The document, UTF-8.
    pub body: Bytes,
    /// `body`, gzip-compressed (no file name, mtime 0: deterministic).
    pub gzip: Bytes,
    /// `body`, brotli-compressed.
    pub brotli: Bytes,
    /// Strong entity tag, quoted: the first 128 bits of SHA-256 of `body`
    /// in hex. The same for every `Content-Encoding` of this body; the HTTP
    /// layer weakens it (`W/`) when it serves a compressed variant.
    pub etag: String,
    /// State-derived modification time (see [`super::select::state_time`]).
    pub last_modified: DateTime<Utc>,
    /// `Content-Type` header value.
    pub content_type: &'static str,
}

/// The strong entity tag of `body`.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Brotli quality. 11 compresses a few percent better than 9 at ten times
/// the cost; the benchmark (1,000-item channel) went from ~100 to thousands
/// of items/s with 9, and a render must not hold a worker for seconds.
const BROTLI_QUALITY: u32 = 9;

fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::GzBuilder::new().mtime(0).write(
        Vec::with_capacity(body.len() / 3),
        flate2::Compression::new(6),
    );
    enc.write_all(body)?;
    enc.finish()
}

fn brotli(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() / 3);
    {
        let mut enc = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, 22);
        enc.write_all(body)?;
        enc.flush()?;
    }
    Ok(out)
}

impl Document {
    /// Compress `body` and compute its validators.
    pub fn new(
        body: Vec<u8>,
        last_modified: DateTime<Utc>,
        content_type: &'static str,
    ) -> std::io::Result<Document> {
        let gzip = gzip(&body)?;
        let brotli = brotli(&body)?;
        Ok(Document {
            etag: etag_of(&body),
            body: Bytes::from(body),
            gzip: Bytes::from(gzip),
            brotli: Bytes::from(brotli),
            last_modified,
            content_type,
        })
    }

    /// The previous document itself when nothing changed; its compressed
    /// bytes when only the time changed; else a freshly compressed one.
    pub(crate) fn reuse_or_build(
        previous: Option<&Arc<Document>>,
        body: Vec<u8>,
        last_modified: DateTime<Utc>,
        format: Format,
    ) -> std::io::Result<Arc<Document>> {
        let content_type = format.content_type();
        if let Some(prev) = previous {
            if prev.body.as_ref() == body.as_slice() && prev.content_type == content_type {
                if prev.last_modified == last_modified {
                    return Ok(Arc::clone(prev));
                }
                return Ok(Arc::new(Document {
                    last_modified,
                    ..Document::clone(prev)
                }));
            }
        }
        Document::new(body, last_modified, content_type).map(Arc::new)
    }
}
