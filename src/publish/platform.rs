//! The contract between the outbox and a social platform: what to post
//! ([`Outgoing`]), what came back ([`Posted`]), how a failure is classified
//! ([`DeliveryError`]) and the [`Publisher`] trait every platform implements
//! the same way (`platforms/<name>/{mod,config,client,auth,wire,fake}.rs`).
//!
//! Clients never retry and never sleep: they classify each failure where it
//! happens, and the outbox worker decides what to do (wait for a reset,
//! back off, reconcile, refresh credentials once, park the account, give up).

use crate::model::{ItemId, Lang, Media};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// A social platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// X (Twitter), API v2.
    X,
    /// A Facebook Page, Graph API.
    Facebook,
    /// A YouTube channel, Data API v3.
    Youtube,
}

impl Platform {
    /// Lowercase name, as in config and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Platform::X => "x",
            Platform::Facebook => "facebook",
            Platform::Youtube => "youtube",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Identifier of an outbox job (UUIDv7: time-ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub Uuid);

impl JobId {
    /// A fresh id.
    pub fn new() -> Self {
        JobId(Uuid::now_v7())
    }
}

impl Default for JobId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for JobId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(JobId)
    }
}

/// One news item composed for one account, in the account's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    /// The outbox job.
    pub job_id: JobId,
    /// The news item.
    pub item_id: ItemId,
    /// The account's language.
    pub lang: Lang,
    /// Title, plain text.
    pub title: String,
    /// Body as plain text (tags stripped), possibly empty.
    pub summary: String,
    /// The item's public link. Every post carries it, and reconciliation
    /// looks for it among the account's recent posts.
    pub link: String,
    /// Hashtags without `#`, from the account's config and the item.
    pub hashtags: Vec<String>,
    /// First image attachment.
    pub image: Option<Media>,
    /// First video attachment.
    pub video: Option<Media>,
    /// When the job was created: reconciliation looks at posts since then.
    pub since: DateTime<Utc>,
}

/// What the platform acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posted {
    /// The platform's id of the post (tweet id, page post id, video id).
    pub id: String,
    /// A public URL of the post.
    pub url: String,
}

/// What would be sent, for `musharaka preview` and the worker's logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    /// The post text (X text, Facebook message, YouTube description).
    pub text: String,
    /// A title, where the platform has one (YouTube).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The platform's measure of `text` (X weighted length, characters, bytes).
    pub length: usize,
    /// The platform's limit for that measure.
    pub limit: usize,
}

/// A failed platform call, classified where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum DeliveryError {
    /// Rate limited (429, rate-limit headers, short-term limits): nothing was
    /// done; wait until `until` before calling this account again.
    #[error("rate limited until {until}: {detail}")]
    RateLimited {
        /// When the limit resets.
        until: DateTime<Utc>,
        /// Platform's words.
        detail: String,
    },
    /// Daily quota spent (YouTube): nothing was done; wait until it resets.
    #[error("quota exhausted until {until}: {detail}")]
    QuotaExhausted {
        /// When the quota resets.
        until: DateTime<Utc>,
        /// Platform's words.
        detail: String,
    },
    /// Certainly not acted on, and worth retrying with backoff (the
    /// connection could not be made, the request was never sent).
    #[error("transient failure: {detail}")]
    Transient {
        /// What happened.
        detail: String,
    },
    /// Maybe acted on: a timeout after sending, a connection reset, a 5xx.
    /// The worker reconciles (looks the post up) before any retry.
    #[error("outcome unknown: {detail}")]
    Unknown {
        /// What happened.
        detail: String,
    },
    /// The access token expired or was revoked: refresh once, then retry.
    #[error("access token rejected: {detail}")]
    AuthExpired {
        /// Platform's words.
        detail: String,
    },
    /// Credentials cannot be refreshed: park the account until staff
    /// re-authorize it; no retries meanwhile.
    #[error("re-authorization needed: {detail}")]
    Reauthorize {
        /// Platform's words.
        detail: String,
    },
    /// The platform refuses the post as a duplicate of an earlier one: the
    /// earlier attempt may have succeeded; reconcile, else give up.
    #[error("duplicate content: {detail}")]
    Duplicate {
        /// Platform's words.
        detail: String,
    },
    /// Never retry (other 4xx, content rejected, not found).
    #[error("permanent failure: {detail}")]
    Permanent {
        /// Platform's words.
        detail: String,
    },
}

impl DeliveryError {
    /// Short class name, for metrics and the API.
    pub fn class(&self) -> &'static str {
        match self {
            DeliveryError::RateLimited { .. } => "rate_limited",
            DeliveryError::QuotaExhausted { .. } => "quota_exhausted",
            DeliveryError::Transient { .. } => "transient",
            DeliveryError::Unknown { .. } => "unknown",
            DeliveryError::AuthExpired { .. } => "auth_expired",
            DeliveryError::Reauthorize { .. } => "reauthorize",
            DeliveryError::Duplicate { .. } => "duplicate",
            DeliveryError::Permanent { .. } => "permanent",
        }
    }
}

/// One configured social account on one platform.
#[async_trait]
pub trait Publisher: Send + Sync + fmt::Debug {
    /// The account's configured id.
    fn account_id(&self) -> &str;
    /// Its platform.
    fn platform(&self) -> Platform;
    /// `Some(reason)` when this account cannot carry the item at all
    /// (YouTube without a video); the job is then skipped with the reason.
    fn skip_reason(&self, post: &Outgoing) -> Option<String>;
    /// The text (and title) that [`Publisher::publish`] would send.
    fn render(&self, post: &Outgoing) -> Result<Rendered, DeliveryError>;
    /// Post it. `Ok` only when the platform acknowledged the post.
    async fn publish(&self, post: &Outgoing) -> Result<Posted, DeliveryError>;
    /// Look for this post among the account's posts since `post.since`,
    /// matching on `post.link` (and the rendered text where useful).
    async fn find(&self, post: &Outgoing) -> Result<Option<Posted>, DeliveryError>;
    /// Delete a post this account made.
    async fn delete(&self, post_id: &str) -> Result<(), DeliveryError>;
    /// Refresh the credentials (one refresher at a time), storing any new
    /// token durably *before* it is used. `Reauthorize` when refused.
    async fn refresh_auth(&self) -> Result<(), DeliveryError>;
}
