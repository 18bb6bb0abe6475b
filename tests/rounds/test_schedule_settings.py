"""Schedules in the browser: a window as a person sets it (weekdays, days of the month) becomes a
rule or is refused saying where it never occurs; a change is previewed per steward for four weeks,
applies from the next window as a new row (rows in force are never edited), replaces a change not
yet in force, and refuses a page that is out of date; the estate's time zone."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.extensions import db
from app.models import Period, Role, RoundKind, ScheduleRule
from app.refusals import Conflict, Rejected
from app.rounds import schedule, schedule_changes
from app.rounds.schedule import Rule
from app.rounds.schedule_changes import Window

from .. import factories
from ..conftest import csrf_from

FRIDAY = date(2026, 12, 11)


@pytest.fixture(autouse=True)
def english(client):
    """These tests read the English messages (tests/test_i18n.py checks the other languages): of the
    pages, and of the operations' refusals read here."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with force_locale("en"):
        yield


@pytest.mark.parametrize(("window", "rule"), [
    (Window(Period.DAY), Rule(Period.DAY, window_days=1)),
    (Window(Period.WEEK, (1, 2)), Rule(Period.WEEK, anchor=1, window_days=2)),
    (Window(Period.WEEK, (3,)), Rule(Period.WEEK, anchor=3, window_days=1)),
    (Window(Period.WEEK, (0, 5, 6)), Rule(Period.WEEK, anchor=5, window_days=3)),  # Saturday to Monday
    (Window(Period.WEEK, tuple(range(7))), Rule(Period.WEEK, anchor=0, window_days=None)),
    (Window(Period.MONTH, first_day=1, last_day=10), Rule(Period.MONTH, anchor=1, window_days=10)),
    (Window(Period.MONTH, first_day=5), Rule(Period.MONTH, anchor=5, window_days=None)),
    (Window(Period.MONTH, first_day=28, last_day=28), Rule(Period.MONTH, anchor=28, window_days=1)),
])
def test_a_window_becomes_a_rule_and_back(window, rule):
    assert window.rule() == rule
    assert Window.of(rule).rule() == rule


@pytest.mark.parametrize(("window", "field", "message"), [
    (Window(Period.WEEK, ()), "weekdays", "tick at least one weekday"),
    (Window(Period.WEEK, (0, 3)), "weekdays", "the days must follow one another"),
    (Window(Period.MONTH, first_day=31), "first_day", "day 31 does not occur in every month"),
    (Window(Period.MONTH, first_day=1, last_day=30), "last_day", "day 30 does not occur in every month"),
    (Window(Period.MONTH, first_day=0), "first_day", "a day of the month is 1 to 28"),
    (Window(Period.MONTH), "first_day", "enter the day of the month"),
    (Window(Period.MONTH, first_day=10, last_day=5), "last_day", "is before the first"),
])
def test_a_window_that_never_occurs_is_refused_saying_where(window, field, message):
    with pytest.raises(Rejected) as refused:
        window.rule()
    assert message in str(refused.value.errors[field][0])


def test_a_change_applies_from_the_next_window():
    corridor = schedule.DEFAULT_RULES[RoundKind.CORRIDOR]  # Tuesday, two days
    # Friday Dec 11: this week's window opened Tue Dec 8 and runs until Tue Dec 15.
    assert schedule_changes.next_window_start(corridor, Rule(Period.WEEK, anchor=3, window_days=1), FRIDAY) == date(2026, 12, 17)
    assert schedule_changes.next_window_start(corridor, Rule(Period.WEEK, anchor=1, window_days=1), FRIDAY) == date(2026, 12, 15)
    assert schedule_changes.next_window_start(corridor, Rule(Period.MONTH, anchor=1), FRIDAY) == date(2027, 1, 1)
    monthly = schedule.DEFAULT_RULES[RoundKind.METER]
    assert schedule_changes.next_window_start(monthly, Rule(Period.WEEK, anchor=0, window_days=2), FRIDAY) == date(2027, 1, 4)


@pytest.fixture
def world(app):
    estate = factories.estate("翠湖花園")
    b1, b2 = factories.building(estate, "1棟"), factories.building(estate, "2棟")
    other = factories.estate("別苑")
    users = dict(
        ming=factories.user(Role.STEWARD, username="ming", display_name="陳小明", buildings=[b1]),
        hua=factories.user(Role.STEWARD, username="hua", display_name="林小華", buildings=[b2], estates=[estate]),
        sup=factories.user(Role.SUPERVISOR, username="sup", estates=[estate]),
        part=factories.user(Role.SUPERVISOR, username="part", buildings=[b1]),
        far=factories.user(Role.SUPERVISOR, username="far", estates=[other]),
        boss=factories.user(Role.ADMIN, username="boss"),
    )
    db.session.commit()
    return dict(estate=estate, other=other, b1=b1, b2=b2, **users)


def rows(world, kind=RoundKind.CORRIDOR) -> list[tuple]:
    return [(r.effective_from, r.period, r.anchor, r.window_days)
            for r in schedule_changes.rule_rows(db.session, world["estate"], kind)]


def test_change_rule_adds_a_row_replaces_a_pending_one_and_refuses_a_stale_page(world):
    estate, kind = world["estate"], RoundKind.CORRIDOR
    thursday = Rule(Period.WEEK, anchor=3, window_days=1)
    seen = schedule_changes.rules_fingerprint(db.session, estate, kind)
    schedule_changes.change_rule(db.session, world["boss"], estate, kind, thursday, seen=seen, today=FRIDAY)
    assert rows(world) == [(date(2026, 12, 17), Period.WEEK, 3, 1)]
    with pytest.raises(Conflict, match="changed by someone else"):
        schedule_changes.change_rule(db.session, world["boss"], estate, kind, thursday, seen=seen, today=FRIDAY)
    # Not in force yet: a second change replaces it.
    monday = Rule(Period.WEEK, anchor=0, window_days=2)
    schedule_changes.change_rule(db.session, world["boss"], estate, kind, monday,
                         seen=schedule_changes.rules_fingerprint(db.session, estate, kind), today=FRIDAY)
    assert rows(world) == [(date(2026, 12, 21), Period.WEEK, 0, 2)]
    # In force by January: a change then adds a row, the one in force stays as it was.
    later = date(2027, 1, 6)  # Wednesday
    schedule_changes.change_rule(db.session, world["boss"], estate, kind, thursday,
                         seen=schedule_changes.rules_fingerprint(db.session, estate, kind), today=later)
    assert rows(world) == [(date(2026, 12, 21), Period.WEEK, 0, 2), (date(2027, 1, 14), Period.WEEK, 3, 1)]
    with pytest.raises(Rejected, match="in force already"):
        schedule_changes.change_rule(db.session, world["boss"], estate, kind, thursday,
                             seen=schedule_changes.rules_fingerprint(db.session, estate, kind), today=date(2027, 1, 20))


def test_the_stewards_list_follows_the_change_from_its_first_window(world):
    estate = world["estate"]
    schedule_changes.change_rule(db.session, world["boss"], estate, RoundKind.CORRIDOR, Rule(Period.WEEK, anchor=3, window_days=1),
                         seen=schedule_changes.rules_fingerprint(db.session, estate, RoundKind.CORRIDOR), today=FRIDAY)

    def corridors(day: date) -> list[str]:
        moment = datetime(day.year, day.month, day.day, 2, tzinfo=timezone.utc)
        return [d.target.building.name for d in schedule.due_rounds(db.session, world["ming"], at=moment)
                if d.kind is RoundKind.CORRIDOR and d.status is schedule.DueStatus.DUE]

    assert corridors(date(2026, 12, 15)) == ["1棟"]  # the old window, Tuesday Dec 15, is still kept
    assert corridors(date(2026, 12, 16)) == ["1棟"]  # its second day
    assert corridors(date(2026, 12, 17)) == ["1棟"]  # the new one: Thursday
    assert corridors(date(2026, 12, 22)) == []  # Tuesday: no longer a corridor day


def test_the_preview_lists_the_next_four_weeks_per_steward(world):
    estate = world["estate"]
    thursday = Rule(Period.WEEK, anchor=3, window_days=1)
    previews = schedule_changes.preview(db.session, estate, RoundKind.CORRIDOR, thursday, date(2026, 12, 17), FRIDAY)
    by_name = {p.steward.username: p for p in previews}
    assert set(by_name) == {"ming", "hua"}
    ming = [(w.occurrence.start, w.occurrence.due_by, [t.building.name for t in w.places], w.new_rule)
            for w in by_name["ming"].windows]
    assert ming == [
        (date(2026, 12, 8), date(2026, 12, 9), ["1棟"], False),  # running today (overdue since Wednesday)
        (date(2026, 12, 15), date(2026, 12, 16), ["1棟"], False),
        (date(2026, 12, 17), date(2026, 12, 17), ["1棟"], True),
        (date(2026, 12, 24), date(2026, 12, 24), ["1棟"], True),
        (date(2026, 12, 31), date(2026, 12, 31), ["1棟"], True),
        (date(2027, 1, 7), date(2027, 1, 7), ["1棟"], True),  # the 28th day
    ]
    assert [t.building.name for t in by_name["hua"].windows[-1].places] == ["2棟"]
    assert rows(world) == []  # a preview stores nothing


def test_the_schedule_page_previews_before_it_saves(client, auth, world):
    estate = world["estate"]
    auth.login("sup")
    assert client.get("/admin/schedules/").headers["Location"] == f"/admin/schedules/{estate.id}"
    page = client.get(f"/admin/schedules/{estate.id}").get_data(as_text=True)
    assert "Every week, Tuesday to Wednesday" in page and "Asia/Shanghai" in page
    form = client.get(f"/admin/schedules/{estate.id}/corridor").get_data(as_text=True)
    token = csrf_from(form)
    seen = re.search(r'name="seen" value="([^"]+)"', form).group(1)
    thursday = {"csrf_token": token, "seen": seen, "period": "week", "weekday": ["3"]}
    # Saving straight away shows the preview first; nothing is stored.
    first = client.post(f"/admin/schedules/{estate.id}/corridor", data={**thursday, "action": "save"})
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "Check the preview below, then save." in html
    assert "Preview: the next four weeks" in html and "陳小明" in html and "林小華" in html
    assert rows(world) == []
    previewed = re.search(r'name="previewed" value="([^"]+)"', html).group(1)
    saved = client.post(f"/admin/schedules/{estate.id}/corridor",
                        data={**thursday, "action": "save", "previewed": previewed})
    assert saved.status_code == 302
    assert len(rows(world)) == 1 and rows(world)[0][1:] == (Period.WEEK, 3, 1)
    assert "Saved: from" in client.get(saved.headers["Location"]).get_data(as_text=True)
    # The same page sent again is out of date: refused, nothing more stored.
    again = client.post(f"/admin/schedules/{estate.id}/corridor",
                        data={**thursday, "weekday": ["4"], "action": "preview"})
    previewed = re.search(r'name="previewed" value="([^"]+)"', again.get_data(as_text=True)).group(1)
    stale = client.post(f"/admin/schedules/{estate.id}/corridor",
                        data={**thursday, "weekday": ["4"], "action": "save", "previewed": previewed})
    assert stale.status_code == 409 and "changed by someone else" in stale.get_data(as_text=True)
    assert len(rows(world)) == 1


@pytest.mark.parametrize(("data", "message"), [
    ({"period": "month", "first_day": "31"}, "day 31 does not occur in every month"),
    ({"period": "week"}, "tick at least one weekday"),
    ({"period": "week", "weekday": ["0", "2"]}, "the days must follow one another"),
    ({"period": "month", "first_day": "x"}, "write the day of the month as a number"),
    ({"period": "fortnight"}, "Choose daily, weekly or monthly."),
])
def test_a_window_that_never_occurs_is_refused_on_the_page_and_nothing_is_stored(client, auth, world, data, message):
    estate = world["estate"]
    auth.login("boss")
    form = client.get(f"/admin/schedules/{estate.id}/vacant_unit").get_data(as_text=True)
    seen = re.search(r'name="seen" value="([^"]+)"', form).group(1)
    response = client.post(f"/admin/schedules/{estate.id}/vacant_unit",
                           data={"csrf_token": csrf_from(form), "seen": seen, "action": "save", **data})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScheduleRule)) == 0


@pytest.mark.parametrize(("who", "status"), [("boss", 200), ("sup", 200), ("part", 404), ("far", 404)])
def test_who_may_set_an_estates_schedule(client, auth, world, who, status):
    auth.login(who)
    assert client.get(f"/admin/schedules/{world['estate'].id}").status_code == status
    assert client.get(f"/admin/schedules/{world['estate'].id}/corridor").status_code == status
    assert client.get(f"/admin/schedules/{world['estate'].id}/nothing").status_code == 404


def test_the_time_zone(client, auth, world):
    estate = world["estate"]
    auth.login("boss")
    token = csrf_from(client.get(f"/admin/schedules/{estate.id}").get_data(as_text=True))
    path = f"/admin/schedules/{estate.id}/timezone"
    for zone, seen, message in [("Mars/Olympus", "Asia/Shanghai", "Mars/Olympus is not a time zone"),
                                ("Asia/Taipei", "Europe/London", "changed by someone else")]:
        response = client.post(path, data={"csrf_token": token, "timezone": zone, "seen": seen})
        assert message in client.get(response.headers["Location"]).get_data(as_text=True)
        db.session.expire_all()
        assert estate.timezone == "Asia/Shanghai"
    client.post(path, data={"csrf_token": token, "timezone": "Asia/Taipei", "seen": "Asia/Shanghai"})
    db.session.expire_all()
    assert estate.timezone == "Asia/Taipei"
