"""Helpers of the schedule's tests (tests/rounds/test_schedule_*.py).

Calendar used throughout (November 2026):

    Mo Tu We Th Fr Sa Su
    16 17 18 19 20 21 22
    23 24 25 26 27 28 29
    30  1  2  3  4  5  6   (1 December)

Asia/Shanghai is UTC+8 all year: local midnight is 16:00 UTC the day before.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from app.extensions import db
from app.models import Estate, RoundKind
from app.rounds.schedule import (
    DueRound,
    DueStatus,
    Rule,
    Target,
    due_for_estate,
    occurrence_on,
)


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
