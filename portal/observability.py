"""Logs a machine can read: one JSON object per line, each with the request id it belongs to.

Every request gets an id (the caller's ``X-Request-ID`` when it is a sane token,
else a new one), sent back in the response header and written on every log line
made while handling it, by the portal, the libraries and the access log alike.
"""

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# The handler ``configure_logging`` installs, so that a second call replaces it instead of doubling lines.
_HANDLER_NAME = "portal-structured"

access_log = logging.getLogger("portal.access")


# A path segment this long is a secret token (a manage link, an invitation): never logged.
_TOKEN_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_.~-]{20,}(?=/|$)")


def loggable_path(path: str) -> str:
    return _TOKEN_SEGMENT.sub(":token", path)


def current_request_id() -> str:
    if has_request_context():
        return g.get("request_id", "-")
    return "-"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being handled ("-" outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


# LogRecord attributes that are not extra fields given by the caller.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", "pid", ...extra, "exc"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | str | type(None)) else str(value)
        if record.exc_info:
            entry["exc"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def configure_logging(log_format: str = "json", level: str = "INFO", stream=None) -> logging.Handler:
    """Send every log line (root logger) to ``stream`` (stderr) as JSON or text, with its request id."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.name = _HANDLER_NAME
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for existing in [h for h in root.handlers if h.name == _HANDLER_NAME]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def init_app(app: Flask) -> None:
    if app.config["LOG_CONFIGURE"]:
        configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])

    @app.before_request
    def assign_request_id():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_and_return_request_id(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
            elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
            path = loggable_path(request.path)
            access_log.info(
                "%s %s %s",
                request.method,
                path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 2),
                    "remote_addr": request.remote_addr,
                },
            )
        return response
