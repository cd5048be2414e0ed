//! The Facebook publisher against [`FakeFacebook`], end to end over HTTP on
//! 127.0.0.1, built the way the daemon builds it (`facebook::build` with the
//! real sled store as credential repository).

use chrono::{Duration as ChronoDuration, Utc};
use musharaka::config::{Account, PublishConfig};
use musharaka::model::{ItemId, Lang, Media, MediaKind};
use musharaka::publish::fake::{Fault, Target};
use musharaka::publish::platforms::BuildContext;
use musharaka::publish::platforms::facebook::{
    self, FacebookPublisher, FakeFacebook, RateLimitKind, appsecret_proof,
};
use musharaka::publish::{DeliveryError, JobId, Outgoing, Platform, Publisher};
use musharaka::store::sled::SledStore;
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;

struct Env {
    fake: FakeFacebook,
    dir: TempDir,
    ctx: BuildContext,
}

async fn env() -> Env {
    env_with(PublishConfig::default()).await
}

async fn env_with(publish: PublishConfig) -> Env {
    let fake = FakeFacebook::start().await.expect("fake starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledStore::open(&dir.path().join("store")).expect("store");
    let ctx = BuildContext {
        config_dir: dir.path().to_path_buf(),
        credentials: Arc::new(store),
        publish,
    };
    Env { fake, dir, ctx }
}

impl Env {
    fn account(&self) -> Account {
        Account {
            id: "fb-ar".into(),
            platform: Platform::Facebook,
            lang: Lang::Ar,
            base_url: Some(self.fake.base_url().parse().expect("url")),
            template: None,
            hashtags: vec!["عُمان".into()],
            delete_on_retract: true,
            enabled: true,
            settings: self.fake.settings(self.dir.path()),
        }
    }

    async fn publisher(&self) -> Arc<dyn Publisher> {
        facebook::build(&self.account(), &self.ctx)
            .await
            .expect("build")
    }

    async fn publisher_with(&self, change: impl FnOnce(&mut Account)) -> Arc<dyn Publisher> {
        let mut a = self.account();
        change(&mut a);
        facebook::build(&a, &self.ctx).await.expect("build")
    }

    /// Every secret value (and derived proof) the client could leak.
    fn secrets(&self) -> Vec<String> {
        let token = self.fake.page_token().to_string();
        let secret = self.fake.app_secret().to_string();
        vec![appsecret_proof(&secret, &token), token, secret]
    }
}

fn outgoing(n: u32) -> Outgoing {
    Outgoing {
        job_id: JobId::new(),
        item_id: ItemId::new(),
        lang: Lang::Ar,
        title: format!("افتتاح مركز خدمات جديد رقم {n}"),
        summary: "أعلنت الوزارة اليوم عن افتتاح مركز جديد لخدمة المواطنين والمقيمين.".into(),
        link: format!("https://portal.example.om/ar/news/{n}"),
        hashtags: vec!["خدمات_حكومية".into()],
        image: None,
        video: None,
        since: Utc::now() - ChronoDuration::seconds(5),
    }
}

fn with_image(mut post: Outgoing) -> Outgoing {
    post.image = Some(Media {
        kind: MediaKind::Image,
        url: "https://portal.example.om/media/centre.jpg".into(),
        mime_type: "image/jpeg".into(),
        length: None,
    });
    post
}

#[tokio::test]
async fn a_feed_post_is_published_and_found_again() {
    let env = env().await;
    let p = env.publisher().await;
    let post = outgoing(1);
    let posted = p.publish(&post).await.expect("published");
    assert!(
        posted.id.starts_with(&format!("{}_", env.fake.page_id())),
        "{posted:?}"
    );
    assert_eq!(
        posted.url,
        format!("https://www.facebook.com/{}", posted.id)
    );
    let stored = env.fake.posts();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, posted.id);
    assert_eq!(stored[0].link.as_deref(), Some(post.link.as_str()));
    assert_eq!(stored[0].text, p.render(&post).expect("render").text);
    assert!(stored[0].text.ends_with(&post.link));
    assert_eq!(env.fake.accepted(), 1);

    let found = p.find(&post).await.expect("find");
    assert_eq!(found, Some(posted));
    assert_eq!(p.find(&outgoing(2)).await.expect("find"), None);
}

#[tokio::test]
async fn an_item_with_an_image_becomes_a_photo_post() {
    let env = env().await;
    let p = env.publisher().await;
    let post = with_image(outgoing(3));
    let posted = p.publish(&post).await.expect("published");
    let stored = env.fake.posts();
    assert_eq!(stored.len(), 1);
    // Posted.id is the Page post id, not the photo id.
    assert_eq!(stored[0].id, posted.id);
    assert!(posted.id.contains('_'), "{posted:?}");
    assert_eq!(stored[0].link, None, "photos have no link field");
    assert!(
        stored[0].text.ends_with(&post.link),
        "caption carries the link"
    );
    assert_eq!(
        p.find(&post).await.expect("find").map(|f| f.id),
        Some(posted.id)
    );
}

#[tokio::test]
async fn after_a_dropped_answer_find_adopts_the_post_and_a_retry_is_a_duplicate() {
    let env = env().await;
    let p = env.publisher().await;
    let post = outgoing(4);
    env.fake
        .faults()
        .inject(Target::Publish, Fault::DropAfterAct, 1);
    let err = p.publish(&post).await.expect_err("answer lost");
    assert_eq!(err.class(), "unknown", "{err}");
    assert_eq!(env.fake.accepted(), 1, "the fake acted");
    let found = p.find(&post).await.expect("find").expect("adopted");
    assert_eq!(found.id, env.fake.posts()[0].id);
    let again = p.publish(&post).await.expect_err("repeat");
    assert_eq!(again.class(), "duplicate", "{again}");
    assert_eq!(env.fake.accepted(), 1);
}

#[tokio::test]
async fn find_follows_cursor_pages_and_honours_since() {
    let env = env().await;
    env.fake.set_page_size_cap(2);
    let p = env.publisher().await;
    let target = outgoing(10);
    let posted = p.publish(&target).await.expect("published");
    for n in 11..16 {
        p.publish(&outgoing(n)).await.expect("published");
    }
    // `/news/1` must not match `/news/10`..`/news/15`.
    assert_eq!(p.find(&outgoing(1)).await.expect("find"), None);
    // Newest first, two a page: the oldest post is on the third page.
    assert_eq!(
        p.find(&target).await.expect("find").map(|f| f.id),
        Some(posted.id)
    );
    let mut later = target.clone();
    later.since = Utc::now() + ChronoDuration::hours(1);
    assert_eq!(
        p.find(&later).await.expect("find"),
        None,
        "posts before since"
    );
}

#[tokio::test]
async fn a_business_use_case_limit_waits_for_the_regain_estimate() {
    let env = env().await;
    let p = env.publisher().await;
    env.fake.faults().inject(
        Target::Publish,
        Fault::RateLimit(Duration::from_secs(7 * 60)),
        1,
    );
    let before = Utc::now();
    let err = p.publish(&outgoing(20)).await.expect_err("limited");
    let after = Utc::now();
    match &err {
        DeliveryError::RateLimited { until, detail } => {
            assert!(*until >= before + ChronoDuration::minutes(7), "{until}");
            assert!(*until <= after + ChronoDuration::minutes(7), "{until}");
            assert!(detail.contains("80001"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(env.fake.accepted(), 0);
    p.publish(&outgoing(20))
        .await
        .expect("published after the limit");
}

#[tokio::test]
async fn an_app_limit_403_code_4_waits_fifteen_minutes() {
    let env = env().await;
    env.fake.set_rate_limit_kind(RateLimitKind::App);
    let p = env.publisher().await;
    env.fake
        .faults()
        .inject(Target::Lookup, Fault::RateLimit(Duration::from_secs(60)), 1);
    let before = Utc::now();
    let err = p.find(&outgoing(21)).await.expect_err("limited");
    let after = Utc::now();
    match &err {
        DeliveryError::RateLimited { until, detail } => {
            assert!(*until >= before + ChronoDuration::minutes(15), "{until}");
            assert!(*until <= after + ChronoDuration::minutes(15), "{until}");
            assert!(
                detail.contains("HTTP 403") && detail.contains("code 4"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_5xx_on_a_post_is_unknown_and_on_a_read_transient() {
    let env = env().await;
    let p = env.publisher().await;
    env.fake
        .faults()
        .inject(Target::Publish, Fault::ServerError(500), 1);
    let err = p.publish(&outgoing(30)).await.expect_err("500");
    assert_eq!(err.class(), "unknown", "{err}");
    assert_eq!(env.fake.accepted(), 0, "a 5xx fault does not act");
    env.fake
        .faults()
        .inject(Target::Lookup, Fault::ServerError(503), 1);
    let err = p.find(&outgoing(30)).await.expect_err("503");
    assert_eq!(err.class(), "transient", "{err}");
}

#[tokio::test]
async fn a_timeout_after_sending_a_post_is_unknown() {
    let env = env_with(PublishConfig {
        timeout: Duration::from_millis(300),
        ..PublishConfig::default()
    })
    .await;
    let p = env.publisher().await;
    env.fake
        .faults()
        .inject(Target::Publish, Fault::Latency(Duration::from_secs(5)), 1);
    let err = p.publish(&outgoing(31)).await.expect_err("timeout");
    assert_eq!(err.class(), "unknown", "{err}");
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    let env = env().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let p = env
        .publisher_with(|a| a.base_url = Some(format!("http://{closed}").parse().expect("url")))
        .await;
    let err = p.publish(&outgoing(32)).await.expect_err("refused");
    assert_eq!(err.class(), "transient", "{err}");
}

#[tokio::test]
async fn an_expired_token_parks_the_account() {
    let env = env().await;
    let p = env.publisher().await;
    env.fake
        .faults()
        .inject(Target::Publish, Fault::ExpireToken, 1);
    let err = p.publish(&outgoing(40)).await.expect_err("190");
    assert_eq!(err.class(), "reauthorize", "{err}");
    assert!(err.to_string().contains("subcode 463"), "{err}");
    let refresh = p.refresh_auth().await.expect_err("no refresh grant");
    assert_eq!(refresh.class(), "reauthorize");
    assert_eq!(env.fake.accepted(), 0);
}

#[tokio::test]
async fn a_revoked_session_fails_every_call_and_the_health_check() {
    let env = env().await;
    let fb = FacebookPublisher::new(&env.account(), &env.ctx).expect("build");
    let health = fb.check_token().await.expect("valid token");
    assert_eq!(health.profile_id.as_deref(), Some(env.fake.page_id()));
    assert_eq!(health.expires_at, None, "expires_at 0 = never");
    assert!(health.scopes.iter().any(|s| s == "pages_manage_posts"));

    env.fake
        .faults()
        .inject(Target::Publish, Fault::RevokeRefresh, 1);
    for n in 0..2 {
        let err = fb.publish(&outgoing(41 + n)).await.expect_err("revoked");
        assert_eq!(err.class(), "reauthorize", "{err}");
        assert!(err.to_string().contains("subcode 460"), "{err}");
    }
    let err = fb.find(&outgoing(41)).await.expect_err("revoked");
    assert_eq!(err.class(), "reauthorize", "{err}");
    let err = fb.check_token().await.expect_err("invalid now");
    assert_eq!(err.class(), "reauthorize", "{err}");
    assert!(err.to_string().contains("460"), "{err}");
    assert_eq!(env.fake.accepted(), 0);
}

#[tokio::test]
async fn a_repeated_message_is_a_duplicate_unless_the_fake_allows_it() {
    let env = env().await;
    let p = env.publisher().await;
    let post = outgoing(50);
    p.publish(&post).await.expect("first");
    let err = p.publish(&post).await.expect_err("second");
    match &err {
        DeliveryError::Duplicate { detail } => {
            assert!(
                detail.contains("(#506) Duplicate status message"),
                "{detail}"
            )
        }
        other => panic!("{other:?}"),
    }
    env.fake.set_reject_duplicates(false);
    p.publish(&post).await.expect("allowed");
    assert_eq!(env.fake.accepted(), 2);
}

#[tokio::test]
async fn an_unknown_page_is_permanent() {
    let env = env().await;
    let p = env
        .publisher_with(|a| {
            a.settings.insert("page_id".into(), "999999".into());
        })
        .await;
    let err = p.publish(&outgoing(60)).await.expect_err("no such page");
    match &err {
        DeliveryError::Permanent { detail } => assert!(detail.contains("code 100"), "{detail}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(env.fake.accepted(), 0);
}

#[tokio::test]
async fn delete_removes_the_post_and_a_repeat_succeeds() {
    let env = env().await;
    let p = env.publisher().await;
    let post = outgoing(70);
    let posted = p.publish(&post).await.expect("published");
    p.delete(&posted.id).await.expect("deleted");
    assert!(env.fake.posts()[0].deleted);
    assert_eq!(p.find(&post).await.expect("find"), None);
    p.delete(&posted.id)
        .await
        .expect("already gone counts as deleted");
    env.fake
        .faults()
        .inject(Target::Delete, Fault::ServerError(502), 1);
    let err = p.delete(&posted.id).await.expect_err("502");
    assert_eq!(err.class(), "transient", "{err}");
    let err = p.delete("../me").await.expect_err("not an id");
    assert_eq!(err.class(), "permanent", "{err}");
}

#[tokio::test]
async fn appsecret_proof_is_enforced_and_sent() {
    let env = env().await;
    env.fake.set_require_appsecret_proof(true);
    let without = env
        .publisher_with(|a| {
            a.settings.remove("app_secret");
            a.settings.remove("app_id");
        })
        .await;
    let err = without.publish(&outgoing(80)).await.expect_err("no proof");
    assert_eq!(err.class(), "permanent", "{err}");
    assert!(err.to_string().contains("appsecret_proof"), "{err}");
    assert_eq!(env.fake.accepted(), 0);

    let with = env.publisher().await;
    let post = outgoing(80);
    let posted = with.publish(&post).await.expect("published with proof");
    assert_eq!(
        with.find(&post).await.expect("find").map(|f| f.id),
        Some(posted.id.clone())
    );
    with.delete(&posted.id).await.expect("delete with proof");
    let fb = FacebookPublisher::new(&env.account(), &env.ctx).expect("build");
    fb.check_token()
        .await
        .expect("debug_token as the app, with proof");
}

#[tokio::test]
async fn arabic_text_arrives_intact() {
    let env = env().await;
    let p = env.publisher().await;
    let mut post = outgoing(90);
    post.title = "وزارة الصحة: حملة تطعيم «وطنية» تبدأ غداً".into();
    post.summary = "تبدأ الحملة في جميع المحافظات، وتستمر أسبوعين.".into();
    post.link = "https://portal.example.om/ar/أخبار/90".into();
    let posted = p.publish(&post).await.expect("published");
    let stored = &env.fake.posts()[0];
    assert!(
        stored
            .text
            .starts_with("وزارة الصحة: حملة تطعيم «وطنية» تبدأ غداً\n\n")
    );
    assert!(
        stored
            .text
            .contains("تبدأ الحملة في جميع المحافظات، وتستمر أسبوعين.")
    );
    assert!(
        stored.text.contains("#خدمات_حكومية #عُمان"),
        "{}",
        stored.text
    );
    assert_eq!(
        stored.link.as_deref(),
        Some("https://portal.example.om/ar/أخبار/90")
    );
    assert_eq!(
        p.find(&post).await.expect("find").map(|f| f.id),
        Some(posted.id)
    );
}

#[tokio::test]
async fn no_secret_appears_in_any_error() {
    let env = env_with(PublishConfig {
        timeout: Duration::from_millis(300),
        ..PublishConfig::default()
    })
    .await;
    env.fake.set_require_appsecret_proof(true);
    let p = env.publisher().await;
    let fb = FacebookPublisher::new(&env.account(), &env.ctx).expect("build");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let unreachable = env
        .publisher_with(|a| a.base_url = Some(format!("http://{closed}").parse().expect("url")))
        .await;
    let no_proof = env
        .publisher_with(|a| {
            a.settings.remove("app_secret");
            a.settings.remove("app_id");
        })
        .await;
    let faults = env.fake.faults();
    let mut errors: Vec<DeliveryError> = Vec::new();
    faults.inject(Target::Lookup, Fault::Latency(Duration::from_secs(5)), 1);
    errors.push(p.find(&outgoing(100)).await.expect_err("read timeout"));
    faults.inject(Target::Publish, Fault::DropAfterAct, 1);
    errors.push(p.publish(&outgoing(101)).await.expect_err("dropped"));
    faults.inject(Target::Lookup, Fault::DropAfterAct, 1);
    errors.push(p.find(&outgoing(101)).await.expect_err("dropped read"));
    faults.inject(Target::Publish, Fault::ServerError(500), 1);
    errors.push(p.publish(&outgoing(102)).await.expect_err("500"));
    faults.inject(
        Target::Publish,
        Fault::RateLimit(Duration::from_secs(60)),
        1,
    );
    errors.push(p.publish(&outgoing(102)).await.expect_err("limited"));
    faults.inject(Target::Delete, Fault::ExpireToken, 1);
    errors.push(p.delete("1_2").await.expect_err("expired"));
    errors.push(unreachable.find(&outgoing(103)).await.expect_err("refused"));
    errors.push(unreachable.delete("1_2").await.expect_err("refused"));
    errors.push(no_proof.find(&outgoing(104)).await.expect_err("no proof"));
    faults.inject(Target::Any, Fault::RevokeRefresh, 1);
    errors.push(p.find(&outgoing(105)).await.expect_err("revoked"));
    errors.push(fb.check_token().await.expect_err("invalid token"));
    errors.push(p.refresh_auth().await.expect_err("no refresh"));
    assert_eq!(errors.len(), 12);
    let secrets = env.secrets();
    for e in &errors {
        let shown = format!("{e} {e:?}");
        for s in &secrets {
            assert!(!shown.contains(s.as_str()), "secret in {shown}");
        }
    }
    // A failing build names the key, never a value.
    let mut account = env.account();
    account.settings.insert(
        "page_token".into(),
        toml::Value::Table({
            let mut t = toml::Table::new();
            t.insert("file".into(), "missing-token-file".into());
            t
        }),
    );
    let err = facebook::build(&account, &env.ctx)
        .await
        .expect_err("missing file");
    assert!(err.contains("settings.page_token"), "{err}");
}

#[tokio::test]
async fn the_fake_speaks_the_contract_to_any_client() {
    let env = env().await;
    let p = env.publisher().await;
    p.publish(&outgoing(110)).await.expect("published");
    let http = reqwest::Client::new();
    let page = env.fake.page_id();
    // Bearer token, no version prefix, only the requested fields.
    let resp = http
        .get(format!("{}/{page}/published_posts", env.fake.base_url()))
        .bearer_auth(env.fake.page_token())
        .query(&[("fields", "id,created_time")])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-business-use-case-usage"));
    assert!(resp.headers().contains_key("x-app-usage"));
    let body: serde_json::Value = resp.json().await.expect("json");
    let first = &body["data"][0];
    assert!(first.get("message").is_none(), "{body}");
    let created = first["created_time"].as_str().expect("created_time");
    assert!(created.ends_with("+0000"), "{created}");
    assert!(body["paging"]["cursors"]["after"].is_string(), "{body}");
    assert!(body["paging"].get("next").is_none(), "last page: {body}");
    // debug_token on a token that is not the Page's: the invalid shape.
    let body: serde_json::Value = http
        .get(format!("{}/v19.0/debug_token", env.fake.base_url()))
        .query(&[
            ("input_token", "EAAB-someone-else"),
            ("access_token", env.fake.page_token()),
        ])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(body["data"]["is_valid"], false, "{body}");
    assert_eq!(body["data"]["error"]["code"], 190, "{body}");
    // No token at all: a Graph error, not a crash.
    let resp = http
        .post(format!("{}/v21.0/{page}/feed", env.fake.base_url()))
        .form(&[("message", "x")])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    assert_eq!(env.fake.accepted(), 1);
    env.fake.shutdown().await;
}
