//! `/api/v1/sources`: upstream sources with their health, as stored by the poller.

use crate::config::secrets::Permission;
use crate::http::AppState;
use crate::http::auth::Staff;
use crate::http::problem::ApiError;
use crate::model::SourceState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One source as the API shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct SourceView {
    /// Configured id.
    pub id: String,
    /// Where it is fetched from.
    pub url: String,
    /// Cron schedule.
    pub schedule: String,
    /// Whether it is polled.
    pub enabled: bool,
    /// Whether its entries are cross-posted.
    pub cross_post: bool,
    /// Stored health; absent before the first poll.
    pub health: Option<SourceState>,
}

/// `GET /api/v1/sources`
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
) -> Result<axum::Json<Vec<SourceView>>, ApiError> {
    staff.require(Permission::NewsRead)?;
    let mut states: std::collections::HashMap<String, SourceState> = state
        .store
        .all_source_states()
        .await?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    Ok(axum::Json(
        state
            .config
            .sources
            .values()
            .map(|s| SourceView {
                id: s.id.clone(),
                url: s.url.to_string(),
                schedule: s.schedule_text.clone(),
                enabled: s.enabled,
                cross_post: s.cross_post,
                health: states.remove(&s.id),
            })
            .collect(),
    ))
}
