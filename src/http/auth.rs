//! Staff authentication: bearer tokens mapped to roles.
//!
//! Only SHA-256 digests of the tokens are held; a presented token is hashed
//! and compared against every known digest in constant time (no early exit),
//! so timing reveals neither which token nor how much of one matched.
//! With no token configured, an admin token is generated once into
//! `<data_dir>/admin.token` (mode 0600) for the local CLI.

use crate::config::secrets::{Permission, Secret, digest, generate_token};
use crate::config::{Config, Role};
use crate::http::AppState;
use crate::http::problem::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// A known token: who, what role, and its digest.
#[derive(Debug, Clone)]
struct Known {
    name: String,
    role: Role,
    digest: [u8; 32],
}

/// The set of staff tokens.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    known: Vec<Known>,
}

/// Where the generated admin token lives.
pub fn admin_token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin.token")
}

impl Auth {
    /// Resolve the configured tokens, or create/read the generated admin token.
    pub fn from_config(config: &Config) -> Result<Auth, String> {
        let config_dir = config.path.parent().unwrap_or(Path::new("."));
        let mut known = Vec::new();
        for (i, t) in config.auth.tokens.iter().enumerate() {
            let secret = t
                .resolve(config_dir)
                .map_err(|e| format!("auth.tokens[{i}] ({}): {e}", t.name))?;
            known.push(Known {
                name: t.name.clone(),
                role: t.role,
                digest: digest(secret.expose()),
            });
        }
        if known.is_empty() {
            let path = admin_token_path(&config.data_dir);
            let secret = load_or_create_token(&path)
                .map_err(|e| format!("generated admin token {}: {e}", path.display()))?;
            tracing::info!(path = %path.display(), "no staff tokens configured: using the generated admin token file");
            known.push(Known {
                name: "local-admin".into(),
                role: Role::Admin,
                digest: digest(secret.expose()),
            });
        }
        Ok(Auth { known })
    }

    /// An `Auth` with the given tokens, for tests.
    pub fn with_tokens(tokens: &[(&str, Role, &str)]) -> Auth {
        Auth {
            known: tokens
                .iter()
                .map(|(name, role, tok)| Known {
                    name: (*name).to_string(),
                    role: *role,
                    digest: digest(tok),
                })
                .collect(),
        }
    }

    /// Who holds `token`, if anyone.
    pub fn identify(&self, token: &str) -> Option<Staff> {
        let d = digest(token);
        let mut found: Option<&Known> = None;
        for k in &self.known {
            if bool::from(k.digest.ct_eq(&d)) {
                found = Some(k);
            }
        }
        found.map(|k| Staff {
            name: k.name.clone(),
            role: k.role,
        })
    }
}

/// Read the token at `path`, creating it (0600) with a random value if absent.
pub fn load_or_create_token(path: &Path) -> std::io::Result<Secret> {
    match std::fs::read_to_string(path) {
        Ok(s) => return Ok(Secret::new(s.trim_end().to_string())),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let token = generate_token();
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    writeln!(f, "{}", token.expose())?;
    f.sync_all()?;
    Ok(token)
}

/// An authenticated staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    /// The token's name.
    pub name: String,
    /// Its role.
    pub role: Role,
}

impl Staff {
    /// Fail with 403 unless the role grants `p`.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.role.allows(p) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let auth = &state.auth;
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let (scheme, token) = header.split_once(' ').ok_or(ApiError::Unauthorized)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::Unauthorized);
        }
        let staff = auth.identify(token.trim()).ok_or(ApiError::Unauthorized)?;
        tracing::Span::current().record("staff", staff.name.as_str());
        Ok(staff)
    }
}
