"""SQLAlchemy models and the process's one engine (created at import, so once per process)."""

import time
from datetime import datetime, timezone

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, create_engine, event, exc
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker

from . import settings
from .telemetry import untraced


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    bio: Mapped[str] = mapped_column(Text, default="")
    image: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    favorites_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class Favorite(Base):
    __tablename__ = "favorites"
    __table_args__ = (UniqueConstraint("user_id", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """Written by the worker; article_id is kept after the article is deleted."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    article_id: Mapped[int]
    event: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _make_engine():
    url = settings.database_url()
    if not url.startswith("sqlite"):
        return create_engine(url, pool_size=10, max_overflow=10, connect_args={"connect_timeout": 5})
    # Web and worker write to one file: WAL lets readers go on while one writes, and the
    # busy timeout makes a writer wait for the other instead of failing.
    engine = create_engine(url, pool_size=10, max_overflow=10, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return engine


engine = _make_engine()
Session = sessionmaker(engine, expire_on_commit=False)


def create_tables(attempts: int = 5) -> None:
    """Creates missing tables. Web and worker both call this as they start at the same moment:
    when the other process wins the race the CREATE fails, and the next attempt finds the tables."""
    for attempt in range(1, attempts + 1):
        try:
            with untraced():
                Base.metadata.create_all(engine)
            return
        except exc.DBAPIError:
            if attempt == attempts:
                raise
            time.sleep(0.2 * attempt)
