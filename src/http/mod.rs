//! The HTTP surface: public feeds and pages, the staff API under `/api/v1`,
//! and `/healthz`, `/readyz`, `/metrics`.
//!
//! Owns: routing, request limits, per-route metrics and the request span.
//! [`router`] builds the whole app from an [`AppState`], so tests can drive
//! it on a real socket bound to port 0.

pub mod api;
pub mod auth;
pub mod feeds;
pub mod pages;
pub mod problem;

use crate::config::Config;
use crate::render::FeedCache;
use crate::store::DynStore;
use crate::telemetry::Metrics;
use auth::Auth;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use problem::ApiError;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The store.
    pub store: DynStore,
    /// Rendered feeds.
    pub cache: Arc<FeedCache>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// Staff tokens.
    pub auth: Arc<Auth>,
    /// Wakes the render loop after a news change.
    pub changed: Arc<Notify>,
    /// Set once feeds are rendered and the store is open; cleared on shutdown.
    pub ready: Arc<AtomicBool>,
    /// Outbox delivery (publishers per account).
    pub deliverer: Arc<crate::publish::worker::Deliverer>,
}

/// The whole router.
pub fn router(state: Arc<AppState>) -> Router {
    use axum::routing::post;
    let api = Router::new()
        .route("/news", post(api::news::create).get(api::news::list))
        .route(
            "/news/{id}",
            get(api::news::get)
                .put(api::news::replace)
                .delete(api::news::retract),
        )
        .route("/sources", get(api::sources::list))
        .route("/news/{id}/deliveries", get(api::outbox::deliveries))
        .route("/news/{id}/preview", get(api::outbox::preview))
        .route("/outbox", get(api::outbox::list))
        .route("/outbox/{id}/retry", post(api::outbox::retry))
        .route("/outbox/{id}/cancel", post(api::outbox::cancel))
        .route("/accounts", get(api::outbox::accounts))
        .route("/accounts/{id}/resume", post(api::outbox::resume))
        .fallback(|| async { ApiError::NotFound("no such API route".into()) });
    Router::new()
        .route("/", get(pages::index))
        .route("/news/{id}", get(pages::news_page))
        .route("/feeds/{file}", get(feeds::current))
        .route("/feeds/{channel}/archive/{file}", get(feeds::archive))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .nest("/api/v1", api)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.http.request_timeout,
        ))
        .layer(RequestBodyLimitLayer::new(state.config.http.max_body_bytes))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.http.max_body_bytes,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), staff = tracing::field::Empty)
        }))
        .with_state(state)
}

/// Count requests by route template, method and status.
async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let resp = next.run(req).await;
    state.metrics.inc(
        "musharaka_http_requests_total",
        &[
            ("route", route.as_str()),
            ("method", method.as_str()),
            ("status", resp.status().as_str()),
        ],
    );
    resp
}

/// `GET /healthz`: the process is up and serving.
async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: the store is open and feeds are rendered, and we are not
/// shutting down.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

/// `GET /metrics`: Prometheus text format.
async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
