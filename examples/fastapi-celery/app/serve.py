"""`python -m app.serve ...`: uvicorn's command line, except that SIGTERM ends in a normal exit.

On SIGTERM uvicorn shuts down gracefully, then raises the signal again under the handler it
found at start. Under the default handler that kills the process before Python's exit handlers
run, and one of them is the OpenTelemetry SDK's final flush of spans, metrics and logs.
"""

import signal
import sys

from uvicorn.main import main

signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
main()
