"""Checkpoint codes scanned on a round, sent with its completion: a good scan is kept with its time;
a code of another estate or round, a forged or retired code, a second scan and a time in the future
are kept as refused with their reason, and the round is stored all the same; a damaged sticker is
kept with its reason and becomes a ticket to replace it. The supervisor reads them on the round."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    CheckpointScan,
    RepairTicket,
    Role,
    Round,
    RoundKind,
    RoundStatus,
    ScanOutcome,
    ScanRefusal,
    ScanTally,
)
from app.models.base import new_uuid
from app.repairs.stickers import STICKER_ITEM
from app.rounds import checkpoints, scans
from app.steps import CLOCK_SKEW

from tests import factories
from tests.rounds.intake_helpers import all_fine, start_corridor


@pytest.fixture
def world(world):
    """The intake's world, a supervisor of the estate, and every code of both estates' corridors printed."""
    world.add_person("boss", Role.SUPERVISOR, "estate", username="boss")
    factories.entrance(world["other_building"])
    for estate in (world["estate"], world["other"]):
        checkpoints.ensure_codes(db.session, estate, RoundKind.CORRIDOR)
        checkpoints.ensure_codes(db.session, estate, RoundKind.VACANT_UNIT)
    return world.save()


def code_for(estate, key: str) -> str:
    code = next(c for k, _, c in checkpoints.codes_of(db.session, estate, RoundKind.CORRIDOR) if k == key)
    return checkpoints.code_text(code)


def scan(text: str, at: datetime, method: str = "camera") -> dict:
    return {"uuid": new_uuid(), "method": method, "code": text, "scanned_at": at.isoformat()}


def complete(api, world, scan_list, round_uuid=None):
    body, _ = start_corridor(api, world, round_uuid)
    plan = api.get(f"/api/v1/rounds/{body['uuid']}").get_json()
    completion = {"completed_at": datetime.now(timezone.utc).isoformat(), "findings": all_fine(plan),
                  "scans": scan_list}
    return body["uuid"], plan, api.post(f"/api/v1/rounds/{body['uuid']}/completion", completion)


def stored_scans(round_uuid: str) -> list[CheckpointScan]:
    return list(db.session.scalars(sa.select(CheckpointScan).join(Round).where(Round.uuid == round_uuid)
                                   .order_by(CheckpointScan.scanned_at, CheckpointScan.id)))


def test_the_plan_carries_each_checkpoints_code_digest_and_the_rule(api, world):
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0  # the sheet's drafts are never stored
    api.login("amy")
    body, _ = start_corridor(api, world)
    plan = api.get(f"/api/v1/rounds/{body['uuid']}").get_json()
    assert plan["scans_required"] is False
    floor = plan["checkpoints"][1]
    assert floor["codes"] == [checkpoints.digest(code_for(world["estate"], floor["key"]))]
    # The phone holds a digest, never the code it could print again.
    assert all(code_for(world["estate"], c["key"]) not in str(plan) for c in plan["checkpoints"])


def test_good_scans_are_kept_with_their_time_and_counted(api, world):
    api.login("amy")
    entrance = world["building"].entrances[0].id
    t0 = datetime.now(timezone.utc) - timedelta(minutes=5)
    sent = [scan(code_for(world["estate"], f"entrance:{entrance}"), t0),
            scan(code_for(world["estate"], f"floor:{entrance}:1"), t0 + timedelta(seconds=40)),
            scan(code_for(world["estate"], f"floor:{entrance}:2"), t0 + timedelta(seconds=90), method="nfc")]
    round_uuid, _, response = complete(api, world, sent)
    assert response.status_code == 201, response.get_json()
    kept = stored_scans(round_uuid)
    assert [s.outcome for s in kept] == [ScanOutcome.ACCEPTED] * 3
    assert [s.checkpoint_key for s in kept] == [f"entrance:{entrance}", f"floor:{entrance}:1", f"floor:{entrance}:2"]
    assert abs((kept[1].scanned_at - (t0 + timedelta(seconds=40))).total_seconds()) < 1
    tally = db.session.get(ScanTally, kept[0].round_id)
    assert (tally.checkpoints, tally.scanned, tally.refused, tally.too_fast) == (3, 3, 0, 0)


def test_bad_scans_are_kept_refused_with_a_reason_and_the_round_is_stored(api, world):
    api.login("amy")
    entrance = world["building"].entrances[0].id
    other_entrance = world["other_building"].entrances[0].id
    vacant_code = next(c for _, _, c in checkpoints.codes_of(db.session, world["estate"], RoundKind.VACANT_UNIT))
    now = datetime.now(timezone.utc)
    t0 = now - timedelta(minutes=10)
    floor1 = code_for(world["estate"], f"floor:{entrance}:1")
    forged = checkpoints.PREFIX + "A" * 22
    sent = [
        scan(floor1, t0),
        scan(floor1, t0 + timedelta(minutes=1)),  # scanned twice
        scan(code_for(world["other"], f"floor:{other_entrance}:1"), t0 + timedelta(minutes=2)),  # another estate's
        scan(checkpoints.code_text(vacant_code), t0 + timedelta(minutes=3)),  # another round's place
        scan(forged, t0 + timedelta(minutes=4)),  # never printed
        scan("https://example.com/not-ours", t0 + timedelta(minutes=5)),
        scan(code_for(world["estate"], f"floor:{entrance}:2"), now + CLOCK_SKEW + timedelta(minutes=5)),  # future
    ]
    round_uuid, _, response = complete(api, world, sent)
    assert response.status_code == 201, response.get_json()
    assert db.session.scalar(sa.select(Round.status).where(Round.uuid == round_uuid)) is RoundStatus.COMPLETED
    kept = stored_scans(round_uuid)
    assert len(kept) == len(sent)  # nothing lost
    outcome = {s.uuid: (s.outcome, s.refusal) for s in kept}
    assert [outcome[s["uuid"]] for s in sent] == [
        (ScanOutcome.ACCEPTED, None),
        (ScanOutcome.REFUSED, ScanRefusal.TWICE),
        (ScanOutcome.REFUSED, ScanRefusal.OTHER_ESTATE),
        (ScanOutcome.REFUSED, ScanRefusal.NOT_ON_ROUND),
        (ScanOutcome.REFUSED, ScanRefusal.UNKNOWN_CODE),
        (ScanOutcome.REFUSED, ScanRefusal.UNKNOWN_CODE),
        (ScanOutcome.REFUSED, ScanRefusal.FUTURE_TIME),
    ]
    other_estates = next(s for s in kept if s.refusal is ScanRefusal.OTHER_ESTATE)
    assert other_estates.code_id is None and other_estates.checkpoint_key is None  # nothing of theirs is linked
    tally = db.session.get(ScanTally, kept[0].round_id)
    assert (tally.scanned, tally.refused) == (1, 6)

    # The supervisor reads each refusal on the round's page.
    api.auth.logout()
    api.login("boss")
    page = api.get(f"/rounds/{round_uuid}").get_data(as_text=True)
    for refusal in (ScanRefusal.TWICE, ScanRefusal.OTHER_ESTATE, ScanRefusal.NOT_ON_ROUND, ScanRefusal.UNKNOWN_CODE,
                    ScanRefusal.FUTURE_TIME):
        assert str(scans.REFUSALS[refusal]) in page or refusal.value in page


def test_a_retired_code_is_refused(api, world):
    api.login("amy")
    entrance = world["building"].entrances[0].id
    text = code_for(world["estate"], f"floor:{entrance}:1")
    checkpoints.retire(checkpoints.code_by_text(db.session, text))
    db.session.commit()
    round_uuid, _, response = complete(api, world, [scan(text, datetime.now(timezone.utc))])
    assert response.status_code == 201
    assert [(s.outcome, s.refusal) for s in stored_scans(round_uuid)] == [(ScanOutcome.REFUSED, ScanRefusal.RETIRED_CODE)]


def test_scans_closer_than_the_walk_are_flagged(api, world):
    api.login("amy")
    entrance = world["building"].entrances[0].id
    t0 = datetime.now(timezone.utc) - timedelta(minutes=5)
    sent = [scan(code_for(world["estate"], f"floor:{entrance}:1"), t0),
            scan(code_for(world["estate"], f"floor:{entrance}:2"), t0 + timedelta(seconds=3))]  # one storey: ≥ 8 s
    round_uuid, _, response = complete(api, world, sent)
    assert response.status_code == 201
    rnd = db.session.scalars(sa.select(Round).where(Round.uuid == round_uuid)).one()
    assert db.session.get(ScanTally, rnd.id).too_fast == 1
    api.auth.logout()
    api.login("boss")
    page = api.get(f"/rounds/{round_uuid}").get_data(as_text=True)
    assert "scan-fast" in page


def test_minimum_walk_between_places():
    same = scans.Position("floor:1:3", 10, 1, 3)
    assert scans.min_walk_seconds(scans.Position("floor:1:1", 10, 1, 1), same) == 2 * scans.FLOOR_SECONDS
    other_stairwell = scans.Position("floor:2:3", 10, 2, 3)
    assert scans.min_walk_seconds(same, other_stairwell) == scans.STAIRWELL_SECONDS + 4 * scans.FLOOR_SECONDS
    area = scans.Position("area:5", None, None, 1)
    assert scans.min_walk_seconds(same, area) == scans.BUILDING_SECONDS + 2 * scans.FLOOR_SECONDS
    assert scans.min_walk_seconds(same, same) == 0


def test_a_damaged_sticker_is_kept_with_its_reason_and_becomes_one_ticket(api, world):
    api.login("amy")
    entrance = world["building"].entrances[0].id
    key = f"floor:{entrance}:2"
    damaged = {"uuid": new_uuid(), "method": "sticker_damaged", "checkpoint": key, "reason": "貼紙被撕掉",
               "scanned_at": datetime.now(timezone.utc).isoformat()}
    round_uuid, _, response = complete(api, world, [damaged])
    assert response.status_code == 201, response.get_json()
    [kept] = stored_scans(round_uuid)
    assert kept.outcome is ScanOutcome.STICKER_DAMAGED and kept.reason == "貼紙被撕掉"
    ticket = kept.ticket
    assert ticket.item_code == STICKER_ITEM and ticket.entrance_id == entrance and ticket.floor == 2
    assert "貼紙被撕掉" in ticket.description
    ticket_id = ticket.id
    api.auth.logout()
    api.login("boss")
    page = api.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200 and "貼紙被撕掉" in page.get_data(as_text=True)
    api.auth.logout()
    api.login("amy")
    # Found again on the next round: seen again on the open ticket, not a second one.
    again = dict(damaged, uuid=new_uuid())
    _, _, response = complete(api, world, [again])
    assert response.status_code == 201
    tickets = db.session.scalars(sa.select(RepairTicket).where(RepairTicket.item_code == STICKER_ITEM)).all()
    assert len(tickets) == 1 and tickets[0].recurrences == 1


@pytest.mark.parametrize("bad, field", [
    ({"method": "sticker_damaged", "checkpoint": "estate", "reason": "  "}, "reason"),
    ({"method": "sticker_damaged", "reason": "gone"}, "checkpoint"),
    ({"method": "camera", "code": ""}, "code"),
    ({"method": "laser", "code": "x"}, "method"),
    ({"method": "camera", "code": "x" * 257}, "code"),
])
def test_a_malformed_scan_is_a_clear_422_and_stores_nothing(api, world, bad, field):
    api.login("amy")
    round_uuid, _, response = complete(api, world, [{"uuid": new_uuid(), **bad}])
    assert response.status_code == 422
    assert field in str(response.get_json()["errors"])
    assert db.session.scalar(sa.select(Round.status).where(Round.uuid == round_uuid)) is RoundStatus.IN_PROGRESS
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckpointScan)) == 0


def test_the_same_completion_with_scans_again_is_the_same_answer(api, world):
    api.login("amy")
    entrance = world["building"].entrances[0].id
    body, _ = start_corridor(api, world)
    plan = api.get(f"/api/v1/rounds/{body['uuid']}").get_json()
    completion = {"completed_at": datetime.now(timezone.utc).isoformat(), "findings": all_fine(plan),
                  "scans": [scan(code_for(world["estate"], f"floor:{entrance}:1"), datetime.now(timezone.utc))]}
    first = api.post(f"/api/v1/rounds/{body['uuid']}/completion", completion)
    again = api.post(f"/api/v1/rounds/{body['uuid']}/completion", completion)
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    assert len(stored_scans(body["uuid"])) == 1
    other = dict(completion, scans=[])
    assert api.post(f"/api/v1/rounds/{body['uuid']}/completion", other).status_code == 409
