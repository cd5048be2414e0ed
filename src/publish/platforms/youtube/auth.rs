//! Google OAuth 2.0 access tokens for one YouTube account (`oauth.md` §3).
//!
//! Owns: the refresh grant (`POST token_url`, form `client_id`,
//! `client_secret`, `grant_type=refresh_token`, `refresh_token`), storing the
//! access token and its expiry durably *before* use, and single-flight (one
//! refresh at a time per account, behind a tokio mutex held across the call).
//! Google does not rotate refresh tokens: the old one is kept, and a new one
//! is stored only if the response carries one.
//!
//! Staff re-authorise by configuring a new refresh token; a fingerprint of the
//! configured token (`StoredCredentials::seed`) tells that apart from a stored
//! one, and the configured one then wins.
//!
//! Tokens never appear in errors or logs: details carry Google's
//! `error`/`error_description` only.

use super::wire::{TokenError, TokenResponse};
use crate::config::secrets::Secret;
use crate::publish::DeliveryError;
use crate::store::{CredentialRepo, StoredCredentials};
use chrono::{Duration, Utc};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use url::Url;

/// An access token closer than this to its expiry is refreshed first.
const EXPIRY_MARGIN: Duration = Duration::seconds(60);

/// Access tokens of one account.
pub struct GoogleAuth {
    http: reqwest::Client,
    token_url: Url,
    timeout: std::time::Duration,
    account_id: String,
    client_id: String,
    client_secret: Secret,
    configured_refresh: Secret,
    seed: String,
    repo: Arc<dyn CredentialRepo>,
    /// The credentials in use; `None` until loaded from the repo. Held
    /// across a refresh, so concurrent callers wait for its result.
    state: tokio::sync::Mutex<Option<StoredCredentials>>,
}

impl std::fmt::Debug for GoogleAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleAuth")
            .field("account_id", &self.account_id)
            .field("token_url", &self.token_url.as_str())
            .finish_non_exhaustive()
    }
}

/// A fingerprint of a configured refresh token (not reversible).
fn fingerprint(token: &str) -> String {
    hex::encode(&Sha256::digest(token.as_bytes())[..8])
}

impl GoogleAuth {
    /// Tokens of `account_id`, refreshed at `token_url`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        http: reqwest::Client,
        token_url: Url,
        timeout: std::time::Duration,
        account_id: String,
        client_id: String,
        client_secret: Secret,
        refresh_token: Secret,
        repo: Arc<dyn CredentialRepo>,
    ) -> Self {
        let seed = fingerprint(refresh_token.expose());
        GoogleAuth {
            http,
            token_url,
            timeout,
            account_id,
            client_id,
            client_secret,
            configured_refresh: refresh_token,
            seed,
            repo,
            state: tokio::sync::Mutex::new(None),
        }
    }

    /// A valid access token: the stored one, or a fresh one when it is
    /// missing or about to expire.
    pub async fn access_token(&self) -> Result<Secret, DeliveryError> {
        let mut state = self.state.lock().await;
        let creds = self.loaded(&mut state).await?;
        if let (Some(tok), Some(exp)) = (&creds.access_token, creds.expires_at) {
            if exp - EXPIRY_MARGIN > Utc::now() {
                return Ok(Secret::new(tok.clone()));
            }
        }
        self.refresh_locked(&mut state).await
    }

    /// Refresh now (after a 401), storing the new token before returning.
    pub async fn refresh(&self) -> Result<(), DeliveryError> {
        let mut state = self.state.lock().await;
        self.refresh_locked(&mut state).await.map(|_| ())
    }

    /// The stored credentials, loaded once; a stored record made from an
    /// older configured refresh token is ignored.
    async fn loaded(
        &self,
        state: &mut Option<StoredCredentials>,
    ) -> Result<StoredCredentials, DeliveryError> {
        if let Some(c) = state {
            return Ok(c.clone());
        }
        let stored = self.repo.credentials(&self.account_id).await.map_err(|e| {
            DeliveryError::Transient {
                detail: format!("credential store: {e}"),
            }
        })?;
        let creds = match stored {
            Some(c) if c.seed.as_deref() == Some(self.seed.as_str()) => c,
            _ => StoredCredentials {
                seed: Some(self.seed.clone()),
                updated_at: Utc::now(),
                ..Default::default()
            },
        };
        *state = Some(creds.clone());
        Ok(creds)
    }

    async fn refresh_locked(
        &self,
        state: &mut Option<StoredCredentials>,
    ) -> Result<Secret, DeliveryError> {
        let creds = self.loaded(state).await?;
        let refresh = creds
            .refresh_token
            .clone()
            .unwrap_or_else(|| self.configured_refresh.expose().to_string());
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ];
        let resp = self
            .http
            .post(self.token_url.clone())
            .form(&form)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| transport(&e))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| transport(&e))?;
        if !status.is_success() {
            return Err(refused(status.as_u16(), &body));
        }
        let tok: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| DeliveryError::Transient {
                detail: format!("token refresh: unreadable answer: {e}"),
            })?;
        let now = Utc::now();
        let next = StoredCredentials {
            access_token: Some(tok.access_token.clone()),
            expires_at: Some(now + Duration::seconds(tok.expires_in.unwrap_or(3600).max(0))),
            // No rotation: keep the refresh token unless a new one came back.
            refresh_token: Some(tok.refresh_token.unwrap_or(refresh)),
            seed: Some(self.seed.clone()),
            updated_at: now,
        };
        // Durable before use: a token we cannot store is not used.
        self.repo
            .put_credentials(&self.account_id, &next)
            .await
            .map_err(|e| DeliveryError::Transient {
                detail: format!("credential store: {e}"),
            })?;
        *state = Some(next);
        tracing::info!(account = %self.account_id, "youtube access token refreshed");
        Ok(Secret::new(tok.access_token))
    }
}

fn transport(e: &reqwest::Error) -> DeliveryError {
    let kind = if e.is_connect() {
        "cannot connect"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "connection failed"
    };
    DeliveryError::Transient {
        detail: format!("token refresh: {kind}"),
    }
}

/// Classify a refused refresh: `invalid_grant` (revoked, expired, Testing
/// app's 7-day limit), `invalid_client` and `unauthorized_client` need staff
/// → `Reauthorize`; 429 → `RateLimited` 1 min; 5xx → `Transient`; other
/// 4xx → `Permanent`.
pub fn refused(status: u16, body: &[u8]) -> DeliveryError {
    let err: TokenError = serde_json::from_slice(body).unwrap_or_default();
    let mut detail = format!("token refresh: HTTP {status}");
    if !err.error.is_empty() {
        detail.push_str(&format!(" {}", err.error));
    }
    if let Some(d) = err.error_description.as_deref().filter(|d| !d.is_empty()) {
        detail.push_str(&format!(": {}", d.chars().take(200).collect::<String>()));
    }
    match (status, err.error.as_str()) {
        (_, "invalid_grant" | "invalid_client" | "unauthorized_client") | (401, _) => {
            DeliveryError::Reauthorize { detail }
        }
        (429, _) => DeliveryError::RateLimited {
            until: Utc::now() + Duration::minutes(1),
            detail,
        },
        (500..=599, _) => DeliveryError::Transient { detail },
        _ => DeliveryError::Permanent { detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_refreshes_are_classified() {
        let e = refused(
            400,
            br#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
        );
        assert_eq!(e.class(), "reauthorize");
        assert!(e.to_string().contains("Token has been expired or revoked."));
        assert_eq!(
            refused(401, br#"{"error":"invalid_client"}"#).class(),
            "reauthorize"
        );
        assert_eq!(refused(503, b"").class(), "transient");
        assert_eq!(refused(429, b"{}").class(), "rate_limited");
        assert_eq!(
            refused(400, br#"{"error":"unsupported_grant_type"}"#).class(),
            "permanent"
        );
    }

    #[test]
    fn fingerprint_does_not_reveal_the_token() {
        let f = fingerprint("1//refresh-token-value");
        assert_eq!(f.len(), 16);
        assert!(!f.contains("refresh"));
        assert_ne!(f, fingerprint("1//another"));
    }
}
