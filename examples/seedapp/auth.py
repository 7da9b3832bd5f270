"""Password hashing (PBKDF2-SHA256, iterations from PASSWORD_HASH_ITERATIONS) and JWT bearer tokens."""

import hashlib
import hmac
import secrets
import time

import jwt

from . import settings
from .errors import ApiError


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    iterations = settings.PASSWORD_HASH_ITERATIONS
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    _, iterations, salt, expected = stored.split("$")
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)


def issue_token(user_id: int) -> dict:
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + settings.JWT_TTL_S}
    return {"access_token": jwt.encode(claims, settings.JWT_SECRET, algorithm="HS256"), "token_type": "Bearer"}


def user_id_from(authorization: str | None, required: bool = True) -> int | None:
    """The user id in an "Authorization: Bearer <JWT>" header; None when absent and not required."""
    if not authorization:
        if required:
            raise ApiError(401, "missing bearer token")
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "the Authorization header must be 'Bearer <token>'")
    try:
        claims = jwt.decode(token.strip(), settings.JWT_SECRET, algorithms=["HS256"], options={"require": ["sub", "exp"]})
        return int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError):
        raise ApiError(401, "invalid or expired token") from None
