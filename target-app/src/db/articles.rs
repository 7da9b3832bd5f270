//! Articles, favorites and notifications.

use serde::Serialize;
use tracing::Instrument as _;

use super::{Db, now_us};

/// An article with its author, as the API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Article {
    /// Id.
    pub id: i64,
    /// URL slug (unique).
    pub slug: String,
    /// Title.
    pub title: String,
    /// Short description.
    pub description: String,
    /// Body text.
    pub body: String,
    /// Author's user id.
    pub author_id: i64,
    /// Author's email address.
    pub author_email: String,
    /// Author's display name.
    pub author_name: String,
    /// How many users favorited it.
    pub favorites_count: i64,
    /// 1 when the viewing user favorited it, else 0 (an integer: SQLite has no boolean).
    pub favorited: i64,
    /// Creation time, µs since the epoch.
    pub created_at: i64,
    /// Last update, µs since the epoch.
    pub updated_at: i64,
}

/// The fields of a new article.
#[derive(Debug, Clone)]
pub struct NewArticle<'a> {
    /// Slug.
    pub slug: &'a str,
    /// Title.
    pub title: &'a str,
    /// Description.
    pub description: &'a str,
    /// Body.
    pub body: &'a str,
    /// Author.
    pub author_id: i64,
}

/// Inserts an article and returns its id.
pub async fn insert(db: &Db, a: &NewArticle<'_>) -> Result<i64, sqlx::Error> {
    const SQL: &str = "INSERT INTO articles \
        (slug, title, description, body, author_id, favorites_count, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, 0, $6, $6) RETURNING id";
    let (id,): (i64,) = sqlx::query_as(SQL)
        .bind(a.slug)
        .bind(a.title)
        .bind(a.description)
        .bind(a.body)
        .bind(a.author_id)
        .bind(now_us())
        .fetch_one(db.pool())
        .instrument(db.span("INSERT", "articles", SQL))
        .await?;
    Ok(id)
}

/// Finds an article by slug, as seen by user `viewer` (0: anonymous).
pub async fn by_slug(db: &Db, slug: &str, viewer: i64) -> Result<Option<Article>, sqlx::Error> {
    sqlx::query_as(SQL_BY_SLUG)
        .bind(viewer)
        .bind(slug)
        .fetch_optional(db.pool())
        .instrument(db.span("SELECT", "articles", SQL_BY_SLUG))
        .await
}

/// The columns of [`Article`]; `$1` is the viewing user.
macro_rules! article_columns {
    () => {
        "SELECT a.id, a.slug, a.title, a.description, a.body, a.author_id, \
         u.email AS author_email, u.name AS author_name, a.favorites_count, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM favorites f \
              WHERE f.article_id = a.id AND f.user_id = $1) THEN 1 ELSE 0 END AS BIGINT) \
              AS favorited, \
         a.created_at, a.updated_at \
         FROM articles a JOIN users u ON u.id = a.author_id "
    };
}

const SQL_BY_SLUG: &str = concat!(article_columns!(), "WHERE a.slug = $2");

const SQL_PAGE: &str = concat!(article_columns!(), "ORDER BY a.id DESC LIMIT $2 OFFSET $3");

/// One page of articles, newest first, as seen by `viewer` (0: anonymous), and the total count.
pub async fn page(
    db: &Db,
    limit: i64,
    offset: i64,
    viewer: i64,
) -> Result<(Vec<Article>, i64), sqlx::Error> {
    const COUNT: &str = "SELECT COUNT(*) FROM articles";
    let articles = sqlx::query_as(SQL_PAGE)
        .bind(viewer)
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .instrument(db.span("SELECT", "articles", SQL_PAGE))
        .await?;
    let (total,): (i64,) = sqlx::query_as(COUNT)
        .fetch_one(db.pool())
        .instrument(db.span("SELECT", "articles", COUNT))
        .await?;
    Ok((articles, total))
}

/// Updates the given fields of an article.
pub async fn update(
    db: &Db,
    id: i64,
    title: &str,
    description: &str,
    body: &str,
) -> Result<(), sqlx::Error> {
    const SQL: &str = "UPDATE articles SET title = $1, description = $2, body = $3, \
                       updated_at = $4 WHERE id = $5";
    sqlx::query(SQL)
        .bind(title)
        .bind(description)
        .bind(body)
        .bind(now_us())
        .bind(id)
        .execute(db.pool())
        .instrument(db.span("UPDATE", "articles", SQL))
        .await?;
    Ok(())
}

/// Deletes an article (its favorites go with it).
pub async fn delete(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    const SQL: &str = "DELETE FROM articles WHERE id = $1";
    sqlx::query(SQL)
        .bind(id)
        .execute(db.pool())
        .instrument(db.span("DELETE", "articles", SQL))
        .await?;
    Ok(())
}

/// Adds a favorite; returns false when it already existed. Keeps `favorites_count` in step.
pub async fn favorite(db: &Db, user_id: i64, article_id: i64) -> Result<bool, sqlx::Error> {
    const INSERT: &str = "INSERT INTO favorites (user_id, article_id, created_at) \
                          VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
    const BUMP: &str = "UPDATE articles SET favorites_count = favorites_count + 1 WHERE id = $1";
    let inserted = sqlx::query(INSERT)
        .bind(user_id)
        .bind(article_id)
        .bind(now_us())
        .execute(db.pool())
        .instrument(db.span("INSERT", "favorites", INSERT))
        .await?
        .rows_affected()
        > 0;
    if inserted {
        update_favorites_count(db, article_id, BUMP).await?;
    }
    Ok(inserted)
}

/// Removes a favorite; returns false when there was none.
pub async fn unfavorite(db: &Db, user_id: i64, article_id: i64) -> Result<bool, sqlx::Error> {
    const DELETE: &str = "DELETE FROM favorites WHERE user_id = $1 AND article_id = $2";
    const DROP: &str = "UPDATE articles SET favorites_count = favorites_count - 1 \
                        WHERE id = $1 AND favorites_count > 0";
    let deleted = sqlx::query(DELETE)
        .bind(user_id)
        .bind(article_id)
        .execute(db.pool())
        .instrument(db.span("DELETE", "favorites", DELETE))
        .await?
        .rows_affected()
        > 0;
    if deleted {
        update_favorites_count(db, article_id, DROP).await?;
    }
    Ok(deleted)
}

/// Runs `sql`, an `UPDATE articles` of one article's `favorites_count` (`$1` is its id), after a
/// favorite was added or removed.
async fn update_favorites_count(
    db: &Db,
    article_id: i64,
    sql: &'static str,
) -> Result<(), sqlx::Error> {
    sqlx::query(sql)
        .bind(article_id)
        .execute(db.pool())
        .instrument(db.span("UPDATE", "articles", sql))
        .await?;
    Ok(())
}

/// Records a notification for `recipient_id` (the worker's database work).
pub async fn notify(
    db: &Db,
    recipient_id: i64,
    actor_id: i64,
    article_id: i64,
    kind: &str,
    enqueued_at: i64,
) -> Result<(), sqlx::Error> {
    const SQL: &str = "INSERT INTO notifications \
        (recipient_id, actor_id, article_id, kind, enqueued_at, created_at) \
        VALUES ($1, $2, $3, $4, $5, $6)";
    sqlx::query(SQL)
        .bind(recipient_id)
        .bind(actor_id)
        .bind(article_id)
        .bind(kind)
        .bind(enqueued_at)
        .bind(now_us())
        .execute(db.pool())
        .instrument(db.span("INSERT", "notifications", SQL))
        .await?;
    Ok(())
}

/// The author of an article, if it still exists.
pub async fn author_of(db: &Db, article_id: i64) -> Result<Option<i64>, sqlx::Error> {
    const SQL: &str = "SELECT author_id FROM articles WHERE id = $1";
    let row: Option<(i64,)> = sqlx::query_as(SQL)
        .bind(article_id)
        .fetch_optional(db.pool())
        .instrument(db.span("SELECT", "articles", SQL))
        .await?;
    Ok(row.map(|(id,)| id))
}
