"""Flask + Celery example service for otelbench (see ../README.md)."""
