//! Registration, login, logout and the current user.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::Instrument as _;

use crate::auth::{AuthUser, hash_password, verify_password};
use crate::db::{is_unique_violation, users};
use crate::error::{AppError, AppJson};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct Register {
    email: String,
    /// Seed 002's field; `username` (this app's earlier name for it) is still accepted.
    #[serde(alias = "username")]
    name: String,
    password: String,
}

#[derive(Debug, Deserialize)]
pub struct Login {
    email: String,
    password: String,
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(char::is_whitespace)
}

/// Seed 002's token object.
fn token_json(access_token: &str) -> Value {
    json!({"access_token": access_token, "token_type": "Bearer"})
}

/// `POST /api/register` -> 201 `{user: {id, email, name, bio, image}, token: {access_token,
/// token_type}}`.
pub async fn register(
    State(state): State<AppState>,
    AppJson(input): AppJson<Register>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let span = tracing::info_span!(
        "auth.register",
        user.email = %input.email,
        user.id = tracing::field::Empty,
    );
    async {
        let email = input.email.trim().to_ascii_lowercase();
        if !valid_email(&email) {
            state.metrics.auth("register", "invalid");
            return Err(AppError::Validation("email is not a valid address".into()));
        }
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            state.metrics.auth("register", "invalid");
            return Err(AppError::Validation(
                "name must be 1 to 64 characters".into(),
            ));
        }
        if input.password.chars().count() < 8 {
            state.metrics.auth("register", "invalid");
            return Err(AppError::Validation(
                "password must be at least 8 characters".into(),
            ));
        }
        let hash = hash_password(input.password, state.password_cost).await?;
        let id = match users::insert(&state.db, &email, name, &hash).await {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) => {
                state.metrics.auth("register", "duplicate");
                return Err(AppError::Conflict("email is already registered".into()));
            }
            Err(e) => return Err(e.into()),
        };
        tracing::Span::current().record("user.id", id);
        state.metrics.auth("register", "success");
        tracing::info!(user.id = id, "registered {email}");
        let user = users::User {
            id,
            email,
            name: name.to_string(),
            bio: String::new(),
            image: String::new(),
        };
        Ok((
            StatusCode::CREATED,
            Json(json!({"user": user, "token": token_json(&state.auth.issue(id)?)})),
        ))
    }
    .instrument(span)
    .await
}

/// `POST /api/login` -> 200 `{user, token}`; 401 on wrong credentials.
pub async fn login(
    State(state): State<AppState>,
    AppJson(input): AppJson<Login>,
) -> Result<Json<Value>, AppError> {
    let span = tracing::info_span!(
        "auth.login",
        user.email = %input.email,
        user.id = tracing::field::Empty,
        auth.outcome = tracing::field::Empty,
    );
    async {
        let email = input.email.trim().to_ascii_lowercase();
        let user = users::by_email(&state.db, &email).await?;
        let verified = match &user {
            Some(u) => verify_password(input.password, u.password_hash.clone()).await?,
            None => false,
        };
        let current = tracing::Span::current();
        let Some(user) = user.filter(|_| verified) else {
            current.record("auth.outcome", "failure");
            state.metrics.auth("login", "failure");
            tracing::warn!("failed login for {email}");
            return Err(AppError::Unauthorized("invalid email or password".into()));
        };
        current.record("user.id", user.id);
        current.record("auth.outcome", "success");
        state.metrics.auth("login", "success");
        tracing::info!(user.id = user.id, "login succeeded for {email}");
        let token = token_json(&state.auth.issue(user.id)?);
        Ok(Json(
            json!({"user": users::User::from(user), "token": token}),
        ))
    }
    .instrument(span)
    .await
}

/// `GET /api/user` -> the caller.
pub async fn current(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Value>, AppError> {
    let user = users::by_id(&state.db, auth.id)
        .await?
        .ok_or_else(|| AppError::Unauthorized("the token's user no longer exists".into()))?;
    Ok(Json(json!({"user": users::User::from(user)})))
}

/// `POST /api/logout` -> revokes the caller's token.
pub async fn logout(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Value>, AppError> {
    users::revoke_token(&state.db, &auth.claims.jti, auth.claims.exp as i64).await?;
    Ok(Json(json!({"message": "logged out"})))
}

#[cfg(test)]
mod tests {
    use super::valid_email;

    #[test]
    fn email_validation() {
        assert!(valid_email("a@b.co"));
        for bad in ["", "a", "a@b", "@b.co", "a@.co", "a b@c.co", "a@b.co."] {
            assert!(!valid_email(bad), "{bad}");
        }
    }
}
