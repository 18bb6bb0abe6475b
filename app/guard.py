"""The one guard against malformed input, ahead of every view.

What it holds, for every route (API and pages), on SQLite and PostgreSQL alike:
- identifiers in URL paths: `<uuid:…>` is a UUID written 8-4-4-4-12 (else 400, before any view or
  database sees it); `<int:…>` a record ID that fits the database's integer (app/database.py: a larger
  one names no record, 404). Both are documented in the OpenAPI document as such.
- JSON bodies are parsed with bounds (`loads`): nested at most MAX_DEPTH deep, number literals of at most
  MAX_NUMBER_CHARS characters, no NaN/Infinity; then no text may hold U+0000 (PostgreSQL cannot store it)
  or a lone UTF-16 surrogate (no UTF-8 can hold it). Broken or unbounded JSON → 400, text → 422 naming
  the field.
- query strings and form fields: no U+0000 and no lone surrogate in a name or a value, no file name with
  them (400); numbers and dates a page reads go through the bounded types (`record_id`, web.QueryArgs).
- a state-changing request sent from a page of another origin (the `Origin` header) is refused (403),
  beside the CSRF token.
Every refusal is the usual error shape: JSON `{"code", "message", "errors"}` under /api/, the error page
with its message elsewhere. Nothing reaches a view, so nothing is stored.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter

from .database import MAX_ID

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 40
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
INVALID_JSON = "Invalid JSON body."  # webargs' own words for a body that is no JSON


class MalformedPath(BadRequest):
    """A path segment that is not what its converter names: 400, with the segment's name."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.data = {"messages": {"path": [message]}}


class UUIDConverter(BaseConverter):
    """`<uuid:name>`: a UUID as the phone writes it (8-4-4-4-12 hex digits), kept as the text it is.
    Any other segment answers 400 (werkzeug's own uuid converter answers 404 and gives a UUID object)."""

    regex = r"[^/]+"
    part_isolating = True

    def to_python(self, value: str) -> str:
        if not UUID_PATTERN.fullmatch(value):
            raise MalformedPath("Not a UUID.")
        return value

    def to_url(self, value: object) -> str:
        return str(value)


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and UUID_PATTERN.fullmatch(value) is not None


def safe_redirect_target(target: str | None) -> str | None:
    """A redirect target read from a request: a path on this site with no control character (a newline
    would break the Location header: 500) and no backslash (browsers read a backslash as a slash); else None."""
    if not target or not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target) or text_problem(target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def record_id(raw: str | None) -> int:
    """A record ID read from a query string or form (`request.args.get("estate", type=record_id)`):
    plain digits that fit the database's integer; anything else is ValueError (werkzeug: the default)."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        raise ValueError(raw)
    value = int(text)
    if not 1 <= value <= MAX_ID:
        raise ValueError(raw)
    return value


# JSON


class MalformedJSON(ValueError):
    """A body (or an imported file) that is no JSON, or JSON beyond the bounds: `errors` names the field."""

    def __init__(self, message: str, errors: dict[str, list[str]], status: int = 400) -> None:
        super().__init__(message)
        self.message, self.errors, self.status = message, errors, status


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise MalformedJSON("number", {"json": [f"A number may have at most {MAX_NUMBER_CHARS} digits."]})
    return int(text)


def _bounded_float(text: str) -> float:
    value = float(text) if len(text) <= MAX_NUMBER_CHARS else math.inf
    if not math.isfinite(value):  # 1e999 is read as infinity
        raise MalformedJSON("number", {"json": [f"A number may have at most {MAX_NUMBER_CHARS} digits."]})
    return value


def _no_constant(text: str) -> None:
    raise MalformedJSON("constant", {"json": [INVALID_JSON]})


def text_problem(text: str) -> str | None:
    """Why this text cannot be stored (NUL, lone surrogate), or None."""
    if "\x00" in text:
        return "Text may not contain the character U+0000."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Text may not contain a lone UTF-16 surrogate (half of an emoji)."
    return None


def _walk(value: Any) -> Iterator[tuple[str, str | None, int]]:
    """(path, problem, depth) of every container and text in a parsed document, without recursion."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict):
            yield path, None, depth
            for key, child in node.items():
                problem = text_problem(key)
                child_path = f"{path}.{key}" if path else key
                if problem:
                    yield _printable(child_path), problem, depth
                else:
                    stack.append((child, child_path, depth + 1))
        elif isinstance(node, list):
            yield path, None, depth
            stack.extend((child, f"{path}.{i}" if path else str(i), depth + 1) for i, child in enumerate(node))
        elif isinstance(node, str):
            problem = text_problem(node)
            if problem:
                yield _printable(path), problem, depth


def _printable(path: str) -> str:
    return path.replace("\x00", "").encode("utf-8", "replace").decode("utf-8") or "json"


def loads(data: str | bytes) -> Any:
    """JSON within bounds, or MalformedJSON: 400 for no JSON, too deep or too long a number; 422 for
    text that cannot be stored (the field named as `findings.0.note`)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedJSON("encoding", {"json": [INVALID_JSON]}) from None
    try:
        document = json.loads(data, parse_int=_bounded_int, parse_float=_bounded_float, parse_constant=_no_constant)
    except RecursionError:
        raise MalformedJSON("depth", {"json": [f"JSON may be nested at most {MAX_DEPTH} levels deep."]}) from None
    except MalformedJSON:
        raise
    except ValueError:  # JSONDecodeError, and int()'s own digit limit
        raise MalformedJSON("syntax", {"json": [INVALID_JSON]}) from None
    errors: dict[str, list[str]] = {}
    for path, problem, depth in _walk(document):
        if depth > MAX_DEPTH:
            raise MalformedJSON("depth", {"json": [f"JSON may be nested at most {MAX_DEPTH} levels deep."]})
        if problem:
            errors.setdefault(path, []).append(problem)
    if errors:
        raise MalformedJSON("text", errors, status=422)
    return document


class BoundedJSONProvider(DefaultJSONProvider):
    """`request.get_json()` anywhere in the app parses within the guard's bounds."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)


# The request hook


def _refuse(status: int, message: str, errors: dict):  # noqa: ANN202
    from .errors import error_response

    return error_response(status, message, errors)


def _json_body():  # noqa: ANN202
    if not request.is_json:
        return None
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None  # an empty body: the schema says what is missing
    try:
        document = loads(raw)
    except MalformedJSON as exc:
        if exc.status == 422:
            return _refuse(422, _("Some fields are missing or wrong."), exc.errors)
        return _refuse(400, _("The request could not be understood."), exc.errors)
    request._cached_json = (document, document)  # Flask's get_json() cache: parsed once
    return None


def _fields():  # noqa: ANN202
    """Query string, form fields and file names: nothing that cannot be stored."""
    errors: dict[str, list[str]] = {}
    for name, value in (request.view_args or {}).items():  # a path segment the string converter let through
        problem = isinstance(value, str) and text_problem(value)
        if problem:
            errors.setdefault(f"path.{name}", []).append(problem)
    sources = [("query", request.args)]
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        if None in request.form or None in request.files:
            return _refuse(400, _("The request could not be understood."),
                           {"form": [_("A form field has no readable name.")]})
        sources.append(("form", request.form))
        for name, upload in request.files.items(multi=True):
            problem = text_problem(name) or text_problem(upload.filename or "")
            if problem:
                errors.setdefault(f"files.{_printable(name)}", []).append(problem)
    for where, values in sources:
        for name, value in values.items(multi=True):
            problem = text_problem(name) or text_problem(value)
            if problem:
                errors.setdefault(f"{where}.{_printable(name)}", []).append(problem)
    if errors:
        return _refuse(400, _("Some text sent holds a character that cannot be stored. Please retype it."), errors)
    return None


def _same_origin():  # noqa: ANN202
    """A state change whose page came from another origin is refused, whatever token it carries."""
    if request.method not in STATE_CHANGING:
        return None
    origin = request.headers.get("Origin")
    if origin is None:
        return None  # not sent by every client (curl, older phones): the CSRF token still decides
    # The host and port the browser was on, against the Host this request was sent to (nginx passes it on);
    # not the scheme, which the app sees as http behind a TLS proxy unless PROXY_FIX_X_PROTO is set.
    try:
        host = urlsplit(origin.strip()).netloc
    except ValueError:
        host = ""
    if (host and host.lower() == request.host.lower()) or origin.rstrip("/") in current_app.config.get(
            "TRUSTED_ORIGINS", ()):
        return None
    return _refuse(403, _("This request came from another site and was refused."), {"origin": ["Not this site."]})


def refuse_malformed_input():  # noqa: ANN201
    """before_request, ahead of the CSRF check (which reads the form) and of every view."""
    return _same_origin() or _fields() or _json_body()


def init_app(app: Flask) -> None:
    """Converters and JSON go in before any route is added; the hook goes just ahead of CSRF."""
    app.json = BoundedJSONProvider(app)
    app.url_map.converters["uuid"] = UUIDConverter


def install_hook(app: Flask) -> None:
    hooks = app.before_request_funcs.setdefault(None, [])
    names = [getattr(f, "__name__", "") for f in hooks]
    hooks.insert(names.index("csrf_protect") if "csrf_protect" in names else len(hooks), refuse_malformed_input)
