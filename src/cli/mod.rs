//! The `musharaka` command line: `run`, `check`, and `news add|list|show|retract`,
//! which talk to the running daemon's admin API.
//!
//! The CLI finds the daemon from the same config file (its `http.listen`),
//! or `--url` / `MUSHARAKA_URL`; the token comes from `MUSHARAKA_TOKEN`,
//! `--token-file` / `MUSHARAKA_TOKEN_FILE`, or the generated
//! `<data_dir>/admin.token`.

use crate::config::{self, Config};
use crate::http::api::news::{NewsList, NewsView};
use crate::model::{Lang, Localized};
use crate::sources::staff::{MediaInput, NewsInput};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Musharaka: the portal's e-participation daemon.
#[derive(Debug, Parser)]
#[command(name = "musharaka", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon in the foreground.
    Run {
        /// Config file.
        #[arg(long, short, env = "MUSHARAKA_CONFIG", default_value = config::DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Validate the config and every channel file; exit 2 on any problem.
    Check {
        /// Config file.
        #[arg(long, short, env = "MUSHARAKA_CONFIG", default_value = config::DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Run the whole loop offline against in-process platform fakes.
    Sandbox {
        /// Where the daemon listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Data directory (default: a new temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Exit once every delivery is finished.
        #[arg(long)]
        until_idle: bool,
        /// Do not inject the demonstration faults.
        #[arg(long)]
        no_faults: bool,
    },
    /// Print the length of the text on stdin as a platform counts it
    /// (`x`: twitter-text v3 weighted length).
    TextLength {
        /// x, facebook or youtube.
        #[arg(long, default_value = "x")]
        platform: String,
    },
    /// Show what each account would post for a news item.
    Preview {
        /// Item id.
        id: String,
        /// How to reach the daemon.
        #[command(flatten)]
        conn: Connection,
    },
    /// Inspect and steer the outbox of the running daemon.
    Outbox {
        /// Which action.
        #[command(subcommand)]
        action: OutboxAction,
        /// How to reach the daemon.
        #[command(flatten)]
        conn: Connection,
    },
    /// Social accounts: health, and resuming a parked one.
    Accounts {
        /// Which action.
        #[command(subcommand)]
        action: AccountsAction,
        /// How to reach the daemon.
        #[command(flatten)]
        conn: Connection,
    },
    /// Manage staff news on the running daemon.
    News {
        /// Which action.
        #[command(subcommand)]
        action: Box<NewsAction>,
        /// How to reach the daemon.
        #[command(flatten)]
        conn: Connection,
    },
}

/// How the CLI reaches the daemon.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// Config file (to find the daemon's address and token).
    #[arg(long, short, global = true, env = "MUSHARAKA_CONFIG", default_value = config::DEFAULT_CONFIG)]
    pub config: PathBuf,
    /// Base URL of the daemon, e.g. http://127.0.0.1:8080 (default: from the config).
    #[arg(long, global = true, env = "MUSHARAKA_URL")]
    pub url: Option<String>,
    /// File holding the bearer token (default: `<data_dir>/admin.token`).
    #[arg(long, global = true, env = "MUSHARAKA_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
}

/// `news` actions.
#[derive(Debug, Subcommand)]
pub enum NewsAction {
    /// Publish a news item (a future --at is an embargo).
    Add(Box<AddArgs>),
    /// List news items.
    List {
        /// live, embargoed or retracted.
        #[arg(long)]
        state: Option<String>,
        /// staff or upstream.
        #[arg(long)]
        origin: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one item as JSON.
    Show {
        /// Item id.
        id: String,
    },
    /// Retract an item: it leaves every feed (it is kept, flagged).
    Retract {
        /// Item id.
        id: String,
    },
}

/// `outbox` actions.
#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// List jobs, newest first.
    List {
        /// pending, in_flight, unknown, posted, deleted, skipped, dead, cancelled.
        #[arg(long)]
        state: Option<String>,
        /// Only this account.
        #[arg(long)]
        account: Option<String>,
        /// A news item's deliveries only.
        #[arg(long)]
        item: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Retry a dead, skipped or cancelled job (reconciled first).
    Retry {
        /// Job id.
        id: String,
    },
    /// Cancel a job that is not posted.
    Cancel {
        /// Job id.
        id: String,
    },
}

/// `accounts` actions.
#[derive(Debug, Subcommand)]
pub enum AccountsAction {
    /// List accounts with their state.
    List,
    /// Let a parked account deliver again (after re-authorization).
    Resume {
        /// Account id.
        id: String,
    },
}

/// `news add` arguments.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Arabic title.
    #[arg(long)]
    pub title_ar: Option<String>,
    /// English title.
    #[arg(long)]
    pub title_en: Option<String>,
    /// Arabic body (HTML).
    #[arg(long)]
    pub body_ar: Option<String>,
    /// English body (HTML).
    #[arg(long)]
    pub body_en: Option<String>,
    /// Link to the full story.
    #[arg(long)]
    pub link: Option<String>,
    /// Category (repeatable).
    #[arg(long = "category")]
    pub categories: Vec<String>,
    /// Image URL (JPEG unless --image-type).
    #[arg(long)]
    pub image: Option<String>,
    /// Image MIME type.
    #[arg(long, default_value = "image/jpeg")]
    pub image_type: String,
    /// Video URL (MP4 unless --video-type).
    #[arg(long)]
    pub video: Option<String>,
    /// Video MIME type.
    #[arg(long, default_value = "video/mp4")]
    pub video_type: String,
    /// Author.
    #[arg(long)]
    pub author: Option<String>,
    /// Publication time, RFC 3339 (default now).
    #[arg(long)]
    pub at: Option<DateTime<Utc>>,
}

/// A CLI failure, with the exit status to use.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad usage or configuration (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The daemon refused or could not be reached (exit 1).
    #[error("{0}")]
    Remote(String),
}

impl CliError {
    /// Process exit status.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Remote(_) => 1,
        }
    }
}

struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    fn new(conn: &Connection) -> Result<Client, CliError> {
        let cfg = Config::load(&conn.config);
        let base = match (&conn.url, &cfg) {
            (Some(u), _) => u.trim_end_matches('/').to_string(),
            (None, Ok(c)) => {
                let mut a = c.http.listen;
                if a.ip().is_unspecified() {
                    a.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                format!("http://{a}")
            }
            (None, Err(e)) => return Err(CliError::Usage(format!("{e}(or pass --url)"))),
        };
        let token = if let Ok(t) = std::env::var("MUSHARAKA_TOKEN") {
            t
        } else {
            let path = match (&conn.token_file, &cfg) {
                (Some(p), _) => p.clone(),
                (None, Ok(c)) => crate::http::auth::admin_token_path(&c.data_dir),
                (None, Err(_)) => {
                    return Err(CliError::Usage(
                        "no token: set MUSHARAKA_TOKEN or --token-file".into(),
                    ));
                }
            };
            std::fs::read_to_string(&path)
                .map_err(|e| {
                    CliError::Usage(format!(
                        "cannot read the token file {}: {e} (is the daemon started? set MUSHARAKA_TOKEN or --token-file)",
                        path.display()
                    ))
                })?
                .trim()
                .to_string()
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| CliError::Remote(e.to_string()))?;
        Ok(Client { base, token, http })
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<String, CliError> {
        let resp = req.bearer_auth(&self.token).send().await.map_err(|e| {
            CliError::Remote(format!("cannot reach the daemon at {}: {e}", self.base))
        })?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| CliError::Remote(e.to_string()))?;
        if status.is_success() {
            Ok(text)
        } else {
            let detail = serde_json::from_str::<serde_json::Value>(&text)
                .map(|v| {
                    let mut d = v["detail"].as_str().unwrap_or("").to_string();
                    if let Some(errs) = v["errors"].as_array() {
                        for e in errs {
                            d.push_str(&format!(
                                "\n  {}: {}",
                                e["field"].as_str().unwrap_or("?"),
                                e["message"].as_str().unwrap_or("?")
                            ));
                        }
                    }
                    d
                })
                .unwrap_or(text);
            Err(CliError::Remote(format!("{status}: {detail}")))
        }
    }
}

/// `musharaka text-length`: stdin → the platform's measure of it.
pub fn text_length(platform: &str, text: &str) -> Result<usize, CliError> {
    // A trailing newline from `echo` or a file is not part of the post.
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    match platform {
        "x" => Ok(crate::publish::text::x_length(text)),
        "facebook" => Ok(text.encode_utf16().count()),
        "youtube" => Ok(text.len()),
        other => Err(CliError::Usage(format!(
            "unknown platform `{other}` (x, facebook or youtube)"
        ))),
    }
}

fn show_jobs(text: &str, json: bool) -> Result<(), CliError> {
    if json {
        println!("{text}");
        return Ok(());
    }
    let jobs: Vec<serde_json::Value> = decode(text)?;
    for j in &jobs {
        println!(
            "{}\t{}\t{}\t{}\tattempts={}\t{}\t{}",
            j["id"].as_str().unwrap_or_default(),
            j["account_id"].as_str().unwrap_or_default(),
            j["state"].as_str().unwrap_or_default(),
            j["item_id"].as_str().unwrap_or_default(),
            j["attempts"],
            j["post"]["url"].as_str().unwrap_or("-"),
            j["last_error"].as_str().unwrap_or("")
        );
    }
    eprintln!("{} job(s)", jobs.len());
    Ok(())
}

/// Run an `outbox` action.
pub async fn outbox(action: OutboxAction, conn: Connection) -> Result<(), CliError> {
    let client = Client::new(&conn)?;
    match action {
        OutboxAction::List {
            state,
            account,
            item,
            json,
        } => {
            let text = if let Some(item) = item {
                let url = format!("{}/api/v1/news/{item}/deliveries", client.base);
                client.send(client.http.get(url)).await?
            } else {
                let mut q = vec![("limit", "1000".to_string())];
                if let Some(s) = state {
                    q.push(("state", s));
                }
                if let Some(a) = account {
                    q.push(("account", a));
                }
                let url = format!("{}/api/v1/outbox", client.base);
                client.send(client.http.get(url).query(&q)).await?
            };
            show_jobs(&text, json)
        }
        OutboxAction::Retry { id } => {
            let url = format!("{}/api/v1/outbox/{id}/retry", client.base);
            let text = client.send(client.http.post(url)).await?;
            show_jobs(&format!("[{text}]"), false)
        }
        OutboxAction::Cancel { id } => {
            let url = format!("{}/api/v1/outbox/{id}/cancel", client.base);
            let text = client.send(client.http.post(url)).await?;
            show_jobs(&format!("[{text}]"), false)
        }
    }
}

/// Run an `accounts` action.
pub async fn accounts(action: AccountsAction, conn: Connection) -> Result<(), CliError> {
    let client = Client::new(&conn)?;
    match action {
        AccountsAction::List => {
            let url = format!("{}/api/v1/accounts", client.base);
            let text = client.send(client.http.get(url)).await?;
            let list: Vec<serde_json::Value> = decode(&text)?;
            for a in list {
                let st = &a["state"];
                let status = if let Some(r) = st["needs_reauth"].as_str() {
                    format!(
                        "NEEDS RE-AUTHORIZATION since {}: {r}",
                        st["needs_reauth_since"].as_str().unwrap_or("?")
                    )
                } else if let Some(p) = st["paused_until"].as_str() {
                    format!("ok (last pause until {p})")
                } else {
                    "ok".to_string()
                };
                println!(
                    "{}\t{}\t{}\t{}",
                    a["id"].as_str().unwrap_or_default(),
                    a["platform"].as_str().unwrap_or_default(),
                    a["language"].as_str().unwrap_or_default(),
                    status
                );
            }
            Ok(())
        }
        AccountsAction::Resume { id } => {
            let url = format!("{}/api/v1/accounts/{id}/resume", client.base);
            client.send(client.http.post(url)).await?;
            println!("{id}\tresumed");
            Ok(())
        }
    }
}

/// `musharaka preview ITEM`.
pub async fn preview(id: String, conn: Connection) -> Result<(), CliError> {
    let client = Client::new(&conn)?;
    let url = format!("{}/api/v1/news/{id}/preview", client.base);
    let text = client.send(client.http.get(url)).await?;
    let list: Vec<serde_json::Value> = decode(&text)?;
    for a in list {
        println!(
            "── {} ({})",
            a["account"].as_str().unwrap_or_default(),
            a["platform"].as_str().unwrap_or_default()
        );
        if let Some(r) = a["skipped"].as_str() {
            println!("   skipped: {r}\n");
            continue;
        }
        let post = &a["post"];
        if let Some(t) = post["title"].as_str() {
            println!("   title: {t}");
        }
        for line in post["text"].as_str().unwrap_or_default().lines() {
            println!("   {line}");
        }
        println!("   [{} / {}]\n", post["length"], post["limit"]);
    }
    Ok(())
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, CliError> {
    serde_json::from_str(text).map_err(|e| CliError::Remote(format!("unexpected answer: {e}")))
}

/// Run a `news` action; prints to stdout.
pub async fn news(action: NewsAction, conn: Connection) -> Result<(), CliError> {
    let client = Client::new(&conn)?;
    let url = |p: &str| format!("{}/api/v1/news{p}", client.base);
    match action {
        NewsAction::Add(a) => {
            let mut title = Localized::default();
            title.set(Lang::Ar, a.title_ar);
            title.set(Lang::En, a.title_en);
            let mut body = Localized::default();
            body.set(Lang::Ar, a.body_ar);
            body.set(Lang::En, a.body_en);
            let mut media = Vec::new();
            if let Some(u) = a.image {
                media.push(MediaInput {
                    url: u,
                    mime_type: a.image_type,
                    length: None,
                });
            }
            if let Some(u) = a.video {
                media.push(MediaInput {
                    url: u,
                    mime_type: a.video_type,
                    length: None,
                });
            }
            let input = NewsInput {
                title,
                body,
                link: a.link,
                categories: a.categories,
                media,
                author: a.author,
                published_at: a.at,
            };
            // One key for every attempt: a retry after a lost answer cannot
            // create (and cross-post) the item twice.
            let key = uuid::Uuid::new_v4().to_string();
            let mut attempt = 0u64;
            let text = loop {
                attempt += 1;
                let req = client
                    .http
                    .post(url(""))
                    .header("Idempotency-Key", &key)
                    .json(&input);
                match client.send(req).await {
                    Err(CliError::Remote(m))
                        if attempt < 3 && (m.starts_with("cannot reach") || m.starts_with('5')) =>
                    {
                        eprintln!("musharaka: {m}; retrying");
                        tokio::time::sleep(std::time::Duration::from_millis(500 * attempt)).await;
                    }
                    r => break r?,
                }
            };
            let v: NewsView = decode(&text)?;
            println!(
                "{}\t{}\t{}",
                v.item.id,
                serde_json::to_value(v.state)
                    .ok()
                    .and_then(|s| s.as_str().map(str::to_string))
                    .unwrap_or_default(),
                v.item.published_at.to_rfc3339()
            );
        }
        NewsAction::List {
            state,
            origin,
            limit,
            json,
        } => {
            let mut q = vec![("limit", limit.to_string())];
            if let Some(s) = state {
                q.push(("state", s));
            }
            if let Some(o) = origin {
                q.push(("origin", o));
            }
            let text = client.send(client.http.get(url("")).query(&q)).await?;
            if json {
                println!("{text}");
                return Ok(());
            }
            let list: NewsList = decode(&text)?;
            for v in list.items {
                let title = v
                    .item
                    .title
                    .get(Lang::Ar)
                    .or(v.item.title.get(Lang::En))
                    .unwrap_or_default()
                    .to_string();
                let state = serde_json::to_value(v.state)
                    .ok()
                    .and_then(|s| s.as_str().map(str::to_string))
                    .unwrap_or_default();
                println!(
                    "{}\t{}\t{}\t{}",
                    v.item.id,
                    state,
                    v.item.published_at.to_rfc3339(),
                    title
                );
            }
            eprintln!("{} item(s) in all", list.total);
        }
        NewsAction::Show { id } => {
            let text = client.send(client.http.get(url(&format!("/{id}")))).await?;
            let v: serde_json::Value = decode(&text)?;
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or(text));
        }
        NewsAction::Retract { id } => {
            let text = client
                .send(client.http.delete(url(&format!("/{id}"))))
                .await?;
            let v: NewsView = decode(&text)?;
            println!("{}\tretracted", v.item.id);
        }
    }
    Ok(())
}
