//! `/api/v1/news`: staff news. Create, replace, retract (soft: the item is
//! kept with `retracted_at` and leaves every feed), read and list.
//!
//! Every write is flushed to the store before the 2xx answer, then the render
//! loop is woken so the feeds show the change at once.

use super::ApiJson;
use crate::config::secrets::Permission;
use crate::http::AppState;
use crate::http::auth::Staff;
use crate::http::problem::ApiError;
use crate::model::{ItemId, NewsItem};
use crate::sources::staff::NewsInput;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where an item stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemState {
    /// In the feeds.
    Live,
    /// Published in the future.
    Embargoed,
    /// Retracted.
    Retracted,
}

impl ItemState {
    /// The state of `item` at `now`.
    pub fn of(item: &NewsItem, now: DateTime<Utc>) -> ItemState {
        if item.retracted_at.is_some() {
            ItemState::Retracted
        } else if item.published_at > now {
            ItemState::Embargoed
        } else {
            ItemState::Live
        }
    }
}

/// An item as the API shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct NewsView {
    /// The item.
    #[serde(flatten)]
    pub item: NewsItem,
    /// Its state now.
    pub state: ItemState,
}

/// The list answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct NewsList {
    /// Items, newest publication first.
    pub items: Vec<NewsView>,
    /// Items matching the filter before paging.
    pub total: usize,
}

/// List filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only items in this state.
    pub state: Option<ItemState>,
    /// `staff` or `upstream`.
    pub origin: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<usize>,
    /// Items to skip.
    pub offset: Option<usize>,
}

fn view(item: NewsItem, now: DateTime<Utc>) -> NewsView {
    NewsView {
        state: ItemState::of(&item, now),
        item,
    }
}

fn revision_etag(item: &NewsItem) -> String {
    format!("\"r{}\"", item.revision)
}

fn with_etag(status: StatusCode, item: NewsItem, now: DateTime<Utc>) -> Response {
    let etag = revision_etag(&item);
    let mut resp = (status, axum::Json(view(item, now))).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// Parse an item id from a path.
pub fn parse_id(id: &str) -> Result<ItemId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::NotFound(format!("no news item `{id}`")))
}

/// Load an item or answer 404.
pub async fn load(state: &AppState, id: ItemId) -> Result<NewsItem, ApiError> {
    state
        .store
        .get_news(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no news item `{id}`")))
}

fn check_if_match(headers: &HeaderMap, item: &NewsItem) -> Result<(), ApiError> {
    if let Some(v) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        let etag = revision_etag(item);
        if !v.split(',').any(|t| t.trim() == etag || t.trim() == "*") {
            return Err(ApiError::PreconditionFailed);
        }
    }
    Ok(())
}

/// Write a changed item with the job changes it implies, in one
/// transaction. A delivery worker may change a job meanwhile: then the jobs
/// are read again (the item's own revision still guards staff edits).
async fn write_with_jobs(
    state: &AppState,
    item: &NewsItem,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    for _ in 0..5 {
        let existing = state.store.jobs_for_item(item.id).await?;
        let jobs =
            crate::publish::outbox::jobs_for_changed_item(&state.config, item, &existing, now);
        match state.store.update_news_with_jobs(item, &jobs).await {
            Err(crate::store::StoreError::Conflict)
                if state.store.get_news(item.id).await?.map(|i| i.revision)
                    == Some(item.revision - 1) =>
            {
                continue;
            }
            other => return Ok(other?),
        }
    }
    Err(ApiError::Conflict)
}

/// `POST /api/v1/news`. With an `Idempotency-Key` header, a repeated
/// request (a client retrying after a lost answer) returns the item the first
/// one created, with `200 OK`, instead of creating — and cross-posting — it
/// twice.
pub async fn create(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    headers: HeaderMap,
    ApiJson(input): ApiJson<NewsInput>,
) -> Result<Response, ApiError> {
    staff.require(Permission::NewsWrite)?;
    let now = Utc::now();
    let valid = input.validate(now).map_err(ApiError::Invalid)?;
    let item = valid.into_new_item(now);
    let jobs = crate::publish::outbox::jobs_for_new_item(&state.config, &item, now);
    // The item and its outbox jobs are created together.
    match headers.get("idempotency-key") {
        None => state.store.insert_news_with_jobs(&item, &jobs).await?,
        Some(k) => {
            let k = k
                .to_str()
                .ok()
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "Idempotency-Key must be 1 to 200 visible characters".into(),
                    )
                })?;
            // Keys are per staff member.
            let key = format!("{}\u{0}{k}", staff.name);
            if let Some(existing) = state.store.create_news(&item, &jobs, &key).await? {
                tracing::info!(id = %existing.id, staff = %staff.name, "news create replayed (idempotency key)");
                let location = format!("/api/v1/news/{}", existing.id);
                let mut resp = with_etag(StatusCode::OK, existing, now);
                if let Ok(v) = HeaderValue::from_str(&location) {
                    resp.headers_mut().insert(header::LOCATION, v);
                }
                return Ok(resp);
            }
        }
    }
    state.deliverer.wake();
    state
        .metrics
        .inc("musharaka_news_changes_total", &[("action", "create")]);
    tracing::info!(id = %item.id, staff = %staff.name, published_at = %item.published_at, "news created");
    state.changed.notify_one();
    let location = format!("/api/v1/news/{}", item.id);
    let mut resp = with_etag(StatusCode::CREATED, item, now);
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `PUT /api/v1/news/{id}`: replace the content (honours `If-Match`).
pub async fn replace(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<NewsInput>,
) -> Result<Response, ApiError> {
    staff.require(Permission::NewsWrite)?;
    let id = parse_id(&id)?;
    let now = Utc::now();
    let valid = input.validate(now).map_err(ApiError::Invalid)?;
    let old = load(&state, id).await?;
    check_if_match(&headers, &old)?;
    if old.retracted_at.is_some() {
        return Err(ApiError::Conflict);
    }
    let item = valid.apply_to(&old, now);
    write_with_jobs(&state, &item, now).await?;
    state.deliverer.wake();
    state
        .metrics
        .inc("musharaka_news_changes_total", &[("action", "update")]);
    tracing::info!(id = %item.id, staff = %staff.name, revision = item.revision, "news updated");
    state.changed.notify_one();
    Ok(with_etag(StatusCode::OK, item, now))
}

/// `DELETE /api/v1/news/{id}`: retract. Idempotent; the item is kept.
pub async fn retract(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    staff.require(Permission::NewsWrite)?;
    let id = parse_id(&id)?;
    let now = Utc::now();
    let old = load(&state, id).await?;
    check_if_match(&headers, &old)?;
    if old.retracted_at.is_some() {
        return Ok(with_etag(StatusCode::OK, old, now));
    }
    let item = NewsItem {
        retracted_at: Some(now),
        modified_at: Some(now),
        revision: old.revision + 1,
        ..old
    };
    // Unposted jobs are cancelled and posts deleted (per account) in the same transaction.
    write_with_jobs(&state, &item, now).await?;
    state.deliverer.wake();
    state
        .metrics
        .inc("musharaka_news_changes_total", &[("action", "retract")]);
    tracing::info!(id = %item.id, staff = %staff.name, "news retracted");
    state.changed.notify_one();
    Ok(with_etag(StatusCode::OK, item, now))
}

/// `GET /api/v1/news/{id}`
pub async fn get(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    staff.require(Permission::NewsRead)?;
    let item = load(&state, parse_id(&id)?).await?;
    Ok(with_etag(StatusCode::OK, item, Utc::now()))
}

/// `GET /api/v1/news?state=&origin=&limit=&offset=`
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<NewsList>, ApiError> {
    staff.require(Permission::NewsRead)?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let now = Utc::now();
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let offset = q.offset.unwrap_or(0);
    let origin_ok = |item: &NewsItem| match q.origin.as_deref() {
        None => Ok(true),
        Some("staff") => Ok(item.source_id().is_none()),
        Some("upstream") => Ok(item.source_id().is_some()),
        Some(o) => Err(ApiError::BadRequest(format!(
            "origin must be `staff` or `upstream`, not `{o}`"
        ))),
    };
    let mut matching = Vec::new();
    for item in state.store.all_news().await? {
        if !origin_ok(&item)? {
            continue;
        }
        if q.state.is_some_and(|s| s != ItemState::of(&item, now)) {
            continue;
        }
        matching.push(item);
    }
    let total = matching.len();
    let items = matching
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|i| view(i, now))
        .collect();
    Ok(axum::Json(NewsList { items, total }))
}
