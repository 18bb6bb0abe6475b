"""Errors negotiated by request: JSON `{"code", "message", "errors"}` under /api/, HTML pages elsewhere."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .access import wants_json
from .extensions import db
from .refusals import Refusal


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Please sign in first."),
        403: _("Your role does not allow this page."),
        404: _("This page or record does not exist, or is not yours to see."),
        405: _("This action is not allowed here."),
        413: _("The upload is too large."),
        429: _("Too many attempts. Please wait a few minutes and try again."),
        500: _("Something went wrong on our side. Nothing you sent was half-saved; please try again."),
    }


def error_response(status: int, message: str | None = None, errors: dict | None = None):
    message = message or _messages().get(status) or _("Something went wrong.")
    if wants_json():
        return jsonify(code=status, message=message, errors=errors or {}), status
    return render_template("errors/error.html", status=status, message=message), status


def _http_error(exc: HTTPException):
    # Flask-Limiter adds Retry-After to the 429 in its after_request hook.
    data = getattr(exc, "data", None) or {}
    if "messages" in data:  # webargs: 422 the body did not match its schema, 400 it was no JSON at all
        message = _("Some fields are missing or wrong.") if exc.code == 422 else None
        return error_response(exc.code or 400, message, _flatten(data["messages"]))
    body, status = error_response(exc.code or 500)
    # The exception's own headers: a 405 names the methods the URL takes (Allow), as HTTP requires.
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return body, status, headers


def _flatten(messages: dict, prefix: str = "") -> dict[str, list[str]]:
    """webargs' nested {"json": {"findings": {"0": {"uuid": [...]}}}} → {"findings.0.uuid": [...]}."""
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        if not prefix and key in ("json", "form", "files", "query", "view_args"):
            flat.update(_flatten(value) if isinstance(value, dict) else {key: [str(v) for v in value]})
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, path))
        else:
            flat[path] = [str(v) for v in (value if isinstance(value, list) else [value])]
    return flat


def _refusal(exc: Refusal):
    db.session.rollback()
    errors = {k: [str(m) for m in v] for k, v in exc.errors.items()}
    return error_response(exc.status, str(exc.message), errors)


def _csrf_error(exc: CSRFError):
    return error_response(
        400,
        _("The security token of this form is missing or expired. Reload the page and try again."),
        {"csrf": [exc.description]},
    )


def _server_error(exc: Exception):
    # Never leave a half-done transaction behind for the next request on this session.
    db.session.rollback()
    current_app.logger.exception("unhandled error: %s", exc)
    if isinstance(exc, HTTPException) and not isinstance(exc, InternalServerError):
        return _http_error(exc)
    return error_response(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(Refusal, _refusal)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
    app.register_error_handler(Exception, _server_error)
