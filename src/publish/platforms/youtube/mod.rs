//! YouTube: news goes out as video uploads through the Data API v3
//! (`shared/contracts/youtube-data-v3.md`), authorised with Google OAuth
//! refresh tokens (`oauth.md` §3).
//!
//! - [`config`]: settings and their check; [`wire`]: serde shapes, error
//!   classification and the Pacific-midnight quota reset.
//! - [`auth`]: access-token refresh, stored before use, single-flight.
//! - [`upload`]: the resumable upload protocol and the durable
//!   [`UploadSessions`] that lets an upload survive a restart.
//! - [`client`]: [`YoutubePublisher`]. [`fake`]: [`FakeYoutube`].

pub mod auth;
pub mod client;
pub mod config;
pub mod fake;
pub mod upload;
pub mod wire;

pub use client::YoutubePublisher;
pub use config::{PrivacyStatus, YoutubeSettings, check_settings};
pub use fake::FakeYoutube;
pub use upload::{MAX_RESUMES, MemoryUploadSessions, UploadSession, UploadSessions};

use super::BuildContext;
use crate::config::Account;
use crate::publish::Publisher;
use std::sync::Arc;
use url::Url;

/// Build the publisher of `account` with upload sessions kept in memory
/// (a restart starts interrupted uploads over). The daemon should call
/// [`build_with_sessions`] with the store once it implements
/// [`UploadSessions`].
pub async fn build(account: &Account, ctx: &BuildContext) -> Result<Arc<dyn Publisher>, String> {
    build_with_sessions(account, ctx, Arc::new(MemoryUploadSessions::new())).await
}

/// Build the publisher of `account`, resuming uploads from `sessions`.
/// Fails when the settings are invalid or a secret cannot be read; the
/// message names the key and where it looked, never a secret.
pub async fn build_with_sessions(
    account: &Account,
    ctx: &BuildContext,
    sessions: Arc<dyn UploadSessions>,
) -> Result<Arc<dyn Publisher>, String> {
    Ok(Arc::new(publisher(account, ctx, sessions)?))
}

/// The concrete publisher (tests reach its type through this).
pub fn publisher(
    account: &Account,
    ctx: &BuildContext,
    sessions: Arc<dyn UploadSessions>,
) -> Result<YoutubePublisher, String> {
    let who = &account.id;
    let settings = config::parse(&account.settings).map_err(|p| {
        let all: Vec<String> = p.iter().map(|(k, m)| format!("{k}: {m}")).collect();
        format!("account {who}: {}", all.join("; "))
    })?;
    let client_secret = settings
        .client_secret
        .resolve(&ctx.config_dir)
        .map_err(|e| format!("account {who}: client_secret: {e}"))?;
    let refresh_token = settings
        .refresh_token
        .resolve(&ctx.config_dir)
        .map_err(|e| format!("account {who}: refresh_token: {e}"))?;
    let base_url = match &account.base_url {
        Some(u) => u.clone(),
        None => Url::parse(config::DEFAULT_BASE_URL).map_err(|e| e.to_string())?,
    };
    // 308 Resume Incomplete is the upload protocol, not a redirect.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(ctx.publish.connect_timeout)
        .user_agent(concat!("musharaka/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("account {who}: http client: {e}"))?;
    let auth = auth::GoogleAuth::new(
        http.clone(),
        settings.token_url.clone(),
        ctx.publish.timeout,
        account.id.clone(),
        settings.client_id.clone(),
        client_secret,
        refresh_token,
        ctx.credentials.clone(),
    );
    Ok(YoutubePublisher {
        account: account.clone(),
        base_url,
        http,
        api_timeout: ctx.publish.timeout,
        auth,
        sessions,
        settings,
    })
}
