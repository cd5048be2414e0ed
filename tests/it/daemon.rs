//! The daemon as a process: config checking, systemd readiness, graceful
//! shutdown on SIGTERM, and no loss of acknowledged news on SIGKILL.

use crate::harness::*;
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};

fn musharaka(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_musharaka"))
        .args(args)
        .output()
        .expect("run musharaka")
}

#[test]
fn check_reports_every_problem_with_file_and_key() {
    let install = Install::new(
        &[
            (
                "bad-a.toml",
                r#"
id = "Bad Id"
language = "ar"
title = ""
description = "d"
site_link = "https://x.example/"
[[sources]]
id = "s1"
url = "gopher://x"
[[sources]]
id = "s2"
url = "https://x.example/feed"
schedule = "every tuesday"
[[sources]]
id = "s3"
url = "https://x.example/feed3"
timezone = "Asia/Muscat"
"#,
            ),
            (
                "bad-b.toml",
                r#"
id = "b"
language = "fr"
title = "t"
description = "d"
site_link = "https://x.example/"
"#,
            ),
            (
                "good.toml",
                r#"
id = "good"
language = "en"
title = "t"
description = "d"
site_link = "https://x.example/"
[include]
sources = ["missing-source"]
"#,
            ),
        ],
        "[fetch]\nmax_body_bytes = 0\n[publish]\nbackoff_base = \"0s\"\n\
         [[accounts]]\nid = \"fb\"\nplatform = \"facebook\"\nlanguage = \"ar\"\n\
         template = \"{title} {nope}\"\n\
         [accounts.settings]\npage_token = { env = \"NOPE\", file = \"x\" }\n",
    );
    let cfg = install.config.to_str().unwrap();
    let out = musharaka(&["check", "--config", cfg]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "musharaka.toml: fetch.max_body_bytes: must be greater than 0",
        "musharaka.toml: publish.backoff_base: must be greater than 0",
        "musharaka.toml: accounts[0].template:",
        "musharaka.toml: accounts[0].settings.page_id",
        "musharaka.toml: accounts[0].settings.page_token",
        "bad-a.toml: id: `Bad Id` is not a valid id",
        "bad-a.toml: title: must not be empty",
        "bad-a.toml: sources[0].url: unsupported scheme `gopher`",
        "bad-a.toml: sources[1].schedule: `every tuesday` is not a cron schedule",
        "bad-a.toml: sources[2].timezone: `Asia/Muscat` is not a fixed UTC offset",
        "bad-b.toml: language: unknown variant `fr`",
        "good.toml: include.sources[0]: no source `missing-source`",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    // `run` refuses to start on the same config, with the same report.
    let out = musharaka(&["run", "--config", cfg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to start"));
    // An unknown key in the main file names the key.
    let install = Install::new(&[("ar.toml", AR_CHANNEL)], "[log]\nlevel = \"x\"\n");
    let out = musharaka(&["check", "--config", install.config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("musharaka.toml: log.level: unknown field `level`"),
        "{err}"
    );
}

#[test]
fn the_shipped_default_config_is_valid() {
    let out = musharaka(&[
        "check",
        "--config",
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/musharaka.toml"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn sigkill_after_acknowledgement_loses_nothing() {
    let install = Install::standard();
    let mut p = Process::spawn(&install);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut acked = Vec::new();
    for i in 0..25 {
        let resp = http
            .post(p.url("/api/v1/news"))
            .bearer_auth(EDITOR_TOKEN)
            .json(&json!({"title": {"ar": format!("خبر رقم {i}")}}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let v: Value = resp.json().await.unwrap();
        acked.push(v["id"].as_str().unwrap().to_string());
    }
    // No graceful anything: the process dies right after the last answer.
    p.kill9();
    let p = Process::spawn(&install);
    let list: Value = http
        .get(p.url("/api/v1/news?limit=500"))
        .bearer_auth(VIEWER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut got: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    acked.sort();
    assert_eq!(got, acked);
}

#[test]
fn sigterm_stops_gracefully_and_tells_systemd() {
    let install = Install::standard();
    let mut p = Process::spawn(&install);
    let status = p.term();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    p.next_notify_containing("STOPPING=1");
    // The store was closed cleanly: a new process opens it.
    let _p = Process::spawn(&install);
}

#[test]
fn watchdog_pings_when_systemd_asks_for_them() {
    let install = Install::standard();
    let notify_path = install.path("wd.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    // systemd sets WATCHDOG_PID to the service's pid: `exec` keeps the shell's.
    let child = Command::new("sh")
        .arg("-c")
        .arg("WATCHDOG_PID=$$ exec \"$0\" run --config \"$1\"")
        .arg(env!("CARGO_BIN_EXE_musharaka"))
        .arg(&install.config)
        .env("NOTIFY_SOCKET", &notify_path)
        .env("WATCHDOG_USEC", "200000")
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut buf = [0u8; 1024];
    let mut seen_ready = false;
    let mut watchdogs = 0;
    while watchdogs < 2 {
        let n = sock.recv(&mut buf).expect("sd_notify datagram");
        let msg = String::from_utf8_lossy(&buf[..n]);
        seen_ready |= msg.contains("READY=1");
        if msg.contains("WATCHDOG=1") {
            watchdogs += 1;
        }
    }
    assert!(seen_ready);
    let _ = child.0.kill();
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn newcomer_flow_cli_add_list_retract_against_the_running_daemon() {
    // No tokens configured: the daemon generates its admin token for the CLI.
    let install = Install::with_auth(
        &[("ar.toml", AR_CHANNEL), ("en.toml", EN_CHANNEL)],
        "",
        false,
    );
    let p = Process::spawn(&install);
    let token_file = install.path("data/admin.token");
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert!(token.trim().len() >= 32);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let cfg = install.config.to_str().unwrap().to_string();
    let url = format!("http://{}", p.addr);
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_musharaka"))
            .args(args)
            .args(["--config", &cfg, "--url", &url])
            .output()
            .unwrap()
    };
    let out = cli(&[
        "news",
        "add",
        "--title-ar",
        "خبر من سطر الأوامر",
        "--body-ar",
        "<p>نص الخبر</p>",
        "--category",
        "خدمات",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let added_at = Instant::now();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let id = stdout.split('\t').next().unwrap().trim().to_string();
    assert!(stdout.contains("\tlive\t"), "{stdout}");

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for path in ["/feeds/news-ar.rss", "/feeds/news-ar.atom"] {
        loop {
            let body = http
                .get(p.url(path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if body.contains("خبر من سطر الأوامر") {
                break;
            }
            assert!(
                added_at.elapsed() < Duration::from_secs(1),
                "{path} did not show the item within a second"
            );
            tokio::task::yield_now().await;
        }
    }

    let out = cli(&["news", "list"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id));
    let out = cli(&["news", "retract", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&["news", "list", "--state", "retracted"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id));
    // A validation failure is reported with its fields and a non-zero status.
    let out = cli(&["news", "add", "--link", "ftp://x"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("422") && err.contains("link"), "{err}");
}

#[test]
fn the_sandbox_runs_the_whole_loop_offline() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_musharaka"))
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--until-idle",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for platform in ["X", "Facebook", "YouTube"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.trim_start().starts_with(platform) && l.contains('✓')),
            "no {platform} post in:\n{stdout}"
        );
    }
    assert!(stdout.contains("All deliveries finished"), "{stdout}");
    assert!(!stdout.contains("dead"), "{stdout}");
}

// The fakes live in this test's runtime; the CLI calls block a thread, so
// the fakes need another one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_accounts_and_preview_from_the_cli() {
    use musharaka::publish::fake::{Fault, Target};
    let (install, fakes) = crate::outbox::install_with_fakes().await;
    fakes
        .x
        .faults()
        .inject(Target::Publish, Fault::ServerError(400), 1);
    let p = Process::spawn(&install);
    let cfg = install.config.to_str().unwrap().to_string();
    let url = format!("http://{}", p.addr);
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_musharaka"))
            .args(args)
            .args(["--config", &cfg, "--url", &url])
            .env("MUSHARAKA_TOKEN", ADMIN_TOKEN)
            .output()
            .unwrap()
    };
    let out = cli(&["news", "add", "--title-ar", "خبر من سطر الأوامر للنشر"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout)
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let jobs = |pred: &dyn Fn(&[serde_json::Value]) -> bool| -> Vec<serde_json::Value> {
        let started = Instant::now();
        loop {
            let out = cli(&["outbox", "list", "--item", &id, "--json"]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
            if pred(&v) {
                return v;
            }
            assert!(started.elapsed() < Duration::from_secs(15), "{v:#?}");
            // Another process: nothing to wait on but its answers.
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let v = jobs(&|v| {
        v.iter()
            .any(|j| j["account_id"] == "x-ar" && j["state"] == "dead")
            && v.iter()
                .any(|j| j["account_id"] == "facebook-ar" && j["state"] == "posted")
    });
    let dead = v.iter().find(|j| j["account_id"] == "x-ar").unwrap();
    let posted = v.iter().find(|j| j["account_id"] == "facebook-ar").unwrap();
    let out = cli(&["outbox", "retry", dead["id"].as_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    jobs(&|v| {
        v.iter()
            .any(|j| j["account_id"] == "x-ar" && j["state"] == "posted")
    });
    // A posted job cannot be cancelled.
    let out = cli(&["outbox", "cancel", posted["id"].as_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("409"));
    let out = cli(&["outbox", "list", "--state", "posted"]);
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listed.contains("x-ar") && listed.contains("https://x.com/i/web/status/"),
        "{listed}"
    );
    let out = cli(&["accounts", "list"]);
    let accounts = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        accounts.lines().any(|l| l.starts_with("x-ar\tx\tar\tok")),
        "{accounts}"
    );
    let out = cli(&["preview", &id]);
    let preview = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        preview.contains("── x-ar (x)") && preview.contains("خبر من سطر الأوامر للنشر"),
        "{preview}"
    );
    assert!(preview.contains("skipped: no video"), "{preview}");
    assert_eq!(fakes.x.accepted(), 1);
    assert_eq!(fakes.fb.accepted(), 1);
}

#[test]
fn a_second_signal_exits_at_once() {
    use std::io::Write;
    let install = Install::standard();
    let mut p = Process::spawn(&install);
    // An in-flight request holds the graceful shutdown open: its body never completes.
    let mut conn = std::net::TcpStream::connect(&p.addr).unwrap();
    write!(
        conn,
        "POST /api/v1/news HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {EDITOR_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    )
    .unwrap();
    conn.flush().unwrap();
    send_signal(p.child.id(), 15);
    p.next_notify_containing("STOPPING=1");
    send_signal(p.child.id(), 15);
    let status = p.child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
}

fn send_signal(pid: u32, sig: i32) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(ok.success());
}
