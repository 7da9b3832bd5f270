"""The FastAPI app: the API's routes over seedapp/service.py. uvicorn runs `app.web:create_app` (--factory).

No telemetry set-up here: opentelemetry-instrument instruments FastAPI, SQLAlchemy, Celery,
Redis and logging once per process, before this module is imported, and FastAPI's
instrumentation covers every app this factory makes, however often it is called. (FastAPI's
own built-in telemetry steps aside when it finds that instrumentation's middleware.)

The endpoints are plain `def`s: FastAPI runs them in its thread pool, as the database and
Celery calls under them block.
"""

import logging
from typing import Annotated

from fastapi import APIRouter, Body, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from seedapp import health, service
from seedapp.auth import user_id_from
from seedapp.db import create_tables
from seedapp.errors import ApiError, error_body
from seedapp.telemetry import configure_logging

log = logging.getLogger(__name__)
api = APIRouter(prefix="/api")

JsonObject = Annotated[dict, Body()]
Authorization = Annotated[str | None, Header()]


def create_app() -> FastAPI:
    configure_logging()
    create_tables()
    app = FastAPI(title="fastapi-celery example", docs_url=None, redoc_url=None, openapi_url=None,
                  redirect_slashes=False)
    app.include_router(api)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_body)
    app.add_exception_handler(Exception, _unexpected_error)
    return app


def _error(status_code: int, message: str) -> JSONResponse:
    return JSONResponse(error_body(status_code, message), status_code=status_code)


async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
    return _error(error.status_code, error.message)


async def _http_error(_request: Request, error: HTTPException) -> JSONResponse:
    return _error(error.status_code, str(error.detail))


async def _invalid_body(_request: Request, _exc: RequestValidationError) -> JSONResponse:
    # The only validated input is a JSON-object body (headers and queries are plain strings).
    return _error(400, "malformed JSON body: a JSON object is expected")


async def _unexpected_error(_request: Request, error: Exception) -> JSONResponse:
    log.exception("Unhandled error: %s", error)
    return _error(500, "internal server error")


@api.get("/health")
def get_health():
    status, body = health.check()
    return JSONResponse(body, status_code=status)


@api.post("/register", status_code=201)
def register(body: JsonObject):
    return service.register(body)


@api.post("/login")
def login(body: JsonObject):
    return service.login(body)


@api.get("/user")
def get_user(authorization: Authorization = None):
    return service.current_user(user_id_from(authorization))


@api.post("/logout")
def logout(authorization: Authorization = None):
    return service.logout(user_id_from(authorization))


@api.get("/articles")
@api.get("/articles/")
def list_articles(request: Request, authorization: Authorization = None):
    return service.list_articles(request.query_params, user_id_from(authorization, required=False))


@api.post("/articles", status_code=201)
@api.post("/articles/", status_code=201)
def create_article(body: JsonObject, authorization: Authorization = None):
    return service.create_article(body, user_id_from(authorization))


@api.get("/articles/{slug}")
def get_article(slug: str, authorization: Authorization = None):
    return service.get_article(slug, user_id_from(authorization, required=False))


@api.put("/articles/{slug}")
def update_article(slug: str, body: JsonObject, authorization: Authorization = None):
    return service.update_article(slug, body, user_id_from(authorization))


@api.delete("/articles/{slug}", status_code=204)
def delete_article(slug: str, authorization: Authorization = None):
    service.delete_article(slug, user_id_from(authorization))
    return Response(status_code=204)


@api.post("/articles/{slug}/favorite")
def favorite(slug: str, authorization: Authorization = None):
    return service.favorite(slug, user_id_from(authorization))


@api.delete("/articles/{slug}/favorite")
def unfavorite(slug: str, authorization: Authorization = None):
    return service.unfavorite(slug, user_id_from(authorization))
