//! Typed settings of a YouTube account, parsed from its `settings` table.
//!
//! Owns: the keys, their defaults and the check that reports every problem at
//! once as `(key, message)`. Does not own: reading the secrets (done in
//! `build`) or the data-API base URL (that is `Account.base_url`).
//!
//! ```toml
//! [accounts.settings]
//! client_id = "123.apps.googleusercontent.com"
//! client_secret = { credential = "youtube-client-secret" }
//! refresh_token = { file = "secrets/youtube-refresh" }
//! privacy_status = "private"       # public | unlisted | private
//! category_id = "25"               # News & Politics
//! chunk_size = 8388608             # multiple of 262144
//! max_video_bytes = 2147483648     # refuse larger attachments
//! upload_timeout = "5m"            # per chunk and for the video download
//! ```

use crate::config::secrets::SecretRef;
use std::time::Duration;
use url::Url;

/// Google's token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// The upload root (`/videos` is appended).
pub const DEFAULT_UPLOAD_BASE: &str = "https://www.googleapis.com/upload/youtube/v3";
/// The data-API root, used when the account has no `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://www.googleapis.com/youtube/v3";
/// Resumable chunks must be multiples of this (contract §1: 256 KiB).
pub const CHUNK_ALIGN: u64 = 262_144;
/// Default chunk: 8 MiB.
pub const DEFAULT_CHUNK_SIZE: u64 = 32 * CHUNK_ALIGN;
/// Default largest video fetched and uploaded: 2 GiB (held in memory).
pub const DEFAULT_MAX_VIDEO_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Default time limit per chunk and for the video download.
pub const DEFAULT_UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);

const KEYS: &[&str] = &[
    "client_id",
    "client_secret",
    "refresh_token",
    "privacy_status",
    "category_id",
    "token_url",
    "upload_base",
    "chunk_size",
    "max_video_bytes",
    "upload_timeout",
];

/// `status.privacyStatus` of uploaded videos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrivacyStatus {
    /// Visible to everyone. Unverified API projects (created after
    /// 2020-07-28) are locked to private regardless, hence not the default.
    Public,
    /// Anyone with the link.
    Unlisted,
    /// Only the owner (the default, see [`PrivacyStatus::Public`]).
    #[default]
    Private,
}

impl PrivacyStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            PrivacyStatus::Public => "public",
            PrivacyStatus::Unlisted => "unlisted",
            PrivacyStatus::Private => "private",
        }
    }
}

/// A YouTube account's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YoutubeSettings {
    /// OAuth client id (not a secret).
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: SecretRef,
    /// The refresh token from the one-time consent (`access_type=offline`).
    pub refresh_token: SecretRef,
    /// Privacy of uploaded videos.
    pub privacy_status: PrivacyStatus,
    /// `snippet.categoryId`.
    pub category_id: String,
    /// Token endpoint.
    pub token_url: Url,
    /// Upload root, without a trailing `/videos`.
    pub upload_base: Url,
    /// Bytes per chunk (multiple of [`CHUNK_ALIGN`]).
    pub chunk_size: u64,
    /// Largest video accepted.
    pub max_video_bytes: u64,
    /// Time limit per chunk and for the video download.
    pub upload_timeout: Duration,
}

type Problems = Vec<(String, String)>;

fn problem(p: &mut Problems, key: &str, msg: impl Into<String>) {
    p.push((key.to_string(), msg.into()));
}

fn string(t: &toml::Table, key: &str, p: &mut Problems) -> Option<String> {
    match t.get(key)? {
        toml::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        toml::Value::String(_) => {
            problem(p, key, "must not be empty");
            None
        }
        _ => {
            problem(p, key, "must be a string");
            None
        }
    }
}

fn secret(t: &toml::Table, key: &str, p: &mut Problems) -> Option<SecretRef> {
    let Some(v) = t.get(key) else {
        problem(
            p,
            key,
            "required: { env = \"VAR\" }, { file = \"path\" } or { credential = \"name\" }",
        );
        return None;
    };
    if matches!(v, toml::Value::String(_)) {
        problem(
            p,
            key,
            "must reference the secret ({ env | file | credential = … }), never hold it",
        );
        return None;
    }
    match v.clone().try_into::<SecretRef>() {
        Ok(r) => match r.problem() {
            Some(m) => {
                problem(p, key, m);
                None
            }
            None => Some(r),
        },
        Err(e) => {
            problem(p, key, format!("invalid secret reference: {e}"));
            None
        }
    }
}

fn url(t: &toml::Table, key: &str, default: &str, p: &mut Problems) -> Option<Url> {
    let raw = match t.get(key) {
        None => default.to_string(),
        Some(_) => string(t, key, p)?,
    };
    match Url::parse(&raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
        Ok(_) => {
            problem(p, key, "must be an http(s) URL");
            None
        }
        Err(e) => {
            problem(p, key, format!("invalid URL: {e}"));
            None
        }
    }
}

fn positive(t: &toml::Table, key: &str, default: u64, p: &mut Problems) -> Option<u64> {
    match t.get(key) {
        None => Some(default),
        Some(toml::Value::Integer(n)) if *n > 0 => Some(*n as u64),
        Some(_) => {
            problem(p, key, "must be a positive integer");
            None
        }
    }
}

/// Parse the settings table, collecting every problem.
pub fn parse(t: &toml::Table) -> Result<YoutubeSettings, Problems> {
    let mut p = Problems::new();
    for key in t.keys() {
        if !KEYS.contains(&key.as_str()) {
            problem(
                &mut p,
                key,
                format!("unknown key (known: {})", KEYS.join(", ")),
            );
        }
    }
    let client_id = string(t, "client_id", &mut p);
    if client_id.is_none() && !t.contains_key("client_id") {
        problem(&mut p, "client_id", "required");
    }
    let client_secret = secret(t, "client_secret", &mut p);
    let refresh_token = secret(t, "refresh_token", &mut p);
    let privacy_status = match t.get("privacy_status") {
        None => Some(PrivacyStatus::default()),
        Some(_) => match string(t, "privacy_status", &mut p).as_deref() {
            Some("public") => Some(PrivacyStatus::Public),
            Some("unlisted") => Some(PrivacyStatus::Unlisted),
            Some("private") => Some(PrivacyStatus::Private),
            Some(_) => {
                problem(
                    &mut p,
                    "privacy_status",
                    "must be \"public\", \"unlisted\" or \"private\"",
                );
                None
            }
            None => None,
        },
    };
    let category_id = match t.get("category_id") {
        None => Some("25".to_string()),
        Some(_) => match string(t, "category_id", &mut p) {
            Some(c) if c.chars().all(|c| c.is_ascii_digit()) => Some(c),
            Some(_) => {
                problem(&mut p, "category_id", "must be a numeric category id");
                None
            }
            None => None,
        },
    };
    let token_url = url(t, "token_url", DEFAULT_TOKEN_URL, &mut p);
    let upload_base = url(t, "upload_base", DEFAULT_UPLOAD_BASE, &mut p);
    let chunk_size = positive(t, "chunk_size", DEFAULT_CHUNK_SIZE, &mut p).and_then(|n| {
        if n % CHUNK_ALIGN == 0 {
            Some(n)
        } else {
            problem(
                &mut p,
                "chunk_size",
                format!("must be a multiple of {CHUNK_ALIGN} (256 KiB)"),
            );
            None
        }
    });
    let max_video_bytes = positive(t, "max_video_bytes", DEFAULT_MAX_VIDEO_BYTES, &mut p);
    let upload_timeout = match t.get("upload_timeout") {
        None => Some(DEFAULT_UPLOAD_TIMEOUT),
        Some(_) => {
            string(t, "upload_timeout", &mut p).and_then(|s| match humantime::parse_duration(&s) {
                Ok(d) if !d.is_zero() => Some(d),
                Ok(_) => {
                    problem(&mut p, "upload_timeout", "must be longer than zero");
                    None
                }
                Err(e) => {
                    problem(&mut p, "upload_timeout", format!("invalid duration: {e}"));
                    None
                }
            })
        }
    };
    match (
        client_id,
        client_secret,
        refresh_token,
        privacy_status,
        category_id,
        token_url,
        upload_base,
        chunk_size,
        max_video_bytes,
        upload_timeout,
    ) {
        (
            Some(client_id),
            Some(client_secret),
            Some(refresh_token),
            Some(privacy_status),
            Some(category_id),
            Some(token_url),
            Some(upload_base),
            Some(chunk_size),
            Some(max_video_bytes),
            Some(upload_timeout),
        ) if p.is_empty() => Ok(YoutubeSettings {
            client_id,
            client_secret,
            refresh_token,
            privacy_status,
            category_id,
            token_url,
            upload_base,
            chunk_size,
            max_video_bytes,
            upload_timeout,
        }),
        _ => Err(p),
    }
}

/// Problems in the settings table, as `(key, message)`; empty when valid.
pub fn check_settings(t: &toml::Table) -> Problems {
    parse(t).err().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> toml::Table {
        s.parse().unwrap()
    }

    fn keys(p: &Problems) -> Vec<&str> {
        p.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn minimal_settings_take_the_defaults() {
        let s = parse(&table(
            r#"client_id = "id"
               client_secret = { env = "YT_SECRET" }
               refresh_token = { file = "rt" }"#,
        ))
        .unwrap();
        assert_eq!(s.privacy_status, PrivacyStatus::Private);
        assert_eq!(s.category_id, "25");
        assert_eq!(s.token_url.as_str(), DEFAULT_TOKEN_URL);
        assert_eq!(s.upload_base.as_str(), DEFAULT_UPLOAD_BASE);
        assert_eq!(s.chunk_size, 8 * 1024 * 1024);
        assert_eq!(s.max_video_bytes, 1 << 31);
        assert_eq!(s.upload_timeout, DEFAULT_UPLOAD_TIMEOUT);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let p = check_settings(&table(
            r#"client_secret = "plain-secret-value"
               refresh_token = { env = "A", file = "b" }
               privacy_status = "friends"
               category_id = "news"
               token_url = "ftp://x"
               upload_base = "not a url"
               chunk_size = 300000
               max_video_bytes = -1
               upload_timeout = "soon"
               colour = "red""#,
        ));
        let k = keys(&p);
        for key in [
            "client_id",
            "client_secret",
            "refresh_token",
            "privacy_status",
            "category_id",
            "token_url",
            "upload_base",
            "chunk_size",
            "max_video_bytes",
            "upload_timeout",
            "colour",
        ] {
            assert!(k.contains(&key), "{key} missing from {p:?}");
        }
        // A plain string secret is refused without echoing it.
        assert!(p.iter().all(|(_, m)| !m.contains("plain-secret-value")));
    }

    #[test]
    fn chunk_size_must_be_aligned() {
        let base = r#"client_id = "id"
            client_secret = { env = "S" }
            refresh_token = { env = "R" }
        "#;
        assert!(check_settings(&table(&format!("{base}chunk_size = 524288"))).is_empty());
        assert_eq!(
            keys(&check_settings(&table(&format!(
                "{base}chunk_size = 262145"
            )))),
            ["chunk_size"]
        );
        let s = parse(&table(&format!(
            "{base}privacy_status = \"unlisted\"\nupload_timeout = \"90s\""
        )))
        .unwrap();
        assert_eq!(s.privacy_status.as_str(), "unlisted");
        assert_eq!(s.upload_timeout, Duration::from_secs(90));
    }
}
