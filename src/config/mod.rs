//! Configuration: the typed tree of `musharaka.toml` and of the channel files
//! in the feeds directory, loaded and validated as a whole.
//!
//! Owns: parsing, defaults, path resolution, environment overrides and
//! validation. Every problem is collected with the file and key it concerns,
//! so `musharaka check` reports them all at once and `run` refuses to start
//! on any of them.
//! Does not own: secrets' values (see [`secrets`]) beyond where to find them.

pub mod secrets;

use crate::model::Lang;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

pub use secrets::{Role, TokenConfig};

/// The default config path, relative to the working directory.
pub const DEFAULT_CONFIG: &str = "config/musharaka.toml";

/// One configuration problem: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file it was found in.
    pub file: PathBuf,
    /// The dotted key path, e.g. `sources[1].schedule`; empty for the file.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}: {}: {}", self.file.display(), self.key, self.message)
        }
    }
}

/// All problems found in a configuration.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError(pub Vec<Problem>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} configuration problem(s):", self.0.len())?;
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// The daemon's configuration file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Directory of the embedded store and generated credentials.
    #[serde(default = "defaults::data_dir")]
    pub data_dir: PathBuf,
    /// Directory of channel definitions (one TOML file per channel).
    #[serde(default = "defaults::feeds_dir")]
    pub feeds_dir: PathBuf,
    /// Public base URL under which `/feeds/...` is reachable by readers.
    #[serde(default = "defaults::public_base_url")]
    pub public_base_url: Url,
    /// HTTP server.
    #[serde(default)]
    pub http: HttpConfig,
    /// Static file output.
    #[serde(default)]
    pub output: OutputConfig,
    /// Upstream fetching.
    #[serde(default)]
    pub fetch: FetchConfig,
    /// Staff authentication.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// Cross-posting.
    #[serde(default)]
    pub publish: PublishConfig,
    /// Social accounts news is cross-posted to.
    #[serde(default)]
    pub accounts: Vec<AccountFile>,
}

/// `[publish]`: delivery to social platforms.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublishConfig {
    /// Connect time limit of platform calls.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Whole-call time limit (uploads excepted: they are chunked).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// First retry delay after a failure (doubles, full jitter).
    #[serde(with = "humantime_serde")]
    pub backoff_base: Duration,
    /// Longest retry delay.
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// Attempts before a job is dead (kept, with its error, until staff act).
    pub max_attempts: u32,
}

impl Default for PublishConfig {
    fn default() -> Self {
        PublishConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
            max_attempts: 12,
        }
    }
}

/// `[[accounts]]`: one social account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountFile {
    /// Unique id, e.g. `x-ar`.
    pub id: String,
    /// `x`, `facebook` or `youtube`.
    pub platform: crate::publish::Platform,
    /// Items with a title in this language are posted here.
    pub language: Lang,
    /// API base URL; each platform has its default.
    #[serde(default)]
    pub base_url: Option<Url>,
    /// Post template with `{title}`, `{summary}`, `{link}`, `{hashtags}`.
    #[serde(default)]
    pub template: Option<String>,
    /// Hashtags added to every post (without `#`).
    #[serde(default)]
    pub hashtags: Vec<String>,
    /// Delete the post when its item is retracted.
    #[serde(default = "defaults::yes")]
    pub delete_on_retract: bool,
    /// Post to this account at all.
    #[serde(default = "defaults::yes")]
    pub enabled: bool,
    /// Platform settings and credential references, checked by the platform module.
    #[serde(default)]
    pub settings: toml::Table,
}

/// A validated account.
#[derive(Debug, Clone)]
pub struct Account {
    /// Unique id.
    pub id: String,
    /// Platform.
    pub platform: crate::publish::Platform,
    /// Language.
    pub lang: Lang,
    /// API base URL, if overridden.
    pub base_url: Option<Url>,
    /// Template text, if overridden.
    pub template: Option<String>,
    /// Hashtags.
    pub hashtags: Vec<String>,
    /// Delete posts of retracted items.
    pub delete_on_retract: bool,
    /// Enabled.
    pub enabled: bool,
    /// Platform settings (validated by the platform module).
    pub settings: toml::Table,
}

/// `[http]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long in-flight work may take after a shutdown signal.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// Per-request time limit.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 1024 * 1024,
            shutdown_grace: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// `[output]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Where rendered feeds are written for a static web server; none: off.
    pub dir: Option<PathBuf>,
}

/// `[fetch]`: how upstream feeds are polled.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    /// `User-Agent` sent upstream.
    pub user_agent: String,
    /// TCP+TLS connect time limit.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Whole-request time limit.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Longest silence between two chunks of a body.
    #[serde(with = "humantime_serde")]
    pub read_timeout: Duration,
    /// Largest body accepted, after decompression.
    pub max_body_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Requests in flight to one host.
    pub per_host_concurrency: usize,
    /// First retry delay after a failure (doubles per failure, full jitter).
    #[serde(with = "humantime_serde")]
    pub backoff_base: Duration,
    /// Longest retry delay; failing sources are retried forever at most this far apart.
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// Shortest interval between polls, whatever the schedule says.
    #[serde(with = "humantime_serde")]
    pub min_interval: Duration,
    /// Longest delay honoured from Cache-Control/Expires/ttl/Retry-After.
    #[serde(with = "humantime_serde")]
    pub max_cache_delay: Duration,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: format!(
                "Musharaka/{} (e-participation feed aggregator; +https://omanportal.gov.om)",
                env!("CARGO_PKG_VERSION")
            ),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(20),
            max_body_bytes: 5 * 1024 * 1024,
            max_redirects: 5,
            per_host_concurrency: 2,
            backoff_base: Duration::from_secs(60),
            backoff_max: Duration::from_secs(6 * 3600),
            min_interval: Duration::from_secs(60),
            max_cache_delay: Duration::from_secs(24 * 3600),
        }
    }
}

/// `[auth]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Staff bearer tokens. With none configured, the daemon generates an
    /// admin token in `<data_dir>/admin.token` (mode 0600) for the local CLI.
    pub tokens: Vec<TokenConfig>,
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter, e.g. `info,musharaka=debug`; `RUST_LOG` wins.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            filter: "info".into(),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

mod defaults {
    use std::path::PathBuf;
    use url::Url;
    pub fn data_dir() -> PathBuf {
        PathBuf::from("../data")
    }
    pub fn feeds_dir() -> PathBuf {
        PathBuf::from("../feeds")
    }
    pub fn public_base_url() -> Url {
        Url::parse("http://127.0.0.1:8080/").expect("static URL")
    }
    pub fn limit() -> usize {
        50
    }
    pub fn schedule() -> String {
        "0 */15 * * * *".into()
    }
    pub fn yes() -> bool {
        true
    }
}

/// A channel file in the feeds directory, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelFile {
    /// Channel id: the feed's path, `/feeds/{id}.rss`.
    pub id: String,
    /// The channel's language.
    pub language: Lang,
    /// Title.
    pub title: String,
    /// Description (RSS `description`, Atom `subtitle`).
    pub description: String,
    /// The human-readable site the channel belongs to.
    pub site_link: Url,
    /// Public base URL of the feeds; defaults to the daemon's `public_base_url`.
    #[serde(default)]
    pub base_url: Option<Url>,
    /// Items in the current document; older ones go to paged archives.
    #[serde(default = "defaults::limit")]
    pub limit: usize,
    /// Optional logo / icon URL.
    #[serde(default)]
    pub image: Option<Url>,
    /// Copyright line.
    #[serde(default)]
    pub rights: Option<String>,
    /// Which news the channel includes.
    #[serde(default)]
    pub include: IncludeRule,
    /// Upstream sources this file defines.
    #[serde(default)]
    pub sources: Vec<SourceFile>,
}

/// `[include]`: which items a channel shows. An item must have a title in
/// the channel's language and pass every non-empty filter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncludeRule {
    /// Include news written by staff.
    pub staff: bool,
    /// Upstream source ids to include; empty means the sources this file defines.
    pub sources: Vec<String>,
    /// Include only items with one of these categories; empty means any.
    pub categories: Vec<String>,
}

impl Default for IncludeRule {
    fn default() -> Self {
        IncludeRule {
            staff: true,
            sources: Vec::new(),
            categories: Vec::new(),
        }
    }
}

/// `[[sources]]` in a channel file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// Unique id across all channel files.
    pub id: String,
    /// `http(s)://` or absolute `file://` URL. Exactly one of `url` and `file`.
    #[serde(default)]
    pub url: Option<String>,
    /// A local file, relative to the channel file's directory.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Cron schedule with seconds: `sec min hour day-of-month month day-of-week`.
    #[serde(default = "defaults::schedule")]
    pub schedule: String,
    /// Language of the entries when the feed does not say.
    #[serde(default)]
    pub language: Option<Lang>,
    /// Categories added to every entry of this source.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Fixed UTC offset (`+04:00`) for dates the feed gives without a zone.
    #[serde(default)]
    pub timezone: Option<String>,
    /// A human-readable name (ministry), used as the default author.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether entries from this source are cross-posted to social accounts.
    #[serde(default)]
    pub cross_post: bool,
    /// Poll this source at all.
    #[serde(default = "defaults::yes")]
    pub enabled: bool,
}

/// A validated channel.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Channel id.
    pub id: String,
    /// Language.
    pub lang: Lang,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Site link.
    pub site_link: Url,
    /// Public base URL for self links (ends with `/`).
    pub base_url: Url,
    /// Items in the current document.
    pub limit: usize,
    /// Logo.
    pub image: Option<Url>,
    /// Copyright.
    pub rights: Option<String>,
    /// Include staff news.
    pub include_staff: bool,
    /// Upstream sources included.
    pub sources: BTreeSet<String>,
    /// Category filter; empty: any.
    pub categories: BTreeSet<String>,
    /// The file it came from.
    pub file: PathBuf,
}

impl Channel {
    /// The public URL of a document of this channel, e.g. `feeds/news-ar.rss`.
    pub fn url(&self, path: &str) -> String {
        self.base_url
            .join(path)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| format!("{}{}", self.base_url, path))
    }
}

/// A validated upstream source.
#[derive(Debug, Clone)]
pub struct Source {
    /// Unique id.
    pub id: String,
    /// Where to fetch it (`http`, `https` or `file`).
    pub url: Url,
    /// The parsed schedule.
    pub schedule: cron::Schedule,
    /// The schedule as written.
    pub schedule_text: String,
    /// Fallback language.
    pub language: Option<Lang>,
    /// Extra categories.
    pub categories: Vec<String>,
    /// Seconds east of UTC for zone-less dates.
    pub utc_offset: i32,
    /// Display name.
    pub name: Option<String>,
    /// Cross-post entries.
    pub cross_post: bool,
    /// Poll it.
    pub enabled: bool,
    /// The channel file that defines it.
    pub file: PathBuf,
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Path of the main config file.
    pub path: PathBuf,
    /// Store and credential directory (absolute or relative to the cwd).
    pub data_dir: PathBuf,
    /// Feeds directory.
    pub feeds_dir: PathBuf,
    /// Public base URL (ends with `/`).
    pub public_base_url: Url,
    /// HTTP server.
    pub http: HttpConfig,
    /// Output directory, resolved.
    pub output_dir: Option<PathBuf>,
    /// Fetching.
    pub fetch: FetchConfig,
    /// Auth tokens as configured (values are resolved at start).
    pub auth: AuthConfig,
    /// Logging.
    pub log: LogConfig,
    /// Channels by id, sorted.
    pub channels: BTreeMap<String, Channel>,
    /// Sources by id, sorted.
    pub sources: BTreeMap<String, Source>,
    /// Cross-posting settings.
    pub publish: PublishConfig,
    /// Social accounts by id, sorted.
    pub accounts: BTreeMap<String, Account>,
}

impl Config {
    /// Load `path` and the feeds directory it names, applying environment
    /// overrides (`MUSHARAKA_DATA_DIR`, `MUSHARAKA_LISTEN`,
    /// `MUSHARAKA_PUBLIC_BASE_URL`, `MUSHARAKA_LOG_FORMAT`), and validate everything.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("MUSHARAKA_") || k == "STATE_DIRECTORY")
            .collect();
        Self::load_with_env(path, &env)
    }

    /// [`Config::load`] with an explicit environment, for tests.
    pub fn load_with_env(
        path: &Path,
        env: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                return Err(ConfigError(vec![Problem {
                    file: path.to_path_buf(),
                    key: String::new(),
                    message: format!("cannot read: {e}"),
                }]));
            }
        };
        let file: FileConfig = match parse_toml(path, &text) {
            Ok(f) => f,
            Err(p) => return Err(ConfigError(vec![p])),
        };
        let base_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let resolve = |p: &Path| -> PathBuf {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base_dir.join(p)
            }
        };
        let mut data_dir = resolve(&file.data_dir);
        if let Some(d) = env.get("MUSHARAKA_DATA_DIR") {
            data_dir = PathBuf::from(d);
        }
        let mut http = file.http.clone();
        if let Some(l) = env.get("MUSHARAKA_LISTEN") {
            match l.parse() {
                Ok(a) => http.listen = a,
                Err(e) => problems.push(Problem {
                    file: path.to_path_buf(),
                    key: "MUSHARAKA_LISTEN (environment)".into(),
                    message: format!("not a socket address: {e}"),
                }),
            }
        }
        let mut public_base_url = file.public_base_url.clone();
        if let Some(u) = env.get("MUSHARAKA_PUBLIC_BASE_URL") {
            match Url::parse(u) {
                Ok(u) => public_base_url = u,
                Err(e) => problems.push(Problem {
                    file: path.to_path_buf(),
                    key: "MUSHARAKA_PUBLIC_BASE_URL (environment)".into(),
                    message: format!("not a URL: {e}"),
                }),
            }
        }
        let public_base_url = with_trailing_slash(public_base_url);
        let mut log = file.log.clone();
        match env.get("MUSHARAKA_LOG_FORMAT").map(String::as_str) {
            Some("json") => log.format = LogFormat::Json,
            Some("text") => log.format = LogFormat::Text,
            Some(other) => problems.push(Problem {
                file: path.to_path_buf(),
                key: "MUSHARAKA_LOG_FORMAT (environment)".into(),
                message: format!("expected `text` or `json`, found `{other}`"),
            }),
            None => {}
        }
        if !matches!(public_base_url.scheme(), "http" | "https") {
            problems.push(Problem {
                file: path.to_path_buf(),
                key: "public_base_url".into(),
                message: "must be an http or https URL".into(),
            });
        }
        validate_http(path, &http, &mut problems);
        validate_fetch(path, &file.fetch, &mut problems);
        for (i, t) in file.auth.tokens.iter().enumerate() {
            t.validate(path, &format!("auth.tokens[{i}]"), &mut problems);
        }
        let accounts = validate_accounts(path, &file.accounts, &mut problems);
        let publish_problems = [
            (
                file.publish.max_attempts == 0,
                "publish.max_attempts",
                "must be at least 1",
            ),
            (
                file.publish.backoff_base.is_zero(),
                "publish.backoff_base",
                "must be greater than 0",
            ),
            (
                file.publish.backoff_max < file.publish.backoff_base,
                "publish.backoff_max",
                "must not be shorter than backoff_base",
            ),
            (
                file.publish.timeout.is_zero() || file.publish.connect_timeout.is_zero(),
                "publish.timeout",
                "timeouts must be greater than 0",
            ),
        ];
        for (bad, key, message) in publish_problems {
            if bad {
                problems.push(Problem {
                    file: path.to_path_buf(),
                    key: key.into(),
                    message: message.into(),
                });
            }
        }
        let feeds_dir = resolve(&file.feeds_dir);
        let (channels, sources) = load_channels(&feeds_dir, &public_base_url, &mut problems);
        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        Ok(Config {
            path: path.to_path_buf(),
            data_dir,
            feeds_dir,
            public_base_url,
            http,
            output_dir: file.output.dir.as_deref().map(resolve),
            fetch: file.fetch,
            auth: file.auth,
            log,
            channels,
            sources,
            publish: file.publish,
            accounts,
        })
    }
}

fn validate_accounts(
    path: &Path,
    files: &[AccountFile],
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, Account> {
    let mut out = BTreeMap::new();
    for (i, a) in files.iter().enumerate() {
        let before = problems.len();
        let mut bad = |key: &str, message: String| {
            problems.push(Problem {
                file: path.to_path_buf(),
                key: format!("accounts[{i}]{key}"),
                message,
            })
        };
        if !valid_id(&a.id) {
            bad(".id", format!("`{}` is not a valid id", a.id));
        } else if out.contains_key(&a.id) {
            bad(".id", format!("account `{}` is defined twice", a.id));
        }
        if let Some(u) = &a.base_url {
            if !matches!(u.scheme(), "http" | "https") {
                bad(".base_url", "must be an http or https URL".into());
            }
        }
        if let Some(t) = &a.template {
            if let Err(e) = crate::publish::text::Template::parse(t) {
                bad(".template", e.to_string());
            }
        }
        for (j, h) in a.hashtags.iter().enumerate() {
            if h.trim().is_empty() || h.starts_with('#') || h.chars().any(char::is_whitespace) {
                bad(
                    &format!(".hashtags[{j}]"),
                    format!("`{h}` must be one word without `#`"),
                );
            }
        }
        for (key, message) in crate::publish::platforms::check_settings(a.platform, &a.settings) {
            bad(&format!(".settings.{key}"), message);
        }
        if problems.len() == before {
            out.insert(
                a.id.clone(),
                Account {
                    id: a.id.clone(),
                    platform: a.platform,
                    lang: a.language,
                    base_url: a.base_url.clone(),
                    template: a.template.clone(),
                    hashtags: a.hashtags.clone(),
                    delete_on_retract: a.delete_on_retract,
                    enabled: a.enabled,
                    settings: a.settings.clone(),
                },
            );
        }
    }
    out
}

fn with_trailing_slash(mut u: Url) -> Url {
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    u
}

/// Parse TOML into `T`, naming the key of the first error.
fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, Problem> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let mut message = inner.message().to_string();
        if let Some(span) = inner.span() {
            let line = text[..span.start.min(text.len())].lines().count().max(1);
            message = format!("{message} (line {line})");
        }
        Problem {
            file: path.to_path_buf(),
            key: if key == "." { String::new() } else { key },
            message,
        }
    })
}

fn validate_http(path: &Path, http: &HttpConfig, problems: &mut Vec<Problem>) {
    if http.max_body_bytes == 0 {
        problems.push(Problem {
            file: path.to_path_buf(),
            key: "http.max_body_bytes".into(),
            message: "must be greater than 0".into(),
        });
    }
    if http.request_timeout.is_zero() {
        problems.push(Problem {
            file: path.to_path_buf(),
            key: "http.request_timeout".into(),
            message: "must be greater than 0".into(),
        });
    }
}

fn validate_fetch(path: &Path, f: &FetchConfig, problems: &mut Vec<Problem>) {
    let mut bad = |key: &str, message: &str| {
        problems.push(Problem {
            file: path.to_path_buf(),
            key: format!("fetch.{key}"),
            message: message.into(),
        })
    };
    if f.user_agent.trim().is_empty() {
        bad("user_agent", "must not be empty");
    }
    if f.max_body_bytes == 0 {
        bad("max_body_bytes", "must be greater than 0");
    }
    if f.per_host_concurrency == 0 {
        bad("per_host_concurrency", "must be at least 1");
    }
    if f.timeout.is_zero() || f.connect_timeout.is_zero() || f.read_timeout.is_zero() {
        bad("timeout", "timeouts must be greater than 0");
    }
    if f.backoff_base.is_zero() {
        bad("backoff_base", "must be greater than 0");
    }
    if f.backoff_max < f.backoff_base {
        bad("backoff_max", "must not be shorter than backoff_base");
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !id.starts_with(['-', '_'])
}

type Channels = (BTreeMap<String, Channel>, BTreeMap<String, Source>);

fn load_channels(feeds_dir: &Path, default_base: &Url, problems: &mut Vec<Problem>) -> Channels {
    let mut channels = BTreeMap::new();
    let mut sources: BTreeMap<String, Source> = BTreeMap::new();
    let entries = match std::fs::read_dir(feeds_dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem {
                file: feeds_dir.to_path_buf(),
                key: String::new(),
                message: format!("cannot read the feeds directory: {e}"),
            });
            return (channels, sources);
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    // Channel include lists may name sources from other files: check after all are read.
    let mut pending_includes: Vec<(PathBuf, String, usize, String)> = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem {
                    file: file.clone(),
                    key: String::new(),
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        let cf: ChannelFile = match parse_toml(&file, &text) {
            Ok(c) => c,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let before = problems.len();
        let mut bad = |key: &str, message: String| {
            problems.push(Problem {
                file: file.clone(),
                key: key.into(),
                message,
            })
        };
        if !valid_id(&cf.id) {
            bad(
                "id",
                format!(
                    "`{}` is not a valid id (lowercase ASCII letters, digits, - and _, at most 64)",
                    cf.id
                ),
            );
        } else if channels.contains_key(&cf.id) {
            bad("id", format!("channel `{}` is defined twice", cf.id));
        }
        if cf.title.trim().is_empty() {
            bad("title", "must not be empty".into());
        }
        if cf.description.trim().is_empty() {
            bad("description", "must not be empty".into());
        }
        if cf.limit == 0 || cf.limit > 1000 {
            bad(
                "limit",
                format!("must be between 1 and 1000, found {}", cf.limit),
            );
        }
        let base = with_trailing_slash(cf.base_url.clone().unwrap_or_else(|| default_base.clone()));
        if !matches!(base.scheme(), "http" | "https") {
            bad("base_url", "must be an http or https URL".into());
        }
        let file_dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut own = BTreeSet::new();
        for (i, s) in cf.sources.iter().enumerate() {
            let key = |k: &str| format!("sources[{i}].{k}");
            if !valid_id(&s.id) {
                bad(&key("id"), format!("`{}` is not a valid id", s.id));
                continue;
            }
            if sources.contains_key(&s.id) || own.contains(&s.id) {
                bad(&key("id"), format!("source `{}` is defined twice", s.id));
                continue;
            }
            let url = match (&s.url, &s.file) {
                (Some(_), Some(_)) => {
                    bad(&key("url"), "give either `url` or `file`, not both".into());
                    continue;
                }
                (None, None) => {
                    bad(&key("url"), "one of `url` or `file` is required".into());
                    continue;
                }
                (Some(u), None) => match Url::parse(u) {
                    Ok(u) if matches!(u.scheme(), "http" | "https" | "file") => u,
                    Ok(u) => {
                        bad(
                            &key("url"),
                            format!("unsupported scheme `{}` (http, https or file)", u.scheme()),
                        );
                        continue;
                    }
                    Err(e) => {
                        bad(&key("url"), format!("not a URL: {e}"));
                        continue;
                    }
                },
                (None, Some(f)) => {
                    let p = if f.is_absolute() {
                        f.clone()
                    } else {
                        file_dir.join(f)
                    };
                    let p = std::path::absolute(&p).unwrap_or(p);
                    match Url::from_file_path(&p) {
                        Ok(u) => u,
                        Err(()) => {
                            bad(&key("file"), format!("not a usable path: {}", p.display()));
                            continue;
                        }
                    }
                }
            };
            let schedule = match s.schedule.parse::<cron::Schedule>() {
                Ok(sc) => sc,
                Err(e) => {
                    bad(
                        &key("schedule"),
                        format!(
                            "`{}` is not a cron schedule (sec min hour dom month dow): {e}",
                            s.schedule
                        ),
                    );
                    continue;
                }
            };
            let utc_offset = match s.timezone.as_deref() {
                None => 0,
                Some(z) => match crate::sources::upstream::dates::parse_offset(z) {
                    Some(o) => o,
                    None => {
                        bad(
                            &key("timezone"),
                            format!("`{z}` is not a fixed UTC offset such as +04:00"),
                        );
                        continue;
                    }
                },
            };
            own.insert(s.id.clone());
            sources.insert(
                s.id.clone(),
                Source {
                    id: s.id.clone(),
                    url,
                    schedule,
                    schedule_text: s.schedule.clone(),
                    language: s.language,
                    categories: s.categories.clone(),
                    utc_offset,
                    name: s.name.clone(),
                    cross_post: s.cross_post,
                    enabled: s.enabled,
                    file: file.clone(),
                },
            );
        }
        for (i, sid) in cf.include.sources.iter().enumerate() {
            pending_includes.push((file.clone(), cf.id.clone(), i, sid.clone()));
        }
        if problems.len() == before {
            let included = if cf.include.sources.is_empty() {
                own
            } else {
                cf.include.sources.iter().cloned().collect()
            };
            channels.insert(
                cf.id.clone(),
                Channel {
                    id: cf.id.clone(),
                    lang: cf.language,
                    title: cf.title.trim().to_string(),
                    description: cf.description.trim().to_string(),
                    site_link: cf.site_link.clone(),
                    base_url: base,
                    limit: cf.limit,
                    image: cf.image.clone(),
                    rights: cf.rights.clone(),
                    include_staff: cf.include.staff,
                    sources: included,
                    categories: cf.include.categories.iter().cloned().collect(),
                    file: file.clone(),
                },
            );
        }
    }
    for (file, _channel, i, sid) in pending_includes {
        if !sources.contains_key(&sid) {
            problems.push(Problem {
                file,
                key: format!("include.sources[{i}]"),
                message: format!("no source `{sid}` is defined in any channel file"),
            });
        }
    }
    if channels.is_empty() && problems.is_empty() {
        problems.push(Problem {
            file: feeds_dir.to_path_buf(),
            key: String::new(),
            message: "no channel is defined (*.toml files)".into(),
        });
    }
    (channels, sources)
}
