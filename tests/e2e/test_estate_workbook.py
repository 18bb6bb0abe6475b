"""Real Chromium at 412 × 915: the administrator downloads the estate template from the import page,
fills it in (as a spreadsheet program would, here with openpyxl), checks it, reads every problem by
sheet, row and column with nothing stored, fixes it, imports it, imports the same file again (nothing
changes) and finds the estate in the place list. Screenshots land in test-artifacts/."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.extensions import db
from app.models import Estate, Role, Unit

from .. import factories
from .test_administration import fits_the_phone, phones, settled, shot, sign_in, zh_hant  # noqa: F401

pytestmark = pytest.mark.e2e

ROWS = {
    "小區": [["HILL", "山景苑", "山景路 8 號", "Asia/Hong_Kong"]],
    "樓棟": [["HILL", "A", "A座", 6]],
    "梯": [["HILL", "A", "1", "1梯", 1, 6]],
    "單元": [["HILL", "A", "1", "101", 1, 89.5, "三房", "自住", None],
             ["HILL", "A", "1", "601", 6, None, None, "空置", "未收房"]],
    "表計": [["HILL", "A", "101", "水", "W-101"]],
    "業主": [["HILL", "A", "101", "陳大文", "138 0013 8000", None, "業主"]],
}


def filled(template: bytes, rows: dict[str, list[list]]) -> bytes:
    book = load_workbook(io.BytesIO(template))
    for sheet, lines in rows.items():
        for line in lines:
            book[sheet].append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count(model) -> int:  # noqa: ANN001
    db.session.rollback()  # read what the live server committed, not this session's snapshot
    return settled(db.session.scalar(sa.select(sa.func.count()).select_from(model)))


def choose_and_press(page, tmp_path, name: str, data: bytes, action: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    page.set_input_files("#workbook", str(path))
    page.click(f"button[value={action}]")
    page.wait_for_load_state()


def test_the_administrator_brings_an_estate_into_service_from_the_workbook_page(live_server, phones, tmp_path):
    factories.user(Role.ADMIN, username="boss", display_name="系統管理員甲")
    settled(None)
    admin = phones()
    sign_in(admin, live_server, "boss")
    admin.goto(f"{live_server}/admin/places/import")
    fits_the_phone(admin)

    with admin.expect_download() as download:
        admin.click(f"a[href$='/admin/places/template.xlsx']")
    template = download.value.path().read_bytes()
    assert template[:2] == b"PK"  # an .xlsx (a zip), not an error page
    assert "業主" in load_workbook(io.BytesIO(template)).sheetnames

    # A unit in a stairwell the file does not have: refused with its sheet, row and column.
    broken = {**ROWS, "單元": [*ROWS["單元"], ["HILL", "A", "9", "901", 9, None, None, "自住", None]]}
    choose_and_press(admin, tmp_path, "broken.xlsx", filled(template, broken), "check")
    alert = admin.locator("[role=alert]")
    assert alert.is_visible()
    cells = alert.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells[0] == "單元" and cells[1] == "4", cells  # header row 1, two good rows, then this one
    assert cells[2], cells  # the column is named
    shot(admin, "workbook-problems")
    fits_the_phone(admin)
    assert count(Estate) == 0

    good = filled(template, ROWS)
    choose_and_press(admin, tmp_path, "estate.xlsx", good, "check")
    assert admin.locator(".import-report h2").inner_text() == zh_hant("The file is clean")
    assert count(Estate) == 0 and count(Unit) == 0  # checking stores nothing

    choose_and_press(admin, tmp_path, "estate.xlsx", good, "import")
    assert admin.locator(".import-report h2").inner_text() == zh_hant("Imported")
    report = admin.locator(".import-report").inner_text()
    assert f"{zh_hant('Units')} 2" in report and "units" not in report  # the reader's words, not the code's
    shot(admin, "workbook-imported")
    fits_the_phone(admin)
    assert count(Estate) == 1 and count(Unit) == 2

    choose_and_press(admin, tmp_path, "estate.xlsx", good, "import")
    assert zh_hant("Nothing to change: everything is stored as the file says.") in admin.locator(
        ".import-report").inner_text()
    assert count(Estate) == 1 and count(Unit) == 2

    admin.goto(f"{live_server}/admin/places/")
    assert "山景苑" in admin.locator("main").inner_text()
