//! The outbox over the staff API: deliveries of an item, the job list,
//! retry and cancel, a preview of what each account would post, and
//! account health (rate-limit pauses, parked accounts and their resume).

use super::news::{load, parse_id};
use crate::config::secrets::Permission;
use crate::http::AppState;
use crate::http::auth::Staff;
use crate::http::problem::ApiError;
use crate::publish::outbox::{AccountState, Job, JobState};
use crate::publish::worker::outgoing;
use crate::publish::{JobId, Platform, Rendered};
use axum::extract::{Path, Query, State};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A job as the API shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct JobView {
    /// The job.
    #[serde(flatten)]
    pub job: Job,
    /// The account's platform.
    pub platform: Option<Platform>,
}

fn view(state: &AppState, job: Job) -> JobView {
    JobView {
        platform: state
            .config
            .accounts
            .get(&job.account_id)
            .map(|a| a.platform),
        job,
    }
}

/// `GET /api/v1/news/{id}/deliveries`
pub async fn deliveries(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<JobView>>, ApiError> {
    staff.require(Permission::NewsRead)?;
    let item = load(&state, parse_id(&id)?).await?;
    let jobs = state.store.jobs_for_item(item.id).await?;
    Ok(axum::Json(
        jobs.into_iter().map(|j| view(&state, j)).collect(),
    ))
}

/// Outbox list filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs of this account.
    pub account: Option<String>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// `GET /api/v1/outbox?state=&account=&limit=`: newest jobs first.
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    query: Result<Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Vec<JobView>>, ApiError> {
    staff.require(Permission::NewsRead)?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let mut jobs: Vec<Job> = state
        .store
        .all_jobs()
        .await?
        .into_iter()
        .filter(|j| q.state.is_none_or(|s| s == j.state))
        .filter(|j| q.account.as_deref().is_none_or(|a| a == j.account_id))
        .collect();
    jobs.reverse();
    jobs.truncate(q.limit.unwrap_or(100).clamp(1, 1000));
    Ok(axum::Json(
        jobs.into_iter().map(|j| view(&state, j)).collect(),
    ))
}

async fn load_job(state: &AppState, id: &str) -> Result<Job, ApiError> {
    let id: JobId = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no outbox job `{id}`")))?;
    state
        .store
        .get_job(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no outbox job `{id}`")))
}

/// `POST /api/v1/outbox/{id}/retry`: a dead, skipped or cancelled job is
/// tried again with a fresh attempt budget. One that was ever attempted is
/// reconciled first, so a retry never posts twice.
pub async fn retry(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<axum::Json<JobView>, ApiError> {
    staff.require(Permission::Operate)?;
    let mut job = load_job(&state, &id).await?;
    if !matches!(
        job.state,
        JobState::Dead
            | JobState::Skipped
            | JobState::Cancelled
            | JobState::Pending
            | JobState::Unknown
    ) {
        return Err(ApiError::Conflict);
    }
    let now = Utc::now();
    job.state = if job.attempts > 0 {
        JobState::Unknown
    } else {
        JobState::Pending
    };
    job.attempts = 0;
    job.next_attempt_at = now;
    job.updated_at = now;
    job.revision += 1;
    state.store.put_jobs(std::slice::from_ref(&job)).await?;
    tracing::info!(job = %job.id, staff = %staff.name, "outbox job retried by staff");
    state.deliverer.wake();
    Ok(axum::Json(view(&state, job)))
}

/// `POST /api/v1/outbox/{id}/cancel`: stop a job that is not posted.
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<axum::Json<JobView>, ApiError> {
    staff.require(Permission::Operate)?;
    let mut job = load_job(&state, &id).await?;
    match job.state {
        JobState::Pending | JobState::Unknown | JobState::Dead | JobState::Skipped => {}
        JobState::Cancelled => return Ok(axum::Json(view(&state, job))),
        _ => return Err(ApiError::Conflict),
    }
    job.state = JobState::Cancelled;
    job.last_error = Some(format!("cancelled by {}", staff.name));
    job.updated_at = Utc::now();
    job.revision += 1;
    state.store.put_jobs(std::slice::from_ref(&job)).await?;
    tracing::info!(job = %job.id, staff = %staff.name, "outbox job cancelled by staff");
    Ok(axum::Json(view(&state, job)))
}

/// What one account would post.
#[derive(Debug, Serialize, Deserialize)]
pub struct PreviewView {
    /// Account id.
    pub account: String,
    /// Platform.
    pub platform: Platform,
    /// The rendered post, if the account takes this item.
    pub post: Option<Rendered>,
    /// Why not, otherwise.
    pub skipped: Option<String>,
}

/// `GET /api/v1/news/{id}/preview`: what each account would post.
pub async fn preview(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<PreviewView>>, ApiError> {
    staff.require(Permission::NewsRead)?;
    let item = load(&state, parse_id(&id)?).await?;
    let now = Utc::now();
    let mut out = Vec::new();
    for account in state.config.accounts.values() {
        let job = Job::new(
            item.id,
            &account.id,
            crate::publish::outbox::JobKind::Publish,
            now,
            now,
        );
        let (post, skipped) = match (
            state.deliverer.publisher(&account.id),
            outgoing(&state.config, account, &item, &job),
        ) {
            (None, _) => (None, Some("the account is disabled".to_string())),
            (Some(_), None) => (None, Some("no title in the account's language".to_string())),
            (Some(p), Some(o)) => match p.skip_reason(&o) {
                Some(r) => (None, Some(r)),
                None => match p.render(&o) {
                    Ok(r) => (Some(r), None),
                    Err(e) => (None, Some(e.to_string())),
                },
            },
        };
        out.push(PreviewView {
            account: account.id.clone(),
            platform: account.platform,
            post,
            skipped,
        });
    }
    Ok(axum::Json(out))
}

/// An account as the API shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccountView {
    /// Account id.
    pub id: String,
    /// Platform.
    pub platform: Platform,
    /// Language.
    pub language: crate::model::Lang,
    /// Enabled in the config.
    pub enabled: bool,
    /// Runtime state (pause, parking).
    pub state: AccountState,
    /// The last post made or adopted (from the outbox).
    pub last_posted_at: Option<chrono::DateTime<Utc>>,
}

/// `GET /api/v1/accounts`
pub async fn accounts(
    State(state): State<Arc<AppState>>,
    staff: Staff,
) -> Result<axum::Json<Vec<AccountView>>, ApiError> {
    staff.require(Permission::NewsRead)?;
    let mut last_posted: std::collections::HashMap<String, chrono::DateTime<Utc>> =
        std::collections::HashMap::new();
    for j in state.store.all_jobs().await? {
        if let Some(t) = j.posted_at {
            let e = last_posted.entry(j.account_id).or_insert(t);
            *e = (*e).max(t);
        }
    }
    let mut out = Vec::new();
    for a in state.config.accounts.values() {
        let st = state
            .store
            .account_state(&a.id)
            .await?
            .unwrap_or_else(|| AccountState {
                id: a.id.clone(),
                ..Default::default()
            });
        out.push(AccountView {
            id: a.id.clone(),
            platform: a.platform,
            language: a.lang,
            enabled: a.enabled,
            state: st,
            last_posted_at: last_posted.get(&a.id).copied(),
        });
    }
    Ok(axum::Json(out))
}

/// `POST /api/v1/accounts/{id}/resume`: after re-authorization (new
/// credentials configured), let the account deliver again.
pub async fn resume(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<axum::Json<AccountState>, ApiError> {
    staff.require(Permission::Operate)?;
    if !state.config.accounts.contains_key(&id) {
        return Err(ApiError::NotFound(format!("no account `{id}`")));
    }
    let mut st = state
        .store
        .account_state(&id)
        .await?
        .unwrap_or_else(|| AccountState {
            id: id.clone(),
            ..Default::default()
        });
    st.needs_reauth = None;
    st.needs_reauth_since = None;
    st.paused_until = None;
    state.store.put_account_state(&st).await?;
    state.metrics.set(
        "musharaka_account_needs_reauth",
        &[("account", id.as_str())],
        0.0,
    );
    tracing::info!(account = %id, staff = %staff.name, "account resumed by staff");
    state.deliverer.wake();
    Ok(axum::Json(st))
}
