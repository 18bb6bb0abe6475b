"""The schedule: which rounds fall due when, for whom, and when they are overdue.

Calendar used throughout (November 2026):

    Mo Tu We Th Fr Sa Su
    16 17 18 19 20 21 22
    23 24 25 26 27 28 29
    30  1  2  3  4  5  6   (1 December)

Asia/Shanghai is UTC+8 all year: local midnight is 16:00 UTC the day before.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Estate,
    MeterKind,
    Period,
    Role,
    RoundKind,
    RoundStatus,
    ScheduleRule,
    UnitState,
)
from app.rounds.schedule import (
    DEFAULT_RULES,
    DueRound,
    DueStatus,
    Rule,
    Target,
    due_for_estate,
    due_rounds,
    local_date,
    meter_targets,
    occurrence_on,
    rule_for,
    set_rule,
    standing,
    targets_for,
)

from tests import factories

CORRIDOR, FACILITY = RoundKind.CORRIDOR, RoundKind.FACILITY
VACANT, DECORATION, METER = RoundKind.VACANT_UNIT, RoundKind.DECORATION, RoundKind.METER
DUE, OVERDUE, DONE = DueStatus.DUE, DueStatus.OVERDUE, DueStatus.DONE
SHANGHAI, NEW_YORK = "Asia/Shanghai", "America/New_York"


# --------------------------------------------------------------------------- helpers


def d(iso: str) -> date:
    return date.fromisoformat(iso)


def utc(iso: str) -> datetime:
    """An aware UTC instant from 'YYYY-MM-DDTHH:MM:SS'."""
    return datetime.fromisoformat(iso).replace(tzinfo=timezone.utc)


def occ(rule: Rule, day: str) -> tuple[str, str, str]:
    """(start, due_by, end) of the occurrence of `rule` containing `day`, as ISO strings."""
    o = occurrence_on(rule, d(day))
    return o.start.isoformat(), o.due_by.isoformat(), o.end.isoformat()


def place(item: DueRound | Target) -> tuple:
    """(kind, building name, room number) of a target, readable in a failing assertion."""
    t = item.target if isinstance(item, DueRound) else item
    return t.kind, t.building.name if t.building else None, t.unit.room_number if t.unit else None


def places(items) -> set[tuple]:
    return {place(i) for i in items}


def statuses(items: list[DueRound]) -> dict[tuple, DueStatus]:
    return {place(i): i.status for i in items}


def only(items: list[DueRound], kind: RoundKind, building: str | None = None, room: str | None = None) -> DueRound:
    found = [i for i in items if place(i) == (kind, building, room)]
    assert len(found) == 1, f"expected exactly one {(kind, building, room)} in {places(items)}"
    return found[0]


def due(steward, estate, day: str) -> list[DueRound]:
    return due_for_estate(db.session, steward, estate, d(day))


@dataclass
class Site:
    """One estate (Asia/Shanghai) with two buildings and a steward assigned estate-wide."""

    estate: Estate
    b1: object
    b2: object
    steward: object


@pytest.fixture
def site(app) -> Site:
    w = factories.build_world(estate="花園小區", buildings={"b1": "1棟", "b2": "2棟"},
                              people={"steward": (Role.STEWARD, "estate")})
    return Site(w["estate"], w["b1"], w["b2"], w["steward"])


# --------------------------------------------------------------------------- Rule and defaults


def test_default_rules_are_the_manuals():
    assert DEFAULT_RULES == {
        CORRIDOR: Rule(Period.WEEK, anchor=1, window_days=2),  # Tuesday–Wednesday
        FACILITY: Rule(Period.WEEK, anchor=3, window_days=1),  # Thursday
        VACANT: Rule(Period.MONTH, anchor=1, window_days=None),
        DECORATION: Rule(Period.DAY, anchor=0, window_days=1),
        METER: Rule(Period.MONTH, anchor=1, window_days=None),
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param(dict(period=Period.WEEK, anchor=-1), id="week-anchor-below-monday"),
        pytest.param(dict(period=Period.WEEK, anchor=7), id="week-anchor-above-sunday"),
        pytest.param(dict(period=Period.MONTH, anchor=0), id="month-anchor-0"),
        pytest.param(dict(period=Period.MONTH), id="month-without-anchor"),
        pytest.param(dict(period=Period.MONTH, anchor=29), id="month-anchor-29"),
        pytest.param(dict(period=Period.MONTH, anchor=31), id="month-anchor-31"),
        pytest.param(dict(period=Period.MONTH, anchor=-5), id="month-anchor-negative"),
        pytest.param(dict(period=Period.WEEK, anchor=1, window_days=0), id="window-0"),
        pytest.param(dict(period=Period.MONTH, anchor=1, window_days=-3), id="window-negative"),
        pytest.param(dict(period=Period.DAY, anchor=3), id="day-with-anchor"),
        pytest.param(dict(period="week", anchor=1), id="period-as-string"),
        pytest.param(dict(period=None), id="period-none"),
        pytest.param(dict(period=Period.WEEK, anchor=1.5), id="anchor-not-integer"),
        pytest.param(dict(period=Period.WEEK, anchor=True), id="anchor-bool"),
        pytest.param(dict(period=Period.MONTH, anchor=1, window_days=2.5), id="window-not-integer"),
    ],
)
def test_invalid_rule_raises_value_error(kwargs):
    with pytest.raises(ValueError):
        Rule(**kwargs)


@pytest.mark.parametrize(
    "rule",
    [
        Rule(Period.WEEK, anchor=0),
        Rule(Period.WEEK, anchor=6),
        Rule(Period.MONTH, anchor=1),
        Rule(Period.MONTH, anchor=28),
        Rule(Period.MONTH, anchor=1, window_days=1),
        Rule(Period.DAY),
        Rule(Period.DAY, window_days=1),
    ],
    ids=repr,
)
def test_valid_rule_edges_are_accepted(rule):
    assert rule.period in Period


# --------------------------------------------------------------------------- corridor (Tue–Wed)

CORRIDOR_WEEK = [
    # day, weekday, (start, due_by, end), status
    ("2026-11-23", "Mon", ("2026-11-17", "2026-11-18", "2026-11-24"), OVERDUE),
    ("2026-11-24", "Tue", ("2026-11-24", "2026-11-25", "2026-12-01"), DUE),
    ("2026-11-25", "Wed", ("2026-11-24", "2026-11-25", "2026-12-01"), DUE),
    ("2026-11-26", "Thu", ("2026-11-24", "2026-11-25", "2026-12-01"), OVERDUE),
    ("2026-11-27", "Fri", ("2026-11-24", "2026-11-25", "2026-12-01"), OVERDUE),
    ("2026-11-28", "Sat", ("2026-11-24", "2026-11-25", "2026-12-01"), OVERDUE),
    ("2026-11-29", "Sun", ("2026-11-24", "2026-11-25", "2026-12-01"), OVERDUE),
    ("2026-11-30", "Mon", ("2026-11-24", "2026-11-25", "2026-12-01"), OVERDUE),
    ("2026-12-01", "Tue", ("2026-12-01", "2026-12-02", "2026-12-08"), DUE),
]


@pytest.mark.parametrize("day, weekday, expected, status", CORRIDOR_WEEK, ids=[f"{r[1]}-{r[0]}" for r in CORRIDOR_WEEK])
def test_corridor_occurrence_on_each_weekday(day, weekday, expected, status):
    rule = DEFAULT_RULES[CORRIDOR]
    assert d(day).strftime("%a") == weekday
    assert occ(rule, day) == expected
    assert occurrence_on(rule, d(day)).status_on(d(day)) is status


# --------------------------------------------------------------------------- facility (Thu)

FACILITY_WEEK = [
    ("2026-11-23", "Mon", ("2026-11-19", "2026-11-19", "2026-11-26"), OVERDUE),
    ("2026-11-24", "Tue", ("2026-11-19", "2026-11-19", "2026-11-26"), OVERDUE),
    ("2026-11-25", "Wed", ("2026-11-19", "2026-11-19", "2026-11-26"), OVERDUE),
    ("2026-11-26", "Thu", ("2026-11-26", "2026-11-26", "2026-12-03"), DUE),
    ("2026-11-27", "Fri", ("2026-11-26", "2026-11-26", "2026-12-03"), OVERDUE),
    ("2026-11-28", "Sat", ("2026-11-26", "2026-11-26", "2026-12-03"), OVERDUE),
    ("2026-11-29", "Sun", ("2026-11-26", "2026-11-26", "2026-12-03"), OVERDUE),
    ("2026-12-02", "Wed", ("2026-11-26", "2026-11-26", "2026-12-03"), OVERDUE),
    ("2026-12-03", "Thu", ("2026-12-03", "2026-12-03", "2026-12-10"), DUE),
]


@pytest.mark.parametrize("day, weekday, expected, status", FACILITY_WEEK, ids=[f"{r[1]}-{r[0]}" for r in FACILITY_WEEK])
def test_facility_occurrence_on_each_weekday(day, weekday, expected, status):
    rule = DEFAULT_RULES[FACILITY]
    assert d(day).strftime("%a") == weekday
    assert occ(rule, day) == expected
    assert occurrence_on(rule, d(day)).status_on(d(day)) is status


def test_weekly_rule_across_a_year_end():
    # Tuesday 2026-12-29 .. Monday 2027-01-04
    assert occ(DEFAULT_RULES[CORRIDOR], "2027-01-01") == ("2026-12-29", "2026-12-30", "2027-01-05")
    assert occ(DEFAULT_RULES[FACILITY], "2027-01-01") == ("2026-12-31", "2026-12-31", "2027-01-07")


def test_weekly_rule_without_window_is_never_overdue():
    rule = Rule(Period.WEEK, anchor=0)  # Mondays, the whole week
    o = occurrence_on(rule, d("2026-11-29"))
    assert (o.start, o.due_by, o.end) == (d("2026-11-23"), d("2026-11-29"), d("2026-11-30"))
    assert o.status_on(d("2026-11-29")) is DUE


def test_window_longer_than_the_period_ends_with_the_occurrence():
    assert occ(Rule(Period.WEEK, anchor=1, window_days=10), "2026-11-30") == ("2026-11-24", "2026-11-30", "2026-12-01")
    assert occ(Rule(Period.MONTH, anchor=1, window_days=31), "2027-02-10") == ("2027-02-01", "2027-02-28", "2027-03-01")


def test_occurrence_contains_its_start_but_not_its_end():
    o = occurrence_on(DEFAULT_RULES[CORRIDOR], d("2026-11-24"))
    assert not o.contains(d("2026-11-23"))
    assert o.contains(d("2026-11-24"))
    assert o.contains(d("2026-11-30"))
    assert not o.contains(d("2026-12-01"))


# --------------------------------------------------------------------------- monthly (vacant units, meters)

MONTH_ENDS = [
    ("2026-11-30", ("2026-11-01", "2026-11-30", "2026-12-01")),  # 30-day month, last day
    ("2026-12-01", ("2026-12-01", "2026-12-31", "2027-01-01")),
    ("2026-12-31", ("2026-12-01", "2026-12-31", "2027-01-01")),  # year end
    ("2027-01-01", ("2027-01-01", "2027-01-31", "2027-02-01")),
    ("2027-01-31", ("2027-01-01", "2027-01-31", "2027-02-01")),
    ("2027-02-01", ("2027-02-01", "2027-02-28", "2027-03-01")),
    ("2027-02-28", ("2027-02-01", "2027-02-28", "2027-03-01")),  # non-leap February
    ("2027-03-01", ("2027-03-01", "2027-03-31", "2027-04-01")),
    ("2027-04-30", ("2027-04-01", "2027-04-30", "2027-05-01")),
    ("2027-05-31", ("2027-05-01", "2027-05-31", "2027-06-01")),
    ("2028-02-28", ("2028-02-01", "2028-02-29", "2028-03-01")),  # leap February
    ("2028-02-29", ("2028-02-01", "2028-02-29", "2028-03-01")),
    ("2028-03-01", ("2028-03-01", "2028-03-31", "2028-04-01")),
]


@pytest.mark.parametrize("kind", [VACANT, METER], ids=lambda k: k.value)
@pytest.mark.parametrize("day, expected", MONTH_ENDS, ids=[r[0] for r in MONTH_ENDS])
def test_monthly_default_covers_the_calendar_month_and_is_never_overdue(kind, day, expected):
    rule = DEFAULT_RULES[kind]
    assert occ(rule, day) == expected
    assert occurrence_on(rule, d(day)).status_on(d(day)) is DUE


ANCHOR_25 = [
    ("2026-12-24", ("2026-11-25", "2026-12-24", "2026-12-25")),
    ("2026-12-25", ("2026-12-25", "2027-01-24", "2027-01-25")),
    ("2026-12-31", ("2026-12-25", "2027-01-24", "2027-01-25")),
    ("2027-01-01", ("2026-12-25", "2027-01-24", "2027-01-25")),
    ("2027-01-24", ("2026-12-25", "2027-01-24", "2027-01-25")),
    ("2027-01-25", ("2027-01-25", "2027-02-24", "2027-02-25")),
    ("2027-02-24", ("2027-01-25", "2027-02-24", "2027-02-25")),
]


@pytest.mark.parametrize("day, expected", ANCHOR_25, ids=[r[0] for r in ANCHOR_25])
def test_monthly_rule_anchored_on_the_25th_crosses_the_year_end(day, expected):
    assert occ(Rule(Period.MONTH, anchor=25), day) == expected


@pytest.mark.parametrize(
    "day, expected",
    [
        ("2027-02-27", ("2027-01-28", "2027-02-27", "2027-02-28")),
        ("2027-02-28", ("2027-02-28", "2027-03-27", "2027-03-28")),
        ("2027-03-01", ("2027-02-28", "2027-03-27", "2027-03-28")),
        ("2028-02-29", ("2028-02-28", "2028-03-27", "2028-03-28")),
    ],
)
def test_monthly_rule_anchored_on_the_28th_through_february(day, expected):
    assert occ(Rule(Period.MONTH, anchor=28), day) == expected


@pytest.mark.parametrize(
    "day, status",
    [
        ("2026-11-01", DUE),
        ("2026-11-10", DUE),
        ("2026-11-11", OVERDUE),
        ("2026-11-30", OVERDUE),
        ("2026-12-01", DUE),
    ],
)
def test_monthly_rule_with_ten_day_window_is_overdue_from_day_eleven(day, status):
    rule = Rule(Period.MONTH, anchor=1, window_days=10)
    o = occurrence_on(rule, d(day))
    assert o.due_by == o.start + timedelta(days=9)
    assert o.status_on(d(day)) is status


# --------------------------------------------------------------------------- decoration (daily)


@pytest.mark.parametrize("day", ["2026-11-24", "2026-11-29", "2026-12-31", "2027-02-28", "2028-02-29"])
def test_decoration_occurrence_is_the_day_itself(day):
    nxt = (d(day) + timedelta(days=1)).isoformat()
    assert occ(DEFAULT_RULES[DECORATION], day) == (day, day, nxt)
    assert occurrence_on(DEFAULT_RULES[DECORATION], d(day)).status_on(d(day)) is DUE


# --------------------------------------------------------------------------- local dates and time zones


def test_local_date_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        local_date(Estate(timezone=SHANGHAI), datetime(2026, 11, 24, 12, 0))


@pytest.mark.parametrize(
    "instant, expected",
    [
        ("2026-11-23T15:59:59", "2026-11-23"),  # Mon 23:59:59
        ("2026-11-23T16:00:00", "2026-11-24"),  # Tue 00:00:00
        ("2026-11-24T15:59:59", "2026-11-24"),  # Tue 23:59:59
        ("2026-11-24T16:00:00", "2026-11-25"),  # Wed 00:00:00
        ("2026-12-31T15:59:59", "2026-12-31"),
        ("2026-12-31T16:00:00", "2027-01-01"),
    ],
)
def test_local_date_in_shanghai_turns_at_local_midnight(instant, expected):
    assert local_date(Estate(timezone=SHANGHAI), utc(instant)) == d(expected)


def test_same_instant_gives_different_dates_in_new_york_and_shanghai():
    at = utc("2026-11-24T04:30:00")  # 12:30 Tuesday in Shanghai, 23:30 Monday in New York
    assert local_date(Estate(timezone=SHANGHAI), at) == d("2026-11-24")
    assert local_date(Estate(timezone=NEW_YORK), at) == d("2026-11-23")


def test_local_date_accepts_any_aware_datetime():
    at = datetime(2026, 11, 24, 0, 0, tzinfo=ZoneInfo(SHANGHAI))  # = 2026-11-23T16:00Z
    assert local_date(Estate(timezone=SHANGHAI), at) == d("2026-11-24")
    assert local_date(Estate(timezone=NEW_YORK), at) == d("2026-11-23")


@pytest.mark.parametrize(
    "instant, expected",
    [
        ("2026-03-08T04:59:59", "2026-03-07"),  # EST, UTC-5
        ("2026-03-08T05:00:00", "2026-03-08"),
        ("2026-03-09T03:59:59", "2026-03-08"),  # EDT from 2026-03-08, UTC-4
        ("2026-03-09T04:00:00", "2026-03-09"),
    ],
)
def test_local_date_follows_daylight_saving_in_new_york(instant, expected):
    assert local_date(Estate(timezone=NEW_YORK), utc(instant)) == d(expected)


def test_estate_time_zone_defaults_to_shanghai(app):
    estate = Estate(code="TZ", name="No zone given")
    db.session.add(estate)
    db.session.flush()
    assert estate.timezone == SHANGHAI


# --------------------------------------------------------------------------- due list across local midnight


@pytest.mark.parametrize(
    "instant, local, corridor, corridor_start, facility, facility_start",
    [
        ("2026-11-23T15:59:59", "2026-11-23", OVERDUE, "2026-11-17", OVERDUE, "2026-11-19"),  # Mon 23:59:59
        ("2026-11-23T16:00:00", "2026-11-24", DUE, "2026-11-24", OVERDUE, "2026-11-19"),  # Tue 00:00
        ("2026-11-24T15:59:59", "2026-11-24", DUE, "2026-11-24", OVERDUE, "2026-11-19"),  # Tue 23:59:59
        ("2026-11-24T16:00:00", "2026-11-25", DUE, "2026-11-24", OVERDUE, "2026-11-19"),  # Wed 00:00
        ("2026-11-25T15:59:59", "2026-11-25", DUE, "2026-11-24", OVERDUE, "2026-11-19"),  # Wed 23:59:59
        ("2026-11-25T16:00:00", "2026-11-26", OVERDUE, "2026-11-24", DUE, "2026-11-26"),  # Thu 00:00
        ("2026-11-26T15:59:59", "2026-11-26", OVERDUE, "2026-11-24", DUE, "2026-11-26"),  # Thu 23:59:59
        ("2026-11-26T16:00:00", "2026-11-27", OVERDUE, "2026-11-24", OVERDUE, "2026-11-26"),  # Fri 00:00
    ],
)
def test_due_rounds_flip_exactly_at_shanghai_midnight(app, instant, local, corridor, corridor_start,
                                                      facility, facility_start):
    estate = factories.estate(timezone_name=SHANGHAI)
    factories.building(estate, "1棟")
    steward = factories.user(estates=[estate])

    result = due_rounds(db.session, steward, utc(instant))

    assert statuses(result) == {(CORRIDOR, "1棟", None): corridor, (FACILITY, None, None): facility}
    assert {r.local_date for r in result} == {d(local)}
    assert only(result, CORRIDOR, "1棟").occurrence.start == d(corridor_start)
    assert only(result, FACILITY).occurrence.start == d(facility_start)


def test_each_estate_is_judged_by_its_own_local_date(app):
    shanghai = factories.estate("上海", timezone_name=SHANGHAI)
    new_york = factories.estate("New York", timezone_name=NEW_YORK)
    factories.building(shanghai, "SH-1")
    ny1 = factories.building(new_york, "NY-1")
    steward = factories.user(estates=[shanghai, new_york])
    at = utc("2026-11-24T04:30:00")  # Tuesday in Shanghai, still Monday in New York

    result = due_rounds(db.session, steward, at)
    corridors = {place(r): (r.local_date, r.occurrence.start, r.status) for r in result if r.kind is CORRIDOR}
    assert corridors == {
        (CORRIDOR, "SH-1", None): (d("2026-11-24"), d("2026-11-24"), DUE),
        (CORRIDOR, "NY-1", None): (d("2026-11-23"), d("2026-11-17"), OVERDUE),
    }

    # A corridor round on New York's Tuesday 17th settles New York's Monday, not Shanghai's Tuesday.
    factories.round_(CORRIDOR, steward, new_york, d("2026-11-17"), building_=ny1)
    after = due_rounds(db.session, steward, at)
    assert {place(r) for r in after if r.kind is CORRIDOR} == {(CORRIDOR, "SH-1", None)}


def test_due_rounds_defaults_to_now(site):
    before = local_date(site.estate, datetime.now(timezone.utc))
    result = due_rounds(db.session, site.steward)
    after = local_date(site.estate, datetime.now(timezone.utc))
    assert result
    assert {r.local_date for r in result} <= {before, after}


# --------------------------------------------------------------------------- completed and in-progress rounds


def test_fresh_estate_due_list_on_a_tuesday(site):
    result = due(site.steward, site.estate, "2026-11-24")
    assert statuses(result) == {
        (CORRIDOR, "1棟", None): DUE,
        (CORRIDOR, "2棟", None): DUE,
        (FACILITY, None, None): OVERDUE,
    }
    corridor = only(result, CORRIDOR, "1棟")
    assert corridor.kind is CORRIDOR
    assert corridor.local_date == d("2026-11-24")
    assert (corridor.occurrence.start, corridor.occurrence.due_by, corridor.occurrence.end) == (
        d("2026-11-24"), d("2026-11-25"), d("2026-12-01"))
    assert corridor.round_in_progress is None and corridor.completed_round is None


def test_completed_round_in_current_occurrence_removes_the_target(site):
    factories.round_(CORRIDOR, site.steward, site.estate, d("2026-11-24"), building_=site.b1)
    assert places(due(site.steward, site.estate, "2026-11-25")) == {(CORRIDOR, "2棟", None), (FACILITY, None, None)}


def test_late_round_still_counts_for_its_occurrence(site):
    # Done on Friday, overdue, but within the occurrence Tue 24 – Mon 30.
    factories.round_(CORRIDOR, site.steward, site.estate, d("2026-11-27"), building_=site.b1)
    assert (CORRIDOR, "1棟", None) not in places(due(site.steward, site.estate, "2026-11-30"))
    # The next Tuesday begins a new occurrence.
    assert (CORRIDOR, "1棟", None) in places(due(site.steward, site.estate, "2026-12-01"))


@pytest.mark.parametrize("done_on", ["2026-11-17", "2026-11-18", "2026-11-23"])
def test_round_completed_in_previous_occurrence_does_not_count(site, done_on):
    factories.round_(CORRIDOR, site.steward, site.estate, d(done_on), building_=site.b1)
    result = due(site.steward, site.estate, "2026-11-24")
    assert only(result, CORRIDOR, "1棟").status is DUE
    assert only(result, CORRIDOR, "1棟").completed_round is None


def test_in_progress_round_keeps_the_target_listed(site):
    started = factories.round_(CORRIDOR, site.steward, site.estate, d("2026-11-24"), building_=site.b1,
                               completed=False)
    result = due(site.steward, site.estate, "2026-11-26")
    corridor = only(result, CORRIDOR, "1棟")
    assert corridor.status is OVERDUE
    assert corridor.round_in_progress is started
    assert corridor.completed_round is None
    assert only(result, CORRIDOR, "2棟").round_in_progress is None


def test_in_progress_round_of_previous_occurrence_is_not_reported(site):
    factories.round_(CORRIDOR, site.steward, site.estate, d("2026-11-18"), building_=site.b1, completed=False)
    assert only(due(site.steward, site.estate, "2026-11-24"), CORRIDOR, "1棟").round_in_progress is None


def test_standing_reports_done_targets_with_their_round(site):
    done = factories.round_(CORRIDOR, site.steward, site.estate, d("2026-11-24"), building_=site.b1)
    started = factories.round_(CORRIDOR, site.steward, site.estate, d("2026-11-25"), building_=site.b1,
                               completed=False)
    targets = [Target(CORRIDOR, site.estate, building=site.b1), Target(CORRIDOR, site.estate, building=site.b2)]
    result = standing(db.session, site.estate, targets, d("2026-11-26"))
    assert [(place(r), r.status) for r in result] == [((CORRIDOR, "1棟", None), DONE), ((CORRIDOR, "2棟", None), OVERDUE)]
    assert result[0].completed_round is done
    assert result[0].round_in_progress is started
    assert (CORRIDOR, "1棟", None) not in places(due(site.steward, site.estate, "2026-11-26"))


def test_standing_of_no_targets_is_empty(site):
    assert standing(db.session, site.estate, [], d("2026-11-24")) == []


def test_round_of_another_place_or_kind_does_not_count(site):
    factories.round_(CORRIDOR, site.steward, site.estate, d("2026-11-24"), building_=site.b2)
    factories.round_(FACILITY, site.steward, site.estate, d("2026-11-24"), building_=site.b1)
    factories.round_(FACILITY, site.steward, site.estate, d("2026-11-18"))  # previous facility occurrence
    assert statuses(due(site.steward, site.estate, "2026-11-25")) == {
        (CORRIDOR, "1棟", None): DUE,
        (FACILITY, None, None): OVERDUE,
    }


def test_round_in_another_estate_does_not_count(site):
    other = factories.estate()
    factories.round_(FACILITY, site.steward, other, d("2026-11-26"))
    assert only(due(site.steward, site.estate, "2026-11-26"), FACILITY).status is DUE


def test_round_done_by_another_steward_counts(site):
    colleague = factories.user(buildings=[site.b1])
    factories.round_(CORRIDOR, colleague, site.estate, d("2026-11-24"), building_=site.b1)
    assert (CORRIDOR, "1棟", None) not in places(due(site.steward, site.estate, "2026-11-24"))


def test_facility_round_on_thursday_settles_the_week(site):
    factories.round_(FACILITY, site.steward, site.estate, d("2026-11-26"))
    for day in ["2026-11-26", "2026-11-27", "2026-12-02"]:
        assert (FACILITY, None, None) not in places(due(site.steward, site.estate, day)), day
    assert only(due(site.steward, site.estate, "2026-12-03"), FACILITY).status is DUE


# --------------------------------------------------------------------------- rule overrides


def test_rule_for_without_override_is_the_default(site):
    for kind in RoundKind:
        assert rule_for(db.session, site.estate.id, kind, d("2026-11-24")) == DEFAULT_RULES[kind]


def test_override_applies_from_its_effective_date_on(site):
    weekly = Rule(Period.WEEK, anchor=0)
    set_rule(db.session, site.estate, VACANT, weekly, effective_from=d("2026-11-16"))
    assert rule_for(db.session, site.estate.id, VACANT, d("2026-11-15")) == DEFAULT_RULES[VACANT]
    assert rule_for(db.session, site.estate.id, VACANT, d("2026-11-16")) == weekly
    assert rule_for(db.session, site.estate.id, VACANT, d("2027-06-01")) == weekly
    # Other kinds and other estates keep the manual's rule.
    assert rule_for(db.session, site.estate.id, METER, d("2026-11-20")) == DEFAULT_RULES[METER]
    other = factories.estate()
    assert rule_for(db.session, other.id, VACANT, d("2026-11-20")) == DEFAULT_RULES[VACANT]


def test_latest_override_in_force_wins(site):
    weekly = Rule(Period.WEEK, anchor=0)
    fortnightly_window = Rule(Period.MONTH, anchor=15, window_days=5)
    set_rule(db.session, site.estate, VACANT, fortnightly_window, effective_from=d("2027-01-01"))
    set_rule(db.session, site.estate, VACANT, weekly, effective_from=d("2026-11-16"))
    assert rule_for(db.session, site.estate.id, VACANT, d("2026-12-31")) == weekly
    assert rule_for(db.session, site.estate.id, VACANT, d("2027-01-01")) == fortnightly_window


def test_set_rule_on_the_same_date_replaces_that_row(site):
    by = factories.user(Role.SUPERVISOR)
    set_rule(db.session, site.estate, METER, Rule(Period.MONTH, anchor=1, window_days=5), d("2026-12-01"))
    row = set_rule(db.session, site.estate, METER, Rule(Period.MONTH, anchor=1, window_days=10), d("2026-12-01"), by=by)
    db.session.flush()
    rows = db.session.scalars(sa.select(ScheduleRule).where(ScheduleRule.estate_id == site.estate.id)).all()
    assert rows == [row]
    assert (row.kind, row.period, row.anchor, row.window_days, row.effective_from, row.created_by_id) == (
        METER, Period.MONTH, 1, 10, d("2026-12-01"), by.id)


def test_set_rule_on_a_new_date_keeps_history(site):
    set_rule(db.session, site.estate, METER, Rule(Period.MONTH, anchor=1, window_days=5), d("2026-12-01"))
    set_rule(db.session, site.estate, METER, Rule(Period.MONTH, anchor=1, window_days=10), d("2027-01-01"))
    db.session.flush()
    rows = db.session.scalars(
        sa.select(ScheduleRule).where(ScheduleRule.estate_id == site.estate.id).order_by(ScheduleRule.effective_from)
    ).all()
    assert [(r.effective_from, r.window_days, r.created_by_id) for r in rows] == [
        (d("2026-12-01"), 5, None), (d("2027-01-01"), 10, None)]


def test_vacant_units_weekly_from_a_date(site):
    unit = factories.unit(site.b1, "101", state=UnitState.VACANT)
    factories.round_(VACANT, site.steward, site.estate, d("2026-11-03"), building_=site.b1, unit_=unit)
    set_rule(db.session, site.estate, VACANT, Rule(Period.WEEK, anchor=0), effective_from=d("2026-11-16"))

    # Before the change the monthly rule holds, and the round of the 3rd settles November.
    assert (VACANT, "1棟", "101") not in places(due(site.steward, site.estate, "2026-11-15"))
    # From the 16th the unit is due weekly (Mon 16 – Sun 22) and the round of the 3rd no longer covers it.
    vacant = only(due(site.steward, site.estate, "2026-11-17"), VACANT, "1棟", "101")
    assert (vacant.occurrence.start, vacant.occurrence.end, vacant.status) == (d("2026-11-16"), d("2026-11-23"), DUE)


def test_meters_monthly_with_ten_day_window_become_overdue_on_day_eleven(site):
    factories.meter(site.estate, site.b1)
    set_rule(db.session, site.estate, METER, Rule(Period.MONTH, anchor=1, window_days=10), d("2026-11-01"))
    assert only(due(site.steward, site.estate, "2026-10-31"), METER, "1棟").status is DUE  # old rule
    assert only(due(site.steward, site.estate, "2026-11-10"), METER, "1棟").status is DUE
    meter = only(due(site.steward, site.estate, "2026-11-11"), METER, "1棟")
    assert (meter.status, meter.occurrence.due_by) == (OVERDUE, d("2026-11-10"))
    factories.round_(METER, site.steward, site.estate, d("2026-11-12"), building_=site.b1)
    assert (METER, "1棟", None) not in places(due(site.steward, site.estate, "2026-11-30"))
    assert only(due(site.steward, site.estate, "2026-12-01"), METER, "1棟").status is DUE


def test_rule_change_does_not_rewrite_rounds_already_done(site):
    done = factories.round_(CORRIDOR, site.steward, site.estate, d("2026-11-24"), building_=site.b1)
    # From Thursday 26th corridors fall due on Thursdays, one day's window.
    set_rule(db.session, site.estate, CORRIDOR, Rule(Period.WEEK, anchor=3, window_days=1), d("2026-11-26"))

    for day in ["2026-11-24", "2026-11-25"]:  # the old rule: the round of the 24th still counts
        assert (CORRIDOR, "1棟", None) not in places(due(site.steward, site.estate, day)), day
    corridor = only(due(site.steward, site.estate, "2026-11-26"), CORRIDOR, "1棟")
    assert (corridor.occurrence.start, corridor.occurrence.end, corridor.status) == (
        d("2026-11-26"), d("2026-12-03"), DUE)
    assert only(due(site.steward, site.estate, "2026-11-27"), CORRIDOR, "1棟").status is OVERDUE

    db.session.refresh(done)
    assert (done.local_date, done.status) == (d("2026-11-24"), RoundStatus.COMPLETED)


def test_round_done_under_a_weekly_rule_counts_for_the_later_monthly_occurrence(site):
    unit = factories.unit(site.b1, "101", state=UnitState.VACANT)
    set_rule(db.session, site.estate, VACANT, Rule(Period.WEEK, anchor=0), d("2026-10-01"))
    set_rule(db.session, site.estate, VACANT, Rule(Period.MONTH, anchor=1), d("2026-11-16"))
    factories.round_(VACANT, site.steward, site.estate, d("2026-11-10"), building_=site.b1, unit_=unit)
    assert (VACANT, "1棟", "101") not in places(due(site.steward, site.estate, "2026-11-12"))  # weekly, Nov 9–15
    assert (VACANT, "1棟", "101") not in places(due(site.steward, site.estate, "2026-11-20"))  # monthly, November
    assert (VACANT, "1棟", "101") in places(due(site.steward, site.estate, "2026-12-01"))


def test_override_in_one_estate_leaves_another_alone(site):
    other = factories.estate()
    factories.building(other, "其他1棟")
    other_steward = factories.user(estates=[other])
    set_rule(db.session, site.estate, CORRIDOR, Rule(Period.WEEK, anchor=0, window_days=1), d("2026-11-01"))
    assert only(due(site.steward, site.estate, "2026-11-24"), CORRIDOR, "1棟").status is OVERDUE
    assert only(due(other_steward, other, "2026-11-24"), CORRIDOR, "其他1棟").status is DUE


# --------------------------------------------------------------------------- scope


@pytest.fixture
def scoped(site):
    """Site plus a vacant unit and meters in each building, and an estate-level public meter."""
    factories.unit(site.b1, "101", state=UnitState.VACANT)
    factories.unit(site.b2, "201", state=UnitState.VACANT)
    factories.meter(site.estate, site.b1)
    factories.meter(site.estate, site.b2)
    factories.meter(site.estate)  # garage, no building
    return site


def test_estate_wide_steward_covers_every_building_and_the_estate(scoped):
    assert places(targets_for(db.session, scoped.steward, scoped.estate)) == {
        (CORRIDOR, "1棟", None), (CORRIDOR, "2棟", None),
        (FACILITY, None, None),
        (VACANT, "1棟", "101"), (VACANT, "2棟", "201"),
        (METER, "1棟", None), (METER, "2棟", None), (METER, None, None),
    }


def test_building_steward_covers_only_those_buildings(scoped):
    steward = factories.user(buildings=[scoped.b1])
    expected = {(CORRIDOR, "1棟", None), (VACANT, "1棟", "101"), (METER, "1棟", None)}
    assert places(targets_for(db.session, steward, scoped.estate)) == expected
    assert places(due_rounds(db.session, steward, utc("2026-11-24T04:00:00"))) == expected


def test_steward_with_estate_and_buildings_gets_those_buildings_and_estate_wide_rounds(scoped):
    steward = factories.user(estates=[scoped.estate], buildings=[scoped.b2])
    assert places(targets_for(db.session, steward, scoped.estate)) == {
        (CORRIDOR, "2棟", None), (VACANT, "2棟", "201"), (METER, "2棟", None),
        (FACILITY, None, None), (METER, None, None),
    }


def test_steward_sees_nothing_of_estates_not_assigned(scoped):
    elsewhere = factories.estate("別處")
    factories.building(elsewhere, "別處1棟")
    stranger = factories.user(estates=[elsewhere])
    assert targets_for(db.session, stranger, scoped.estate) == []
    assert due_for_estate(db.session, stranger, scoped.estate, d("2026-11-24")) == []
    assert {r.target.estate.id for r in due_rounds(db.session, stranger, utc("2026-11-24T04:00:00"))} == {elsewhere.id}


def test_steward_with_no_assignment_has_nothing_due(scoped):
    assert due_rounds(db.session, factories.user(), utc("2026-11-24T04:00:00")) == []


def test_building_in_one_estate_and_another_estate_wide(scoped):
    other = factories.estate("別處")
    factories.building(other, "別處1棟")
    steward = factories.user(estates=[other], buildings=[scoped.b1])
    result = due_rounds(db.session, steward, utc("2026-11-24T04:00:00"))
    assert places(result) == {
        (CORRIDOR, "1棟", None), (VACANT, "1棟", "101"), (METER, "1棟", None),
        (CORRIDOR, "別處1棟", None), (FACILITY, None, None),
    }
    assert only(result, FACILITY).target.estate.id == other.id


@pytest.mark.parametrize("role", [Role.DESK, Role.SUPERVISOR, Role.ENGINEERING])
def test_due_rounds_is_empty_for_non_stewards(scoped, role):
    person = factories.user(role, estates=[scoped.estate], buildings=[scoped.b1])
    assert due_rounds(db.session, person, utc("2026-11-24T04:00:00")) == []


def test_due_rounds_lists_overdue_first_then_by_kind_and_place(scoped):
    factories.unit(scoped.b1, "102", state=UnitState.DECORATING)
    factories.unit(scoped.b1, "103", state=UnitState.VACANT)
    result = due_rounds(db.session, scoped.steward, utc("2026-11-23T04:00:00"))  # Monday 12:00 in Shanghai
    assert [(place(r), r.status) for r in result] == [
        ((CORRIDOR, "1棟", None), OVERDUE),
        ((CORRIDOR, "2棟", None), OVERDUE),
        ((FACILITY, None, None), OVERDUE),
        ((DECORATION, "1棟", "102"), DUE),
        ((VACANT, "1棟", "101"), DUE),
        ((VACANT, "1棟", "103"), DUE),
        ((VACANT, "2棟", "201"), DUE),
        ((METER, None, None), DUE),
        ((METER, "1棟", None), DUE),
        ((METER, "2棟", None), DUE),
    ]


# --------------------------------------------------------------------------- vacant and decorating units


@pytest.mark.parametrize(
    "state, expected",
    [
        (UnitState.VACANT, {(VACANT, "1棟", "101")}),
        (UnitState.DECORATING, {(DECORATION, "1棟", "101")}),
        (UnitState.OCCUPIED, set()),
        (UnitState.RENTED, set()),
    ],
    ids=lambda v: v.value if isinstance(v, UnitState) else "",
)
def test_unit_rounds_follow_the_unit_state(site, state, expected):
    factories.unit(site.b1, "101", state=state)
    unit_places = {p for p in places(due(site.steward, site.estate, "2026-11-24")) if p[2] is not None}
    assert unit_places == expected


def test_unit_rounds_appear_and_disappear_as_the_state_changes(site):
    unit = factories.unit(site.b1, "101", state=UnitState.OCCUPIED)

    def unit_places(day: str = "2026-11-24") -> set:
        return {p for p in places(due(site.steward, site.estate, day)) if p[2] is not None}

    assert unit_places() == set()
    unit.state = UnitState.VACANT
    db.session.flush()
    assert unit_places() == {(VACANT, "1棟", "101")}
    unit.state = UnitState.DECORATING
    db.session.flush()
    assert unit_places() == {(DECORATION, "1棟", "101")}
    unit.state = UnitState.OCCUPIED
    db.session.flush()
    assert unit_places() == set()


def test_decoration_is_due_every_day(site):
    unit = factories.unit(site.b1, "101", state=UnitState.DECORATING)
    factories.round_(DECORATION, site.steward, site.estate, d("2026-11-23"), building_=site.b1, unit_=unit)
    deco = only(due(site.steward, site.estate, "2026-11-24"), DECORATION, "1棟", "101")
    assert (deco.status, deco.occurrence.start, deco.occurrence.end) == (DUE, d("2026-11-24"), d("2026-11-25"))
    factories.round_(DECORATION, site.steward, site.estate, d("2026-11-24"), building_=site.b1, unit_=unit)
    assert (DECORATION, "1棟", "101") not in places(due(site.steward, site.estate, "2026-11-24"))
    assert (DECORATION, "1棟", "101") in places(due(site.steward, site.estate, "2026-11-25"))


def test_vacant_unit_due_all_month_and_never_overdue(site):
    factories.unit(site.b1, "101", state=UnitState.VACANT)
    for day in ["2026-11-01", "2026-11-15", "2026-11-30"]:
        vacant = only(due(site.steward, site.estate, day), VACANT, "1棟", "101")
        assert (vacant.status, vacant.occurrence.start, vacant.occurrence.end) == (
            DUE, d("2026-11-01"), d("2026-12-01")), day


def test_vacant_round_of_last_month_does_not_count(site):
    unit = factories.unit(site.b1, "101", state=UnitState.VACANT)
    factories.round_(VACANT, site.steward, site.estate, d("2026-10-31"), building_=site.b1, unit_=unit)
    assert (VACANT, "1棟", "101") in places(due(site.steward, site.estate, "2026-11-01"))
    assert (VACANT, "1棟", "101") not in places(due(site.steward, site.estate, "2026-10-31"))


def test_unit_round_recorded_without_its_building_still_counts(site):
    unit = factories.unit(site.b1, "101", state=UnitState.VACANT)
    factories.round_(VACANT, site.steward, site.estate, d("2026-11-05"), unit_=unit)
    assert (VACANT, "1棟", "101") not in places(due(site.steward, site.estate, "2026-11-20"))


def test_round_of_one_unit_does_not_settle_another(site):
    u1 = factories.unit(site.b1, "101", state=UnitState.VACANT)
    factories.unit(site.b1, "102", state=UnitState.VACANT)
    factories.round_(VACANT, site.steward, site.estate, d("2026-11-05"), building_=site.b1, unit_=u1)
    assert {p for p in places(due(site.steward, site.estate, "2026-11-20")) if p[0] is VACANT} == {
        (VACANT, "1棟", "102")}


def test_vacant_round_does_not_settle_the_decoration_check(site):
    unit = factories.unit(site.b1, "101", state=UnitState.VACANT)
    factories.round_(VACANT, site.steward, site.estate, d("2026-11-24"), building_=site.b1, unit_=unit)
    unit.state = UnitState.DECORATING
    db.session.flush()
    assert only(due(site.steward, site.estate, "2026-11-24"), DECORATION, "1棟", "101").status is DUE


# --------------------------------------------------------------------------- meters


def test_meter_targets_one_per_metered_building_and_one_for_estate_meters(site):
    b3 = factories.building(site.estate, "3棟")  # no meters
    home = factories.unit(site.b1, "101")
    factories.meter(site.estate, site.b1, home, MeterKind.WATER)
    factories.meter(site.estate, site.b1, home, MeterKind.ELECTRICITY)
    factories.meter(site.estate, site.b1)  # building public meter
    factories.meter(site.estate, site.b2, kind=MeterKind.ELECTRICITY)
    factories.meter(site.estate)  # estate public meter
    buildings = [site.b1, site.b2, b3]

    wide = meter_targets(db.session, site.estate, buildings, estate_wide=True)
    assert [place(t) for t in wide] == [(METER, "1棟", None), (METER, "2棟", None), (METER, None, None)]
    assert [place(t) for t in meter_targets(db.session, site.estate, buildings, estate_wide=False)] == [
        (METER, "1棟", None), (METER, "2棟", None)]
    assert [place(t) for t in meter_targets(db.session, site.estate, [site.b2], estate_wide=False)] == [
        (METER, "2棟", None)]


def test_no_estate_meter_round_without_estate_level_meters(site):
    factories.meter(site.estate, site.b1)
    assert places(meter_targets(db.session, site.estate, [site.b1, site.b2], estate_wide=True)) == {
        (METER, "1棟", None)}


def test_meters_of_another_estate_do_not_count(site):
    other = factories.estate()
    factories.meter(other)
    factories.meter(other, factories.building(other))
    assert meter_targets(db.session, site.estate, [site.b1, site.b2], estate_wide=True) == []


def test_household_meter_without_building_counts_for_its_units_building(site):
    home = factories.unit(site.b2, "201")
    factories.meter(site.estate, unit_=home)  # building left empty
    assert places(meter_targets(db.session, site.estate, [site.b1, site.b2], estate_wide=True)) == {
        (METER, "2棟", None)}


def test_meter_rounds_settle_per_building_per_month(site):
    factories.meter(site.estate, site.b1)
    factories.meter(site.estate, site.b2)
    factories.meter(site.estate)
    factories.round_(METER, site.steward, site.estate, d("2026-10-30"), building_=site.b2)  # last month
    factories.round_(METER, site.steward, site.estate, d("2026-11-02"), building_=site.b1)
    meters = {p for p in places(due(site.steward, site.estate, "2026-11-30")) if p[0] is METER}
    assert meters == {(METER, "2棟", None), (METER, None, None)}

    factories.round_(METER, site.steward, site.estate, d("2026-11-30"))  # estate meters
    meters = {p for p in places(due(site.steward, site.estate, "2026-11-30")) if p[0] is METER}
    assert meters == {(METER, "2棟", None)}
    meters = {p for p in places(due(site.steward, site.estate, "2026-12-01")) if p[0] is METER}
    assert meters == {(METER, "1棟", None), (METER, "2棟", None), (METER, None, None)}


def test_target_key(site):
    unit = factories.unit(site.b1, "101", state=UnitState.VACANT)
    assert Target(FACILITY, site.estate).key == (FACILITY, site.estate.id, None, None)
    assert Target(VACANT, site.estate, site.b1, unit).key == (VACANT, site.estate.id, site.b1.id, unit.id)
