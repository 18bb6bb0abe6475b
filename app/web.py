"""Small helpers the pages share: query strings read into typed values with every problem
collected, CSV downloads that open in Excel, and one way to answer a refused form."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from urllib.parse import quote

from flask import Response, abort, flash, redirect, request, stream_with_context

from .extensions import db
from .guard import record_id
from .refusals import Refusal

# One bound for every date range a page filters or exports: a year, and a day for a leap year.
MAX_RANGE_DAYS = 366
# The days a page or form may name: wide enough for any estate's records, narrow enough that a range
# around them never leaves the calendar (year 1 or 9999 would overflow date arithmetic: 500).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2199, 12, 31)


def parse_day(raw: str | None) -> date | None:
    """A day written YYYY-MM-DD between FIRST_DAY and LAST_DAY; else None."""
    raw = (raw or "").strip()
    if len(raw) != 10 or not raw.isascii():
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


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
        try:
            return record_id(raw)
        except ValueError:
            self.errors.append(message)
            return None

    def day(self, name: str, message) -> date | None:  # noqa: ANN001
        """A date written YYYY-MM-DD; else `message`."""
        raw = self.text(name)
        if not raw:
            return None
        day = parse_day(raw)
        if day is None:
            self.errors.append(message)
        return day


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


def chosen_estate(estates: list):  # noqa: ANN201 - an Estate
    """The estate a settings page of one estate works on: `?estate=` (or the form's) among `estates`, the
    ones the user may set, else the first of them; 404 when there is none."""
    wanted = request.values.get("estate", type=record_id)
    estate = next((e for e in estates if e.id == wanted), estates[0] if estates else None)
    if estate is None:
        abort(404)
    return estate
