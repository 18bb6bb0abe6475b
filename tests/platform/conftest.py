"""Fixtures of the platform tests: one estate with an object of every type for the route matrices,
and the SQLite databases of the backup tests."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app.decoration import flood_tests, materials, violations
from app.extensions import db
from app.models import FindingResult, Notice, Role, RoundKind, Team, TeamKind, WetArea
from app.repairs import tickets
from app.rounds import intake
from app.rounds.checklists import sync_checklists
from app.rounds.plan import build_plan
from app.staff import covers as staff_covers

from tests import factories
from tests.platform.backup_helpers import make_app, photo_hashes, seed_estate, sqlite_app


@pytest.fixture
def estate_world(app):
    """An estate (tests/factories.py: build_world) with one user of every role (u-steward, u-desk, …) and one
    object of every type, so that every route of test_access.MATRIX has something to show:
    (estate, unit, users, ids), ids naming each object as the routes' paths do."""
    w = factories.build_world(everyone=True)
    estate, b, users = w["estate"], w["building"], w["users"]
    unit = w.add_unit("unit", "building", "1-101")
    contact = factories.contact(unit, phone="13912345678", id_number="440301199001011234")
    finding = factories.finding_with_photo(users[Role.STEWARD], estate, b)
    ticket = tickets.ticket_for_defect(db.session, finding)  # an engineering defect: every worker sees it
    db.session.flush()
    cover = staff_covers.add_cover(db.session, None, staff_covers.CoverRequest(
        factories.user(Role.STEWARD, username="u-cover", estates=[estate]).id, users[Role.STEWARD].id,
        date.today(), date.today() + timedelta(days=7)))
    team = Team(estate_id=estate.id, name="工程部", kind=TeamKind.ENGINEERING, phone="0755-1234")
    db.session.add(team)
    db.session.flush()
    ids = {"ticket_id": ticket.id, "team_id": team.id, "unit_id": unit.id, "round_uuid": finding.round.uuid, "finding_uuid": finding.uuid,
           "photo_uuid": finding.photos[0].uuid, "contact_id": contact.id, **decoration_world(w),
           "estate_id": estate.id, "user_id": users[Role.STEWARD].id, "cover_id": cover.id,
           **complaints_world(w, unit), **checkpoint_world(w)}
    return estate, unit, users, ids


def checkpoint_world(w: factories.World) -> dict:
    """The estate's corridor checkpoint codes printed: a code for the sticker routes."""
    from app.rounds import checkpoints

    checkpoints.ensure_codes(db.session, w["estate"], RoundKind.CORRIDOR)
    db.session.flush()
    _key, _label, code = checkpoints.codes_of(db.session, w["estate"], RoundKind.CORRIDOR)[0]
    return {"checkpoint_code_id": code.id}


def complaints_world(w: factories.World, unit) -> dict:
    """An open complaint of the unit, a closed one with its return visit due, and an owner's QR code
    of the unit with a report (a photo) sent by it: every complaint and owner route has an object."""
    from app.complaints import operations as complaint_ops
    from app.models import ComplaintCategory, ComplaintChannel, OwnerCode, OwnerReportKind, ReturnVisit
    from app.owners import codes, reports

    desk = w["users"][Role.DESK]

    def complaint(text: str):
        return complaint_ops.register(db.session, desk, w["estate"], complaint_ops.Registration(
            channel=ComplaintChannel.PHONE, category=ComplaintCategory.NOISE, complainant_name="陳大文",
            complainant_phone="13912345678", description=text, unit=unit))

    open_one, closed = complaint("深夜噪音"), complaint("車位被佔")
    complaint_ops.reply(closed, desk, text="已處理")
    complaint_ops.close(closed, desk, cause="臨時停車")
    codes.ensure_codes(db.session, w["estate"], "unit")
    db.session.flush()
    code = db.session.scalars(sa.select(OwnerCode).where(OwnerCode.unit_id == unit.id)).one()
    report = reports.submit(db.session, code, reports.Sent(
        kind=OwnerReportKind.REPAIR, item="leak", description="天花滲水", phone="13700137000",
        photos=(factories.jpeg_bytes(),)), max_bytes=10_000_000, max_pixels=50_000_000)
    db.session.flush()
    visit = db.session.scalars(sa.select(ReturnVisit).where(ReturnVisit.complaint_id == closed.id)).one()
    photo = reports.public_photos(db.session, report)[0][0]
    return {"complaint_id": open_one.id, "visit_id": visit.id, "code_token": code.token, "code_id": code.id,
            "status_token": report.status_token, "owner_photo_uuid": photo.uuid}


def decoration_world(w: factories.World) -> dict:
    """A decorating unit with a registration, a noticed violation, a running flood test and a
    material request waiting for the steward: every decoration route has an object to show."""
    now = datetime.now(timezone.utc)
    users = w["users"]
    unit = w.add_unit("decorating", "building", "1-601")
    permit = factories.permit(users[Role.DESK], unit, workers=2, planned_start=date.today(),
                              planned_end=date.today() + timedelta(days=30), scope="廚衛", deposit=Decimal("0"))
    steward = users[Role.STEWARD]
    rnd = intake.start_round(db.session, steward, uuid=str(uuid4()), kind=RoundKind.DECORATION,
                             estate_id=w["estate"].id, unit_id=unit.id)
    point = build_plan(db.session, rnd).checkpoints[0]
    plan = build_plan(db.session, rnd)
    answers = [intake.FindingInput(uuid=str(uuid4()), checkpoint=point.key, item_code=i.code,
                                   result=FindingResult.DEFECT if i.code == "DEC-COMMON-DEBRIS" else FindingResult.FINE,
                                   reason_code="WASTE" if i.code == "DEC-COMMON-DEBRIS" else None,
                                   photo_uuids=(str(uuid4()),) if i.code == "DEC-COMMON-DEBRIS" else ())
               for i in plan.items_at[point.key]]
    intake.complete_round(db.session, steward, rnd.uuid, answers, fingerprint="access", now=now)
    violation = permit.violations[0]
    violations.issue_notice(db.session, users[Role.DESK], violation, deadline=date.today() + timedelta(days=3),
                            requirements="清走")
    test = flood_tests.start_flood_test(db.session, steward, uuid=str(uuid4()), unit_id=unit.id,
                                        wet_area=WetArea.BATHROOM, photo_uuid=str(uuid4()))
    material = materials.raise_material_request(db.session, users[Role.GATE], uuid=str(uuid4()), unit_id=unit.id,
                                                materials="水泥", photo_uuid=str(uuid4()))
    db.session.flush()
    notice = db.session.scalars(sa.select(Notice).where(Notice.user_id == steward.id)).first()  # the gate's request
    return {"permit_id": permit.id, "violation_id": violation.id, "flood_test_uuid": test.uuid,
            "material_id": material.id, "notice_id": notice.id}


# --------------------------------------------------------------------------- backups (test_backup_*.py)


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite database built by the migrations, with the checklists."""
    folder = tmp_path_factory.mktemp("backup-template")
    path = folder / "template.db"
    app = make_app(folder, f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        sync_checklists(db.session)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return path


@pytest.fixture
def source(tmp_path, sqlite_template):
    """A SQLite app with three findings with photos."""
    app = sqlite_app(tmp_path / "source", sqlite_template)
    with app.app_context():
        app.ids = seed_estate()
        app.photo_hashes = photo_hashes()
        db.session.remove()
        db.engine.dispose()  # the last connection folds the WAL into the file: the folder stays as it is now
    yield app
    with app.app_context():
        db.engine.dispose()
