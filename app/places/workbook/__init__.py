"""The estate workbook (.xlsx): how a company brings its estates into Xuncha, and keeps them.

One sheet per kind of place, Traditional Chinese headers (the English names are accepted too).
Reading is bounded before any cell is parsed (file size, uncompressed size, shared strings, rows);
formulas are read as the values the file holds, never evaluated. Every row is checked against the
file itself and what is stored; a file with any problem stores nothing, and the problems are listed
by sheet, row and column. A clean file is stored in one transaction, matched to what is stored by
codes (estate code; building code; stairwell code; room number; meter serial; contact name), so the
same file again changes nothing and a changed file updates what changed, each change in the audit log.
Nothing is deleted or retired by a workbook: a place with history is retired on its page.
"""
from __future__ import annotations

from .check import check
from .importing import KIND_LABELS, ImportReport, describe, import_workbook
from .plan import Change, Plan
from .reading import read_workbook
from .rules import PHONE, valid_id_number
from .sheets import (
    MAX_FILE_BYTES,
    MAX_PROBLEMS,
    MAX_ROWS,
    MAX_SHARED_STRINGS_BYTES,
    MAX_UNCOMPRESSED_BYTES,
    SHEETS,
    Problem,
    Row,
    WorkbookRefused,
)
from .template import template_workbook

__all__ = ["KIND_LABELS", "MAX_FILE_BYTES", "MAX_PROBLEMS", "MAX_ROWS", "MAX_SHARED_STRINGS_BYTES",
           "MAX_UNCOMPRESSED_BYTES", "PHONE", "SHEETS", "Change", "ImportReport", "Plan", "Problem", "Row",
           "WorkbookRefused", "check", "describe", "import_workbook", "read_workbook", "template_workbook",
           "valid_id_number"]
