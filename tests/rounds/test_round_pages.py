"""The steward's pages around a round: start and resume from today, the walk shell, the stored summary."""
from __future__ import annotations

import json
import re
import uuid as uuidlib

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import FindingAmendment, Role, Round, RoundStatus, UnitState

from tests import factories


@pytest.fixture
def world(app):
    w = factories.build_world(buildings={"building": "1棟"}, floors=2, stairwells=True)
    w.add_unit("decorating", "building", "1-201", state=UnitState.DECORATING)
    w.add_person("steward", Role.STEWARD, "building", username="amy")
    return w


def start_form(html: str, kind: str) -> dict:
    card = re.search(rf'kind-{kind}.*?</form>', html, re.S).group(0)
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', card))


def test_start_from_today_then_resume(client, auth, world):
    auth.login("amy")
    form = start_form(client.get("/rounds/today").get_data(as_text=True), "decoration")
    response = client.post("/rounds/start", data=form)
    assert response.status_code == 302 and response.headers["Location"].startswith("/rounds/walk?round=")
    assert client.post("/rounds/start", data=form).headers["Location"] == response.headers["Location"]  # twice: one round
    rnd = db.session.scalars(sa.select(Round)).one()
    assert rnd.status is RoundStatus.IN_PROGRESS and rnd.unit_id == world["decorating"].id
    today = client.get("/rounds/today").get_data(as_text=True)
    assert f'/rounds/walk?round={rnd.uuid}' in today  # resume where it was left
    assert f'data-round="{rnd.uuid}"' in today


def test_start_for_a_place_not_on_my_rounds_is_refused(client, auth, world, app):
    other_building = factories.building(world["estate"])
    auth.login("amy")
    token = auth.csrf()
    response = client.post("/rounds/start", data={
        "csrf_token": token, "uuid": str(uuidlib.uuid4()), "kind": "corridor",
        "estate_id": world["estate"].id, "building_id": other_building.id, "unit_id": ""})
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0


@pytest.mark.parametrize("field,value", [("kind", "party"), ("uuid", "123"), ("estate_id", "x")])
def test_start_with_nonsense_is_400(client, auth, world, field, value):
    auth.login("amy")
    form = start_form(client.get("/rounds/today").get_data(as_text=True), "decoration")
    form[field] = value
    assert client.post("/rounds/start", data=form).status_code == 400


def test_walk_page_is_a_shell_with_translated_strings(client, auth, world):
    auth.login("amy")
    html = client.get("/rounds/walk?round=anything").get_data(as_text=True)
    strings = json.loads(re.search(r'<script type="application/json" id="walk-strings">(.*?)</script>', html, re.S).group(1))
    assert strings["fine"] and strings["allFineHere"] and "%(done)s" in strings["progress"]
    assert 'type="module"' in html and "js/round.js" in html


def test_summary_shows_defects_and_amendment_keeps_the_original(client, auth, world):
    finding = factories.finding_with_photo(world["steward"], world["estate"], world["building"])
    auth.login("amy")
    html = client.get(f"/rounds/{finding.round.uuid}").get_data(as_text=True)
    assert "result-defect" in html and f"/photos/{finding.photos[0].uuid}/thumb" in html
    token = auth.csrf()
    empty = client.post(f"/rounds/findings/{finding.uuid}/amend",
                        data={"csrf_token": token, "result": "fine", "why": "", "round_uuid": finding.round.uuid,
                              "uuid": str(uuidlib.uuid4())})
    assert empty.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FindingAmendment)) == 0
    ok = client.post(f"/rounds/findings/{finding.uuid}/amend",
                     data={"csrf_token": token, "result": "fine", "why": "燈已自行恢復", "round_uuid": finding.round.uuid,
                           "uuid": str(uuidlib.uuid4())})
    assert ok.status_code == 302
    db.session.refresh(finding)
    assert finding.result.value == "defect" and finding.current.result.value == "fine"
    assert "燈已自行恢復" in client.get(f"/rounds/{finding.round.uuid}").get_data(as_text=True)


def test_desk_findings_list_shows_defects_with_photos(client, auth, world):
    finding = factories.finding_with_photo(world["steward"], world["estate"], world["building"])
    factories.user(Role.DESK, username="desk", estates=[world["estate"]])
    auth.login("desk")
    html = client.get("/desk/findings").get_data(as_text=True)
    assert html.count('class="card finding result-defect"') == 1
    assert f"/photos/{finding.photos[0].uuid}/thumb" in html


def test_other_stewards_cannot_open_my_round_summary(client, auth, world):
    finding = factories.finding_with_photo(world["steward"], world["estate"], world["building"])
    factories.user(Role.STEWARD, username="bob", buildings=[world["building"]])
    auth.login("bob")
    assert client.get(f"/rounds/{finding.round.uuid}").status_code == 404
