"""The estate workbook: real .xlsx files written with openpyxl, read, checked and stored by the
migrations' database; the same file twice changes nothing; a bad file stores nothing and says where."""
from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from app.extensions import db
from app.models import (
    AuditEntry,
    Building,
    ContactRelation,
    Entrance,
    Estate,
    Meter,
    OwnerContact,
    Unit,
    UnitState,
    VacancyReason,
)
from app.places import workbook

GOOD = {
    "小區": [["HILL", "山景苑", "山景路 8 號", "Asia/Hong_Kong"]],
    "樓棟": [["HILL", "A", "A座", 6]],
    "梯": [["HILL", "A", "1", "1梯", 1, 6], ["HILL", "A", "2", "2梯", 1, 3]],
    "單元": [["HILL", "A", "1", "101", 1, 89.5, "三房", "自住", None],
             ["HILL", "A", "1", "601", 6, None, None, "空置", "未收房"],
             ["HILL", "A", "2", "201", 2, "72", "兩房", "出租", None]],
    "公共區域": [["HILL", "道路", "南門路"]],
    "設施": [["HILL", "電梯", "A座1梯電梯", "A", "1"]],
    "表計": [["HILL", "A", "101", "水", "W-101"], ["HILL", "A", "101", "電", "E-101"], ["HILL", None, None, "水", "W-MAIN"]],
    "業主": [["HILL", "A", "101", "陳大文", "138 0013 8000", "11010519491231002X", "業主"],
             ["HILL", "A", "201", "李租客", "", "", "租客"]],
}


def xlsx(sheets: dict[str, list[list]] | None = None, *, drop_sheet: str | None = None,
         headers: dict[str, list[str]] | None = None, english_headers: bool = False, merge: str | None = None) -> bytes:
    """A workbook as the template makes it, with these rows."""
    book = load_workbook(io.BytesIO(workbook.template_workbook()))
    for sheet in workbook.SHEETS:
        ws = book[sheet.zh]
        if headers and sheet.zh in headers:
            for i, text in enumerate(headers[sheet.zh], start=1):
                ws.cell(row=1, column=i, value=text)
        elif english_headers:
            for i, column in enumerate(sheet.columns, start=1):
                ws.cell(row=1, column=i, value=column.en)
        for row in (sheets if sheets is not None else GOOD).get(sheet.zh, []):
            ws.append(row)
    if merge:
        sheet_name, cells = merge.split("!")
        book[sheet_name].merge_cells(cells)
    if drop_sheet:
        del book[drop_sheet]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rows_with(sheet: str, *rows: list) -> dict:
    return {**GOOD, sheet: [*GOOD[sheet], *rows]}


def problems_of(data: bytes) -> list[tuple]:
    with pytest.raises(workbook.WorkbookRefused) as refused:
        workbook.import_workbook(db.session, data, None, dry_run=True)
    return [(p.sheet, p.row, p.column) for p in refused.value.problems]


def count(model) -> int:  # noqa: ANN001
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_workbook_brings_an_estate_into_service(app):
    report = workbook.import_workbook(db.session, xlsx(), None)
    db.session.commit()
    assert report.created == {"estate": 1, "building": 1, "stairwell": 2, "unit": 3, "area": 1, "asset": 1,
                              "meter": 3, "contact": 2}
    estate = db.session.scalar(sa.select(Estate).where(Estate.code == "HILL"))
    assert (estate.name, estate.timezone) == ("山景苑", "Asia/Hong_Kong")
    vacant = db.session.scalar(sa.select(Unit).where(Unit.room_number == "601"))
    assert (vacant.state, vacant.vacancy_reason, vacant.entrance.code, vacant.floor) == (
        UnitState.VACANT, VacancyReason.KEYS_NOT_COLLECTED, "1", 6)
    tenant = db.session.scalar(sa.select(OwnerContact).where(OwnerContact.name == "李租客"))
    assert tenant.relation is ContactRelation.TENANT and tenant.unit.room_number == "201"
    public = db.session.scalar(sa.select(Meter).where(Meter.serial == "W-MAIN"))
    assert public.unit_id is None and public.building_id is None
    # The bulk inserts are told in the audit log, once for the estate.
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.entity == "estate"))
    assert "Workbook import" in entry.summary and entry.estate_id == estate.id


def test_the_same_file_again_changes_nothing(app):
    workbook.import_workbook(db.session, xlsx(), None)
    db.session.commit()
    entries = count(AuditEntry)
    report = workbook.import_workbook(db.session, xlsx(), None)
    db.session.commit()
    assert report.changes == [] and count(AuditEntry) == entries and count(Unit) == 3 and count(OwnerContact) == 2


def test_a_changed_file_updates_by_codes_and_logs_each_change(app):
    workbook.import_workbook(db.session, xlsx(), None)
    db.session.commit()
    changed = {**GOOD,
               "單元": [["HILL", "A", "1", "101", 1, 89.5, "三房", "出租", None], *GOOD["單元"][1:]],
               "樓棟": [["HILL", "A", "A座（翠苑）", 6]],
               "業主": [["HILL", "A", "101", "陳大文", "139 0000 0000", "11010519491231002X", "業主"],
                      ["HILL", "A", "201", "張新租", "", "", "租客"]]}
    report = workbook.import_workbook(db.session, xlsx(changed), None)
    db.session.commit()
    assert report.updated == {"unit": 1, "building": 1, "contact": 1}
    # The sheet lists the contacts of each unit it names in full: 201's tenant moved out.
    assert report.removed == {"contact": 1} and report.created == {"contact": 1}
    assert db.session.scalar(sa.select(OwnerContact.name).where(OwnerContact.relation == ContactRelation.TENANT)) == "張新租"
    assert db.session.scalar(sa.select(Unit.state).where(Unit.room_number == "101")) is UnitState.RENTED
    assert db.session.scalar(sa.select(Building.name)) == "A座（翠苑）"
    logged = {(e.entity, e.action) for e in db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action != "created"))}
    assert {("unit", "updated"), ("owner_contact", "updated"), ("owner_contact", "deleted")} <= logged
    assert count(Unit) == 3  # nothing else added or removed


def test_a_dry_run_stores_nothing(app):
    report = workbook.import_workbook(db.session, xlsx(), None, dry_run=True)
    db.session.rollback()
    assert report.created["unit"] == 3 and count(Estate) == 0


def test_every_problem_is_listed_by_sheet_row_and_column_and_nothing_is_stored(app):
    bad = {**GOOD,
           "單元": [*GOOD["單元"],
                  ["HILL", "A", "2", "501", 5, None, None, "自住", None],  # floor 5, stairwell 2 ends at 3
                  ["HILL", "A", "1", "101", 1, None, None, "自住", None],  # room 101 twice
                  ["HILL", "B", "1", "102", 1, None, None, "自住", None],  # no building B
                  ["HILL", "A", "1", "103", 1, None, None, "住人", None],  # no such state
                  ["HILL", "A", "1", "104", 1, None, None, "空置", None],  # vacant without a reason
                  ["HILL", "A", "1", "105", 1, None, None, "空置", "被偷"]],  # no such reason
           "表計": [*GOOD["表計"], ["HILL", "A", "101", "水", "W-101"]],  # serial twice
           "業主": [*GOOD["業主"], ["HILL", "A", "601", "王五", "", "110105194912310021", "業主"]]}  # bad check digit
    assert problems_of(xlsx(bad)) == [
        ("單元", 5, "樓層"), ("單元", 6, "房號"), ("單元", 7, "樓棟代碼"), ("單元", 8, "狀態"), ("單元", 9, "空置原因"),
        ("單元", 10, "空置原因"), ("表計", 5, "表號"), ("業主", 4, "證件號")]
    assert count(Estate) == 0 and count(Unit) == 0


def test_the_messages_say_what_is_wrong(app):
    with pytest.raises(workbook.WorkbookRefused) as refused:
        workbook.import_workbook(db.session, xlsx(rows_with("單元", ["HILL", "A", "2", "501", 5, None, None, "自住", None])),
                                 None)
    (problem,) = refused.value.problems
    assert str(problem) == "單元 第 5 行 樓層: Floor 5 is outside stairwell 2 (floors 1 to 3)."


@pytest.mark.parametrize("text, valid", [
    ("11010519491231002X", True), ("110105194912310021", False), ("110105194913310027", False),
    ("A1234563", True), ("A123456(3)", True), ("A123456(4)", False), ("12345", False)])
def test_id_numbers_are_checked_by_their_check_digit(text, valid):
    assert workbook.valid_id_number(text) is valid


def test_english_headers_are_accepted(app):
    report = workbook.import_workbook(db.session, xlsx(english_headers=True), None)
    assert report.created["unit"] == 3


def test_a_file_that_is_not_a_workbook(app):
    for data in (b"room,floor\n101,1\n", b"PK\x03\x04 not really a zip", b""):
        assert problems_of(data) == [("—", None, None)]


def test_a_missing_sheet_or_column_is_named(app):
    assert problems_of(xlsx(drop_sheet="梯")) == [("梯", None, None)]
    assert problems_of(xlsx(headers={"單元": ["小區代碼", "樓棟代碼", "梯", "房號", "層"]})) == [
        ("單元", 1, "梯代碼"), ("單元", 1, "樓層")]


def test_merged_cells_read_as_empty_and_say_so(app):
    data = xlsx(rows_with("單元", ["HILL", "A", "1", "102", 1, None, None, "自住", None],
                          ["HILL", "A", "1", "103", None, None, None, "自住", None]), merge="單元!E5:E6")
    with pytest.raises(workbook.WorkbookRefused) as refused:
        workbook.import_workbook(db.session, data, None, dry_run=True)
    (problem,) = refused.value.problems
    assert (problem.sheet, problem.row, problem.column) == ("單元", 6, "樓層") and "merged" in str(problem.message)


def test_formulas_are_read_as_their_values_never_evaluated(app):
    # openpyxl writes a formula without a computed value: the cell holds no value to read.
    data = xlsx(rows_with("單元", ["HILL", "A", "1", "102", "=1+0", None, None, "自住", None]))
    assert problems_of(data) == [("單元", 5, "樓層")]


def test_a_huge_text_table_is_refused_before_it_is_read(app):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        dst.writestr("xl/sharedStrings.xml", b"<sst>" + b"a" * (workbook.MAX_SHARED_STRINGS_BYTES + 1) + b"</sst>")
    with pytest.raises(workbook.WorkbookRefused) as refused:
        workbook.import_workbook(db.session, out.getvalue(), None, dry_run=True)
    assert "text table" in str(refused.value.problems[0].message)


def test_too_many_rows_are_refused_with_where(app, monkeypatch):
    monkeypatch.setattr(workbook.reading, "MAX_ROWS", 10)  # the bound is read where the rows are counted
    rows = {**GOOD, "表計": [["HILL", None, None, "水", f"W-{n}"] for n in range(20)]}
    # 9 rows before the meters: the 11th row of the file is the meters' third line.
    assert problems_of(xlsx(rows)) == [("表計", 3, None)]


def test_nothing_is_ever_deleted_by_a_workbook(app):
    workbook.import_workbook(db.session, xlsx(), None)
    db.session.commit()
    only_estate = {sheet: rows[:1] if sheet in ("小區", "樓棟") else [] for sheet, rows in GOOD.items()}
    report = workbook.import_workbook(db.session, xlsx(only_estate), None)
    db.session.commit()
    assert report.changes == [] and count(Unit) == 3 and count(Entrance) == 2


def test_the_template_has_every_sheet_and_instructions(app):
    book = load_workbook(io.BytesIO(workbook.template_workbook()))
    assert book.sheetnames == ["說明", *(s.zh for s in workbook.SHEETS)]
    assert [c.value for c in book["單元"][1]][:4] == ["小區代碼 (estate)", "樓棟代碼 (building)", "梯代碼 (stairwell)",
                                                     "房號 (room)"]
    report = workbook.import_workbook(db.session, workbook.template_workbook(), None, dry_run=True)
    assert report.changes == []


def test_the_command_line(app, runner, tmp_path):
    template = tmp_path / "template.xlsx"
    assert runner.invoke(args=["import-estate", "--template", str(template)]).exit_code == 0
    assert template.stat().st_size > 0
    good, bad = tmp_path / "good.xlsx", tmp_path / "bad.xlsx"
    good.write_bytes(xlsx())
    bad.write_bytes(xlsx(rows_with("單元", ["HILL", "A", "2", "501", 5, None, None, "自住", None])))
    checked = runner.invoke(args=["import-estate", "--dry-run", str(good)])
    assert checked.exit_code == 0 and "Would be new" in checked.output
    assert count(Estate) == 0
    refused = runner.invoke(args=["import-estate", str(bad)])
    assert refused.exit_code == 1 and "單元 第 5 行 樓層" in refused.output and count(Estate) == 0
    stored = runner.invoke(args=["import-estate", str(good)])
    assert stored.exit_code == 0 and count(Unit) == 3
    again = runner.invoke(args=["import-estate", str(good)])
    assert again.exit_code == 0 and "Nothing to change" in again.output
    missing = runner.invoke(args=["import-estate", str(tmp_path / "nope.xlsx")])
    assert missing.exit_code == 1 and "cannot read" in missing.output


def test_a_plain_workbook_without_the_template_also_works(app):
    book = Workbook()
    book.remove(book.active)
    for sheet in workbook.SHEETS:
        ws = book.create_sheet(sheet.zh)
        ws.append([c.zh for c in sheet.columns])
        for row in GOOD.get(sheet.zh, []):
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    assert workbook.import_workbook(db.session, out.getvalue(), None).created["unit"] == 3
