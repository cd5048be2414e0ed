//! The X publisher against `FakeX` and the real sled store: publishing,
//! reconciliation, every failure class, refresh-token rotation across a
//! "crash", OAuth 1.0a, and that no secret leaks into an error.

use chrono::Utc;
use musharaka::config::Account;
use musharaka::config::PublishConfig;
use musharaka::model::{ItemId, Lang};
use musharaka::publish::fake::{Fault, Target};
use musharaka::publish::platforms::BuildContext;
use musharaka::publish::platforms::x::{self, FakeX};
use musharaka::publish::{DeliveryError, JobId, Outgoing, Platform, Publisher};
use musharaka::store::CredentialRepo;
use musharaka::store::sled::SledStore;
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;

struct Env {
    fake: FakeX,
    store: Arc<SledStore>,
    dir: TempDir,
    account: Account,
}

impl Env {
    async fn new(auth: &str) -> Env {
        let fake = FakeX::start().await.expect("fake");
        let dir = TempDir::new().expect("tempdir");
        let store = Arc::new(SledStore::open(&dir.path().join("db")).expect("store"));
        let settings = fake.settings(&dir.path().join("secrets"), auth);
        let account = Account {
            id: "x-ar".into(),
            platform: Platform::X,
            lang: Lang::Ar,
            base_url: Some(fake.base_url()),
            template: None,
            hashtags: vec!["أخبار".into()],
            delete_on_retract: true,
            enabled: true,
            settings,
        };
        Env {
            fake,
            store,
            dir,
            account,
        }
    }

    fn ctx(&self) -> BuildContext {
        BuildContext {
            config_dir: self.dir.path().to_path_buf(),
            credentials: self.store.clone(),
            publish: PublishConfig {
                connect_timeout: Duration::from_secs(5),
                timeout: Duration::from_secs(10),
                ..PublishConfig::default()
            },
        }
    }

    async fn publisher(&self) -> Arc<dyn Publisher> {
        x::build(&self.account, &self.ctx()).await.expect("build")
    }
}

fn post(n: u32) -> Outgoing {
    Outgoing {
        job_id: JobId::new(),
        item_id: ItemId::new(),
        lang: Lang::Ar,
        title: format!("افتتاح مركز الخدمات رقم {n}"),
        summary: String::new(),
        link: format!("https://portal.gov.example/ar/news/{n}"),
        hashtags: vec![],
        image: None,
        video: None,
        since: Utc::now(),
    }
}

#[tokio::test]
async fn publish_posts_once_and_find_adopts_it() {
    let env = Env::new("oauth2").await;
    let p = env.publisher().await;
    assert_eq!(p.platform(), Platform::X);
    assert_eq!(p.account_id(), "x-ar");
    let item = post(1);
    assert_eq!(p.skip_reason(&item), None);
    let rendered = p.render(&item).expect("render");
    let posted = p.publish(&item).await.expect("publish");
    assert_eq!(env.fake.accepted(), 1);
    let posts = env.fake.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].id, posted.id);
    assert_eq!(posts[0].text, rendered.text);
    assert!(posts[0].carries(&item.link));
    assert_eq!(
        posted.url,
        format!("https://x.com/i/web/status/{}", posted.id)
    );
    // The lazy refresh happened exactly once.
    assert_eq!(env.fake.token_refreshes(), 1);

    // The fake shows links as t.co (as X does): find must use the entities.
    let found = p.find(&item).await.expect("find");
    assert_eq!(found, Some(posted.clone()));
    assert_eq!(p.find(&post(2)).await.expect("find"), None);

    p.delete(&posted.id).await.expect("delete");
    assert!(env.fake.posts()[0].deleted);
    assert_eq!(p.find(&item).await.expect("find"), None);
    // Deleting again is not an error (already gone).
    p.delete(&posted.id).await.expect("delete again");
}

#[tokio::test]
async fn find_pages_through_the_timeline() {
    let env = Env::new("oauth2").await;
    env.fake.set_post_limit(1000, Duration::from_secs(900));
    let p = env.publisher().await;
    let first = post(0);
    let adopted = p.publish(&first).await.expect("publish");
    for n in 1..=120 {
        p.publish(&post(n)).await.expect("publish");
    }
    // 121 posts, 100 per page: the first post is on the second page.
    assert_eq!(p.find(&first).await.expect("find"), Some(adopted));
}

#[tokio::test]
async fn drop_after_act_is_unknown_then_found() {
    let env = Env::new("oauth2").await;
    let p = env.publisher().await;
    env.fake
        .faults()
        .inject(Target::Publish, Fault::DropAfterAct, 1);
    let item = post(3);
    let err = p.publish(&item).await.expect_err("dropped");
    assert!(matches!(err, DeliveryError::Unknown { .. }), "{err:?}");
    assert_eq!(env.fake.accepted(), 1);
    let found = p.find(&item).await.expect("find").expect("adopted");
    assert_eq!(found.id, env.fake.posts()[0].id);
    // A retry would be refused as a duplicate.
    let err = p.publish(&item).await.expect_err("duplicate");
    assert!(matches!(err, DeliveryError::Duplicate { .. }), "{err:?}");
    assert_eq!(env.fake.accepted(), 1);
}

#[tokio::test]
async fn rate_limit_fault_gives_the_reset_from_headers() {
    let env = Env::new("oauth2").await;
    let p = env.publisher().await;
    env.fake.faults().inject(
        Target::Publish,
        Fault::RateLimit(Duration::from_secs(600)),
        1,
    );
    let before = Utc::now();
    let err = p.publish(&post(4)).await.expect_err("limited");
    let DeliveryError::RateLimited { until, .. } = err else {
        panic!("{err:?}")
    };
    // Reset = now + 600 s, in whole epoch seconds (not the 15-min default).
    let secs = (until - before).num_seconds();
    assert!((599..=602).contains(&secs), "{secs}");
    assert_eq!(env.fake.accepted(), 0);
}

#[tokio::test]
async fn post_window_limits_per_user() {
    let env = Env::new("oauth2").await;
    env.fake.set_post_limit(2, Duration::from_secs(3600));
    let p = env.publisher().await;
    let start = Utc::now();
    p.publish(&post(5)).await.expect("1");
    p.publish(&post(6)).await.expect("2");
    let err = p.publish(&post(7)).await.expect_err("third");
    let DeliveryError::RateLimited { until, .. } = err else {
        panic!("{err:?}")
    };
    let secs = (until - start).num_seconds();
    assert!((3595..=3601).contains(&secs), "{secs}");
    assert_eq!(env.fake.accepted(), 2);
}

#[tokio::test]
async fn server_errors_are_unknown_on_post_and_transient_on_lookups() {
    let env = Env::new("oauth2").await;
    let p = env.publisher().await;
    env.fake
        .faults()
        .inject(Target::Publish, Fault::ServerError(503), 1);
    let err = p.publish(&post(8)).await.expect_err("503");
    assert!(matches!(err, DeliveryError::Unknown { .. }), "{err:?}");
    assert_eq!(env.fake.accepted(), 0);
    env.fake
        .faults()
        .inject(Target::Lookup, Fault::ServerError(500), 1);
    let err = p.find(&post(8)).await.expect_err("500");
    assert!(matches!(err, DeliveryError::Transient { .. }), "{err:?}");
    // Faults are one-shot: both calls now succeed.
    p.publish(&post(8)).await.expect("publish");
    assert!(p.find(&post(8)).await.expect("find").is_some());
}

#[tokio::test]
async fn latency_beyond_the_timeout_is_unknown_on_post() {
    let mut env = Env::new("oauth2").await;
    env.account.id = "x-slow".into();
    let mut ctx = env.ctx();
    ctx.publish.timeout = Duration::from_millis(300);
    let p = x::build(&env.account, &ctx).await.expect("build");
    // Get the token first, so the timeout hits the post itself.
    assert_eq!(p.find(&post(9)).await.expect("find"), None);
    env.fake
        .faults()
        .inject(Target::Publish, Fault::Latency(Duration::from_secs(3)), 1);
    let err = p.publish(&post(9)).await.expect_err("timeout");
    assert!(matches!(err, DeliveryError::Unknown { .. }), "{err:?}");
}

#[tokio::test]
async fn connect_error_is_transient() {
    let mut env = Env::new("oauth1").await;
    // A port nobody listens on: bind, note it, close.
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    env.account.base_url = Some(format!("http://127.0.0.1:{port}/").parse().expect("url"));
    let p = env.publisher().await;
    let err = p.publish(&post(10)).await.expect_err("refused");
    assert!(matches!(err, DeliveryError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn expired_token_then_refresh_then_publish() {
    let env = Env::new("oauth2").await;
    let p = env.publisher().await;
    p.publish(&post(11)).await.expect("first");
    env.fake
        .faults()
        .inject(Target::Publish, Fault::ExpireToken, 1);
    let err = p.publish(&post(12)).await.expect_err("expired");
    assert!(matches!(err, DeliveryError::AuthExpired { .. }), "{err:?}");
    assert_eq!(env.fake.token_refreshes(), 1);
    p.refresh_auth().await.expect("refresh");
    assert_eq!(env.fake.token_refreshes(), 2);
    p.publish(&post(12)).await.expect("after refresh");
    assert_eq!(env.fake.accepted(), 2);
}

#[tokio::test]
async fn concurrent_refreshes_share_one_grant() {
    let env = Env::new("oauth2").await;
    let p = env.publisher().await;
    let (a, b, c) = tokio::join!(p.refresh_auth(), p.refresh_auth(), p.refresh_auth());
    assert_eq!((a, b, c), (Ok(()), Ok(()), Ok(())));
    assert_eq!(env.fake.token_refreshes(), 1);
    p.publish(&post(25)).await.expect("publish");
    assert_eq!(env.fake.token_refreshes(), 1);
}

#[tokio::test]
async fn revoked_refresh_needs_reauthorization() {
    let env = Env::new("oauth2").await;
    let p = env.publisher().await;
    env.fake
        .faults()
        .inject(Target::Token, Fault::RevokeRefresh, 1);
    let err = p.refresh_auth().await.expect_err("revoked");
    assert!(matches!(err, DeliveryError::Reauthorize { .. }), "{err:?}");
    // And the lazy refresh before a call says the same.
    let err = p.publish(&post(13)).await.expect_err("revoked");
    assert!(matches!(err, DeliveryError::Reauthorize { .. }), "{err:?}");
    assert_eq!(env.fake.accepted(), 0);
}

#[tokio::test]
async fn duplicate_and_quota() {
    let env = Env::new("oauth2").await;
    let p = env.publisher().await;
    p.publish(&post(14)).await.expect("first");
    let err = p.publish(&post(14)).await.expect_err("duplicate");
    let DeliveryError::Duplicate { detail } = &err else {
        panic!("{err:?}")
    };
    assert!(detail.contains("duplicate content"), "{detail}");
    env.fake.set_reject_duplicates(false);
    p.publish(&post(14)).await.expect("duplicates allowed");
    env.fake
        .faults()
        .inject(Target::Publish, Fault::QuotaExhausted, 1);
    let err = p.publish(&post(15)).await.expect_err("capped");
    assert!(
        matches!(err, DeliveryError::QuotaExhausted { .. }),
        "{err:?}"
    );
    assert_eq!(env.fake.accepted(), 2);
}

#[tokio::test]
async fn rotation_survives_a_crash_between_refresh_and_use() {
    let env = Env::new("oauth2").await;
    let p1 = env.publisher().await;
    p1.refresh_auth().await.expect("refresh");
    let stored = env
        .store
        .credentials("x-ar")
        .await
        .expect("read")
        .expect("stored");
    let initial = std::fs::read_to_string(env.dir.path().join("secrets/x-refresh-token"))
        .expect("secret file");
    assert_ne!(stored.refresh_token.as_deref(), Some(initial.trim()));
    assert!(stored.access_token.is_some());
    // "Crash": the publisher is gone before it used its new access token.
    drop(p1);

    let p2 = env.publisher().await;
    // Its access token dies on first use; the refresh must use the rotated
    // refresh token (the initial one would get 400 → Reauthorize).
    env.fake
        .faults()
        .inject(Target::Publish, Fault::ExpireToken, 1);
    let err = p2.publish(&post(16)).await.expect_err("expired");
    assert!(matches!(err, DeliveryError::AuthExpired { .. }), "{err:?}");
    p2.refresh_auth()
        .await
        .expect("refresh with the rotated token");
    p2.publish(&post(16)).await.expect("publish");
    assert_eq!(env.fake.token_refreshes(), 2);
    drop(p2);

    // Short-lived access tokens: a new publisher refreshes lazily, again
    // with the latest rotated token.
    env.fake.set_token_lifetime(Duration::from_secs(30));
    let p3 = env.publisher().await;
    p3.refresh_auth().await.expect("refresh");
    drop(p3);
    let p4 = env.publisher().await;
    p4.publish(&post(17)).await.expect("lazy refresh");
    assert_eq!(env.fake.token_refreshes(), 4);
}

#[tokio::test]
async fn reauthorized_account_starts_from_the_new_token() {
    let mut env = Env::new("oauth2").await;
    let p = env.publisher().await;
    p.refresh_auth().await.expect("refresh");
    drop(p);
    env.account.settings = env
        .fake
        .settings(&env.dir.path().join("secrets2"), "oauth2");
    let before = env
        .store
        .credentials("x-ar")
        .await
        .expect("read")
        .expect("stored");
    let p = env.publisher().await;
    // The stored (rotated) token gave way to the newly configured one.
    let configured =
        std::fs::read_to_string(env.dir.path().join("secrets2/x-refresh-token")).expect("file");
    let after = env
        .store
        .credentials("x-ar")
        .await
        .expect("read")
        .expect("stored");
    assert_ne!(before.seed, after.seed);
    assert_eq!(after.refresh_token.as_deref(), Some(configured.trim()));
    assert_eq!(after.access_token, None);
    p.publish(&post(18)).await.expect("publish");
    assert_eq!(env.fake.token_refreshes(), 2);
    // Building again keeps the rotated token (same seed).
    drop(p);
    let p = env.publisher().await;
    let again = env
        .store
        .credentials("x-ar")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(again.seed, after.seed);
    assert_ne!(again.refresh_token.as_deref(), Some(configured.trim()));
    p.refresh_auth().await.expect("rotated token still valid");
}

#[tokio::test]
async fn oauth1_publish_find_and_bad_signature() {
    let mut env = Env::new("oauth1").await;
    let p = env.publisher().await;
    let item = post(19);
    let posted = p.publish(&item).await.expect("signed publish");
    assert_eq!(env.fake.accepted(), 1);
    // GET with a signed query.
    assert_eq!(p.find(&item).await.expect("find"), Some(posted.clone()));
    p.delete(&posted.id).await.expect("delete");
    assert_eq!(env.fake.token_refreshes(), 0);
    assert!(matches!(
        p.refresh_auth().await,
        Err(DeliveryError::Reauthorize { .. })
    ));

    // A wrong token secret: the fake's verifier rejects the signature.
    let bad = env.dir.path().join("bad-secret");
    std::fs::write(&bad, "not-the-token-secret").expect("write");
    let mut t = toml::Table::new();
    t.insert("file".into(), bad.to_string_lossy().into_owned().into());
    env.account.settings.insert("token_secret".into(), t.into());
    let p = env.publisher().await;
    let err = p.publish(&post(20)).await.expect_err("bad signature");
    assert!(matches!(err, DeliveryError::Reauthorize { .. }), "{err:?}");
    assert_eq!(env.fake.accepted(), 1);
}

#[tokio::test]
async fn no_secret_in_any_error() {
    let env = Env::new("oauth2").await;
    let p = env.publisher().await;
    let mut errors: Vec<DeliveryError> = Vec::new();
    p.publish(&post(21)).await.expect("publish");
    let faults = [
        (Target::Publish, Fault::ExpireToken),
        (Target::Publish, Fault::RateLimit(Duration::from_secs(5))),
        (Target::Publish, Fault::ServerError(502)),
        (Target::Publish, Fault::QuotaExhausted),
        (Target::Publish, Fault::DropAfterAct),
    ];
    for (i, (target, fault)) in faults.into_iter().enumerate() {
        env.fake.faults().inject(target, fault, 1);
        errors.push(p.publish(&post(100 + i as u32)).await.expect_err("fault"));
        if i == 0 {
            p.refresh_auth().await.expect("refresh");
        }
    }
    errors.push(p.publish(&post(21)).await.expect_err("duplicate"));
    env.fake
        .faults()
        .inject(Target::Token, Fault::RevokeRefresh, 1);
    errors.push(p.refresh_auth().await.expect_err("revoked"));
    // The access token still works until it dies; then only staff can help.
    p.publish(&post(22)).await.expect("token still valid");
    env.fake
        .faults()
        .inject(Target::Publish, Fault::ExpireToken, 1);
    errors.push(p.publish(&post(24)).await.expect_err("expired"));
    errors.push(p.refresh_auth().await.expect_err("revoked"));

    let o1 = Env::new("oauth1").await;
    let bad = o1.dir.path().join("secrets/x-token-secret");
    std::fs::write(&bad, "wrong").expect("write");
    let q = o1.publisher().await;
    errors.push(q.publish(&post(23)).await.expect_err("bad signature"));

    let classes: Vec<&str> = errors.iter().map(DeliveryError::class).collect();
    assert_eq!(
        classes,
        [
            "auth_expired",
            "rate_limited",
            "unknown",
            "quota_exhausted",
            "unknown",
            "duplicate",
            "reauthorize",
            "auth_expired",
            "reauthorize",
            "reauthorize"
        ]
    );
    let mut secrets = env.fake.issued_secrets();
    secrets.extend(o1.fake.issued_secrets());
    assert!(secrets.len() >= 12);
    for e in &errors {
        let shown = format!("{e} {e:?} {}", serde_json::to_string(e).expect("json"));
        for s in &secrets {
            assert!(!shown.contains(s.as_str()), "secret in {shown}");
        }
    }
    // Nor in a build error.
    let mut broken = env.account.clone();
    broken.settings.insert("client_secret".into(), {
        let mut t = toml::Table::new();
        t.insert("file".into(), "/nonexistent/secret".into());
        t.into()
    });
    let err = x::build(&broken, &env.ctx()).await.expect_err("no file");
    for s in &secrets {
        assert!(!err.contains(s.as_str()));
    }
}
