"""The schedule in each estate's own time zone: local dates, and the due list turning at local
midnight (calendar and helpers: schedule_helpers.py)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import Estate
from app.rounds.schedule import due_rounds, local_date

from tests import factories
from tests.rounds.schedule_helpers import (
    CORRIDOR,
    DUE,
    FACILITY,
    NEW_YORK,
    OVERDUE,
    SHANGHAI,
    d,
    only,
    place,
    statuses,
    utc,
)


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
