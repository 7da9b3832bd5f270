//! Passwords (Argon2id with a configurable cost) and JWTs (HS256 with a revocation list).

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::config::PasswordCost;
use crate::db::users;
use crate::error::AppError;
use crate::state::AppState;

fn argon(cost: PasswordCost) -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
        .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password on a blocking thread (it is CPU work by design).
pub async fn hash_password(password: String, cost: PasswordCost) -> anyhow::Result<String> {
    let span = tracing::info_span!(
        "auth.hash_password",
        argon2.memory_kib = i64::from(cost.memory_kib)
    );
    tokio::task::spawn_blocking(move || {
        let _enter = span.enter();
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon(cost)?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await?
}

/// Verifies a password against a stored PHC string (its own parameters apply).
pub async fn verify_password(password: String, stored: String) -> anyhow::Result<bool> {
    let span = tracing::info_span!("auth.verify_password");
    tokio::task::spawn_blocking(move || {
        let _enter = span.enter();
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| anyhow::anyhow!("stored password hash is unreadable: {e}"))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

/// Token claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: i64,
    /// Token id (for logout).
    pub jti: String,
    /// Issued at (s).
    pub iat: u64,
    /// Expiry (s).
    pub exp: u64,
}

/// Signing and verification keys.
#[derive(Clone)]
pub struct AuthKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_secs: u64,
}

impl std::fmt::Debug for AuthKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthKeys")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl AuthKeys {
    /// Keys from the `JWT_SECRET` and `JWT_TTL_SECONDS` values.
    pub fn new(secret: &str, ttl: std::time::Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            ttl_secs: ttl.as_secs(),
        }
    }

    /// Issues a token for `user_id`.
    pub fn issue(&self, user_id: i64) -> anyhow::Result<String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user_id,
            jti: format!("{:032x}", rand::random::<u128>()),
            iat: now,
            exp: now + self.ttl_secs,
        };
        Ok(encode(&Header::default(), &claims, &self.encoding)?)
    }

    /// Verifies a token's signature and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let validation = Validation {
            leeway: 0,
            ..Validation::default()
        };
        decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    AppError::Unauthorized("token expired: log in again".into())
                }
                _ => AppError::Unauthorized("invalid token".into()),
            })
    }
}

/// The authenticated caller, extracted from `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// User id.
    pub id: i64,
    /// The token's claims.
    pub claims: Claims,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| AppError::Unauthorized("missing Authorization header".into()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AppError::Unauthorized("Authorization header must be 'Bearer <token>'".into())
            })?;
        let claims = state.auth.verify(token)?;
        if users::is_revoked(&state.db, &claims.jti).await? {
            return Err(AppError::Unauthorized("token was logged out".into()));
        }
        Ok(Self {
            id: claims.sub,
            claims,
        })
    }
}

/// A public route's caller: `None` without an `Authorization` header (anonymous), the user with a
/// valid one, and 401 with an invalid one (a client's broken token is not silently ignored).
impl OptionalFromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            <Self as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    }
}
