"""The little telemetry code the app has: no SDK set-up (opentelemetry-instrument does that).

Only the OpenTelemetry API is used here, so all of it is a no-op when the process runs
without opentelemetry-instrument (the OTEL_SDK_DISABLED=true baseline).
"""

import logging
import re
import sys

from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation as untraced

from . import settings

__all__ = ["configure_logging", "current_trace_id", "mask_email", "untraced"]

_EMAIL = re.compile(r"([A-Za-z0-9._%+-]{1,2})[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")
_configured = False


def mask_email(text: str) -> str:
    """alice@example.com -> al***@example.com (for log messages the app writes)."""
    return _EMAIL.sub(r"\1***@\2", text)


def current_trace_id() -> str:
    """The current trace id as 32 hex digits, or "" when there is no span."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def configure_logging() -> None:
    """The app's loggers at LOG_LEVEL; stderr shows warnings and errors only.

    Records reach the root logger's handlers, where the logging instrumentation has put its
    OTLP handler when the process runs under opentelemetry-instrument.
    """
    global _configured
    if _configured:
        return
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(console)
    logging.getLogger("app").setLevel(settings.LOG_LEVEL)
    _configured = True
