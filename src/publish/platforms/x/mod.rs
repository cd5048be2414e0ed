//! PLACEHOLDER: replaced by the x branch.
use super::BuildContext;
use crate::config::Account;
use crate::publish::Publisher;
use std::sync::Arc;

/// Problems in the settings table.
pub fn check_settings(_settings: &toml::Table) -> Vec<(String, String)> {
    Vec::new()
}

/// Build the publisher.
pub async fn build(account: &Account, _ctx: &BuildContext) -> Result<Arc<dyn Publisher>, String> {
    Err(format!(
        "account {}: the x client is not built yet",
        account.id
    ))
}
