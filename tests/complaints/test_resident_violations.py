"""Resident violations beyond decoration (住戶違章): a round's finding traced to a unit, or a report,
then the same steps as a decoration breach (notice with a deadline → the steward's re-check)."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from app.extensions import db
from app.models import Finding, Violation, ViolationStatus
from app.models.base import new_uuid
from app.rounds import schedule

from tests import factories
from tests.complaints.helpers import post


def test_a_corridor_finding_traced_to_a_unit_goes_through_the_decoration_steps(client, auth, world):
    finding = factories.finding_with_photo(world["steward"], world["estate"], world["building"])
    db.session.commit()
    auth.login("desk")
    form = client.get(f"/complaints/violations/new?finding={finding.uuid}")
    assert form.status_code == 200
    bad = post(client, auth, "/complaints/violations/new", finding=finding.uuid, building=str(world["building"].id),
               room="9-999", kind="clutter", summary="樓道堆放雜物")
    assert bad.status_code == 422 and db.session.scalar(sa.select(sa.func.count()).select_from(Violation)) == 0
    response = post(client, auth, "/complaints/violations/new", finding=finding.uuid,
                    building=str(world["building"].id), room="1-101", kind="clutter", summary="1-101 門外堆放雜物")
    assert response.status_code == 302
    violation = db.session.scalars(sa.select(Violation)).one()
    assert violation.kind == "clutter" and violation.permit_id is None and violation.unit_id == world["home"].id
    assert violation.status is ViolationStatus.STOPPED and finding.uuid in [f.uuid for f in violation.findings]
    # The same notice step as a decoration breach, then the steward's re-check on the today page.
    deadline = schedule.local_date(world["estate"], datetime.now(timezone.utc)).isoformat()  # re-checked today
    assert post(client, auth, f"/decoration/violations/{violation.id}/notice", deadline=deadline,
                requirements="清走雜物").status_code == 302
    violation = db.session.get(Violation, violation.id)
    assert violation.status is ViolationStatus.NOTICED and violation.notice_number
    auth.logout()
    auth.login("amy")
    assert f'data-violation="{violation.id}"' in client.get("/rounds/today").get_data(as_text=True)
    # The summary counts it by kind.
    auth.logout()
    auth.login("desk")
    assert 'data-kind="clutter"' in client.get("/complaints/summary").get_data(as_text=True)


def test_other_estates_and_bad_kinds_are_refused(client, auth, world):
    finding = factories.finding_with_photo(world["steward"], world["estate"], world["building"])
    db.session.commit()
    auth.login("far-desk")
    assert client.get(f"/complaints/violations/new?finding={finding.uuid}").status_code == 404
    auth.logout()
    auth.login("desk")
    response = post(client, auth, "/complaints/violations/new", building=str(world["building"].id), room="1-101",
                    kind="parking", summary="x")
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Violation)) == 0


# Marked on the phone during a round: the same tracing as the desk's, when the round is completed.


def completed_with_marks(api, world, marks: dict):
    """A corridor round of amy's, all fine but one defect per mark ({item index: mark}), sent in one
    request as a round walked offline is."""
    from tests.rounds.intake_helpers import all_fine, start_corridor  # noqa: PLC0415

    api.login("amy")
    body, started = start_corridor(api, world)
    assert started.status_code == 201
    plan = api.get(f"/api/v1/rounds/{body['uuid']}").get_json()
    items = {i["code"]: i for i in plan["items"]}
    findings = all_fine(plan)
    defects = [f for f in findings if items[f["item_code"]]["reasons"]][:len(marks)]
    for finding, mark in zip(defects, marks.values()):
        finding.update(result="defect", reason_code=items[finding["item_code"]]["reasons"][0]["code"],
                       photo_uuids=[new_uuid()], resident_violation=mark)
    completion = {"completed_at": "2026-12-08T02:00:00+00:00", "findings": findings}
    return body["uuid"], defects, completion, api.post(f"/api/v1/rounds/{body['uuid']}/completion", completion)


def test_a_defect_marked_on_a_round_becomes_a_resident_violation_of_the_room_given(client, auth, api, world):
    round_uuid, (good, bad), completion, answer = completed_with_marks(api, world, {
        0: {"kind": "clutter", "room": "1-101"}, 1: {"kind": "illegal_structure", "room": "9-999"}})
    assert answer.status_code == 201, answer.get_json()
    violation = db.session.scalars(sa.select(Violation)).one()
    assert violation.kind == "clutter" and violation.unit_id == world["home"].id and violation.permit_id is None
    assert violation.status is ViolationStatus.STOPPED and violation.found_by_id == world["steward"].id
    stored = db.session.scalars(sa.select(Finding).where(Finding.uuid == good["uuid"])).one()
    assert stored.violation_id == violation.id and stored.ticket_id is None  # the owner's to put right
    # An unknown room: the finding is kept with the mark and why it was not recorded; no violation.
    kept = db.session.scalars(sa.select(Finding).where(Finding.uuid == bad["uuid"])).one()
    assert kept.violation_id is None and kept.resident_violation == {
        "kind": "illegal_structure", "room": "9-999", "problem": "room"}
    # Sent again (no answer reached the phone): the same answer, nothing twice.
    again = api.post(f"/api/v1/rounds/{round_uuid}/completion", completion)
    assert again.status_code == 201 and db.session.scalar(sa.select(sa.func.count()).select_from(Violation)) == 1

    # The desk sees both on the round, the second with the note and the way to record it by hand.
    api.login("desk")
    page = client.get(f"/rounds/{round_uuid}").get_data(as_text=True)
    assert 'data-kind="clutter"' in page and "9-999" in page and 'class="field-error resident-problem"' in page
    assert f"/complaints/violations/new?finding={bad['uuid']}" in page
    by_hand = post(client, auth, "/complaints/violations/new", finding=bad["uuid"], building=str(world["building"].id),
                   room="1-101", kind="illegal_structure", summary="陽台違章搭建")
    assert by_hand.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Violation)) == 2


def test_a_mark_of_an_unknown_kind_is_refused_with_its_round(api, world):
    round_uuid, _, _, answer = completed_with_marks(api, world, {0: {"kind": "parking", "room": "1-101"}})
    assert answer.status_code == 422
    assert any("resident_violation" in key for key in answer.get_json()["errors"]), answer.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Violation)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 0
