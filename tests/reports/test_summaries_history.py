"""The summaries judge each past period by the assignments in force then (the assignment history
the staff operations write) and the covers for leave of those days, and credit who walked."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from app.extensions import db
from app.models import Role, RoundKind
from app.reports import summaries
from app.reports.summaries import Completion, Period
from app.staff import accounts, covers
from app.staff.accounts import Assignments
from app.staff.covers import CoverRequest

from .. import factories
from ..conftest import csrf_from

OCTOBER = Period("month", date(2026, 10, 1))
NOVEMBER = Period("month", date(2026, 11, 1))
AFTER = datetime(2026, 12, 20, tzinfo=timezone.utc)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, tzinfo=timezone.utc)  # 10:00 in Asia/Shanghai


@pytest.fixture
def world(app):
    estate = factories.estate("翠湖花園")
    b1 = factories.building(estate, "1棟")
    admin = factories.user(Role.ADMIN, username="boss")
    bob, _ = accounts.create_user(db.session, admin, username="bob", display_name="Bob", role=Role.STEWARD,
                                  assignments=Assignments(frozenset(), frozenset({b1.id})), password="x" * 8,
                                  now=at(date(2026, 9, 1)))
    amy, _ = accounts.create_user(db.session, admin, username="amy", display_name="Amy", role=Role.STEWARD,
                                  password="x" * 8, now=at(date(2026, 9, 1)))
    cara, _ = accounts.create_user(db.session, admin, username="cara", display_name="Cara", role=Role.STEWARD,
                                   password="x" * 8, now=at(date(2026, 9, 1)))
    # On Thursday Oct 15, building 1 moves from Bob to Amy.
    for user, buildings in ((bob, frozenset()), (amy, frozenset({b1.id}))):
        accounts.update_user(db.session, admin, user.id, seen=accounts.fingerprint(user), display_name=user.display_name,
                             role=Role.STEWARD, assignments=Assignments(frozenset(), buildings), now=at(date(2026, 10, 15)))
    db.session.flush()
    return dict(estate=estate, b1=b1, admin=admin, bob=bob, amy=amy, cara=cara)


def per_steward(s) -> dict[str, tuple[Completion, int]]:
    return {st.steward.username: (st.completion, st.walked) for st in s.stewards}


def test_each_past_week_is_judged_by_who_was_assigned_then(world):
    # Corridors fall due on Tuesdays: Oct 6 and 13 were Bob's, Oct 20 and 27 Amy's. Bob walked Oct 7.
    factories.round_(RoundKind.CORRIDOR, world["bob"], world["estate"], date(2026, 10, 7), building_=world["b1"])
    s = summaries.estate_summary(db.session, world["estate"], OCTOBER, now=AFTER)
    assert per_steward(s) == {"bob": (Completion(due=2, done=1, missed=1), 1),
                              "amy": (Completion(due=2, done=0, missed=2), 0)}
    assert {k.kind: k.completion for k in s.completion}[RoundKind.CORRIDOR] == Completion(due=4, done=1, missed=3)
    # September was Bob's alone; Amy had nothing then.
    september = summaries.estate_summary(db.session, world["estate"], Period("month", date(2026, 9, 1)), now=AFTER)
    assert set(per_steward(september)) == {"bob"}


def test_a_cover_is_responsible_on_its_days_and_is_credited_with_what_it_walked(world):
    covers.add_cover(db.session, world["admin"], CoverRequest(world["cara"].id, world["amy"].id,
                                                              date(2026, 11, 9), date(2026, 11, 15)),
                     now=at(date(2026, 11, 1)))
    factories.round_(RoundKind.CORRIDOR, world["cara"], world["estate"], date(2026, 11, 11), building_=world["b1"])
    factories.round_(RoundKind.CORRIDOR, world["amy"], world["estate"], date(2026, 11, 3), building_=world["b1"])
    s = summaries.estate_summary(db.session, world["estate"], NOVEMBER, now=AFTER)
    # Tuesdays Nov 3, 10, 17, 24: Nov 10 fell due during the cover, so it was Cara's.
    assert per_steward(s) == {"amy": (Completion(due=3, done=1, missed=2), 1),
                              "cara": (Completion(due=1, done=1, missed=0), 1)}


def test_a_deactivated_steward_is_responsible_until_the_day_of_deactivation(world):
    amy = world["amy"]
    accounts.deactivate(db.session, world["admin"], amy.id, seen=accounts.fingerprint(amy), now=at(date(2026, 11, 11)))
    s = summaries.estate_summary(db.session, world["estate"], NOVEMBER, now=AFTER)
    assert per_steward(s) == {"amy": (Completion(due=2, done=0, missed=2), 0)}  # Nov 3 and 10
    accounts.reactivate(db.session, world["admin"], amy.id, seen=accounts.fingerprint(amy), now=at(date(2026, 11, 23)))
    s = summaries.estate_summary(db.session, world["estate"], NOVEMBER, now=AFTER)
    assert per_steward(s)["amy"][0].due == 3  # and Nov 24 again


def test_the_summary_page_shows_who_walked(client, auth, world):
    factories.round_(RoundKind.CORRIDOR, world["bob"], world["estate"], date(2026, 10, 7), building_=world["b1"])
    factories.user(Role.SUPERVISOR, username="sup", estates=[world["estate"]])
    db.session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    auth.login("sup")
    html = client.get(f"/reports/summary?estate={world['estate'].id}&kind=month&start=2026-10-01").get_data(as_text=True)
    assert "steward-walked" in html and "<th scope=\"row\">Bob</th><td>2</td><td>1</td><td>1</td>" in html
    assert csrf_from(html)
