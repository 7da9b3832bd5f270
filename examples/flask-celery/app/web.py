"""The Flask app: the API's routes over seedapp/service.py. gunicorn runs `app.web:create_app()`.

No telemetry set-up here: opentelemetry-instrument instruments Flask, SQLAlchemy, Celery,
Redis and logging once per process, before this module is imported, and Flask's
instrumentation covers every app this factory makes, however often it is called.
"""

import logging

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from seedapp import health, service
from seedapp.auth import user_id_from
from seedapp.db import create_tables
from seedapp.errors import ApiError, error_body
from seedapp.telemetry import configure_logging

log = logging.getLogger(__name__)
api = Blueprint("api", __name__, url_prefix="/api")


def create_app() -> Flask:
    configure_logging()
    create_tables()
    app = Flask(__name__)
    app.json.sort_keys = False
    app.register_blueprint(api)
    app.register_error_handler(ApiError, lambda error: _error(error.status_code, error.message))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _error(status_code: int, message: str):
    return jsonify(error_body(status_code, message)), status_code


def _http_error(error: HTTPException):
    return _error(error.code or 500, error.name)


def _unexpected_error(error: Exception):
    log.exception("Unhandled error: %s", error)
    return _error(500, "internal server error")


def _json() -> dict:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "malformed JSON body: a JSON object is expected")
    return body


def _user_id() -> int:
    return user_id_from(request.headers.get("Authorization"))


def _viewer_id() -> int | None:
    return user_id_from(request.headers.get("Authorization"), required=False)


@api.get("/health")
def get_health():
    status, body = health.check()
    return body, status


@api.post("/register")
def register():
    return service.register(_json()), 201


@api.post("/login")
def login():
    return service.login(_json())


@api.get("/user")
def get_user():
    return service.current_user(_user_id())


@api.post("/logout")
def logout():
    return service.logout(_user_id())


@api.get("/articles")
@api.get("/articles/")
def list_articles():
    return service.list_articles(request.args, _viewer_id())


@api.post("/articles")
@api.post("/articles/")
def create_article():
    user_id = _user_id()
    return service.create_article(_json(), user_id), 201


@api.get("/articles/<slug>")
def get_article(slug: str):
    return service.get_article(slug, _viewer_id())


@api.put("/articles/<slug>")
def update_article(slug: str):
    user_id = _user_id()
    return service.update_article(slug, _json(), user_id)


@api.delete("/articles/<slug>")
def delete_article(slug: str):
    service.delete_article(slug, _user_id())
    return Response(status=204)


@api.post("/articles/<slug>/favorite")
def favorite(slug: str):
    return service.favorite(slug, _user_id())


@api.delete("/articles/<slug>/favorite")
def unfavorite(slug: str):
    return service.unfavorite(slug, _user_id())
