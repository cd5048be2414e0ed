//! Secrets: where staff tokens come from (environment, a file, or a systemd
//! credential), and a wrapper that never prints them.
//!
//! Tokens are kept only as SHA-256 digests once loaded, and compared in
//! constant time; `Debug` and `Display` of [`Secret`] print `[redacted]`.

use super::Problem;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};

/// A secret string that never shows in logs or debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A staff role. Each route names the permission it needs; roles map to
/// permissions in [`Role::allows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads news, sources and deliveries.
    Viewer,
    /// Writes and retracts news.
    Editor,
    /// Moderates the participation inbox.
    Moderator,
    /// Answers participations.
    Responder,
    /// Everything.
    Admin,
}

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read news and source health.
    NewsRead,
    /// Create, change or retract news.
    NewsWrite,
    /// Operate the daemon (outbox, sources).
    Operate,
}

impl Role {
    /// Whether this role grants `p`.
    pub fn allows(self, p: Permission) -> bool {
        matches!(
            (self, p),
            (Role::Admin, _) | (_, Permission::NewsRead) | (Role::Editor, Permission::NewsWrite)
        )
    }
}

/// `[[auth.tokens]]`: one staff token. Exactly one of `env`, `file` and
/// `credential` says where its value is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it (shown in the audit trail and logs, never the token).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Name of an environment variable holding the token.
    #[serde(default)]
    pub env: Option<String>,
    /// A file holding the token (trailing newline ignored).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// A systemd credential name, read from `$CREDENTIALS_DIRECTORY`.
    #[serde(default)]
    pub credential: Option<String>,
}

impl TokenConfig {
    pub(super) fn validate(&self, path: &Path, key: &str, problems: &mut Vec<Problem>) {
        let n = [
            self.env.is_some(),
            self.file.is_some(),
            self.credential.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if n != 1 {
            problems.push(Problem {
                file: path.to_path_buf(),
                key: key.into(),
                message: "give exactly one of `env`, `file` or `credential`".into(),
            });
        }
        if self.name.trim().is_empty() {
            problems.push(Problem {
                file: path.to_path_buf(),
                key: format!("{key}.name"),
                message: "must not be empty".into(),
            });
        }
    }

    /// Read the token's value. The error names where it looked, never a value.
    pub fn resolve(&self, config_dir: &Path) -> Result<Secret, String> {
        let v = read_secret(
            self.env.as_deref(),
            self.file.as_deref(),
            self.credential.as_deref(),
            config_dir,
        )?;
        if v.0.len() < 16 {
            return Err("token is shorter than 16 characters".into());
        }
        Ok(v)
    }
}

/// Where a platform secret is: `{ env = "VAR" }`, `{ file = "path" }` or
/// `{ credential = "name" }` (a systemd credential). Never the value itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// An environment variable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// A file (relative to the config file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// A systemd credential name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

impl SecretRef {
    /// A reference to an environment variable.
    pub fn env(var: impl Into<String>) -> Self {
        SecretRef {
            env: Some(var.into()),
            file: None,
            credential: None,
        }
    }

    /// The problem with this reference, if any (exactly one source).
    pub fn problem(&self) -> Option<String> {
        let n = [
            self.env.is_some(),
            self.file.is_some(),
            self.credential.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        (n != 1).then(|| "give exactly one of `env`, `file` or `credential`".to_string())
    }

    /// Read the value. The error names where it looked, never a value.
    pub fn resolve(&self, config_dir: &Path) -> Result<Secret, String> {
        read_secret(
            self.env.as_deref(),
            self.file.as_deref(),
            self.credential.as_deref(),
            config_dir,
        )
    }
}

fn read_secret(
    env: Option<&str>,
    file: Option<&Path>,
    credential: Option<&str>,
    config_dir: &Path,
) -> Result<Secret, String> {
    let raw = if let Some(var) = env {
        std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?
    } else if let Some(file) = file {
        let p = if file.is_absolute() {
            file.to_path_buf()
        } else {
            config_dir.join(file)
        };
        std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?
    } else if let Some(name) = credential {
        let dir = std::env::var("CREDENTIALS_DIRECTORY")
            .map_err(|_| format!("credential {name}: $CREDENTIALS_DIRECTORY is not set"))?;
        let p = Path::new(&dir).join(name);
        std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?
    } else {
        return Err("no source given".into());
    };
    let v = raw.trim_end_matches(['\n', '\r']).to_string();
    if v.is_empty() {
        return Err("the secret is empty".into());
    }
    Ok(Secret(v))
}

/// SHA-256 of a token, the only form kept in memory after start.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A fresh random token: 32 bytes, hex.
pub fn generate_token() -> Secret {
    let bytes: [u8; 32] = rand::random();
    Secret(hex::encode(bytes))
}
