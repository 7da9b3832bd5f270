"""FastAPI + Celery example service for otelbench (see ../README.md)."""
