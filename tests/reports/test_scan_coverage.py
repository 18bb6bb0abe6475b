"""Scan coverage in the summaries: per steward and round kind, and the rounds to look at."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.models import MeterKind, Role, RoundKind, UnitState
from app.models.base import new_uuid
from app.reports.scans import scan_summary
from app.reports.summaries import Period
from app.rounds import checkpoints, schedule

from tests import factories
from tests.rounds.intake_helpers import all_fine, start_corridor


@pytest.fixture
def world(app):
    w = factories.build_world(buildings={"building": "1棟"}, floors=2, stairwells=True)
    w.add_unit("vacant", "building", "1-101", state=UnitState.VACANT)
    w["meter"] = factories.meter(w["estate"], w["building"], w["vacant"], MeterKind.WATER)
    w.add_person("steward", Role.STEWARD, "estate", username="amy")
    w.add_person("boss", Role.SUPERVISOR, "estate", username="boss")
    checkpoints.ensure_codes(db.session, w["estate"], RoundKind.CORRIDOR)
    return w.save()


def test_coverage_per_steward_and_kind_and_the_round_to_look_at(api, world):
    api.login("amy")
    codes = {k: checkpoints.code_text(c) for k, _, c in checkpoints.codes_of(db.session, world["estate"], RoundKind.CORRIDOR)}
    body, _ = start_corridor(api, world)
    plan = api.get(f"/api/v1/rounds/{body['uuid']}").get_json()
    t0 = datetime.now(timezone.utc) - timedelta(minutes=3)
    keys = [c["key"] for c in plan["checkpoints"]]
    scans = [{"uuid": new_uuid(), "method": "camera", "code": codes[keys[1]], "scanned_at": t0.isoformat()},
             {"uuid": new_uuid(), "method": "camera", "code": codes[keys[2]],
              "scanned_at": (t0 + timedelta(seconds=2)).isoformat()}]  # one storey in 2 s
    done = api.post(f"/api/v1/rounds/{body['uuid']}/completion",
                    {"completed_at": datetime.now(timezone.utc).isoformat(), "findings": all_fine(plan), "scans": scans})
    assert done.status_code == 201, done.get_json()

    period = Period.containing("month", schedule.local_date(world["estate"], datetime.now(timezone.utc)))
    summary = scan_summary(db.session, world["estate"], period)
    [row] = summary.coverage
    assert (row.steward.id, row.kind, row.rounds, row.checkpoints, row.scanned, row.too_fast_rounds) == \
        (world["steward"].id, RoundKind.CORRIDOR, 1, 3, 2, 1)
    assert [l.round.uuid for l in summary.look_at] == [body["uuid"]]

    api.auth.logout()
    api.login("boss")
    page = api.get(f"/reports/summary?estate={world['estate'].id}&period=month&start={period.start.isoformat()}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "scan-coverage" in text and "2/3" in text and body["uuid"] in text
