"""The schedule's rules and their windows: when each kind of round falls due and when it is
overdue, week by week, month by month and day by day (calendar and helpers: schedule_helpers.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.models import Period
from app.rounds.schedule import DEFAULT_RULES, Rule, occurrence_on

from tests.rounds.schedule_helpers import (
    CORRIDOR,
    DECORATION,
    DUE,
    FACILITY,
    METER,
    OVERDUE,
    VACANT,
    d,
    occ,
)


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
