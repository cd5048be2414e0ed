//! RFC 9457 problem details: every API error is `application/problem+json`
//! with `type`, `title`, `status` and `detail`; internal errors are logged
//! and hidden behind a generic detail.

use crate::sources::staff::FieldError;
use crate::store::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or malformed credentials.
    #[error("authentication required")]
    Unauthorized,
    /// Valid credentials, insufficient role.
    #[error("the token's role does not allow this")]
    Forbidden,
    /// No such resource.
    #[error("{0}")]
    NotFound(String),
    /// The request body is not acceptable JSON.
    #[error("{0}")]
    BadRequest(String),
    /// Some fields are invalid.
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    /// `If-Match` did not match.
    #[error("the item changed since it was read")]
    PreconditionFailed,
    /// A concurrent change won.
    #[error("the item was changed concurrently; read it again and retry")]
    Conflict,
    /// The daemon is shutting down or not ready.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else; the detail is logged, not returned.
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("no such item".into()),
            StoreError::Conflict | StoreError::Replayed(_) => ApiError::Conflict,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "/problems/unauthorized",
                "Unauthorized",
            ),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "/problems/forbidden", "Forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "/problems/not-found", "Not Found"),
            ApiError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "/problems/bad-request",
                "Bad Request",
            ),
            ApiError::Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "/problems/invalid-fields",
                "Invalid Fields",
            ),
            ApiError::PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "/problems/precondition-failed",
                "Precondition Failed",
            ),
            ApiError::Conflict => (StatusCode::CONFLICT, "/problems/conflict", "Conflict"),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "/problems/unavailable",
                "Service Unavailable",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "/problems/internal",
                "Internal Server Error",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title) = self.parts();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error answered as 500");
        }
        let errors = match &self {
            ApiError::Invalid(e) => Some(e.as_slice()),
            _ => None,
        };
        let body = Problem {
            kind,
            title,
            status: status.as_u16(),
            detail: self.to_string(),
            errors,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = (status, bytes).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"musharaka\""),
            );
        }
        resp
    }
}
