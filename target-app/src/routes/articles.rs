//! Articles and favorites. Creating and favoriting enqueue a job for the worker.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::Instrument as _;

use crate::auth::AuthUser;
use crate::db::articles::{self, Article, NewArticle};
use crate::db::is_unique_violation;
use crate::error::{AppError, AppJson, AppPath, AppQuery};
use crate::queue::JobKind;
use crate::state::AppState;

/// Largest page size.
const MAX_PER_PAGE: i64 = 100;

#[derive(Debug, Deserialize)]
pub struct Paging {
    page: Option<i64>,
    per_page: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct NewArticleInput {
    title: String,
    #[serde(default)]
    description: String,
    body: String,
}

#[derive(Debug, Deserialize)]
pub struct ArticleUpdate {
    title: Option<String>,
    description: Option<String>,
    body: Option<String>,
}

fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len().min(60) + 9);
    let mut dash = false;
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
            dash = false;
        } else if !dash && !slug.is_empty() {
            slug.push('-');
            dash = true;
        }
        if slug.len() >= 60 {
            break;
        }
    }
    let base = slug.trim_end_matches('-');
    let base = if base.is_empty() { "article" } else { base };
    format!("{base}-{:08x}", rand::random::<u32>())
}

fn validate_text(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.trim().is_empty() && field != "description" {
        return Err(AppError::Validation(format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(AppError::Validation(format!(
            "{field} is longer than {max} characters"
        )));
    }
    Ok(())
}

/// The article at `slug` as user `viewer` sees it (0: anonymous).
async fn find(state: &AppState, slug: &str, viewer: i64) -> Result<Article, AppError> {
    articles::by_slug(&state.db, slug, viewer)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("article {slug:?} not found")))
}

/// The article `slug` as its author sees it, or 403 when `auth` is not the author (`action` names
/// what was refused: "change", "delete").
async fn find_own(
    state: &AppState,
    slug: &str,
    auth: &AuthUser,
    action: &str,
) -> Result<Article, AppError> {
    let article = find(state, slug, auth.id).await?;
    if article.author_id != auth.id {
        return Err(AppError::Forbidden(format!(
            "only the author may {action} this article"
        )));
    }
    Ok(article)
}

/// An article as seed 002 shows it.
fn article_json(a: &Article) -> Value {
    json!({
        "slug": a.slug,
        "title": a.title,
        "description": a.description,
        "body": a.body,
        "author": {"id": a.author_id, "email": a.author_email, "name": a.author_name},
        "favorites_count": a.favorites_count,
        "favorited": a.favorited != 0,
        "created_at": iso8601(a.created_at),
        "updated_at": iso8601(a.updated_at),
    })
}

/// µs since the epoch as ISO 8601 UTC to the second (`2025-12-27T06:42:14Z`).
fn iso8601(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's `civil_from_days`).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The viewing user's id, 0 when anonymous.
fn viewer(auth: Option<&AuthUser>) -> i64 {
    auth.map_or(0, |a| a.id)
}

async fn enqueue(
    state: &AppState,
    kind: JobKind,
    article_id: i64,
    actor_id: i64,
) -> Result<(), AppError> {
    state.queue.enqueue(kind, article_id, actor_id).await?;
    state.jobs_enqueued.fetch_add(1, Ordering::Relaxed);
    state.metrics.jobs_enqueued.add(
        1,
        &[opentelemetry::KeyValue::new("job.kind", kind.as_str())],
    );
    Ok(())
}

/// `GET /api/articles/?page=1&per_page=20` (with or without the slash).
pub async fn list(
    State(state): State<AppState>,
    auth: Option<AuthUser>,
    AppQuery(paging): AppQuery<Paging>,
) -> Result<Json<Value>, AppError> {
    let page = paging.page.unwrap_or(1);
    let per_page = paging.per_page.unwrap_or(20);
    if page < 1 {
        return Err(AppError::Validation("page must be 1 or more".into()));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(AppError::Validation(format!(
            "per_page must be between 1 and {MAX_PER_PAGE}"
        )));
    }
    let offset = (page - 1).saturating_mul(per_page);
    let (items, total) = articles::page(&state.db, per_page, offset, viewer(auth.as_ref())).await?;
    Ok(Json(json!({
        "articles": items.iter().map(article_json).collect::<Vec<_>>(),
        "page": page,
        "per_page": per_page,
        "total": total,
    })))
}

/// `POST /api/articles/` -> 201 with the article; enqueues an `article_created` job.
pub async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(input): AppJson<NewArticleInput>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    validate_text("title", &input.title, 200)?;
    validate_text("description", &input.description, 1000)?;
    validate_text("body", &input.body, 100_000)?;
    let slug = slugify(&input.title);
    let span = tracing::info_span!(
        "article.create",
        user.id = auth.id,
        article.slug = %slug,
        article.id = tracing::field::Empty,
    );
    async {
        let new = NewArticle {
            slug: &slug,
            title: input.title.trim(),
            description: input.description.trim(),
            body: &input.body,
            author_id: auth.id,
        };
        let id = match articles::insert(&state.db, &new).await {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::Conflict(
                    "an article with this slug exists; retry".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        tracing::Span::current().record("article.id", id);
        enqueue(&state, JobKind::ArticleCreated, id, auth.id).await?;
        state.metrics.articles_created.add(1, &[]);
        tracing::info!(article.slug = %slug, user.id = auth.id, "article created");
        let article = find(&state, &slug, auth.id).await?;
        Ok((StatusCode::CREATED, Json(article_json(&article))))
    }
    .instrument(span)
    .await
}

/// `GET /api/articles/{slug}`.
pub async fn get_one(
    State(state): State<AppState>,
    auth: Option<AuthUser>,
    AppPath(slug): AppPath<String>,
) -> Result<Json<Value>, AppError> {
    let article = find(&state, &slug, viewer(auth.as_ref())).await?;
    Ok(Json(article_json(&article)))
}

/// `PUT /api/articles/{slug}` (owner only).
pub async fn update(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(slug): AppPath<String>,
    AppJson(input): AppJson<ArticleUpdate>,
) -> Result<Json<Value>, AppError> {
    let article = find_own(&state, &slug, &auth, "change").await?;
    let title = input.title.unwrap_or(article.title);
    let description = input.description.unwrap_or(article.description);
    let body = input.body.unwrap_or(article.body);
    validate_text("title", &title, 200)?;
    validate_text("description", &description, 1000)?;
    validate_text("body", &body, 100_000)?;
    articles::update(
        &state.db,
        article.id,
        title.trim(),
        description.trim(),
        &body,
    )
    .await?;
    let article = find(&state, &slug, auth.id).await?;
    Ok(Json(article_json(&article)))
}

/// `DELETE /api/articles/{slug}` (owner only) -> 204.
pub async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(slug): AppPath<String>,
) -> Result<StatusCode, AppError> {
    let article = find_own(&state, &slug, &auth, "delete").await?;
    articles::delete(&state.db, article.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/articles/{slug}/favorite`; enqueues an `article_favorited` job when new.
pub async fn favorite(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(slug): AppPath<String>,
) -> Result<Json<Value>, AppError> {
    let span = tracing::info_span!(
        "article.favorite",
        user.id = auth.id,
        article.slug = %slug,
        favorite.new = tracing::field::Empty,
    );
    async {
        let article = find(&state, &slug, auth.id).await?;
        let added = articles::favorite(&state.db, auth.id, article.id).await?;
        tracing::Span::current().record("favorite.new", added);
        if added {
            enqueue(&state, JobKind::ArticleFavorited, article.id, auth.id).await?;
        }
        let article = find(&state, &slug, auth.id).await?;
        Ok(Json(article_json(&article)))
    }
    .instrument(span)
    .await
}

/// `DELETE /api/articles/{slug}/favorite`.
pub async fn unfavorite(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(slug): AppPath<String>,
) -> Result<Json<Value>, AppError> {
    let article = find(&state, &slug, auth.id).await?;
    articles::unfavorite(&state.db, auth.id, article.id).await?;
    let article = find(&state, &slug, auth.id).await?;
    Ok(Json(article_json(&article)))
}

#[cfg(test)]
mod tests {
    use super::{iso8601, slugify};

    #[test]
    fn timestamps_are_iso_8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        // The seed's example: 2025-12-27T06:42:14Z is 1,766,817,734 s.
        assert_eq!(iso8601(1_766_817_734_123_456), "2025-12-27T06:42:14Z");
        assert_eq!(iso8601(951_782_400_000_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn slugs_are_url_safe_and_unique() {
        let a = slugify("Hello, World! Ünïcode");
        assert!(
            a.starts_with("hello-world-n-code-") || a.starts_with("hello-world-"),
            "{a}"
        );
        assert!(
            a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{a}"
        );
        assert_ne!(slugify("x"), slugify("x"));
        assert!(slugify("!!!").starts_with("article-"));
    }
}
