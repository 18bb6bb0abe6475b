"""Meter readings sent with a round (a number, flagged against the meter's history) and amendments of
stored findings, which keep the original and what they do not mention."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Finding,
    FindingAmendment,
    FindingResult,
    MeterKind,
    Role,
    RoundKind,
)
from app.models.base import new_uuid
from app.rounds import intake

from tests import factories
from tests.rounds.intake_helpers import all_fine, finding_count, start_corridor


def start_meter_round(api, world):
    body = {"uuid": new_uuid(), "kind": "meter", "estate_id": world["estate"].id, "building_id": world["building"].id}
    assert api.post("/api/v1/rounds", body).status_code == 201
    return body["uuid"]


def meter_findings(plan, value):
    meter_point = plan["checkpoints"][0]
    return [{"uuid": new_uuid(), "checkpoint": meter_point["key"], "item_code": "MTR-WATER", "result": "fine",
             "reading_value": value}]


def test_meter_reading_that_is_not_a_number_is_refused(api, world):
    api.login("amy")
    round_uuid = start_meter_round(api, world)
    plan = api.get(f"/api/v1/rounds/{round_uuid}").get_json()
    response = api.post(f"/api/v1/rounds/{round_uuid}/completion", {"findings": meter_findings(plan, "12a")})
    assert response.status_code == 422
    assert "findings.0.reading_value" in response.get_json()["errors"]
    assert finding_count() == 0


def test_meter_flags_lower_spike_and_vacant(api, world):
    steward, estate, building, meter = world["steward"], world["estate"], world["building"], world["meter"]
    version_round = factories.round_(RoundKind.METER, steward, estate, date(2026, 7, 3), building_=building)
    item = next(i for i in version_round.checklist_version.items if i.code == "MTR-WATER")
    for month, value in [(7, "100"), (8, "110"), (9, "121"), (10, "130")]:
        r = factories.round_(RoundKind.METER, steward, estate, date(2026, month, 5), building_=building)
        db.session.add(Finding(uuid=new_uuid(), round=r, item=item, meter_id=meter.id, result=FindingResult.FINE,
                               reading_value=Decimal(value), recorded_at=datetime.now(timezone.utc)))
    db.session.commit()
    api.login("amy")
    round_uuid = start_meter_round(api, world)
    plan = api.get(f"/api/v1/rounds/{round_uuid}").get_json()
    meter_info = plan["checkpoints"][0]["meter"]
    assert meter_info["previous_value"] == "130.00" and meter_info["unit_vacant"] is True
    assert Decimal(meter_info["median_consumption"]) == Decimal("10")
    response = api.post(f"/api/v1/rounds/{round_uuid}/completion", {"findings": meter_findings(plan, "175.5")})
    assert response.status_code == 201, response.get_json()
    stored = db.session.scalars(sa.select(Finding).where(Finding.reading_value == Decimal("175.5"))).one()
    assert stored.flags == ["consumption_spike", "vacant_consumption"]


def test_amendment_keeps_the_original(api, world):
    api.login("amy")
    body, _ = start_corridor(api, world)
    plan = api.get(f"/api/v1/rounds/{body['uuid']}").get_json()
    findings = all_fine(plan)
    api.post(f"/api/v1/rounds/{body['uuid']}/completion", {"findings": findings})
    target = findings[0]["uuid"]
    refused = api.post(f"/api/v1/findings/{target}/amendments", {"uuid": new_uuid(), "result": "defect", "why": "看錯了"})
    assert refused.status_code == 422  # a defect needs its reason, also in an amendment
    response = api.post(f"/api/v1/findings/{target}/amendments",
                        {"uuid": new_uuid(), "result": "defect", "why": "看錯了", "reason_text": "燈罩裂開"})
    assert response.status_code == 201
    finding = db.session.scalars(sa.select(Finding).where(Finding.uuid == target)).one()
    assert finding.result is FindingResult.FINE  # the original is kept
    assert finding.current.result is FindingResult.DEFECT and finding.current.why == "看錯了"
    assert db.session.scalars(sa.select(FindingAmendment)).one().amended_by.username == "amy"


def test_an_amendment_keeps_what_it_does_not_mention(app, world):
    steward, estate, b1 = world["steward"], world["estate"], world["building"]
    meter = factories.meter(estate, b1, kind=MeterKind.WATER)
    rnd = factories.round_(RoundKind.METER, steward, estate, date(2026, 11, 3), building_=b1)
    item = next(i for i in rnd.checklist_version.items if i.code == "MTR-WATER")
    finding = Finding(uuid=new_uuid(), round=rnd, item=item, meter_id=meter.id, result=FindingResult.FINE,
                      reading_value=Decimal("321.50"), note="表在樓梯間", recorded_at=datetime.now(timezone.utc))
    db.session.add(finding)
    db.session.flush()
    intake.amend_finding(db.session, steward, finding.uuid, uuid=new_uuid(), result=FindingResult.FINE, why="補充", note="表在1樓樓梯間")
    assert finding.current.reading_value == Decimal("321.50") and finding.current.note == "表在1樓樓梯間"
    from app.rounds.plan import reading_history

    assert [v for _, v in reading_history(db.session, [meter.id])[meter.id]] == [Decimal("321.50")]


def test_an_amendment_sent_twice_is_stored_once(api, world):
    """Idempotent by the UUID its client made, like every other write: the same again is the same 201;
    other content under that UUID is a 409 that changes nothing; another user's UUID is not theirs (404)."""
    api.login("amy")
    body, _ = start_corridor(api, world)
    findings = all_fine(api.get(f"/api/v1/rounds/{body['uuid']}").get_json())
    api.post(f"/api/v1/rounds/{body['uuid']}/completion", {"findings": findings})
    path = f"/api/v1/findings/{findings[0]['uuid']}/amendments"
    sent = {"uuid": new_uuid(), "result": "defect", "why": "看錯了", "reason_text": "燈罩裂開"}
    first, again = api.post(path, sent), api.post(path, sent)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and first.get_json()["uuid"] == sent["uuid"]
    count = sa.select(sa.func.count()).select_from(FindingAmendment)
    assert db.session.scalar(count) == 1
    other = api.post(path, {**sent, "why": "另一個理由"})
    assert other.status_code == 409 and db.session.scalar(count) == 1
    elsewhere = api.post(f"/api/v1/findings/{findings[1]['uuid']}/amendments", sent)
    assert elsewhere.status_code == 409 and db.session.scalar(count) == 1
    assert api.post(path, {k: v for k, v in sent.items() if k != "uuid"}).status_code == 422  # the UUID is required
    factories.user(Role.DESK, "desk-amend", estates=[world["estate"]])
    api.login("desk-amend")
    assert api.post(path, sent).status_code == 404  # amy's correction: not the desk's to resend
    assert db.session.scalar(count) == 1
