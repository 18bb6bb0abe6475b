"""What a round does to the due list: a completed round settles its occurrence (late or not), a
round in progress keeps the target listed, another place, kind or estate settles nothing (calendar
and helpers: schedule_helpers.py)."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.rounds.schedule import Target, standing

from tests import factories
from tests.rounds.schedule_helpers import (
    CORRIDOR,
    DONE,
    DUE,
    FACILITY,
    OVERDUE,
    d,
    due,
    only,
    place,
    places,
    statuses,
)


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
