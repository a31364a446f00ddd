"""Error handling: JSON envelopes under /api, friendly pages elsewhere, and a last
resort that never shows a traceback."""

import logging
from typing import Any

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from server.services.errors import ServiceError

log = logging.getLogger("lobby.errors")


def envelope(code: str, message: str, status: int, fields: dict | None = None):
    body: dict[str, dict[str, Any]] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


def register(app):
    @app.errorhandler(ServiceError)
    def service_error(e: ServiceError):
        if _wants_json():
            return envelope(e.code, e.message, e.status, e.fields)
        return render_template("errors/error.html", status=e.status, message=e.message), e.status

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        if _wants_json():
            return envelope("csrf_failed", e.description, 400)
        return render_template(
            "errors/error.html",
            status=400,
            message="This form has expired. Reload the page and try again.",
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        # Flask hands code-less HTTPExceptions (proxy/routing ones) back unhandled:
        # they never reach an error handler.
        assert e.code is not None
        if _wants_json():
            return envelope(HTTP_CODES.get(e.code, "http_error"), e.description or e.name, e.code)
        return render_template("errors/error.html", status=e.code, message=e.description), e.code

    @app.errorhandler(Exception)
    def last_resort(e):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            # No traceback, no exception text: the log has them.
            return envelope("internal_error", "something went wrong; it has been logged", 500)
        return render_template(
            "errors/error.html", status=500, message="Something went wrong. It has been logged."
        ), 500
