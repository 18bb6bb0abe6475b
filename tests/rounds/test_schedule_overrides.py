"""An estate's rule overrides (schedule.set_rule): in force from their date, the latest wins, the
history is kept, rounds already done are never rewritten (calendar and helpers: schedule_helpers.py)."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Period,
    Role,
    RoundKind,
    RoundStatus,
    ScheduleRule,
    UnitState,
)
from app.rounds.schedule import DEFAULT_RULES, Rule, rule_for, set_rule

from tests import factories
from tests.rounds.schedule_helpers import (
    CORRIDOR,
    DUE,
    METER,
    OVERDUE,
    VACANT,
    d,
    due,
    only,
    places,
)


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
