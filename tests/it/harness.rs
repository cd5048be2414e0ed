//! A daemon under test: a temporary data dir, a config and channel files
//! written for it, and the real app started in-process on 127.0.0.1:0 — or
//! the real binary as a child process, for signal and crash tests.

#![allow(dead_code)]

use musharaka::app::{self, Running};
use musharaka::config::Config;
use musharaka::shutdown::CancellationToken;
use std::collections::BTreeMap;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

pub const EDITOR_TOKEN: &str = "editor-token-0123456789abcdef";
pub const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef00";
pub const VIEWER_TOKEN: &str = "viewer-token-0123456789abcdef";

/// Files of a test installation.
pub struct Install {
    pub dir: TempDir,
    pub config: PathBuf,
}

pub const AR_CHANNEL: &str = r#"
id = "news-ar"
language = "ar"
title = "الأخبار"
description = "أخبار البوابة"
site_link = "https://portal.example.om/ar/news"
limit = 5
"#;

pub const EN_CHANNEL: &str = r#"
id = "news-en"
language = "en"
title = "News"
description = "Portal news"
site_link = "https://portal.example.om/en/news"
limit = 5
"#;

impl Install {
    /// A config with an editor and a viewer token and the given channel files.
    pub fn new(channels: &[(&str, &str)], extra: &str) -> Install {
        Install::with_auth(channels, extra, true)
    }

    /// Like [`Install::new`]; without tokens the daemon generates its admin token.
    pub fn with_auth(channels: &[(&str, &str)], extra: &str, tokens: bool) -> Install {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("feeds")).unwrap();
        for (name, text) in channels {
            std::fs::write(dir.path().join("feeds").join(name), text).unwrap();
        }
        std::fs::write(dir.path().join("editor.token"), EDITOR_TOKEN).unwrap();
        std::fs::write(dir.path().join("viewer.token"), VIEWER_TOKEN).unwrap();
        std::fs::write(dir.path().join("admin-staff.token"), ADMIN_TOKEN).unwrap();
        let config = dir.path().join("musharaka.toml");
        let auth = if tokens {
            r#"
[[auth.tokens]]
name = "editor"
role = "editor"
file = "editor.token"
[[auth.tokens]]
name = "viewer"
role = "viewer"
file = "viewer.token"
[[auth.tokens]]
name = "admin"
role = "admin"
file = "admin-staff.token"
"#
        } else {
            ""
        };
        std::fs::write(
            &config,
            format!(
                r#"
data_dir = "data"
feeds_dir = "feeds"
public_base_url = "http://feeds.example.om/"
[http]
listen = "127.0.0.1:0"
shutdown_grace = "5s"
[output]
dir = "public"
{auth}
{extra}
"#
            ),
        )
        .unwrap();
        Install { dir, config }
    }

    pub fn standard() -> Install {
        Install::new(&[("ar.toml", AR_CHANNEL), ("en.toml", EN_CHANNEL)], "")
    }

    pub fn admin_token(&self) -> String {
        ADMIN_TOKEN.to_string()
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn load(&self) -> Config {
        Config::load_with_env(&self.config, &BTreeMap::new()).expect("valid test config")
    }

    /// Start the daemon in-process.
    pub async fn start(&self) -> Daemon {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = app::start(self.load(), listener, CancellationToken::new())
            .await
            .expect("daemon starts");
        Daemon::new(running)
    }
}

/// A running in-process daemon and an HTTP client for it.
pub struct Daemon {
    pub running: Running,
    pub base: String,
    pub http: reqwest::Client,
}

impl Daemon {
    pub fn new(running: Running) -> Daemon {
        let base = format!("http://{}", running.addr);
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Daemon {
            running,
            base,
            http,
        }
    }

    pub fn url(&self, p: &str) -> String {
        format!("{}{p}", self.base)
    }

    /// GET `path` with a bearer token and decode the JSON answer.
    pub async fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn post_news(&self, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/news"))
            .bearer_auth(EDITOR_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Wait (on the render-generation signal) until `pred` holds for the
    /// body of `path`, or fail after `limit`.
    pub async fn wait_for_feed(
        &self,
        path: &str,
        limit: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let mut rx = self.running.rendered.clone();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            rx.borrow_and_update();
            let body = self
                .http
                .get(self.url(path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if pred(&body) {
                return body;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => panic!("timed out waiting for {path}; last body:\n{body}"),
            }
        }
    }

    pub async fn stop(self) {
        self.running.shutdown().await.expect("clean shutdown");
    }
}

/// The real binary as a child process, with a NOTIFY_SOCKET to learn when
/// it is ready and where it listens.
pub struct Process {
    pub child: Child,
    pub addr: String,
    pub notify: UnixDatagram,
    pub notify_path: PathBuf,
}

impl Process {
    pub fn spawn(install: &Install) -> Process {
        let notify_path = install.path(&format!("notify-{}.sock", rand_suffix()));
        let notify = UnixDatagram::bind(&notify_path).unwrap();
        notify
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_musharaka"))
            .arg("run")
            .arg("--config")
            .arg(&install.config)
            .env("NOTIFY_SOCKET", &notify_path)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn musharaka");
        let mut p = Process {
            child,
            addr: String::new(),
            notify,
            notify_path,
        };
        let ready = p.next_notify_containing("READY=1");
        let status = ready
            .lines()
            .find_map(|l| l.strip_prefix("STATUS=serving on "))
            .expect("STATUS with the address")
            .to_string();
        p.addr = status;
        p
    }

    /// Block until a notify datagram containing `needle` arrives.
    pub fn next_notify_containing(&mut self, needle: &str) -> String {
        let mut buf = [0u8; 4096];
        loop {
            let n = self
                .notify
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("no sd_notify message with {needle}: {e}"));
            let msg = String::from_utf8_lossy(&buf[..n]).to_string();
            if msg.contains(needle) {
                return msg;
            }
        }
    }

    pub fn url(&self, p: &str) -> String {
        format!("http://{}{p}", self.addr)
    }

    pub fn kill9(&mut self) {
        unsafe_kill(self.child.id(), 9);
        let _ = self.child.wait();
    }

    pub fn term(&mut self) -> std::process::ExitStatus {
        unsafe_kill(self.child.id(), 15);
        self.child.wait().unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.notify_path);
    }
}

fn unsafe_kill(pid: u32, sig: i32) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .expect("kill");
    assert!(status.success());
}

fn rand_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
