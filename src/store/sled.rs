//! The embedded sled backend (the default).
//!
//! Trees:
//! - `meta`: `schema_version` → u32 (big endian).
//! - `news`: item id (16 bytes, UUIDv7) → JSON [`NewsItem`].
//! - `news_by_origin`: `source_id \0 entry_key` → item id; dedupe of upstream entries.
//! - `news_by_published` (v2): published-at millis (i64 BE, sign-flipped) ‖ id → (); the
//!   listing order.
//! - `sources`: source id → JSON [`SourceState`].
//! - `credentials`: account id → JSON [`StoredCredentials`] (rotated tokens).
//! - `outbox`: job id (16 bytes, UUIDv7) → JSON [`Job`].
//! - `outbox_by_item`: item id ‖ job id → (); the jobs of an item.
//! - `accounts`: account id → JSON [`AccountState`].
//! - `yt_uploads`: job id → JSON [`UploadSession`] (resumable YouTube uploads).
//! - `idempotency`: staff idempotency key → item id (created together with the item).
//!
//! All sled calls run on the blocking pool; every write is followed by a
//! flush before the method returns.

use super::{
    CredentialRepo, NewsRepo, OutboxRepo, SCHEMA_VERSION, SourceRepo, Store, StoreError,
    StoredCredentials, Upsert,
};
use crate::model::{ItemId, NewsItem, Origin, SourceState};
use crate::publish::JobId;
use crate::publish::outbox::{AccountState, Job};
use crate::publish::platforms::youtube::{UploadSession, UploadSessions};
use async_trait::async_trait;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::path::Path;
use uuid::Uuid;

const META: &str = "meta";
const NEWS: &str = "news";
const BY_ORIGIN: &str = "news_by_origin";
const BY_PUBLISHED: &str = "news_by_published";
const SOURCES: &str = "sources";
const CREDENTIALS: &str = "credentials";
const OUTBOX: &str = "outbox";
const OUTBOX_BY_ITEM: &str = "outbox_by_item";
const ACCOUNTS: &str = "accounts";
const YT_UPLOADS: &str = "yt_uploads";
const IDEMPOTENCY: &str = "idempotency";
const VERSION_KEY: &[u8] = b"schema_version";

/// The sled store.
#[derive(Clone)]
pub struct SledStore {
    db: sled::Db,
    news: sled::Tree,
    by_origin: sled::Tree,
    by_published: sled::Tree,
    sources: sled::Tree,
    credentials: sled::Tree,
    outbox: sled::Tree,
    outbox_by_item: sled::Tree,
    accounts: sled::Tree,
    yt_uploads: sled::Tree,
    idempotency: sled::Tree,
    version: u32,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore")
            .field("version", &self.version)
            .finish()
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Open the sled database. sled's lock file is released by its background
/// flusher a moment after the last handle drops, so a reopen right after a
/// close (a restart in the same process) waits briefly for it; a lock held
/// by another process still fails, after two seconds.
fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
    let mut waited = 0;
    loop {
        match sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .open()
        {
            Ok(db) => return Ok(db),
            // sled reports the lock as ErrorKind::Other with this text.
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock") && waited < 40 =>
            {
                waited += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => {
                return Err(StoreError::Backend(format!(
                    "cannot open {}: {e}",
                    dir.display()
                )));
            }
        }
    }
}

fn origin_key(source_id: &str, entry_key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(source_id.len() + 1 + entry_key.len());
    k.extend_from_slice(source_id.as_bytes());
    k.push(0);
    k.extend_from_slice(entry_key.as_bytes());
    k
}

fn published_key(item: &NewsItem) -> Vec<u8> {
    // Newest first in key order: flip the sign bit and invert.
    let ms = item.published_at.timestamp_millis();
    let ordered = !((ms as u64) ^ (1 << 63));
    let mut k = ordered.to_be_bytes().to_vec();
    k.extend_from_slice(item.id.0.as_bytes());
    k
}

fn decode_item(bytes: &[u8]) -> Result<NewsItem, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree: NEWS,
        detail: e.to_string(),
    })
}

fn encode<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(backend)
}

fn decode_job(bytes: &[u8]) -> Result<Job, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree: OUTBOX,
        detail: e.to_string(),
    })
}

/// A job ready to write: key, value, index key, expected stored revision.
struct EncodedJob {
    key: Vec<u8>,
    value: Vec<u8>,
    index: Vec<u8>,
    expected: Option<u64>,
}

fn encode_jobs(jobs: &[Job]) -> Result<Vec<EncodedJob>, StoreError> {
    jobs.iter()
        .map(|j| {
            let mut index = j.item_id.0.as_bytes().to_vec();
            index.extend_from_slice(j.id.0.as_bytes());
            Ok(EncodedJob {
                key: j.id.0.as_bytes().to_vec(),
                value: encode(j)?,
                index,
                expected: j.revision.checked_sub(1),
            })
        })
        .collect()
}

/// Inside a transaction: write jobs, checking each one's stored revision.
fn write_jobs_tx(
    outbox: &sled::transaction::TransactionalTree,
    by_item: &sled::transaction::TransactionalTree,
    jobs: &[EncodedJob],
) -> Result<(), ConflictableTransactionError<StoreError>> {
    for j in jobs {
        let current = match outbox.get(&j.key)? {
            Some(v) => Some(
                decode_job(&v)
                    .map_err(ConflictableTransactionError::Abort)?
                    .revision,
            ),
            None => None,
        };
        if current != j.expected {
            return Err(ConflictableTransactionError::Abort(StoreError::Conflict));
        }
        outbox.insert(j.key.as_slice(), j.value.as_slice())?;
        by_item.insert(j.index.as_slice(), &[])?;
    }
    Ok(())
}

impl SledStore {
    /// Open (or create) the store in `dir`, migrating it forward.
    /// A store written by a newer schema is refused.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        let db = open_db(dir)?;
        let meta = db.open_tree(META).map_err(backend)?;
        let found = match meta.get(VERSION_KEY).map_err(backend)? {
            Some(v) => {
                let b: [u8; 4] = v.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                    tree: META,
                    detail: "schema_version is not 4 bytes".into(),
                })?;
                u32::from_be_bytes(b)
            }
            // A store with no version but with data is a v1 store; an empty one is new.
            None if db.open_tree(NEWS).map_err(backend)?.is_empty()
                && db.open_tree(SOURCES).map_err(backend)?.is_empty() =>
            {
                SCHEMA_VERSION
            }
            None => 1,
        };
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: dir.display().to_string(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let store = SledStore {
            news: db.open_tree(NEWS).map_err(backend)?,
            by_origin: db.open_tree(BY_ORIGIN).map_err(backend)?,
            by_published: db.open_tree(BY_PUBLISHED).map_err(backend)?,
            sources: db.open_tree(SOURCES).map_err(backend)?,
            credentials: db.open_tree(CREDENTIALS).map_err(backend)?,
            outbox: db.open_tree(OUTBOX).map_err(backend)?,
            outbox_by_item: db.open_tree(OUTBOX_BY_ITEM).map_err(backend)?,
            accounts: db.open_tree(ACCOUNTS).map_err(backend)?,
            yt_uploads: db.open_tree(YT_UPLOADS).map_err(backend)?,
            idempotency: db.open_tree(IDEMPOTENCY).map_err(backend)?,
            db,
            version: SCHEMA_VERSION,
        };
        let mut v = found;
        while v < SCHEMA_VERSION {
            store.migrate_from(v)?;
            v += 1;
            tracing::info!(schema_version = v, "store migrated");
        }
        meta.insert(VERSION_KEY, &SCHEMA_VERSION.to_be_bytes())
            .map_err(backend)?;
        store.db.flush().map_err(backend)?;
        Ok(store)
    }

    /// Write a bare v1 store marker, for migration tests.
    #[doc(hidden)]
    pub fn force_schema_version(dir: &Path, version: u32) -> Result<(), StoreError> {
        let db = open_db(dir)?;
        db.open_tree(META)
            .map_err(backend)?
            .insert(VERSION_KEY, &version.to_be_bytes())
            .map_err(backend)?;
        db.flush().map_err(backend)?;
        Ok(())
    }

    /// Drop the v2 index, as a v1 store would be, for migration tests.
    #[doc(hidden)]
    pub fn downgrade_to_v1_for_test(dir: &Path) -> Result<(), StoreError> {
        let db = open_db(dir)?;
        db.drop_tree(BY_PUBLISHED).map_err(backend)?;
        db.open_tree(META)
            .map_err(backend)?
            .insert(VERSION_KEY, &1u32.to_be_bytes())
            .map_err(backend)?;
        db.flush().map_err(backend)?;
        Ok(())
    }

    fn migrate_from(&self, v: u32) -> Result<(), StoreError> {
        match v {
            // v1 → v2: build the publication-time index from the items.
            1 => {
                self.by_published.clear().map_err(backend)?;
                for kv in self.news.iter() {
                    let (_, val) = kv.map_err(backend)?;
                    let item = decode_item(&val)?;
                    self.by_published
                        .insert(published_key(&item), &[])
                        .map_err(backend)?;
                }
                Ok(())
            }
            other => Err(StoreError::Backend(format!(
                "no migration from schema version {other}"
            ))),
        }
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(SledStore) -> Result<T, StoreError> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || f(this))
            .await
            .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
    }

    fn sync_flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(backend)
    }

    /// Write an item with its indexes in one transaction. `old` is the
    /// stored version being replaced, if any.
    fn write_item(&self, item: &NewsItem, old: Option<&NewsItem>) -> Result<(), StoreError> {
        self.write_item_with_jobs(item, old, &[])
    }

    fn write_item_with_jobs(
        &self,
        item: &NewsItem,
        old: Option<&NewsItem>,
        jobs: &[Job],
    ) -> Result<(), StoreError> {
        self.write_item_full(item, old, jobs, None)
    }

    /// Write an item, its indexes, outbox jobs and idempotency key in one
    /// transaction. A key used before aborts with [`StoreError::Replayed`].
    fn write_item_full(
        &self,
        item: &NewsItem,
        old: Option<&NewsItem>,
        jobs: &[Job],
        idempotency_key: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let val = encode(item)?;
        let encoded_jobs = encode_jobs(jobs)?;
        let id = item.id.0.as_bytes().to_vec();
        let new_pub = published_key(item);
        let old_pub = old.map(published_key);
        let origin = match &item.origin {
            Origin::Upstream {
                source_id,
                entry_key,
            } => Some(origin_key(source_id, entry_key)),
            Origin::Staff => None,
        };
        let expected_rev = old.map(|o| o.revision);
        let res: Result<(), TransactionError<StoreError>> = (
            &self.news,
            &self.by_published,
            &self.by_origin,
            &self.outbox,
            &self.outbox_by_item,
            &self.idempotency,
        )
            .transaction(|(news, by_pub, by_origin, outbox, by_item, idem)| {
                if let Some(k) = idempotency_key {
                    if let Some(prev) = idem.get(k)? {
                        let prev = Uuid::from_slice(&prev).map_err(|e| {
                            ConflictableTransactionError::Abort(StoreError::Corrupt {
                                tree: IDEMPOTENCY,
                                detail: e.to_string(),
                            })
                        })?;
                        return Err(ConflictableTransactionError::Abort(StoreError::Replayed(
                            ItemId(prev),
                        )));
                    }
                    idem.insert(k, id.as_slice())?;
                }
                // Optimistic concurrency: the stored revision must be the
                // one the caller read (or absent for a new item).
                let current_rev = match news.get(&id)? {
                    Some(v) => Some(
                        decode_item(&v)
                            .map_err(ConflictableTransactionError::Abort)?
                            .revision,
                    ),
                    None => None,
                };
                if current_rev != expected_rev {
                    return Err(ConflictableTransactionError::Abort(StoreError::Conflict));
                }
                news.insert(id.as_slice(), val.as_slice())?;
                if let Some(op) = &old_pub {
                    by_pub.remove(op.as_slice())?;
                }
                by_pub.insert(new_pub.as_slice(), &[])?;
                if let Some(ok) = &origin {
                    by_origin.insert(ok.as_slice(), id.as_slice())?;
                }
                write_jobs_tx(outbox, by_item, &encoded_jobs)?;
                Ok(())
            });
        match res {
            Ok(()) => self.sync_flush(),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(backend(e)),
        }
    }

    fn put_jobs_sync(&self, jobs: &[Job]) -> Result<(), StoreError> {
        let encoded = encode_jobs(jobs)?;
        let res: Result<(), TransactionError<StoreError>> = (&self.outbox, &self.outbox_by_item)
            .transaction(|(outbox, by_item)| write_jobs_tx(outbox, by_item, &encoded));
        match res {
            Ok(()) => self.sync_flush(),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(backend(e)),
        }
    }

    fn get_job_sync(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        self.outbox
            .get(id.0.as_bytes())
            .map_err(backend)?
            .map(|v| decode_job(&v))
            .transpose()
    }

    fn get_sync(&self, id: ItemId) -> Result<Option<NewsItem>, StoreError> {
        self.news
            .get(id.0.as_bytes())
            .map_err(backend)?
            .map(|v| decode_item(&v))
            .transpose()
    }
}

#[async_trait]
impl NewsRepo for SledStore {
    async fn insert_news(&self, item: &NewsItem) -> Result<(), StoreError> {
        let item = item.clone();
        self.blocking(move |s| s.write_item(&item, None)).await
    }

    async fn update_news(&self, item: &NewsItem) -> Result<(), StoreError> {
        let item = item.clone();
        self.blocking(move |s| {
            let old = s.get_sync(item.id)?.ok_or(StoreError::NotFound)?;
            if old.revision + 1 != item.revision {
                return Err(StoreError::Conflict);
            }
            s.write_item(&item, Some(&old))
        })
        .await
    }

    async fn get_news(&self, id: ItemId) -> Result<Option<NewsItem>, StoreError> {
        self.blocking(move |s| s.get_sync(id)).await
    }

    async fn all_news(&self) -> Result<Vec<NewsItem>, StoreError> {
        self.blocking(|s| {
            let mut out = Vec::with_capacity(s.by_published.len());
            for kv in s.by_published.iter() {
                let (k, _) = kv.map_err(backend)?;
                let id = Uuid::from_slice(&k[8..]).map_err(|e| StoreError::Corrupt {
                    tree: BY_PUBLISHED,
                    detail: e.to_string(),
                })?;
                if let Some(item) = s.get_sync(ItemId(id))? {
                    out.push(item);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn insert_news_with_jobs(&self, item: &NewsItem, jobs: &[Job]) -> Result<(), StoreError> {
        let item = item.clone();
        let jobs = jobs.to_vec();
        self.blocking(move |s| s.write_item_with_jobs(&item, None, &jobs))
            .await
    }

    async fn create_news(
        &self,
        item: &NewsItem,
        jobs: &[Job],
        idempotency_key: &str,
    ) -> Result<Option<NewsItem>, StoreError> {
        let item = item.clone();
        let jobs = jobs.to_vec();
        let key = idempotency_key.as_bytes().to_vec();
        self.blocking(
            move |s| match s.write_item_full(&item, None, &jobs, Some(&key)) {
                Ok(()) => Ok(None),
                Err(StoreError::Replayed(id)) => s.get_sync(id),
                Err(e) => Err(e),
            },
        )
        .await
    }

    async fn update_news_with_jobs(&self, item: &NewsItem, jobs: &[Job]) -> Result<(), StoreError> {
        let item = item.clone();
        let jobs = jobs.to_vec();
        self.blocking(move |s| {
            let old = s.get_sync(item.id)?.ok_or(StoreError::NotFound)?;
            if old.revision + 1 != item.revision {
                return Err(StoreError::Conflict);
            }
            s.write_item_with_jobs(&item, Some(&old), &jobs)
        })
        .await
    }

    async fn upsert_upstream(
        &self,
        item: NewsItem,
        jobs: Vec<Job>,
    ) -> Result<(Upsert, NewsItem), StoreError> {
        self.blocking(move |s| {
            let Origin::Upstream {
                source_id,
                entry_key,
            } = &item.origin
            else {
                return Err(StoreError::Backend(
                    "upsert_upstream needs an upstream item".into(),
                ));
            };
            let key = origin_key(source_id, entry_key);
            // Retry on a concurrent change; the loop ends because each
            // iteration observes the latest stored value.
            for _ in 0..8 {
                let existing = match s.by_origin.get(&key).map_err(backend)? {
                    Some(idb) => {
                        let id = Uuid::from_slice(&idb).map_err(|e| StoreError::Corrupt {
                            tree: BY_ORIGIN,
                            detail: e.to_string(),
                        })?;
                        s.get_sync(ItemId(id))?
                    }
                    None => None,
                };
                let result = match &existing {
                    None => s
                        .write_item_with_jobs(&item, None, &jobs)
                        .map(|()| (Upsert::Inserted, item.clone())),
                    Some(old) if old.content_hash == item.content_hash => {
                        return Ok((Upsert::Unchanged, old.clone()));
                    }
                    Some(old) => {
                        let mut new = item.clone();
                        // The poller stamps `created_at` with the poll time.
                        new.modified_at = Some(item.created_at);
                        new.id = old.id;
                        new.created_at = old.created_at;
                        new.revision = old.revision + 1;
                        new.retracted_at = old.retracted_at;
                        s.write_item(&new, Some(old))
                            .map(|()| (Upsert::Updated, new))
                    }
                };
                match result {
                    Err(StoreError::Conflict) => continue,
                    other => return other,
                }
            }
            Err(StoreError::Conflict)
        })
        .await
    }
}

#[async_trait]
impl SourceRepo for SledStore {
    async fn source_state(&self, id: &str) -> Result<Option<SourceState>, StoreError> {
        let id = id.to_string();
        self.blocking(move |s| {
            s.sources
                .get(id.as_bytes())
                .map_err(backend)?
                .map(|v| {
                    serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                        tree: SOURCES,
                        detail: e.to_string(),
                    })
                })
                .transpose()
        })
        .await
    }

    async fn put_source_state(&self, state: &SourceState) -> Result<(), StoreError> {
        let val = encode(state)?;
        let id = state.id.clone();
        self.blocking(move |s| {
            s.sources.insert(id.as_bytes(), val).map_err(backend)?;
            s.sync_flush()
        })
        .await
    }

    async fn all_source_states(&self) -> Result<Vec<SourceState>, StoreError> {
        self.blocking(|s| {
            s.sources
                .iter()
                .map(|kv| {
                    let (_, v) = kv.map_err(backend)?;
                    serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                        tree: SOURCES,
                        detail: e.to_string(),
                    })
                })
                .collect()
        })
        .await
    }
}

#[async_trait]
impl OutboxRepo for SledStore {
    async fn get_job(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        self.blocking(move |s| s.get_job_sync(id)).await
    }

    async fn jobs_for_item(&self, item: ItemId) -> Result<Vec<Job>, StoreError> {
        self.blocking(move |s| {
            let mut out = Vec::new();
            for kv in s.outbox_by_item.scan_prefix(item.0.as_bytes()) {
                let (k, _) = kv.map_err(backend)?;
                let id = Uuid::from_slice(&k[16..]).map_err(|e| StoreError::Corrupt {
                    tree: OUTBOX_BY_ITEM,
                    detail: e.to_string(),
                })?;
                if let Some(j) = s.get_job_sync(JobId(id))? {
                    out.push(j);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn all_jobs(&self) -> Result<Vec<Job>, StoreError> {
        self.blocking(|s| {
            s.outbox
                .iter()
                .map(|kv| {
                    let (_, v) = kv.map_err(backend)?;
                    decode_job(&v)
                })
                .collect()
        })
        .await
    }

    async fn put_jobs(&self, jobs: &[Job]) -> Result<(), StoreError> {
        let jobs = jobs.to_vec();
        self.blocking(move |s| s.put_jobs_sync(&jobs)).await
    }

    async fn account_state(&self, id: &str) -> Result<Option<AccountState>, StoreError> {
        let id = id.to_string();
        self.blocking(move |s| {
            s.accounts
                .get(id.as_bytes())
                .map_err(backend)?
                .map(|v| {
                    serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                        tree: ACCOUNTS,
                        detail: e.to_string(),
                    })
                })
                .transpose()
        })
        .await
    }

    async fn put_account_state(&self, state: &AccountState) -> Result<(), StoreError> {
        let val = encode(state)?;
        let id = state.id.clone();
        self.blocking(move |s| {
            s.accounts.insert(id.as_bytes(), val).map_err(backend)?;
            s.sync_flush()
        })
        .await
    }
}

#[async_trait]
impl UploadSessions for SledStore {
    async fn get_upload(&self, job: JobId) -> Result<Option<UploadSession>, StoreError> {
        self.blocking(move |s| {
            s.yt_uploads
                .get(job.0.as_bytes())
                .map_err(backend)?
                .map(|v| {
                    serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                        tree: YT_UPLOADS,
                        detail: e.to_string(),
                    })
                })
                .transpose()
        })
        .await
    }

    async fn put_upload(&self, job: JobId, session: &UploadSession) -> Result<(), StoreError> {
        let val = encode(session)?;
        self.blocking(move |s| {
            s.yt_uploads
                .insert(job.0.as_bytes(), val)
                .map_err(backend)?;
            s.sync_flush()
        })
        .await
    }

    async fn remove_upload(&self, job: JobId) -> Result<(), StoreError> {
        self.blocking(move |s| {
            s.yt_uploads.remove(job.0.as_bytes()).map_err(backend)?;
            s.sync_flush()
        })
        .await
    }
}

#[async_trait]
impl CredentialRepo for SledStore {
    async fn credentials(&self, account_id: &str) -> Result<Option<StoredCredentials>, StoreError> {
        let id = account_id.to_string();
        self.blocking(move |s| {
            s.credentials
                .get(id.as_bytes())
                .map_err(backend)?
                .map(|v| {
                    serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                        tree: CREDENTIALS,
                        detail: e.to_string(),
                    })
                })
                .transpose()
        })
        .await
    }

    async fn put_credentials(
        &self,
        account_id: &str,
        creds: &StoredCredentials,
    ) -> Result<(), StoreError> {
        let val = encode(creds)?;
        let id = account_id.to_string();
        self.blocking(move |s| {
            s.credentials.insert(id.as_bytes(), val).map_err(backend)?;
            s.sync_flush()
        })
        .await
    }
}

#[async_trait]
impl Store for SledStore {
    async fn flush(&self) -> Result<(), StoreError> {
        self.blocking(|s| s.sync_flush()).await
    }

    fn schema_version(&self) -> u32 {
        self.version
    }
}
