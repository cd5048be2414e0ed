//! `musharaka sandbox`: the whole loop offline. The three platform fakes
//! start on loopback, the daemon starts against them with a throw-away data
//! directory, sample news (one with a video, one embargoed, one English, and
//! a ministry feed marked for cross-posting) is published, a few faults are
//! injected (a rate limit, a connection dropped after posting, an
//! interrupted upload), and every post that lands on a fake is printed.

use crate::app;
use crate::config::Config;
use crate::publish::fake::{FakePost, Fault, Target};
use crate::publish::outbox::JobState;
use crate::publish::platforms::facebook::FakeFacebook;
use crate::publish::platforms::x::FakeX;
use crate::publish::platforms::youtube::FakeYoutube;
use crate::shutdown::CancellationToken;
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Sandbox options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the daemon listens.
    pub listen: SocketAddr,
    /// Data directory (default: a new temporary directory).
    pub dir: Option<PathBuf>,
    /// Exit once every job is finished, instead of running until Ctrl-C.
    pub until_idle: bool,
    /// Inject the demonstration faults.
    pub faults: bool,
}

const MOH_SAMPLE: &str = include_str!("../feeds/samples/moh-ar.rss");

fn channel(id: &str, lang: &str, title: &str, extra: &str) -> String {
    format!(
        "id = \"{id}\"\nlanguage = \"{lang}\"\ntitle = \"{title}\"\ndescription = \"{title}\"\nsite_link = \"https://omanportal.gov.om/{lang}/news\"\nlimit = 50\n{extra}"
    )
}

fn account(id: &str, platform: &str, lang: &str, base: &str, settings: toml::Table) -> toml::Value {
    let mut t = toml::Table::new();
    t.insert("id".into(), id.into());
    t.insert("platform".into(), platform.into());
    t.insert("language".into(), lang.into());
    t.insert("base_url".into(), base.into());
    let tag = if lang == "ar" { "عُمان" } else { "Oman" };
    t.insert("hashtags".into(), toml::Value::Array(vec![tag.into()]));
    t.insert("settings".into(), toml::Value::Table(settings));
    toml::Value::Table(t)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn short(p: &FakePost) -> String {
    let line = p
        .title
        .clone()
        .unwrap_or_else(|| p.text.lines().next().unwrap_or_default().to_string());
    let line: String = line.chars().take(70).collect();
    format!("{:<22} {line}", p.id)
}

/// Run the sandbox; returns when Ctrl-C is pressed (or, with `until_idle`,
/// when every job is finished).
pub async fn run(opts: Options) -> Result<(), String> {
    let x = FakeX::start().await.map_err(|e| format!("fake X: {e}"))?;
    let fb = FakeFacebook::start()
        .await
        .map_err(|e| format!("fake Facebook: {e}"))?;
    let yt = FakeYoutube::start()
        .await
        .map_err(|e| format!("fake YouTube: {e}"))?;
    yt.set_daily_quota(1_000_000);
    let dir = match &opts.dir {
        Some(d) => d.clone(),
        None => tempfile_dir()?,
    };
    let secrets = dir.join("secrets");
    let feeds = dir.join("feeds");
    for d in [&secrets, &feeds] {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    // The ministry's video enclosure is served by the fake, as the real one
    // cannot be reached from a sandbox.
    let ministry_video = yt.serve_video(vec![1u8; 512 * 1024]);
    write(
        &feeds.join("moh-ar.rss"),
        &MOH_SAMPLE.replace(
            "https://moh.example.om/media/flu-campaign.mp4",
            ministry_video.as_str(),
        ),
    )?;
    write(
        &feeds.join("news-ar.toml"),
        &channel(
            "news-ar",
            "ar",
            "بوابة عُمان - الأخبار",
            "[[sources]]\nid = \"moh-ar\"\nname = \"وزارة الصحة\"\nfile = \"moh-ar.rss\"\nlanguage = \"ar\"\ntimezone = \"+04:00\"\ncross_post = true\n",
        ),
    )?;
    write(
        &feeds.join("news-en.toml"),
        &channel("news-en", "en", "Oman Portal News", ""),
    )?;
    let accounts = vec![
        account(
            "x-ar",
            "x",
            "ar",
            x.base_url().as_str(),
            x.settings(&secrets, "oauth2"),
        ),
        account(
            "facebook-ar",
            "facebook",
            "ar",
            &fb.base_url(),
            fb.settings(&secrets),
        ),
        account(
            "youtube-ar",
            "youtube",
            "ar",
            yt.base_url().as_str(),
            yt.settings(&secrets),
        ),
        account(
            "x-en",
            "x",
            "en",
            x.base_url().as_str(),
            x.settings(&secrets, "oauth1"),
        ),
    ];
    let mut root = toml::Table::new();
    root.insert("accounts".into(), toml::Value::Array(accounts));
    let accounts = toml::to_string(&root).map_err(|e| e.to_string())?;
    let config_path = dir.join("musharaka.toml");
    write(
        &config_path,
        &format!(
            "data_dir = \"data\"\nfeeds_dir = \"feeds\"\npublic_base_url = \"http://{}/\"\n[http]\nlisten = \"{}\"\n[output]\ndir = \"data/public\"\n[publish]\nbackoff_base = \"1s\"\nbackoff_max = \"10s\"\ntimeout = \"5s\"\n\n{accounts}",
            opts.listen, opts.listen
        ),
    )?;
    let config = Config::load(&config_path).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let token = CancellationToken::new();
    tokio::spawn(crate::shutdown::watch_signals(token.clone()));
    let running = app::start(config, listener, token.clone())
        .await
        .map_err(|e| e.to_string())?;
    let base = format!("http://{}", running.addr);
    println!("Musharaka sandbox — everything below is local and fake.\n");
    println!("  daemon     {base}/   (feeds: {base}/feeds/news-ar.rss, .atom, .json)");
    println!("  fake X     {}", x.base_url());
    println!("  fake FB    {}", fb.base_url());
    println!("  fake YT    {}", yt.base_url());
    println!("  data       {}", dir.display());
    println!(
        "  CLI        MUSHARAKA_URL={base} MUSHARAKA_TOKEN_FILE={} musharaka news add --title-ar \"…\"",
        dir.join("data/admin.token").display()
    );
    println!();

    if opts.faults {
        x.faults()
            .inject(Target::Publish, Fault::RateLimit(Duration::from_secs(3)), 1);
        fb.faults().inject(Target::Publish, Fault::DropAfterAct, 1);
        yt.faults()
            .inject(Target::Publish, Fault::InterruptUpload(256 * 1024), 1);
        println!(
            "Injected: one X rate limit (3 s), one Facebook connection dropped after posting,"
        );
        println!(
            "one YouTube upload cut after 256 KiB. Watch the outbox recover without duplicates.\n"
        );
    }

    // Sample news through the real admin API.
    let token_text =
        std::fs::read_to_string(dir.join("data/admin.token")).map_err(|e| e.to_string())?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let video = yt.serve_video(vec![0u8; 768 * 1024]);
    let soon = chrono::Utc::now() + chrono::Duration::seconds(10);
    let samples = [
        serde_json::json!({"title": {"ar": "إطلاق خدمة تجديد البطاقة الشخصية عبر البوابة", "en": "ID card renewal now online"},
            "body": {"ar": "<p>أصبح بإمكان المواطنين والمقيمين تجديد البطاقة الشخصية إلكترونياً.</p>", "en": "<p>Citizens and residents can now renew their ID cards online.</p>"},
            "categories": ["خدمات"]}),
        serde_json::json!({"title": {"ar": "شرح مصور: كيف تدفع المخالفات المرورية إلكترونياً"},
            "body": {"ar": "<p>مقطع يشرح خطوات الدفع عبر البوابة.</p>"},
            "media": [{"url": video.to_string(), "mime_type": "video/mp4", "length": 786432}]}),
        serde_json::json!({"title": {"ar": "إعلان مؤجل: مواعيد العمل خلال العيد الوطني"}, "published_at": soon.to_rfc3339()}),
    ];
    for s in samples {
        let r = http
            .post(format!("{base}/api/v1/news"))
            .bearer_auth(token_text.trim())
            .json(&s)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(format!("sample news refused: {}", r.status()));
        }
    }
    println!(
        "Published 3 staff items (one embargoed for 10 s); the ministry feed is cross-posted too.\n"
    );

    let mut progress = running.state.deliverer.progress();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let store = running.state.store.clone();
    loop {
        for (name, posts) in [
            ("X", x.posts()),
            ("Facebook", fb.posts()),
            ("YouTube", yt.posts()),
        ] {
            for p in posts {
                if seen.insert((name.to_string(), p.id.clone())) {
                    println!("  {name:<9} ✓ {}", short(&p));
                }
            }
        }
        let jobs = store.all_jobs().await.map_err(|e| e.to_string())?;
        let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
        for j in &jobs {
            *by_state.entry(j.state.name()).or_default() += 1;
        }
        let open = jobs.iter().filter(|j| j.state.is_open()).count();
        if opts.until_idle && open == 0 && !jobs.is_empty() {
            let summary: Vec<String> = by_state.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            println!(
                "\nAll deliveries finished ({}). Fakes accepted: X {}, Facebook {}, YouTube {}.",
                summary.join(", "),
                x.accepted(),
                fb.accepted(),
                yt.accepted()
            );
            let dead = jobs.iter().filter(|j| j.state == JobState::Dead).count();
            token.cancel();
            running.wait().await.map_err(|e| e.to_string())?;
            return if dead == 0 {
                Ok(())
            } else {
                Err(format!("{dead} dead job(s)"))
            };
        }
        tokio::select! {
            _ = token.cancelled() => break,
            _ = progress.changed() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    running.wait().await.map_err(|e| e.to_string())
}

fn tempfile_dir() -> Result<PathBuf, String> {
    let base = std::env::temp_dir().join(format!(
        "musharaka-sandbox-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
    Ok(base)
}
