//! Page-token authentication (`shared/contracts/oauth.md` §4).
//!
//! A long-lived Page token has **no refresh grant**: when Graph answers
//! error 190 (expired, session invalidated by a password change or logout,
//! app removed) the only cure is a staff member logging in again and
//! configuring a new token. So [`Publisher::refresh_auth`] answers
//! `Reauthorize` and the worker parks the account; [`debug_token`] is the
//! daily health check that notices a dead token before a post does.
//!
//! When the app has "Require App Secret" on, every call carries
//! `appsecret_proof` = lowercase hex HMAC-SHA256(key = app secret,
//! message = the access token sent).
//!
//! Owns: the token values, the proof, redaction of both from any text.
//!
//! [`Publisher::refresh_auth`]: crate::publish::Publisher::refresh_auth

use super::client::FacebookPublisher;
use super::wire::{DebugToken, DebugTokenData};
use crate::config::secrets::Secret;
use crate::publish::DeliveryError;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `appsecret_proof` for `token`: lowercase hex HMAC-SHA256(app secret, token).
pub fn appsecret_proof(app_secret: &str, token: &str) -> String {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The secrets of one account, resolved at build time.
#[derive(Clone)]
pub struct Credentials {
    page_token: Secret,
    app_secret: Option<Secret>,
    app_id: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("page_token", &self.page_token)
            .field("app_secret", &self.app_secret)
            .field("app_id", &self.app_id)
            .finish()
    }
}

impl Credentials {
    /// Wrap resolved secrets.
    pub fn new(page_token: Secret, app_secret: Option<Secret>, app_id: Option<String>) -> Self {
        Credentials {
            page_token,
            app_secret,
            app_id,
        }
    }

    /// `access_token` (and `appsecret_proof`) for an ordinary call.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        self.params_for(self.page_token.expose())
    }

    fn params_for(&self, token: &str) -> Vec<(&'static str, String)> {
        let mut p = vec![("access_token", token.to_string())];
        if let Some(secret) = &self.app_secret {
            p.push(("appsecret_proof", appsecret_proof(secret.expose(), token)));
        }
        p
    }

    /// Parameters of `GET /debug_token`: the Page token as `input_token`,
    /// called as the app (`{app-id}|{app-secret}`) when both are configured,
    /// else by the Page token itself.
    pub fn debug_token_params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![("input_token", self.page_token.expose().to_string())];
        match (&self.app_id, &self.app_secret) {
            (Some(id), Some(secret)) => {
                p.extend(self.params_for(&format!("{id}|{}", secret.expose())));
            }
            _ => p.extend(self.params()),
        }
        p
    }

    /// `text` with every secret (and value derived from one) replaced by
    /// `[redacted]`: errors and logs never carry them.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        let mut values = vec![self.page_token.expose().to_string()];
        if let Some(s) = &self.app_secret {
            values.push(appsecret_proof(s.expose(), self.page_token.expose()));
            if let Some(id) = &self.app_id {
                let app_token = format!("{id}|{}", s.expose());
                values.push(appsecret_proof(s.expose(), &app_token));
                values.push(app_token);
            }
            values.push(s.expose().to_string());
        }
        // Longest first, so a value containing another is replaced whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for v in values.iter().filter(|v| !v.is_empty()) {
            out = out.replace(v.as_str(), "[redacted]");
        }
        out
    }
}

/// What `debug_token` says about a working Page token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHealth {
    /// `PAGE` for a Page token.
    pub kind: Option<String>,
    /// The Page the token acts for.
    pub profile_id: Option<String>,
    /// When it expires; `None` = never (`expires_at: 0`).
    pub expires_at: Option<DateTime<Utc>>,
    /// When data access ends, if reported.
    pub data_access_expires_at: Option<DateTime<Utc>>,
    /// Granted permissions.
    pub scopes: Vec<String>,
}

/// Interpret a `debug_token` answer: a valid token's health, or
/// `Reauthorize` for an invalid one (there is no refresh grant).
pub fn health(data: DebugTokenData) -> Result<TokenHealth, DeliveryError> {
    if !data.is_valid {
        let detail = match &data.error {
            Some(e) => format!(
                "debug_token: the Page token is invalid: {} (code {}, subcode {})",
                e.message,
                e.code,
                e.subcode.map_or_else(|| "-".to_string(), |s| s.to_string())
            ),
            None => "debug_token: the Page token is invalid".to_string(),
        };
        return Err(DeliveryError::Reauthorize { detail });
    }
    let at = |t: Option<i64>| {
        t.filter(|t| *t > 0)
            .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
    };
    Ok(TokenHealth {
        kind: data.kind,
        profile_id: data.profile_id,
        expires_at: at(data.expires_at),
        data_access_expires_at: at(data.data_access_expires_at),
        scopes: data.scopes,
    })
}

/// The health check: `GET /debug_token` for the configured Page token.
/// `Ok` with the token's facts when it is valid; `Reauthorize` when Meta
/// says it is not (or answers error 190); other failures are classified
/// as for any read.
pub async fn debug_token(client: &FacebookPublisher) -> Result<TokenHealth, DeliveryError> {
    let answer: DebugToken = client
        .get_json(&["debug_token"], client.credentials().debug_token_params())
        .await?;
    health(answer.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appsecret_proof_matches_the_contract_example() {
        assert_eq!(
            appsecret_proof("app-secret", "EAAB-token"),
            "294c307ff2427ed2140908ec13f483ef7f7d7819a8fc32fb535cf6ada2327ab2"
        );
    }

    #[test]
    fn proof_is_sent_only_with_an_app_secret() {
        let without = Credentials::new(Secret::new("EAAB-token"), None, None);
        assert_eq!(
            without.params(),
            vec![("access_token", "EAAB-token".to_string())]
        );
        let with = Credentials::new(
            Secret::new("EAAB-token"),
            Some(Secret::new("app-secret")),
            None,
        );
        assert_eq!(
            with.params()[1],
            (
                "appsecret_proof",
                "294c307ff2427ed2140908ec13f483ef7f7d7819a8fc32fb535cf6ada2327ab2".to_string()
            )
        );
    }

    #[test]
    fn debug_token_calls_as_the_app_when_it_can() {
        let c = Credentials::new(
            Secret::new("EAAB-token"),
            Some(Secret::new("app-secret")),
            Some("42".into()),
        );
        let p = c.debug_token_params();
        assert_eq!(p[0], ("input_token", "EAAB-token".to_string()));
        assert_eq!(p[1], ("access_token", "42|app-secret".to_string()));
        assert_eq!(p[2].1, appsecret_proof("app-secret", "42|app-secret"));
    }

    #[test]
    fn redact_removes_tokens_secrets_and_proofs() {
        let c = Credentials::new(
            Secret::new("EAAB-token"),
            Some(Secret::new("app-secret")),
            Some("42".into()),
        );
        let proof = appsecret_proof("app-secret", "EAAB-token");
        let text =
            format!("url ?access_token=EAAB-token&appsecret_proof={proof} app 42|app-secret");
        let r = c.redact(&text);
        assert!(
            !r.contains("EAAB-token") && !r.contains("app-secret") && !r.contains(&proof),
            "{r}"
        );
    }

    #[test]
    fn an_invalid_token_needs_reauthorization() {
        let data: DebugTokenData = serde_json::from_str(
            r#"{"is_valid":false,"error":{"code":190,"message":"Session has expired","subcode":463}}"#,
        )
        .expect("parse");
        let e = health(data).expect_err("invalid");
        assert_eq!(e.class(), "reauthorize");
        assert!(e.to_string().contains("463"), "{e}");
        let ok: DebugTokenData = serde_json::from_str(
            r#"{"app_id":"1","type":"PAGE","is_valid":true,"expires_at":0,"profile_id":"9","scopes":["pages_manage_posts"]}"#,
        )
        .expect("parse");
        let h = health(ok).expect("valid");
        assert_eq!(h.expires_at, None);
        assert_eq!(h.profile_id.as_deref(), Some("9"));
    }
}
