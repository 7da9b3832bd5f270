"""The API's logic, independent of the web framework: each function takes the parsed request
and returns the response body, or raises ApiError."""

import logging
import re
import secrets
from collections.abc import Mapping

from kombu.exceptions import OperationalError
from sqlalchemy import delete, exc, func, select

from .auth import hash_password, issue_token, verify_password
from .db import Article, Favorite, Session, User
from .errors import ApiError
from .tasks import send_notification
from .telemetry import mask_email

log = logging.getLogger(__name__)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PER_PAGE = 100


# --- users -----------------------------------------------------------------------------------


def register(body: dict) -> dict:
    email = _text(body, "email").lower()
    name = _text(body, "name")
    password = body.get("password")
    if not EMAIL.match(email) or len(email) > 255:
        raise ApiError(400, "invalid email address")
    if not name or len(name) > 255:
        raise ApiError(400, "name must be 1 to 255 characters")
    if not isinstance(password, str) or len(password) < 8:
        raise ApiError(400, "password must be at least 8 characters")
    user = User(email=email, name=name, password_hash=hash_password(password), bio="", image="")
    try:
        with Session.begin() as session:
            session.add(user)
    except exc.IntegrityError:
        raise ApiError(409, "email already registered") from None
    log.info("User registered: %s", mask_email(email))
    return {"user": user_json(user), "token": issue_token(user.id)}


def login(body: dict) -> dict:
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise ApiError(400, "email and password are required")
    with Session() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not verify_password(password, user.password_hash):
        log.warning("Login failed: %s", mask_email(email))
        raise ApiError(401, "invalid email or password")
    log.info("User logged in: %s", mask_email(user.email))
    return {"user": user_json(user), "token": issue_token(user.id)}


def current_user(user_id: int) -> dict:
    with Session() as session:
        user = session.get(User, user_id)
    if user is None:
        raise ApiError(401, "the token's user does not exist")
    return {"user": user_json(user)}


def logout(user_id: int) -> dict:
    """Tokens are stateless: the client forgets its token."""
    current_user(user_id)
    log.info("User logged out: %s", user_id)
    return {"message": "logged out"}


def user_json(user: User) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "bio": user.bio, "image": user.image}


# --- articles --------------------------------------------------------------------------------


def list_articles(query: Mapping[str, str], viewer_id: int | None) -> dict:
    page = _positive_int(query, "page", 1)
    per_page = min(_positive_int(query, "per_page", 20), MAX_PER_PAGE)
    with Session() as session:
        total = session.scalar(select(func.count()).select_from(Article))
        articles = session.scalars(
            select(Article).order_by(Article.id.desc()).limit(per_page).offset((page - 1) * per_page)
        ).all()
        favorited = _favorited_ids(session, viewer_id, [article.id for article in articles])
    return {
        "articles": [article_json(article, article.id in favorited) for article in articles],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


def create_article(body: dict, user_id: int) -> dict:
    title = _text(body, "title")
    text = _text(body, "body")
    description = _text(body, "description", required=False) or ""
    if not title or len(title) > 255:
        raise ApiError(400, "title must be 1 to 255 characters")
    if not text:
        raise ApiError(400, "body must not be empty")
    with Session.begin() as session:
        author = session.get(User, user_id)
        if author is None:
            raise ApiError(401, "the token's user does not exist")
        article = Article(
            slug=f"{slugify(title)}-{secrets.token_hex(4)}",
            title=title,
            description=description,
            body=text,
            author=author,
            favorites_count=0,
        )
        session.add(article)
    log.info("Article created: %s by user %s", article.slug, user_id)
    _notify(article.id, "created")
    return article_json(article, False)


def get_article(slug: str, viewer_id: int | None) -> dict:
    with Session() as session:
        article = _article_or_404(session, slug)
        return article_json(article, article.id in _favorited_ids(session, viewer_id, [article.id]))


def update_article(slug: str, body: dict, user_id: int) -> dict:
    changes = {field: _text(body, field, required=False) for field in ("title", "description", "body")}
    if changes["title"] == "" or len(changes["title"] or "") > 255:
        raise ApiError(400, "title must be 1 to 255 characters")
    if changes["body"] == "":
        raise ApiError(400, "body must not be empty")
    with Session.begin() as session:
        article = _owned_article(session, slug, user_id)
        for field, value in changes.items():
            if value is not None:
                setattr(article, field, value)
        session.flush()
        return article_json(article, article.id in _favorited_ids(session, user_id, [article.id]))


def delete_article(slug: str, user_id: int) -> None:
    with Session.begin() as session:
        article = _owned_article(session, slug, user_id)
        session.execute(delete(Favorite).where(Favorite.article_id == article.id))
        session.delete(article)
    log.info("Article deleted: %s by user %s", slug, user_id)


def favorite(slug: str, user_id: int) -> dict:
    try:
        with Session.begin() as session:
            article = _article_or_404(session, slug)
            new = not _favorited_ids(session, user_id, [article.id])
            if new:
                session.add(Favorite(user_id=user_id, article_id=article.id))
                article.favorites_count = Article.favorites_count + 1
                session.flush()
            result = article_json(article, True)
    except exc.IntegrityError:  # a concurrent request of the same user favorited it first
        return get_article(slug, user_id)
    if new:
        _notify(article.id, "favorited")
    return result


def unfavorite(slug: str, user_id: int) -> dict:
    with Session.begin() as session:
        article = _article_or_404(session, slug)
        removed = session.execute(
            delete(Favorite).where(Favorite.user_id == user_id, Favorite.article_id == article.id)
        ).rowcount
        if removed:
            article.favorites_count = Article.favorites_count - 1
            session.flush()
        return article_json(article, False)


def article_json(article: Article, favorited: bool) -> dict:
    return {
        "slug": article.slug,
        "title": article.title,
        "description": article.description,
        "body": article.body,
        "author": {"id": article.author.id, "email": article.author.email, "name": article.author.name},
        "favorites_count": article.favorites_count,
        "favorited": favorited,
        "created_at": article.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80].strip("-") or "article"


# --- helpers ---------------------------------------------------------------------------------


def _notify(article_id: int, event: str) -> None:
    """Enqueues the worker's task; the article stays saved when the broker is unreachable."""
    try:
        send_notification.delay(article_id, event)
    except OperationalError as error:
        log.error("Could not enqueue the %s notification of article %s: %s", event, article_id, error)


def _article_or_404(session, slug: str) -> Article:
    article = session.scalar(select(Article).where(Article.slug == slug))
    if article is None:
        raise ApiError(404, "article not found")
    return article


def _owned_article(session, slug: str, user_id: int) -> Article:
    article = _article_or_404(session, slug)
    if article.author_id != user_id:
        raise ApiError(403, "only the author may change this article")
    return article


def _favorited_ids(session, user_id: int | None, article_ids: list[int]) -> set[int]:
    if user_id is None or not article_ids:
        return set()
    query = select(Favorite.article_id).where(Favorite.user_id == user_id, Favorite.article_id.in_(article_ids))
    return set(session.scalars(query))


def _text(body: dict, field: str, required: bool = True) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"'{field}' must be a string")
    return value.strip()


def _positive_int(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(400, f"'{name}' must be a positive integer")
    return int(raw)
