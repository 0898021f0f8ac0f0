"""Logging to a file in the log directory, never to the terminal, with secrets scrubbed; and the
log lines for crashes, which Textual would otherwise only paint on the way out (or not at all)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path
from typing import Any

from studio_tui.services.errors import StudioError
from studio_tui.services.redaction import scrub_text

crash_log = logging.getLogger("studio_tui.crash")


class RedactingFilter(logging.Filter):
    """Defence in depth: whatever reaches a log line, a URL password does not (nor in a
    traceback's messages)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub_text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        return True


def configure_logging(log_path: Path, level: str = "INFO") -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(log_path, maxBytes=2_000_000, backupCount=3)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # At DEBUG it logs every catalog statement with its parameters: encrypted URLs among them.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)


def log_crash(error: BaseException) -> None:
    """An exception nothing handled, with its traceback (a failed worker's own, not Textual's
    wrapper's)."""
    cause = getattr(error, "error", None)  # textual.worker.WorkerFailed carries the real one
    error = cause if isinstance(cause, BaseException) else error
    crash_log.critical("unhandled %s: the app stops", type(error).__name__,
                       exc_info=(type(error), error, error.__traceback__))


def log_failed_worker(worker: Any) -> None:
    """A worker that ended in an error its screen did not catch. Started with
    ``exit_on_error=False``, Textual says nothing of it."""
    error = worker.error
    if worker.state.name != "ERROR" or error is None:
        return
    if isinstance(error, StudioError):
        crash_log.warning("worker %s (%s) ended with %s %s", worker.name, worker.description,
                          error.code, error.detail)
        return
    crash_log.error("worker %s (%s) crashed: %s", worker.name, worker.description,
                    type(error).__name__, exc_info=(type(error), error, error.__traceback__))
