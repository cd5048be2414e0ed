//! The YouTube publisher against [`FakeYoutube`] on 127.0.0.1, with the real
//! sled store holding the credentials: chunked and resumed uploads (within
//! one call and across a restart), reconciliation, quota, token expiry and
//! revocation, and that no secret leaks into an error.

use chrono::{Duration, Timelike, Utc};
use musharaka::config::{Account, PublishConfig};
use musharaka::model::{ItemId, Lang, Media, MediaKind};
use musharaka::publish::fake::{Fault, Target};
use musharaka::publish::platforms::BuildContext;
use musharaka::publish::platforms::youtube::{
    self, FakeYoutube, MAX_RESUMES, MemoryUploadSessions, UploadSessions, YoutubePublisher,
};
use musharaka::publish::{DeliveryError, JobId, Outgoing, Platform, Publisher};
use musharaka::store::CredentialRepo;
use musharaka::store::sled::SledStore;
use std::sync::Arc;
use tempfile::TempDir;

struct Env {
    fake: FakeYoutube,
    dir: TempDir,
    store: Arc<SledStore>,
    sessions: Arc<MemoryUploadSessions>,
    account: Account,
}

const LINK: &str = "https://portal.example/ar/news/2026/05/registration";

async fn env() -> Env {
    let fake = FakeYoutube::start().await.unwrap();
    let dir = TempDir::new().unwrap();
    let store = Arc::new(SledStore::open(&dir.path().join("store")).unwrap());
    let account = Account {
        id: "yt-ar".into(),
        platform: Platform::Youtube,
        lang: Lang::Ar,
        base_url: Some(fake.base_url()),
        template: None,
        hashtags: vec!["عمان".into()],
        delete_on_retract: true,
        enabled: true,
        settings: fake.settings(dir.path()),
    };
    Env {
        fake,
        dir,
        store,
        sessions: Arc::new(MemoryUploadSessions::new()),
        account,
    }
}

impl Env {
    /// A publisher as `build` makes it (a new one = a restarted daemon).
    fn publisher(&self) -> YoutubePublisher {
        let ctx = BuildContext {
            config_dir: self.dir.path().to_path_buf(),
            credentials: self.store.clone(),
            publish: PublishConfig::default(),
        };
        youtube::publisher(&self.account, &ctx, self.sessions.clone()).unwrap()
    }

    fn post(&self, video: Option<Vec<u8>>) -> Outgoing {
        Outgoing {
            job_id: JobId::new(),
            item_id: ItemId::new(),
            lang: Lang::Ar,
            title: "بدء التسجيل في الخدمات الإلكترونية".into(),
            summary: "تعلن البوابة عن بدء التسجيل.".into(),
            link: LINK.into(),
            hashtags: vec!["خدمات".into()],
            image: None,
            video: video.map(|bytes| Media {
                kind: MediaKind::Video,
                url: self.fake.serve_video(bytes).to_string(),
                mime_type: "video/mp4".into(),
                length: None,
            }),
            since: Utc::now(),
        }
    }
}

/// About 1 MB, not a multiple of 256 KiB, with a pattern that shows a
/// misplaced chunk.
fn video(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

const MB: usize = 1_000_000;

#[tokio::test]
async fn uploads_a_video_in_256_kib_chunks() {
    let e = env().await;
    let p = e.publisher();
    let data = video(MB);
    let post = e.post(Some(data.clone()));
    let posted = p.publish(&post).await.unwrap();

    assert_eq!(e.fake.accepted(), 1);
    let v = &e.fake.posts()[0];
    assert_eq!(posted.id, v.id);
    assert_eq!(
        posted.url,
        format!("https://www.youtube.com/watch?v={}", v.id)
    );
    assert_eq!(e.fake.video_bytes(&v.id).unwrap(), data);
    assert_eq!(e.fake.bytes_received(), MB as u64);
    assert_eq!(e.fake.sessions_started(), 1);
    assert_eq!(
        v.title.as_deref(),
        Some("بدء التسجيل في الخدمات الإلكترونية")
    );
    assert!(v.text.contains(LINK) && v.text.contains("#عمان #خدمات"));
    let r = e.fake.video_resource(&v.id).unwrap();
    assert_eq!(r["snippet"]["defaultLanguage"], "ar");
    assert_eq!(r["snippet"]["categoryId"], "25");
    assert_eq!(r["status"]["privacyStatus"], "private");
    assert_eq!(e.fake.quota_used(), 1_600);
    // The session is forgotten once the video exists.
    assert_eq!(e.sessions.get_upload(post.job_id).await.unwrap(), None);
    // The access token was stored durably, with the refresh token kept.
    let creds = e.store.credentials("yt-ar").await.unwrap().unwrap();
    assert!(creds.access_token.is_some());
    assert!(creds.expires_at.unwrap() > Utc::now() + Duration::minutes(50));
    assert_eq!(
        creds.refresh_token.as_deref(),
        Some(e.fake.secrets()[1].as_str())
    );
}

#[tokio::test]
async fn an_interrupted_chunk_resumes_from_the_stored_range() {
    let e = env().await;
    let data = video(MB);
    let post = e.post(Some(data.clone()));
    // Session start passes; the first chunk is cut after 100,000 bytes.
    e.fake.faults().inject(
        Target::Publish,
        Fault::Latency(std::time::Duration::ZERO),
        1,
    );
    e.fake
        .faults()
        .inject(Target::Publish, Fault::InterruptUpload(100_000), 1);
    let posted = e.publisher().publish(&post).await.unwrap();

    assert_eq!(e.fake.faults().pending(), 0);
    assert_eq!(e.fake.accepted(), 1);
    assert_eq!(e.fake.sessions_started(), 1);
    assert_eq!(e.fake.video_bytes(&posted.id).unwrap(), data);
    // Nothing Google already held was sent again.
    assert_eq!(e.fake.bytes_received(), MB as u64);
}

#[tokio::test]
async fn an_interruption_outliving_one_call_resumes_after_a_restart() {
    let e = env().await;
    let data = video(MB);
    let post = e.post(Some(data.clone()));
    let f = e.fake.faults();
    f.inject(
        Target::Publish,
        Fault::Latency(std::time::Duration::ZERO),
        2,
    );
    f.inject(Target::Publish, Fault::InterruptUpload(1_000), 1);
    f.inject(
        Target::Publish,
        Fault::ServerError(503),
        MAX_RESUMES as usize,
    );
    let err = e.publisher().publish(&post).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Unknown { .. }), "{err:?}");
    assert_eq!(e.fake.accepted(), 0);
    let stored = e.sessions.get_upload(post.job_id).await.unwrap().unwrap();
    assert_eq!(stored.total, MB as u64);
    assert_eq!(stored.offset, 262_144);
    assert!(!err.to_string().contains(&stored.session_uri));

    // "Restart": a new publisher over the same session store and sled store.
    let posted = e.publisher().publish(&post).await.unwrap();
    assert_eq!(e.fake.accepted(), 1);
    assert_eq!(
        e.fake.sessions_started(),
        1,
        "the stored session was resumed"
    );
    assert_eq!(e.fake.video_bytes(&posted.id).unwrap(), data);
    assert_eq!(e.fake.bytes_received(), MB as u64);
    assert_eq!(e.sessions.get_upload(post.job_id).await.unwrap(), None);
    // The stored access token was reused: one refresh in all.
    assert_eq!(e.fake.secrets().len(), 3);
}

#[tokio::test]
async fn a_lost_session_starts_a_new_one() {
    let e = env().await;
    let data = video(MB);
    let post = e.post(Some(data.clone()));
    let f = e.fake.faults();
    f.inject(
        Target::Publish,
        Fault::Latency(std::time::Duration::ZERO),
        2,
    );
    f.inject(
        Target::Publish,
        Fault::ServerError(503),
        1 + MAX_RESUMES as usize,
    );
    assert!(matches!(
        e.publisher().publish(&post).await,
        Err(DeliveryError::Unknown { .. })
    ));
    e.fake.forget_upload_sessions();
    let posted = e.publisher().publish(&post).await.unwrap();
    assert_eq!(e.fake.sessions_started(), 2);
    assert_eq!(e.fake.accepted(), 1);
    assert_eq!(e.fake.video_bytes(&posted.id).unwrap(), data);
}

#[tokio::test]
async fn items_without_a_video_are_skipped() {
    let e = env().await;
    let p = e.publisher();
    let without = e.post(None);
    assert_eq!(
        p.skip_reason(&without).as_deref(),
        Some("no video attachment: YouTube carries news only as video uploads")
    );
    assert_eq!(p.skip_reason(&e.post(Some(vec![1]))), None);
    assert_eq!(p.platform(), Platform::Youtube);
    assert_eq!(p.account_id(), "yt-ar");
}

#[tokio::test]
async fn a_dropped_final_answer_is_settled_by_the_status_probe() {
    let e = env().await;
    let post = e.post(Some(video(100_000)));
    e.fake
        .faults()
        .inject(Target::Publish, Fault::DropAfterAct, 1);
    let posted = e.publisher().publish(&post).await.unwrap();
    assert_eq!(e.fake.accepted(), 1);
    assert_eq!(posted.id, e.fake.posts()[0].id);
}

#[tokio::test]
async fn find_adopts_a_video_whose_answer_was_lost() {
    let e = env().await;
    let p = e.publisher();
    let post = e.post(Some(video(100_000)));
    let f = e.fake.faults();
    f.inject(
        Target::Publish,
        Fault::Latency(std::time::Duration::ZERO),
        1,
    );
    f.inject(Target::Publish, Fault::DropAfterAct, 1);
    f.inject(
        Target::Publish,
        Fault::ServerError(503),
        MAX_RESUMES as usize,
    );
    let err = p.publish(&post).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Unknown { .. }), "{err:?}");
    assert_eq!(e.fake.accepted(), 1);
    assert_eq!(f.pending(), 0);

    let found = p.find(&post).await.unwrap().unwrap();
    assert_eq!(found.id, e.fake.posts()[0].id);
    assert_eq!(
        found.url,
        format!("https://www.youtube.com/watch?v={}", found.id)
    );
    // Another item is not matched.
    let mut other = e.post(None);
    other.link = "https://portal.example/ar/news/other".into();
    other.title = "خبر آخر".into();
    assert_eq!(p.find(&other).await.unwrap(), None);
    // Nor is this one when it was queued after the upload (+2 min slack).
    let mut later = post.clone();
    later.since = Utc::now() + Duration::minutes(3);
    assert_eq!(p.find(&later).await.unwrap(), None);
}

#[tokio::test]
async fn find_pages_through_the_uploads_playlist() {
    let e = env().await;
    e.fake.set_daily_quota(u64::MAX / 2);
    let p = e.publisher();
    let mut first = e.post(Some(video(10)));
    first.since = Utc::now() - Duration::minutes(1);
    let wanted = p.publish(&first).await.unwrap();
    for i in 0..55 {
        let mut post = e.post(Some(video(10)));
        post.link = format!("https://portal.example/ar/news/{i}");
        post.title = format!("خبر {i}");
        p.publish(&post).await.unwrap();
    }
    // The oldest upload sits on the second page (50 per page).
    assert_eq!(p.find(&first).await.unwrap().unwrap().id, wanted.id);
    // Title match alone also adopts.
    let mut by_title = first.clone();
    by_title.link = "https://portal.example/ar/news/moved".into();
    assert_eq!(p.find(&by_title).await.unwrap().unwrap().id, wanted.id);
}

#[tokio::test]
async fn spent_quota_waits_until_pacific_midnight() {
    let e = env().await;
    e.fake.set_daily_quota(1_000);
    let before = Utc::now();
    let err = e
        .publisher()
        .publish(&e.post(Some(video(10))))
        .await
        .unwrap_err();
    let after = Utc::now();
    let DeliveryError::QuotaExhausted { until, detail } = err else {
        panic!("{err:?}");
    };
    assert!(detail.contains("quotaExceeded"));
    assert!(until > after && until <= before + Duration::hours(24));
    // Midnight in Los Angeles is 07:00 or 08:00 UTC.
    assert!(until.hour() == 7 || until.hour() == 8, "{until}");
    assert_eq!((until.minute(), until.second()), (0, 0));
    assert_eq!(e.fake.accepted(), 0);

    // The injected fault says the same.
    e.fake.set_daily_quota(1_000_000);
    e.fake
        .faults()
        .inject(Target::Publish, Fault::QuotaExhausted, 1);
    let err = e
        .publisher()
        .publish(&e.post(Some(video(10))))
        .await
        .unwrap_err();
    assert_eq!(err.class(), "quota_exhausted");
}

#[tokio::test]
async fn rate_limits_wait_a_minute() {
    let e = env().await;
    e.fake.faults().inject(
        Target::Publish,
        Fault::RateLimit(std::time::Duration::from_secs(900)),
        1,
    );
    let now = Utc::now();
    let err = e
        .publisher()
        .publish(&e.post(Some(video(10))))
        .await
        .unwrap_err();
    let DeliveryError::RateLimited { until, .. } = err else {
        panic!("{err:?}");
    };
    assert!(until >= now + Duration::seconds(59) && until <= Utc::now() + Duration::seconds(61));
    assert_eq!(e.fake.accepted(), 0);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_then_the_retry_succeeds() {
    let e = env().await;
    let p = e.publisher();
    let post = e.post(Some(video(300_000)));
    e.fake
        .faults()
        .inject(Target::Publish, Fault::ExpireToken, 1);
    let err = p.publish(&post).await.unwrap_err();
    assert!(matches!(err, DeliveryError::AuthExpired { .. }), "{err:?}");
    let old = e.store.credentials("yt-ar").await.unwrap().unwrap();

    p.refresh_auth().await.unwrap();
    let new = e.store.credentials("yt-ar").await.unwrap().unwrap();
    assert_ne!(new.access_token, old.access_token);
    // No rotation: the refresh token is kept.
    assert_eq!(new.refresh_token, old.refresh_token);

    p.publish(&post).await.unwrap();
    assert_eq!(e.fake.accepted(), 1);
}

#[tokio::test]
async fn a_revoked_refresh_token_needs_reauthorization() {
    let e = env().await;
    e.fake
        .faults()
        .inject(Target::Token, Fault::RevokeRefresh, 1);
    let p = e.publisher();
    let err = p.publish(&e.post(Some(video(10)))).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Reauthorize { .. }), "{err:?}");
    assert!(err.to_string().contains("invalid_grant"));
    assert_eq!(p.refresh_auth().await.unwrap_err().class(), "reauthorize");
    assert_eq!(e.fake.accepted(), 0);
}

#[tokio::test]
async fn delete_removes_the_video_and_is_idempotent() {
    let e = env().await;
    let p = e.publisher();
    let posted = p.publish(&e.post(Some(video(10)))).await.unwrap();
    p.delete(&posted.id).await.unwrap();
    assert!(e.fake.posts()[0].deleted);
    p.delete(&posted.id).await.unwrap();
    e.fake
        .faults()
        .inject(Target::Delete, Fault::ServerError(500), 1);
    assert_eq!(p.delete("x").await.unwrap_err().class(), "unknown");
}

#[tokio::test]
async fn no_secret_appears_in_any_error() {
    let e = env().await;
    let p = e.publisher();
    let mut errors: Vec<DeliveryError> = Vec::new();
    let f = e.fake.faults();
    // A successful upload first, so an access token exists.
    p.publish(&e.post(Some(video(10)))).await.unwrap();

    f.inject(Target::Publish, Fault::ExpireToken, 1);
    errors.push(p.publish(&e.post(Some(video(10)))).await.unwrap_err());
    p.refresh_auth().await.unwrap();
    f.inject(
        Target::Publish,
        Fault::RateLimit(std::time::Duration::from_secs(1)),
        1,
    );
    errors.push(p.publish(&e.post(Some(video(10)))).await.unwrap_err());
    f.inject(Target::Publish, Fault::QuotaExhausted, 1);
    errors.push(p.publish(&e.post(Some(video(10)))).await.unwrap_err());
    f.inject(
        Target::Publish,
        Fault::Latency(std::time::Duration::ZERO),
        1,
    );
    f.inject(
        Target::Publish,
        Fault::ServerError(502),
        1 + MAX_RESUMES as usize,
    );
    errors.push(p.publish(&e.post(Some(video(10)))).await.unwrap_err());
    f.inject(Target::Lookup, Fault::ServerError(500), 1);
    errors.push(p.find(&e.post(None)).await.unwrap_err());
    f.inject(Target::Token, Fault::RevokeRefresh, 1);
    errors.push(p.refresh_auth().await.unwrap_err());
    let classes: Vec<&str> = errors.iter().map(DeliveryError::class).collect();
    assert_eq!(
        classes,
        [
            "auth_expired",
            "rate_limited",
            "quota_exhausted",
            "unknown",
            "transient",
            "reauthorize"
        ]
    );

    let secrets = e.fake.secrets();
    assert!(secrets.len() >= 4, "{secrets:?}");
    let mut texts: Vec<String> = errors
        .iter()
        .flat_map(|e| [e.to_string(), format!("{e:?}")])
        .collect();
    texts.push(format!("{p:?}"));
    // A build failure names where it looked, not what it found.
    let mut broken = e.account.clone();
    broken.settings.insert("client_id".into(), 7.into());
    let ctx = BuildContext {
        config_dir: e.dir.path().to_path_buf(),
        credentials: e.store.clone(),
        publish: PublishConfig::default(),
    };
    texts.push(youtube::build(&broken, &ctx).await.unwrap_err());
    for text in &texts {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "secret leaked in {text}");
        }
    }
}

#[tokio::test]
async fn concurrent_callers_share_one_refresh() {
    let e = env().await;
    let p = Arc::new(e.publisher());
    let post = e.post(None);
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (p, post) = (p.clone(), post.clone());
            tokio::spawn(async move { p.find(&post).await })
        })
        .collect();
    for c in calls {
        assert_eq!(c.await.unwrap().unwrap(), None);
    }
    // Client secret, refresh token and exactly one access token.
    assert_eq!(e.fake.secrets().len(), 3);
}
