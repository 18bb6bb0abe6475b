"""CSV files that open correctly in Excel with Chinese text: UTF-8 with a BOM, streamed row by row."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from urllib.parse import quote

from flask import Response, stream_with_context

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
