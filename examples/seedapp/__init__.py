"""The seed-002 service both examples share: storage, auth, the API logic, the Celery task
and the health check. Each example adds only its web layer (app/web.py) on top."""
