"""Resident violations beyond decoration (住戶違章): a round's finding traced to a unit, or a report,
then the same steps as a decoration breach (notice with a deadline → the steward's re-check)."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from app.extensions import db
from app.models import Violation, ViolationStatus
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
