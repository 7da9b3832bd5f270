"""GET /api/health: database, Redis and a Celery worker, each checked quickly and untraced."""

import time

import redis
from sqlalchemy import text

from . import settings
from .db import engine
from .tasks import celery
from .telemetry import untraced

CELERY_PING_TIMEOUT_S = 1.0
CELERY_HEALTHY_CACHE_S = 5.0
WORKER_NODE = f"{settings.CELERY_QUEUE}@"  # run.sh names the worker <queue>@<hostname>

_redis = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
_celery_healthy_until = 0.0


def check() -> tuple[int, dict]:
    with untraced():
        components = {"database": _database(), "redis": _redis_status()}
        components["celery"] = _celery() if components["redis"] == "healthy" else "unhealthy: broker unreachable"
    healthy = all(status == "healthy" for status in components.values())
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "components": components,
        "service": {"name": settings.SERVICE_NAME, "version": settings.SERVICE_VERSION},
    }
    return (200 if healthy else 503), body


def _database() -> str:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "healthy"
    except Exception as error:  # noqa: BLE001 - any failure is the answer
        return _unhealthy(error)


def _redis_status() -> str:
    try:
        _redis.ping()
        return "healthy"
    except redis.RedisError as error:
        return _unhealthy(error)


def _celery() -> str:
    """Healthy when our worker answers a ping; a healthy answer is kept for a few seconds."""
    global _celery_healthy_until
    if time.monotonic() < _celery_healthy_until:
        return "healthy"
    try:
        replies = celery.control.ping(timeout=CELERY_PING_TIMEOUT_S, limit=1, pattern=f"{WORKER_NODE}*", matcher="glob")
    except Exception as error:  # noqa: BLE001
        return _unhealthy(error)
    if not replies:
        return f"unhealthy: no worker answered a ping within {CELERY_PING_TIMEOUT_S:g} s"
    _celery_healthy_until = time.monotonic() + CELERY_HEALTHY_CACHE_S
    return "healthy"


def _unhealthy(error: Exception) -> str:
    """The answer for a failed check: its error's first line (SQLAlchemy's go on with the SQL)."""
    lines = str(error).strip().splitlines()
    return f"unhealthy: {lines[0] if lines else type(error).__name__}"
