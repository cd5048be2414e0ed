//! Checkpoints move only after what they cover is flushed: when storing an
//! upstream entry fails mid-poll, the source's validators (ETag,
//! Last-Modified) must not move, so the next poll fetches the document again
//! instead of getting a 304 for entries that were never stored.

use async_trait::async_trait;
use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use musharaka::config::{FetchConfig, Source};
use musharaka::model::{ItemId, NewsItem, SourceState};
use musharaka::publish::JobId;
use musharaka::publish::outbox::{AccountState, Job};
use musharaka::publish::platforms::youtube::{UploadSession, UploadSessions};
use musharaka::sources::upstream::poll::{PollOutcome, Poller};
use musharaka::store::sled::SledStore;
use musharaka::store::{
    CredentialRepo, NewsRepo, OutboxRepo, SourceRepo, Store, StoreError, StoredCredentials, Upsert,
};
use musharaka::telemetry::Metrics;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// The real store, except that the n-th upstream upsert fails.
#[derive(Debug)]
struct Failing {
    inner: SledStore,
    upserts: AtomicUsize,
    fail_at: usize,
}

#[async_trait]
impl NewsRepo for Failing {
    async fn insert_news(&self, i: &NewsItem) -> Result<(), StoreError> {
        self.inner.insert_news(i).await
    }
    async fn update_news(&self, i: &NewsItem) -> Result<(), StoreError> {
        self.inner.update_news(i).await
    }
    async fn get_news(&self, id: ItemId) -> Result<Option<NewsItem>, StoreError> {
        self.inner.get_news(id).await
    }
    async fn all_news(&self) -> Result<Vec<NewsItem>, StoreError> {
        self.inner.all_news().await
    }
    async fn upsert_upstream(
        &self,
        i: NewsItem,
        j: Vec<Job>,
    ) -> Result<(Upsert, NewsItem), StoreError> {
        if self.upserts.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Err(StoreError::Backend("disk full (injected)".into()));
        }
        self.inner.upsert_upstream(i, j).await
    }
    async fn insert_news_with_jobs(&self, i: &NewsItem, j: &[Job]) -> Result<(), StoreError> {
        self.inner.insert_news_with_jobs(i, j).await
    }
    async fn create_news(
        &self,
        i: &NewsItem,
        j: &[Job],
        k: &str,
    ) -> Result<Option<NewsItem>, StoreError> {
        self.inner.create_news(i, j, k).await
    }
    async fn update_news_with_jobs(&self, i: &NewsItem, j: &[Job]) -> Result<(), StoreError> {
        self.inner.update_news_with_jobs(i, j).await
    }
}

#[async_trait]
impl SourceRepo for Failing {
    async fn source_state(&self, id: &str) -> Result<Option<SourceState>, StoreError> {
        self.inner.source_state(id).await
    }
    async fn put_source_state(&self, s: &SourceState) -> Result<(), StoreError> {
        self.inner.put_source_state(s).await
    }
    async fn all_source_states(&self) -> Result<Vec<SourceState>, StoreError> {
        self.inner.all_source_states().await
    }
}

#[async_trait]
impl CredentialRepo for Failing {
    async fn credentials(&self, a: &str) -> Result<Option<StoredCredentials>, StoreError> {
        self.inner.credentials(a).await
    }
    async fn put_credentials(&self, a: &str, c: &StoredCredentials) -> Result<(), StoreError> {
        self.inner.put_credentials(a, c).await
    }
}

#[async_trait]
impl OutboxRepo for Failing {
    async fn get_job(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        self.inner.get_job(id).await
    }
    async fn jobs_for_item(&self, i: ItemId) -> Result<Vec<Job>, StoreError> {
        self.inner.jobs_for_item(i).await
    }
    async fn all_jobs(&self) -> Result<Vec<Job>, StoreError> {
        self.inner.all_jobs().await
    }
    async fn put_jobs(&self, j: &[Job]) -> Result<(), StoreError> {
        self.inner.put_jobs(j).await
    }
    async fn account_state(&self, id: &str) -> Result<Option<AccountState>, StoreError> {
        self.inner.account_state(id).await
    }
    async fn put_account_state(&self, s: &AccountState) -> Result<(), StoreError> {
        self.inner.put_account_state(s).await
    }
}

#[async_trait]
impl UploadSessions for Failing {
    async fn get_upload(&self, j: JobId) -> Result<Option<UploadSession>, StoreError> {
        self.inner.get_upload(j).await
    }
    async fn put_upload(&self, j: JobId, s: &UploadSession) -> Result<(), StoreError> {
        self.inner.put_upload(j, s).await
    }
    async fn remove_upload(&self, j: JobId) -> Result<(), StoreError> {
        self.inner.remove_upload(j).await
    }
}

#[async_trait]
impl Store for Failing {
    async fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush().await
    }
    fn schema_version(&self) -> u32 {
        self.inner.schema_version()
    }
}

const MOH: &str = include_str!("../fixtures/upstream/moh-ar.rss");

#[tokio::test]
async fn validators_do_not_move_when_an_entry_could_not_be_stored() {
    let app = Router::new().route(
        "/feed",
        get(|h: HeaderMap| async move {
            if h.get(header::IF_NONE_MATCH).is_some_and(|v| v == "\"v1\"") {
                return StatusCode::NOT_MODIFIED.into_response();
            }
            ([(header::ETAG, "\"v1\"")], MOH).into_response()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Failing {
        inner: SledStore::open(dir.path()).unwrap(),
        upserts: AtomicUsize::new(0),
        fail_at: 2,
    });
    let source = Source {
        id: "moh".into(),
        url: format!("http://{addr}/feed").parse().unwrap(),
        schedule: "0 */15 * * * *".parse().unwrap(),
        schedule_text: "0 */15 * * * *".into(),
        language: None,
        categories: vec![],
        utc_offset: 0,
        name: None,
        cross_post: false,
        enabled: true,
        file: "moh.toml".into(),
    };
    let cfg = FetchConfig {
        timeout: Duration::from_secs(5),
        ..FetchConfig::default()
    };
    let poller = Poller::new(
        vec![source],
        &cfg,
        store.clone(),
        Arc::new(Metrics::new()),
        Arc::new(Notify::new()),
    )
    .unwrap();

    // First poll: the second of three entries fails to store.
    let r = poller.poll_once("moh").await.unwrap();
    assert!(
        matches!(
            r.outcome,
            PollOutcome::Failed {
                retryable: true,
                ..
            }
        ),
        "{r:?}"
    );
    let state = store.source_state("moh").await.unwrap().unwrap();
    assert_eq!(
        state.etag, None,
        "the checkpoint moved past unstored entries"
    );
    assert_eq!(store.all_news().await.unwrap().len(), 1);

    // Next poll: fetched again in full (no If-None-Match), everything stored.
    let r = poller.poll_once("moh").await.unwrap();
    assert_eq!(r.outcome, PollOutcome::Fetched, "{r:?}");
    assert_eq!(store.all_news().await.unwrap().len(), 3);
    let state = store.source_state("moh").await.unwrap().unwrap();
    assert_eq!(state.etag.as_deref(), Some("\"v1\""));
}
