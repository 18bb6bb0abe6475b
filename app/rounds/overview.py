"""What desk, supervisors and engineering see of an estate at a glance."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import (
    Building,
    Estate,
    Unit,
    UnitState,
    User,
)
from . import schedule


@dataclass(frozen=True)
class BuildingSummary:
    building: Building
    units_by_state: dict[UnitState, int]


def building_summaries(session: Session, estate: Estate, viewer: User) -> list[BuildingSummary]:
    """Unit counts by state for each building of the estate the viewer covers."""
    buildings = viewer.building_scope(estate)
    rows = session.execute(
        sa.select(Unit.building_id, Unit.state, sa.func.count())
        .join(Building)
        .where(Building.id.in_([b.id for b in buildings]))
        .group_by(Unit.building_id, Unit.state)
    ).all()
    counts: dict[int, Counter] = {}
    for building_id, state, n in rows:
        counts.setdefault(building_id, Counter())[state] = n
    return [BuildingSummary(b, {s: counts.get(b.id, Counter())[s] for s in UnitState}) for b in buildings]


@dataclass(frozen=True)
class StewardBoard:
    steward: User
    due: list[schedule.DueRound]

    @property
    def overdue(self) -> list[schedule.DueRound]:
        return [d for d in self.due if d.status is schedule.DueStatus.OVERDUE]


def stewards_seen_by(session: Session, estate: Estate, viewer: User) -> list[User]:
    """The estate's stewards a viewer follows: all of them for a viewer of the whole estate, else
    those who walk one of the viewer's buildings."""
    stewards = schedule.stewards_of(session, estate)
    if estate.id in viewer.whole_estate_ids:
        return stewards
    mine = {b.id for b in viewer.building_scope(estate)}
    return [s for s in stewards if mine & {b.id for b in s.building_scope(estate)}]


def rounds_board(session: Session, estate: Estate, viewer: User, at: datetime | None = None) -> list[StewardBoard]:
    """The stewards the viewer follows with what is due and overdue for them now: for a viewer who
    covers only some buildings, only the rounds of places they cover."""
    day = schedule.local_date(estate, at or datetime.now(timezone.utc))
    return [StewardBoard(s, [d for d in schedule.due_for_estate(session, s, estate, day)
                             if viewer.covers_place(estate.id, d.target.building)])
            for s in stewards_seen_by(session, estate, viewer)]


def meter_standing(session: Session, estate: Estate, viewer: User,
                   at: datetime | None = None) -> list[schedule.DueRound]:
    """This period's meter reading per building the viewer covers (and the estate's public meters if
    they cover the estate wide): due, overdue or done."""
    day = schedule.local_date(estate, at or datetime.now(timezone.utc))
    targets = schedule.meter_targets(session, estate, viewer.building_scope(estate),
                                     estate_wide=viewer.covers_estate_wide(estate))
    return schedule.standing(session, estate, targets, day)
