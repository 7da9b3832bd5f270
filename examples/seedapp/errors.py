"""The one error type the API raises, and the JSON every error response has."""

from .telemetry import current_trace_id


class ApiError(Exception):
    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def error_body(status_code: int, message: str) -> dict:
    return {"error": {"message": message, "status_code": status_code, "trace_id": current_trace_id()}}
