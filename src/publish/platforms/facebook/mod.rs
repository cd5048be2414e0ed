//! Facebook Pages (Graph API): posting news to a Page, finding a post again
//! after an unknown outcome, deleting retracted posts.
//!
//! - [`config`]: the account's `settings` table, checked all at once.
//! - [`auth`]: the Page token, `appsecret_proof`, the `debug_token` check.
//! - [`client`]: [`FacebookPublisher`], the wire calls and their failure classes.
//! - [`wire`]: serde shapes of the contract.
//! - [`fake`]: [`FakeFacebook`], an in-process Graph fake with fault injection.
//!
//! Contract: `shared/contracts/facebook-graph.md` and `oauth.md` §4.

pub mod auth;
pub mod client;
pub mod config;
pub mod fake;
pub mod wire;

pub use auth::{TokenHealth, appsecret_proof, debug_token};
pub use client::FacebookPublisher;
pub use config::{FacebookSettings, check_settings};
pub use fake::{FakeFacebook, RateLimitKind};

use super::BuildContext;
use crate::config::Account;
use crate::publish::Publisher;
use std::sync::Arc;

/// Build the publisher of a Facebook Page account: checks the settings and
/// reads the secrets; the error names the account and the problem, never a
/// secret value.
pub async fn build(account: &Account, ctx: &BuildContext) -> Result<Arc<dyn Publisher>, String> {
    Ok(Arc::new(FacebookPublisher::new(account, ctx)?))
}
