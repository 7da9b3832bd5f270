//! Errors as JSON: `{"error": {"message", "status_code", "trace_id"}}`.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::telemetry::propagation::trace_id;

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: malformed JSON, missing fields, bad query or path.
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing, invalid, expired or revoked token; wrong credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: not the owner.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: duplicate email.
    #[error("{0}")]
    Conflict(String),
    /// 422: well-formed but invalid values.
    #[error("{0}")]
    Validation(String),
    /// 500: a dependency failed (database or queue down).
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl AppError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let span = tracing::Span::current();
        if let Self::Internal(e) = &self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        let body = json!({
            "error": {
                "message": self.to_string(),
                "status_code": status.as_u16(),
                "trace_id": trace_id(&span),
            }
        });
        (status, axum::Json(body)).into_response()
    }
}

/// `Json<T>` whose rejections are [`AppError::BadRequest`] in the app's error format.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(r: &JsonRejection) -> AppError {
    match r {
        JsonRejection::MissingJsonContentType(_) => {
            AppError::BadRequest("expected a JSON body with Content-Type: application/json".into())
        }
        other => AppError::BadRequest(other.body_text()),
    }
}

/// `Query<T>` with rejections in the app's error format.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let axum::extract::Query(query) = extract(parts, state, QueryRejection::body_text).await?;
        Ok(Self(query))
    }
}

/// `Path<T>` with rejections in the app's error format.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppPath<T>(pub T);

impl<S, T> FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let axum::extract::Path(path) = extract(parts, state, PathRejection::body_text).await?;
        Ok(Self(path))
    }
}

/// Runs axum's extractor `E`; its rejection becomes [`AppError::BadRequest`] with the
/// rejection's `text` (the one place the app's extractors turn a rejection into an error).
async fn extract<E, S>(
    parts: &mut Parts,
    state: &S,
    text: fn(&E::Rejection) -> String,
) -> Result<E, AppError>
where
    E: FromRequestParts<S>,
    S: Send + Sync,
{
    E::from_request_parts(parts, state)
        .await
        .map_err(|r| AppError::BadRequest(text(&r)))
}
