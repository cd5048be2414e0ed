//! X (Twitter) API v2: post, reconcile and delete news posts of one account.
//!
//! - [`config`]: typed settings (`auth = "oauth2" | "oauth1"`) and the check
//!   that reports every problem at once.
//! - [`auth`]: OAuth 2.0 refresh with rotation (single-flight, stored before
//!   use), OAuth 1.0a HMAC-SHA1 signing, PKCE.
//! - [`client`]: [`XPublisher`], the wire calls, classifying every failure.
//! - [`wire`]: serde shapes of the contract.
//! - [`fake`]: [`FakeX`], an in-process fake of the API with fault injection.
//!
//! Contracts: `shared/contracts/x-api-v2.md` and `oauth.md` §1–2.

pub mod auth;
pub mod client;
pub mod config;
pub mod fake;
pub mod wire;

pub use auth::{OAuth1Keys, pkce_challenge};
pub use client::{XAuth, XPublisher};
pub use config::{OAuth1Settings, OAuth2Settings, XSettings};
pub use fake::FakeX;

use super::BuildContext;
use crate::config::Account;
use crate::publish::Publisher;
use std::sync::Arc;

/// The API's default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.x.com/";

/// Problems in the settings table, as `(key, message)`.
pub fn check_settings(settings: &toml::Table) -> Vec<(String, String)> {
    config::check_settings(settings)
}

/// Build the publisher of `account`: resolve its secrets, and (OAuth 2.0)
/// load its stored tokens, re-seeding them when staff configured a new
/// refresh token. No network call happens here; the first call refreshes
/// lazily when there is no valid access token.
pub async fn build(account: &Account, ctx: &BuildContext) -> Result<Arc<dyn Publisher>, String> {
    Ok(Arc::new(build_x(account, ctx).await?))
}

/// [`build`], typed.
pub async fn build_x(account: &Account, ctx: &BuildContext) -> Result<XPublisher, String> {
    let fail = |what: &str, e: String| format!("account {}: {what}: {e}", account.id);
    let settings = XSettings::from_table(&account.settings).map_err(|e| fail("settings", e))?;
    let mut base_url = match &account.base_url {
        Some(u) => u.clone(),
        None => url::Url::parse(DEFAULT_BASE_URL).map_err(|e| fail("base_url", e.to_string()))?,
    };
    // `join` must append to the base path, not replace its last segment.
    if !base_url.path().ends_with('/') {
        let p = format!("{}/", base_url.path());
        base_url.set_path(&p);
    }
    let http = reqwest::Client::builder()
        .connect_timeout(ctx.publish.connect_timeout)
        .timeout(ctx.publish.timeout)
        .user_agent(concat!("musharaka/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| fail("http client", e.to_string()))?;
    let secret = |key: &str, r: &crate::config::secrets::SecretRef| {
        r.resolve(&ctx.config_dir)
            .map_err(|e| fail(&format!("settings.{key}"), e))
    };
    let user_id = tokio::sync::OnceCell::new();
    if let Some(id) = settings.user_id() {
        let _ = user_id.set(id.to_string());
    }
    let auth = match &settings {
        XSettings::Oauth2(s) => {
            let client = auth::OAuth2Client {
                client_id: s.client_id.clone(),
                client_secret: match &s.client_secret {
                    Some(r) => Some(secret("client_secret", r)?),
                    None => None,
                },
                token_url: base_url
                    .join("2/oauth2/token")
                    .map_err(|e| fail("base_url", e.to_string()))?,
            };
            let configured = secret("refresh_token", &s.refresh_token)?;
            let o = auth::OAuth2::load(client, &account.id, configured, ctx.credentials.clone())
                .await
                .map_err(|e| fail("credentials", e))?;
            XAuth::OAuth2(Box::new(o))
        }
        XSettings::Oauth1(s) => XAuth::OAuth1(OAuth1Keys {
            consumer_key: secret("consumer_key", &s.consumer_key)?,
            consumer_secret: secret("consumer_secret", &s.consumer_secret)?,
            token: secret("token", &s.token)?,
            token_secret: secret("token_secret", &s.token_secret)?,
        }),
    };
    Ok(XPublisher {
        account: account.clone(),
        base_url,
        http,
        auth,
        user_id,
    })
}
