"""The Celery app (Redis broker, no result backend) and the worker's task.

The web imports this module to send tasks; the worker runs it:
    celery -A seedapp.tasks worker --pool=solo   (see the examples' run.sh)
"""

import logging

from celery import Celery, signals

from . import settings
from .db import Article, Notification, Session, create_tables
from .telemetry import configure_logging, mask_email

log = logging.getLogger(__name__)

celery = Celery("app", broker=settings.REDIS_URL)
celery.conf.update(
    task_default_queue=settings.CELERY_QUEUE,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    # A send gives up within about a second when Redis is down, instead of hanging the request.
    broker_connection_timeout=1,
    task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.25, "interval_max": 0.5},
)


@signals.setup_logging.connect
def _setup_logging(**_kwargs) -> None:
    """Our logging instead of Celery's, which would drop the root logger's OTLP handler."""
    configure_logging()


@signals.worker_init.connect
def _worker_init(**_kwargs) -> None:
    create_tables()


@celery.task(name="send_notification")
def send_notification(article_id: int, event: str) -> None:
    """Tells an article's author about it: reads the article and records a notification."""
    with Session.begin() as session:
        article = session.get(Article, article_id)
        if article is None:
            log.info("Article %s is gone; no %s notification", article_id, event)
            return
        message = f"Your article '{article.title}' was {event}"
        session.add(Notification(recipient_id=article.author_id, article_id=article_id, event=event, message=message))
    log.info("Notified %s: article %s %s", mask_email(article.author.email), article.slug, event)
