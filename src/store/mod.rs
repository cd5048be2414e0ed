//! The store: every durable fact of the daemon behind narrow async traits.
//!
//! Owns: persistence of news items, upstream source state and the schema
//! version, with the guarantee that a method that returns `Ok` has flushed its
//! write to disk ("durable before acknowledged"). The embedded sled backend
//! lives in [`sled`]; a PostgreSQL backend implements the same traits.
//! Does not own: what the data means (model) or when it is written (callers).

pub mod sled;

use crate::model::{ItemId, NewsItem, SourceState};
use crate::publish::JobId;
use crate::publish::outbox::{AccountState, Job};
use async_trait::async_trait;
use std::sync::Arc;

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 2;

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The on-disk store was written by a newer release.
    #[error(
        "the store at {path} has schema version {found}, newer than the {supported} this build understands; run a newer musharaka or restore a backup"
    )]
    TooNew {
        /// Store path.
        path: String,
        /// Version found.
        found: u32,
        /// Version supported.
        supported: u32,
    },
    /// The backend failed (I/O, corruption).
    #[error("store backend: {0}")]
    Backend(String),
    /// A stored record could not be decoded.
    #[error("corrupt record in {tree}: {detail}")]
    Corrupt {
        /// Which tree.
        tree: &'static str,
        /// What failed.
        detail: String,
    },
    /// The item does not exist.
    #[error("not found")]
    NotFound,
    /// A concurrent writer changed the record first.
    #[error("conflict: the record changed concurrently")]
    Conflict,
    /// The idempotency key was used before, for this item.
    #[error("idempotency key already used for item {0}")]
    Replayed(ItemId),
}

/// What an upstream upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// A new item was stored.
    Inserted,
    /// An existing item changed and was updated in place.
    Updated,
    /// The entry was already stored unchanged.
    Unchanged,
}

/// News items.
#[async_trait]
pub trait NewsRepo: Send + Sync {
    /// Store a new item (durably).
    async fn insert_news(&self, item: &NewsItem) -> Result<(), StoreError>;
    /// Replace an item whose revision is `item.revision - 1` (durably).
    async fn update_news(&self, item: &NewsItem) -> Result<(), StoreError>;
    /// One item, retracted ones included.
    async fn get_news(&self, id: ItemId) -> Result<Option<NewsItem>, StoreError>;
    /// Every item, retracted ones included, newest publication first.
    async fn all_news(&self) -> Result<Vec<NewsItem>, StoreError>;
    /// Insert or update an upstream entry, keyed by (source, entry key):
    /// stored once across polls, updated in place when its content hash
    /// changed. The `id`, `created_at` and `revision` of an existing item are kept.
    /// `jobs` (outbox jobs for `item.id`) are written in the same
    /// transaction when the entry is new, and dropped otherwise.
    async fn upsert_upstream(
        &self,
        item: NewsItem,
        jobs: Vec<Job>,
    ) -> Result<(Upsert, NewsItem), StoreError>;
    /// Store a new item with its outbox jobs, in one transaction.
    async fn insert_news_with_jobs(&self, item: &NewsItem, jobs: &[Job]) -> Result<(), StoreError>;
    /// Like [`NewsRepo::insert_news_with_jobs`], under an idempotency key:
    /// when the key was used before, nothing is written and the item created
    /// then is returned (`Some`); `None` means this call created `item`.
    async fn create_news(
        &self,
        item: &NewsItem,
        jobs: &[Job],
        idempotency_key: &str,
    ) -> Result<Option<NewsItem>, StoreError>;
    /// Replace an item (as [`NewsRepo::update_news`]) and write `jobs` (new
    /// ones, or changes of stored ones at their next revision) in one transaction.
    async fn update_news_with_jobs(&self, item: &NewsItem, jobs: &[Job]) -> Result<(), StoreError>;
}

/// Upstream source state.
#[async_trait]
pub trait SourceRepo: Send + Sync {
    /// The state of one source.
    async fn source_state(&self, id: &str) -> Result<Option<SourceState>, StoreError>;
    /// Save the state of one source (durably).
    async fn put_source_state(&self, state: &SourceState) -> Result<(), StoreError>;
    /// Every source's state.
    async fn all_source_states(&self) -> Result<Vec<SourceState>, StoreError>;
}

/// Outbox jobs and account state.
#[async_trait]
pub trait OutboxRepo: Send + Sync {
    /// One job.
    async fn get_job(&self, id: JobId) -> Result<Option<Job>, StoreError>;
    /// The jobs of one item, oldest first.
    async fn jobs_for_item(&self, item: ItemId) -> Result<Vec<Job>, StoreError>;
    /// Every job, oldest first.
    async fn all_jobs(&self) -> Result<Vec<Job>, StoreError>;
    /// Write jobs in one transaction (durably): a job with revision 0 must
    /// be new; any other must replace the stored revision - 1.
    async fn put_jobs(&self, jobs: &[Job]) -> Result<(), StoreError>;
    /// The state of one account.
    async fn account_state(&self, id: &str) -> Result<Option<AccountState>, StoreError>;
    /// Save an account's state (durably).
    async fn put_account_state(&self, state: &AccountState) -> Result<(), StoreError>;
}

/// Platform credentials that change at run time (rotated refresh tokens,
/// access tokens and their expiry), per account.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredCredentials {
    /// Current access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// When it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Current refresh token (X rotates it on every refresh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// A fingerprint of the configured initial refresh token: when staff
    /// configure a new one (re-authorization), it wins over the stored one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
    /// When this record was written.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Durable credentials per account.
#[async_trait]
pub trait CredentialRepo: Send + Sync {
    /// The stored credentials of an account.
    async fn credentials(&self, account_id: &str) -> Result<Option<StoredCredentials>, StoreError>;
    /// Store credentials (durably: flushed before returning).
    async fn put_credentials(
        &self,
        account_id: &str,
        creds: &StoredCredentials,
    ) -> Result<(), StoreError>;
}

/// Everything the daemon stores.
#[async_trait]
pub trait Store:
    NewsRepo
    + SourceRepo
    + CredentialRepo
    + OutboxRepo
    + crate::publish::platforms::youtube::UploadSessions
    + std::fmt::Debug
{
    /// Flush everything to disk.
    async fn flush(&self) -> Result<(), StoreError>;
    /// Schema version on disk.
    fn schema_version(&self) -> u32;
}

/// A shared handle to the store.
pub type DynStore = Arc<dyn Store>;
