"""Reading the .xlsx: bounded before openpyxl parses anything; rows as values, never formulas."""
from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from flask_babel import lazy_gettext as _l

from .sheets import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    MAX_SHARED_STRINGS_BYTES,
    MAX_UNCOMPRESSED_BYTES,
    SHEETS,
    Problem,
    Row,
    Sheet,
    WorkbookRefused,
)

# Reading --------------------------------------------------------------------------------------


def _check_container(data: bytes) -> None:
    """Bounds on the zip container, before openpyxl opens it."""
    if len(data) > MAX_FILE_BYTES:
        raise WorkbookRefused([Problem("—", None, None, _l("The file is larger than %(mb)d MB.",
                                                           mb=MAX_FILE_BYTES // (1024 * 1024)))])
    if not data.startswith(b"PK") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise WorkbookRefused([Problem("—", None, None, _l(
            "This is not an Excel workbook (.xlsx). Save the file as .xlsx and try again."))])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names:
            raise WorkbookRefused([Problem("—", None, None, _l(
                "This is not an Excel workbook (.xlsx). Save the file as .xlsx and try again."))])
        if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED_BYTES:
            raise WorkbookRefused([Problem("—", None, None, _l("The workbook is too large once unpacked."))])
        strings = next((i for i in infos if i.filename == "xl/sharedStrings.xml"), None)
        if strings is not None and strings.file_size > MAX_SHARED_STRINGS_BYTES:
            raise WorkbookRefused([Problem("—", None, None, _l(
                "The workbook's text table is too large (over %(mb)d MB).", mb=MAX_SHARED_STRINGS_BYTES // (1024 * 1024)))])


def _header_key(text: Any, sheet: Sheet) -> str | None:
    if text is None:
        return None
    raw = str(text).strip()
    m = re.fullmatch(r"(.*?)\s*[(（](.*)[)）]\s*", raw)  # "房號 (room)" as the template writes it
    candidates = {raw, raw.lower()} | ({m.group(1).strip(), m.group(2).strip().lower()} if m else set())
    for column in sheet.columns:
        if column.zh in candidates or column.en in candidates:
            return column.key
    return None


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_workbook(data: bytes) -> dict[str, list[Row]]:
    """Every sheet's rows as {column key: value}; refuses a file it cannot read, with where."""
    from openpyxl import (
        load_workbook,  # imported here: only the import page and command need it
    )

    _check_container(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        raise WorkbookRefused([Problem("—", None, None, _l(
            "The workbook cannot be read; it may be damaged. Open it in Excel, save it as .xlsx and try again."))]) from None
    problems: list[Problem] = []
    rows: dict[str, list[Row]] = {}
    total = 0
    try:
        titles = {title.strip(): title for title in book.sheetnames}
        for sheet in SHEETS:
            title = titles.get(sheet.zh) or next((t for k, t in titles.items() if k.lower() == sheet.en), None)
            if title is None:
                problems.append(Problem(sheet.zh, None, None, _l(
                    "The sheet is missing. Download the template and keep all its sheets (an empty sheet is fine).")))
                continue
            it = book[title].iter_rows(values_only=True)
            header = next(it, None) or ()
            keys = [_header_key(h, sheet) for h in header]
            missing = [c for c in sheet.columns if c.required and c.key not in keys]
            for column in missing:
                problems.append(Problem(sheet.zh, 1, column.zh, _l("This column is missing from the first row.")))
            if missing:
                continue
            found: list[Row] = []
            for number, values in enumerate(it, start=2):
                if not any(v is not None and str(v).strip() for v in values):
                    continue
                total += 1
                if total > MAX_ROWS:
                    raise WorkbookRefused([Problem(sheet.zh, number, None, _l(
                        "The workbook has more than %(rows)d rows; split it into several files.", rows=MAX_ROWS))])
                found.append(Row(number, {k: _cell(v) for k, v in zip(keys, values) if k is not None}))
            rows[sheet.key] = found
    finally:
        book.close()
    if problems:
        raise WorkbookRefused(problems)
    return rows
