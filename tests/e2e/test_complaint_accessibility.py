"""axe-core on the complaint, return-visit and owners' pages: the owner's report and status pages at
phone size signed out, the desk's pages at desk size; no serious or critical violations."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.complaints import operations
from app.extensions import db
from app.models import ComplaintCategory, ComplaintChannel, Estate, OwnerCode, OwnerReportKind, Role, User
from app.owners import codes, reports

from tests import factories

from .conftest import PHONE, sign_in
from .test_accessibility import AXE, BLOCKING, DESK, describe, run_axe

pytestmark = pytest.mark.e2e


def test_complaint_and_owner_pages_have_no_serious_violations(live_server, browser, demo_estate):
    assert AXE.exists()
    estate = db.session.scalars(sa.select(Estate)).first()
    desk = db.session.scalars(sa.select(User).where(User.role == Role.DESK)).first()
    complaint = operations.register(db.session, desk, estate, operations.Registration(
        channel=ComplaintChannel.PHONE, category=ComplaintCategory.NOISE, complainant_name="陳大文",
        complainant_phone="13800138000", description="深夜噪音", building=estate.buildings[0]))
    codes.ensure_codes(db.session, estate, "entrance")
    db.session.flush()
    code = db.session.scalars(sa.select(OwnerCode)).first()
    report = reports.submit(db.session, code, reports.Sent(
        kind=OwnerReportKind.REPAIR, item="other", description="信箱門壞了", phone="13700137000",
        photos=(factories.jpeg_bytes(),)), max_bytes=10_000_000, max_pixels=50_000_000)
    db.session.commit()
    pages = {
        None: (PHONE, [f"/o/{code.token}", f"/o/s/{report.status_token}"]),
        "desk1": (DESK, ["/complaints/", "/complaints/new", f"/complaints/{complaint.id}", "/complaints/visits",
                         "/complaints/summary", "/owners/sheet", "/owners/reports", "/complaints/violations/new"]),
        "super1": (DESK, ["/complaints/late", "/complaints/targets", "/complaints/visits/plan"]),
        "steward1": (PHONE, [f"/complaints/{complaint.id}/investigate"]),
    }
    db.session.commit()
    found, checked = [], []
    for username, (viewport, paths) in pages.items():
        context = browser.new_context(viewport=viewport, locale="zh-TW", bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            if username:
                sign_in(page, live_server, username)
                page.wait_for_load_state("load")
            for path in paths:
                response = page.goto(f"{live_server}{path}")
                assert response is not None and response.ok, (path, response and response.status)
                checked.append(path)
                found += [(username or "(owner)", path, v) for v in run_axe(page) if v["impact"] in BLOCKING]
        finally:
            context.close()
    print(f"\naxe-core on {len(checked)} pages")
    assert not found, describe(found)
