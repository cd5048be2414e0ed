//! The three platforms, each split the same way:
//! `mod.rs` (settings check and `build`), `config.rs` (typed settings),
//! `client.rs` (the wire calls, classifying every failure), `auth.rs`
//! (tokens, refresh, signing), `wire.rs` (serde shapes of the contract) and
//! `fake.rs` (an in-process fake of the service, with fault injection).

pub mod facebook;
pub mod x;
pub mod youtube;

use super::{Platform, Publisher};
use crate::config::{Account, PublishConfig};
use crate::store::CredentialRepo;
use std::path::PathBuf;
use std::sync::Arc;

/// What a platform needs to build a publisher for an account.
#[derive(Clone)]
pub struct BuildContext {
    /// Directory of the config file (relative secret files).
    pub config_dir: PathBuf,
    /// Durable credential storage (rotated refresh tokens).
    pub credentials: Arc<dyn CredentialRepo>,
    /// Timeouts.
    pub publish: PublishConfig,
}

impl std::fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildContext")
            .field("config_dir", &self.config_dir)
            .finish_non_exhaustive()
    }
}

/// Problems in an account's `settings` table, as `(key, message)`.
pub fn check_settings(platform: Platform, settings: &toml::Table) -> Vec<(String, String)> {
    match platform {
        Platform::X => x::check_settings(settings),
        Platform::Facebook => facebook::check_settings(settings),
        Platform::Youtube => youtube::check_settings(settings),
    }
}

/// Build the publisher of `account`; YouTube uploads resume from
/// `uploads`. Fails when a setting or secret cannot be read.
pub async fn build(
    account: &Account,
    ctx: &BuildContext,
    uploads: Arc<dyn youtube::UploadSessions>,
) -> Result<Arc<dyn Publisher>, String> {
    match account.platform {
        Platform::X => x::build(account, ctx).await,
        Platform::Facebook => facebook::build(account, ctx).await,
        Platform::Youtube => youtube::build_with_sessions(account, ctx, uploads).await,
    }
}
