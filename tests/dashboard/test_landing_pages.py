"""Each role's landing page shows real data for their estates."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from app.extensions import db
from app.models import MeterKind, Role, RoundKind, UnitState
from app.rounds import schedule

from tests import factories


@pytest.fixture
def world(app):
    w = factories.build_world(estate="翠湖花園", buildings={"b1": "1棟", "b2": "2棟"})
    w.add_unit("vacant", "b1", "1-301", state=UnitState.VACANT, vacancy_reason=None)
    w.add_unit("decorating", "b1", "1-502", state=UnitState.DECORATING)
    w.add_unit("b2_vacant", "b2", "2-101", state=UnitState.VACANT)
    factories.meter(w["estate"], w["b1"], w["vacant"], MeterKind.WATER)
    w.add_person("steward", Role.STEWARD, "estate", "b1", username="s1")
    w.add_person("other", Role.STEWARD, "b2", username="s2", display_name="管家乙")
    return w


def texts(html: str, css_class: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(rf'class="{css_class}">(.*?)</div>', html, re.S)]


def test_steward_today_lists_exactly_what_the_schedule_says(client, auth, world):
    expected = schedule.due_rounds(db.session, world["steward"], datetime.now(timezone.utc))
    auth.login("s1")
    html = client.get("/rounds/today").get_data(as_text=True)
    places = texts(html, "round-place")
    assert len(places) == len(expected)
    assert "1棟 1-301" in places and "1棟 1-502" in places  # vacant and decorating units of building 1
    assert "2棟 2-101" not in places  # building 2 is the other steward's
    assert html.count("kind-decoration") == 1 and html.count("kind-vacant_unit") == 1
    assert html.count("kind-facility") == 1  # estate-wide: the facility round


def test_a_completed_round_leaves_the_today_page(client, auth, world):
    estate, steward, decorating = world["estate"], world["steward"], world["decorating"]
    today = schedule.local_date(estate, datetime.now(timezone.utc))
    auth.login("s1")
    assert "1棟 1-502" in client.get("/rounds/today").get_data(as_text=True)
    factories.round_(RoundKind.DECORATION, steward, estate, today, building_=world["b1"], unit_=decorating)
    assert "1棟 1-502" not in client.get("/rounds/today").get_data(as_text=True)


def test_an_in_progress_round_is_marked(client, auth, world):
    estate = world["estate"]
    today = schedule.local_date(estate, datetime.now(timezone.utc))
    factories.round_(RoundKind.DECORATION, world["steward"], estate, today, building_=world["b1"],
                     unit_=world["decorating"], completed=False)
    auth.login("s1")
    assert "badge-progress" in client.get("/rounds/today").get_data(as_text=True)


def test_desk_sees_unit_counts_and_each_stewards_load(client, auth, world):
    auth.login(factories.user(Role.DESK, estates=[world["estate"]]).username)
    html = client.get("/desk/").get_data(as_text=True)
    assert "翠湖花園" in html and "管家乙" in html
    assert client.get("/desk/?q=502").get_data(as_text=True).count("1-502") == 1


def test_supervisor_sees_overdue_rounds_per_steward(client, auth, world):
    auth.login(factories.user(Role.SUPERVISOR, estates=[world["estate"]]).username)
    response = client.get("/desk/supervisor")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "管家乙" in html


def test_engineering_sees_this_months_meter_reading(client, auth, world):
    auth.login(factories.user(Role.ENGINEERING, estates=[world["estate"]]).username)
    html = client.get("/engineering/meters").get_data(as_text=True)
    assert html.count("kind-meter") == 1 and "1棟" in html


def test_unit_search_escapes_wildcards(client, auth, world):
    auth.login(factories.user(Role.DESK, estates=[world["estate"]]).username)
    assert "1-301" not in client.get("/desk/units?q=%25").get_data(as_text=True)
    assert "1-301" in client.get("/desk/units?q=1-3").get_data(as_text=True)
