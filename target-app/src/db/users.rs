//! Users and revoked tokens.

use serde::Serialize;
use tracing::Instrument as _;

use super::{Db, now_us};

/// A user as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// Primary key.
    pub id: i64,
    /// Email address (unique).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Short biography.
    pub bio: String,
    /// Avatar URL.
    pub image: String,
    /// Argon2id PHC string.
    pub password_hash: String,
}

/// A user as the API shows it (seed 002: `id, email, name, bio, image`).
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Email address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Short biography (empty until set).
    pub bio: String,
    /// Avatar URL (empty until set).
    pub image: String,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            name: row.name,
            bio: row.bio,
            image: row.image,
        }
    }
}

/// Inserts a user; `Err` with a unique violation when the email is taken.
pub async fn insert(
    db: &Db,
    email: &str,
    name: &str,
    password_hash: &str,
) -> Result<i64, sqlx::Error> {
    const SQL: &str = "INSERT INTO users (email, name, password_hash, created_at) \
                       VALUES ($1, $2, $3, $4) RETURNING id";
    let (id,): (i64,) = sqlx::query_as(SQL)
        .bind(email)
        .bind(name)
        .bind(password_hash)
        .bind(now_us())
        .fetch_one(db.pool())
        .instrument(db.span("INSERT", "users", SQL))
        .await?;
    Ok(id)
}

/// Finds a user by email.
pub async fn by_email(db: &Db, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    const SQL: &str =
        "SELECT id, email, name, bio, image, password_hash FROM users WHERE email = $1";
    sqlx::query_as(SQL)
        .bind(email)
        .fetch_optional(db.pool())
        .instrument(db.span("SELECT", "users", SQL))
        .await
}

/// Finds a user by id.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    const SQL: &str = "SELECT id, email, name, bio, image, password_hash FROM users WHERE id = $1";
    sqlx::query_as(SQL)
        .bind(id)
        .fetch_optional(db.pool())
        .instrument(db.span("SELECT", "users", SQL))
        .await
}

/// Records a logged-out token until it would have expired anyway.
pub async fn revoke_token(db: &Db, jti: &str, expires_at: i64) -> Result<(), sqlx::Error> {
    const SQL: &str = "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) \
                       ON CONFLICT (jti) DO NOTHING";
    sqlx::query(SQL)
        .bind(jti)
        .bind(expires_at)
        .execute(db.pool())
        .instrument(db.span("INSERT", "revoked_tokens", SQL))
        .await?;
    Ok(())
}

/// True when the token was logged out.
pub async fn is_revoked(db: &Db, jti: &str) -> Result<bool, sqlx::Error> {
    const SQL: &str = "SELECT COUNT(*) FROM revoked_tokens WHERE jti = $1";
    let (n,): (i64,) = sqlx::query_as(SQL)
        .bind(jti)
        .fetch_one(db.pool())
        .instrument(db.span("SELECT", "revoked_tokens", SQL))
        .await?;
    Ok(n > 0)
}
