"""Logging: JSON lines on request, and no secret in any log line.

Contract:
- ``redact(text)`` blanks what must never be logged: ``Authorization``/``Bearer``
  values, API tokens (``lby_...``), ``password=``/``"password": ...``, ``csrf_token``,
  cookies (``Cookie:``/``Set-Cookie:`` headers, ``session=``, ``remember_token=``,
  ``lobby_kiosk=``), ``?code=``/``&code=``/``token=`` parameters, the pairing path
  ``/kiosk/pair/<token>``, and any other 32+ character URL-safe token (visit codes are
  32-character ``secrets.token_urlsafe`` strings and may sit at the end of any path).
- ``configure(app)`` (once per process, whatever the number of apps) installs a log
  record factory that redacts every record's message, from every logger (Werkzeug's
  and gunicorn's request lines included) before any handler sees it, and gives each
  request an id (``X-Request-ID`` if the client sent a sane one) echoed in the response.
  With ``LOG_FORMAT=json`` the root logger writes one JSON object per line on stderr:
  ``time``, ``level``, ``logger``, ``message`` and, inside a request, ``request_id``
  and ``path`` (redacted); tracebacks go in ``exc`` (redacted too).
Request and response bodies are never logged.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime

from flask import g, has_request_context, request

MARK = "[redacted]"
_RULES = [
    (
        re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?:bearer\s+|basic\s+)?[^\s\"',;]+"),
        r"\1" + MARK,
    ),
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+"), r"\1" + MARK),
    (re.compile(r"lby_[A-Za-z0-9_\-]+"), "lby_" + MARK),
    (re.compile(r"(?i)((?:set-)?cookie[\"']?\s*[:=]\s*)[^\n]*"), r"\1" + MARK),
    (
        re.compile(
            r"(?i)\b((?:password|passwd|csrf_token|session|remember_token|lobby_kiosk|"
            r"code|token|secret)[\"']?\s*[:=]\s*[\"']?)[^\s&\"',;]+"
        ),
        r"\1" + MARK,
    ),
    (re.compile(r"(/kiosk/pair/)[^\s/?\"']+"), r"\1" + MARK),
]
# 32+ URL-safe characters with upper and lower case letters: a secrets.token_urlsafe
# string (visit code, pairing or kiosk secret), not a word, a number or a hex digest.
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_\-])(?=[A-Za-z0-9_\-]*[a-z])(?=[A-Za-z0-9_\-]*[A-Z])"
    r"[A-Za-z0-9_\-]{32,}(?![A-Za-z0-9_\-])"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # Werkzeug colours its request lines for terminals
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
_configured = {"factory": False}


# Every rule above needs one of these in the text (the last: the 32+ character run of
# _TOKEN and the pairing path's token): a line without any (a request line such as
# "POST /api/v1/checkins HTTP/1.1" 201) is returned as it is after one search, not
# seven substitutions. The per-request access line made redaction 2-3% of a check-in.
_MAYBE_SECRET = re.compile(
    r"(?i)authorization|bearer|lby_|cookie|password|passwd|csrf_token|session|"
    r"remember_token|lobby_kiosk|code|token|secret|/kiosk/pair/|[A-Za-z0-9_\-]{32}"
)


def redact(text: str) -> str:
    if not _MAYBE_SECRET.search(text):
        return text
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return _TOKEN.sub(MARK, text)


def _install_factory() -> None:
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format: leave it for the handler to report
            return record
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(factory)


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _ANSI.sub("", redact(record.getMessage())),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            entry["path"] = redact(request.path)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class _Ours(logging.StreamHandler):
    """The handler ``configure`` puts on the root logger (found again by its type)."""


def configure(app) -> None:
    if not _configured["factory"]:
        _install_factory()
        _configured["factory"] = True
    if app.config.get("LOG_FORMAT") == "json":
        root = logging.getLogger()
        if not any(isinstance(h, _Ours) for h in root.handlers):
            handler = _Ours(sys.stderr)
            handler.setFormatter(JsonFormatter())
            # Handlers set up before us (basicConfig, Werkzeug's) would print the same
            # record a second time, as text.
            root.handlers[:] = [h for h in root.handlers if type(h) is not logging.StreamHandler]
            root.addHandler(handler)
            if root.level > logging.INFO or root.level == logging.NOTSET:
                root.setLevel(logging.INFO)
        for name in ("werkzeug", "gunicorn.error", "gunicorn.access"):
            # Their stream handlers go and their records reach ours through the root;
            # a log file (LOBBY_ACCESS_LOG=path) stays theirs, written as JSON too.
            named = logging.getLogger(name)
            files = [h for h in named.handlers if isinstance(h, logging.FileHandler)]
            for file_handler in files:
                file_handler.setFormatter(JsonFormatter())
            named.handlers[:] = files
            named.propagate = not files
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)

    @app.before_request
    def _request_id():
        sent = request.headers.get("X-Request-ID", "")
        g.request_id = sent if _REQUEST_ID.match(sent) else secrets.token_hex(8)

    @app.after_request
    def _echo_request_id(resp):
        if g.get("request_id"):
            resp.headers.setdefault("X-Request-ID", g.request_id)
        return resp
