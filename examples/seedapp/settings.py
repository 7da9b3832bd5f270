"""Configuration, read from the environment once per process."""

import os
from pathlib import Path

# The example running this process (run.sh sets both): its name and its folder.
EXAMPLE = os.environ.get("SEEDAPP_EXAMPLE", "seedapp")
EXAMPLE_DIR = Path(os.environ.get("SEEDAPP_DIR", Path(__file__).resolve().parent.parent))

SERVICE_NAME = os.environ.get("OTEL_SERVICE_NAME") or f"{EXAMPLE}-example"
SERVICE_VERSION = "1.0.0"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# The Celery queue and worker node name: both examples can share one Redis database.
CELERY_QUEUE = EXAMPLE

JWT_SECRET = os.environ.get("JWT_SECRET", "development-secret-for-loopback-only")
JWT_TTL_S = 24 * 3600
# Cheap but real hashing, so that a load test does not mostly measure PBKDF2.
PASSWORD_HASH_ITERATIONS = int(os.environ.get("PASSWORD_HASH_ITERATIONS", "1000"))

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()


def database_url() -> str:
    """DATABASE_URL (postgres URLs use psycopg 3), else SQLite in $OTELBENCH_RUN_DIR or ./instance."""
    url = os.environ.get("DATABASE_URL")
    if url:
        scheme, sep, rest = url.partition("://")
        if scheme in ("postgres", "postgresql"):
            return f"postgresql+psycopg://{rest}"
        return url
    run_dir = os.environ.get("OTELBENCH_RUN_DIR")
    directory = Path(run_dir) if run_dir else EXAMPLE_DIR / "instance"
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'app.db'}"
