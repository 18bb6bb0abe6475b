"""Small helpers the pages share: query strings read into typed values with every problem
collected, CSV downloads that open in Excel, and one way to answer a refused form."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from urllib.parse import quote

from flask import Response, flash, redirect, stream_with_context

from .extensions import db
from .refusals import Refusal

# One bound for every date range a page filters or exports: a year, and a day for a leap year.
MAX_RANGE_DAYS = 366


# A refused form


def refused(exc: Refusal, back: str, code: int = 302) -> Response:
    """A form a domain operation refused: nothing of it is kept (rollback), the reason is flashed on
    the page the user is sent back to."""
    db.session.rollback()
    flash(str(exc.message), "error")
    return redirect(back, code=code)


# Query strings


class QueryArgs:
    def __init__(self, args: Mapping[str, str]) -> None:
        self.args = args
        self.errors: list = []

    def text(self, name: str) -> str:
        return (self.args.get(name) or "").strip()

    def number(self, name: str, message) -> int | None:  # noqa: ANN001
        """A record id: plain digits that fit the database's integer; else `message`."""
        raw = self.text(name)
        if not raw:
            return None
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            return int(raw)
        self.errors.append(message)
        return None

    def day(self, name: str, message) -> date | None:  # noqa: ANN001
        """A date written YYYY-MM-DD; else `message`."""
        raw = self.text(name)
        if not raw:
            return None
        try:
            if len(raw) != 10:
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            self.errors.append(message)
            return None


# CSV downloads: UTF-8 with a BOM, streamed row by row

BOM = "\ufeff"


def _lines(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(header)
    yield BOM + flush()
    for n, row in enumerate(rows, 1):
        writer.writerow(["" if v is None else _safe(v) for v in row])
        if n % 200 == 0:
            yield flush()
    yield flush()


def _safe(value) -> str:  # noqa: ANN001
    """Text starting with = + - @ is read by Excel as a formula (CSV injection): quote it."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> Response:
    response = Response(stream_with_context(_lines(header, rows)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
