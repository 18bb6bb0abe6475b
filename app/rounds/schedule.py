"""Which rounds are due for a steward on a date, and which are overdue.

The manual's rules are the defaults (樓宇客服管家): corridors every Tuesday and
Wednesday, public facilities every Thursday, vacant units and meters monthly,
decorating units daily. An estate can override a rule from a date on
(`ScheduleRule`). Each rule cuts time into *occurrences*: an occurrence falls due
on its first day, is overdue after its window, and lasts until the next one
falls due. A target needs one round per occurrence; a round counts for the
occurrence that contains the estate-local date it was started on, so changing a
rule never rewrites rounds already done.

Everything here works on the estate's local dates (`local_date`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import (
    Assignment,
    AssignmentPeriod,
    Building,
    Estate,
    LeaveCover,
    Meter,
    Period,
    Role,
    Round,
    RoundKind,
    RoundStatus,
    ScheduleRule,
    Unit,
    UnitState,
    User,
    user_building,
    user_estate,
)

TUESDAY, THURSDAY = 1, 3


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Rule:
    period: Period
    anchor: int = 0  # weekday (WEEK, 0 = Monday) or day of month (MONTH, 1–28)
    window_days: int | None = None  # None: due for the whole occurrence, never overdue

    def __post_init__(self) -> None:
        # A period given as a plain string ("week") would silently fall into the monthly branch.
        if not isinstance(self.period, Period):
            raise ValueError("a rule's period is a Period (DAY, WEEK or MONTH)")
        if not _is_int(self.anchor):
            raise ValueError("a rule's anchor is a whole number")
        if self.window_days is not None and not _is_int(self.window_days):
            raise ValueError("a window is a whole number of days")
        if self.period is Period.DAY and self.anchor != 0:
            raise ValueError("a daily rule has no anchor (0)")
        if self.period is Period.WEEK and not 0 <= self.anchor <= 6:
            raise ValueError("a weekly rule's anchor is a weekday, 0 (Monday) to 6 (Sunday)")
        if self.period is Period.MONTH and not 1 <= self.anchor <= 28:
            raise ValueError("a monthly rule's anchor is a day of month from 1 to 28")
        if self.window_days is not None and self.window_days < 1:
            raise ValueError("a window is at least one day")


DEFAULT_RULES: dict[RoundKind, Rule] = {
    RoundKind.CORRIDOR: Rule(Period.WEEK, anchor=TUESDAY, window_days=2),  # Tue–Wed
    RoundKind.FACILITY: Rule(Period.WEEK, anchor=THURSDAY, window_days=1),  # Thu
    RoundKind.VACANT_UNIT: Rule(Period.MONTH, anchor=1),
    RoundKind.DECORATION: Rule(Period.DAY, window_days=1),
    RoundKind.METER: Rule(Period.MONTH, anchor=1),
}


class DueStatus(Enum):
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"  # a round was completed in this occurrence


@dataclass(frozen=True)
class Occurrence:
    start: date  # falls due
    due_by: date  # last day before it is overdue
    end: date  # exclusive: the next occurrence's start

    def status_on(self, day: date) -> DueStatus:
        return DueStatus.DUE if day <= self.due_by else DueStatus.OVERDUE

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def occurrence_on(rule: Rule, day: date) -> Occurrence:
    """The occurrence of `rule` that `day` falls in."""
    if rule.period is Period.DAY:
        start, end = day, day + timedelta(days=1)
    elif rule.period is Period.WEEK:
        start = day - timedelta(days=(day.weekday() - rule.anchor) % 7)
        end = start + timedelta(days=7)
    else:
        y, m = (day.year, day.month) if day.day >= rule.anchor else _add_months(day.year, day.month, -1)
        start = date(y, m, rule.anchor)
        ny, nm = _add_months(y, m, 1)
        end = date(ny, nm, rule.anchor)
    last = end - timedelta(days=1)
    due_by = last if rule.window_days is None else min(start + timedelta(days=rule.window_days - 1), last)
    return Occurrence(start, due_by, end)


def local_date(estate: Estate, at: datetime) -> date:
    """The estate's calendar date at the instant `at` (an aware datetime)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("an aware datetime is needed")
    return at.astimezone(ZoneInfo(estate.timezone)).date()


def rule_for(session: Session, estate_id: int, kind: RoundKind, day: date) -> Rule:
    """The rule in force in an estate on a local date: its latest override, else the manual's."""
    override = session.scalars(
        sa.select(ScheduleRule)
        .where(
            ScheduleRule.estate_id == estate_id,
            ScheduleRule.kind == kind,
            ScheduleRule.effective_from <= day,
        )
        .order_by(ScheduleRule.effective_from.desc())
        .limit(1)
    ).first()
    if override is None:
        return DEFAULT_RULES[kind]
    return Rule(override.period, override.anchor, override.window_days)


def set_rule(
    session: Session, estate: Estate, kind: RoundKind, rule: Rule, effective_from: date, by: User | None = None
) -> ScheduleRule:
    """Change how often `kind` recurs in `estate` from a date on (a new row; history is kept)."""
    row = session.scalars(
        sa.select(ScheduleRule).where(
            ScheduleRule.estate_id == estate.id,
            ScheduleRule.kind == kind,
            ScheduleRule.effective_from == effective_from,
        )
    ).first()
    if row is None:
        row = ScheduleRule(estate_id=estate.id, kind=kind, effective_from=effective_from)
        session.add(row)
    row.period, row.anchor, row.window_days = rule.period, rule.anchor, rule.window_days
    row.created_by_id = by.id if by else None
    return row


@dataclass(frozen=True)
class Target:
    """The place a round walks."""

    kind: RoundKind
    estate: Estate
    building: Building | None = None
    unit: Unit | None = None

    @property
    def key(self) -> tuple:
        return (self.kind, self.estate.id, self.building.id if self.building else None,
                self.unit.id if self.unit else None)


@dataclass(frozen=True)
class DueRound:
    """A target's standing in the occurrence that contains `local_date`."""

    target: Target
    occurrence: Occurrence
    status: DueStatus
    local_date: date
    round_in_progress: Round | None = None
    completed_round: Round | None = None

    @property
    def kind(self) -> RoundKind:
        return self.target.kind


def targets_for(session: Session, steward: User, estate: Estate, day: date | None = None) -> list[Target]:
    """Every place in `estate` that `steward` walks on the estate's local date `day` (default today):
    their own places, and on the days of a cover for leave those of the colleague they cover."""
    return targets_in(session, estate, steward.building_scope(estate, day), steward.covers_estate_wide(estate, day))


def targets_in(session: Session, estate: Estate, buildings: list[Building], estate_wide: bool) -> list[Target]:
    """Every place in `estate` walked by whoever has these buildings (and, `estate_wide`, the
    estate's own places), for every round kind. A retired place is walked no more."""
    if estate.retired:
        return []
    buildings = [b for b in buildings if not b.retired]
    building_ids = [b.id for b in buildings]
    targets: list[Target] = [Target(RoundKind.CORRIDOR, estate, building=b) for b in buildings]
    if estate_wide:
        targets.append(Target(RoundKind.FACILITY, estate))

    if building_ids:
        units = session.scalars(
            sa.select(Unit)
            .where(Unit.building_id.in_(building_ids), Unit.state.in_([UnitState.VACANT, UnitState.DECORATING]),
                   Unit.retired_at.is_(None))
            .order_by(Unit.building_id, Unit.room_number)
        ).all()
        for unit in units:
            kind = RoundKind.VACANT_UNIT if unit.state is UnitState.VACANT else RoundKind.DECORATION
            targets.append(Target(kind, estate, building=unit.building, unit=unit))

    targets += meter_targets(session, estate, buildings, estate_wide)
    return targets


def meter_targets(
    session: Session, estate: Estate, buildings: list[Building], estate_wide: bool
) -> list[Target]:
    """Meter rounds: one per building that has meters, and one for the estate's own public meters."""
    # A household meter belongs to its unit's building even when its own building_id is left empty.
    building_of = sa.func.coalesce(Meter.building_id, Unit.building_id)
    metered = set(session.scalars(
        sa.select(building_of)
        .select_from(Meter)
        .outerjoin(Unit, Meter.unit_id == Unit.id)
        .where(Meter.estate_id == estate.id, Meter.retired_at.is_(None))
        .distinct()
    ))
    targets = [Target(RoundKind.METER, estate, building=b) for b in buildings if b.id in metered]
    if estate_wide and None in metered:
        targets.append(Target(RoundKind.METER, estate))
    return targets


def _place(kind: RoundKind, building_id: int | None, unit_id: int | None) -> tuple:
    """What a round walked: a unit (whether or not its building was also recorded), else a
    building, else the estate itself."""
    return (kind, None, unit_id) if unit_id is not None else (kind, building_id, None)


def _rounds_touching(session: Session, estate: Estate, since: date) -> dict[tuple, list[Round]]:
    rounds = session.scalars(
        sa.select(Round).where(Round.estate_id == estate.id, Round.local_date >= since)
    ).all()
    by_place: dict[tuple, list[Round]] = {}
    for r in rounds:
        by_place.setdefault(_place(r.kind, r.building_id, r.unit_id), []).append(r)
    return by_place


def standing(session: Session, estate: Estate, targets: list[Target], day: date,
             steward: User | None = None) -> list[DueRound]:
    """Each target's standing on the local date `day`: due, overdue or done. A round in progress
    is offered for resuming only to its own steward (`steward`), or to anyone when not given."""
    if not targets:
        return []
    occurrences = {kind: occurrence_on(rule_for(session, estate.id, kind, day), day) for kind in RoundKind}
    rounds = _rounds_touching(session, estate, min(o.start for o in occurrences.values()))

    result: list[DueRound] = []
    for target in targets:
        occ = occurrences[target.kind]
        place = _place(target.kind, target.building.id if target.building else None,
                       target.unit.id if target.unit else None)
        in_occurrence = [r for r in rounds.get(place, []) if occ.contains(r.local_date)]
        completed = next((r for r in in_occurrence if r.status is RoundStatus.COMPLETED), None)
        in_progress = next((r for r in in_occurrence if r.status is RoundStatus.IN_PROGRESS
                            and (steward is None or r.steward_id == steward.id)), None)
        status = DueStatus.DONE if completed else occ.status_on(day)
        result.append(DueRound(target, occ, status, day, in_progress, completed))
    return result


def due_for_estate(session: Session, steward: User, estate: Estate, day: date) -> list[DueRound]:
    """The due and overdue rounds of `steward` in `estate` on the local date `day`."""
    return [
        d for d in standing(session, estate, targets_for(session, steward, estate, day), day, steward)
        if d.status is not DueStatus.DONE
    ]


KIND_ORDER = [RoundKind.DECORATION, RoundKind.CORRIDOR, RoundKind.FACILITY, RoundKind.VACANT_UNIT, RoundKind.METER]


def due_rounds(session: Session, steward: User, at: datetime | None = None) -> list[DueRound]:
    """Rounds due or overdue for `steward` at the instant `at` (default: now), each
    estate judged by its own local date. Overdue first, then by kind and place."""
    if steward.role is not Role.STEWARD or not steward.active:
        return []
    at = at or datetime.now(timezone.utc)
    estates = session.scalars(
        sa.select(Estate).where(Estate.id.in_(steward.estate_ids_on(at))).order_by(Estate.id)
    ).all()
    result: list[DueRound] = []
    for estate in estates:
        result += due_for_estate(session, steward, estate, local_date(estate, at))

    def sort_key(d: DueRound) -> tuple:
        t = d.target
        return (
            d.status is not DueStatus.OVERDUE,
            KIND_ORDER.index(t.kind),
            t.estate.id,
            t.building.position if t.building else -1,
            t.unit.room_number if t.unit else "",
        )

    return sorted(result, key=sort_key)


# Who was responsible on a past day: the assignment history and the covers for leave.


class Responsibility:
    """Who walked what in one estate on each day of a span, as it was then: each steward's
    assignment in force that day (AssignmentPeriod; an assignment with no history counts as held
    throughout while its user is active) and the covers for leave in force that day (a covered
    steward's places are the cover's on those days, not their own). For the summaries, which judge
    each past period by the assignments then, not today's."""

    def __init__(self, session: Session, estate: Estate, first: date, last: date) -> None:
        self.session, self.estate, self.first, self.last = session, estate, first, last
        self._zone = ZoneInfo(estate.timezone)
        self.buildings = {b.id: b for b in estate.buildings}
        current: dict[int, set[tuple[int, int | None]]] = {}
        for user_id, in session.execute(sa.select(user_estate.c.user_id).where(user_estate.c.estate_id == estate.id)):
            current.setdefault(user_id, set()).add((estate.id, None))
        for user_id, building_id in session.execute(
                sa.select(user_building.c.user_id, user_building.c.building_id)
                .join(Building, Building.id == user_building.c.building_id).where(Building.estate_id == estate.id)):
            current.setdefault(user_id, set()).add((estate.id, building_id))
        self.periods: dict[int, dict[tuple[int, int | None], list[AssignmentPeriod]]] = {}
        for row in session.scalars(sa.select(AssignmentPeriod).where(AssignmentPeriod.estate_id == estate.id)):
            self.periods.setdefault(row.user_id, {}).setdefault((row.estate_id, row.building_id), []).append(row)
        self.current = current
        ids = set(current) | set(self.periods)
        self.covers = list(session.scalars(
            sa.select(LeaveCover).where(LeaveCover.covered_id.in_(ids), LeaveCover.first_day <= last,
                                        LeaveCover.last_day >= first))) if ids else []
        ids |= {c.cover_id for c in self.covers}
        self.users = {u.id: u for u in session.scalars(
            sa.select(User).where(User.id.in_(ids), User.role == Role.STEWARD).order_by(User.username))} if ids else {}
        self._targets: dict[tuple, list[Target]] = {}

    @property
    def stewards(self) -> list[User]:
        return list(self.users.values())

    def _local(self, instant: datetime) -> date:
        return instant.astimezone(self._zone).date()

    def _held(self, user_id: int, day: date) -> set[tuple[int, int | None]]:
        """The user's own assignment in this estate on `day`."""
        rows_by_key = self.periods.get(user_id, {})
        user = self.users.get(user_id)
        held = set()
        for key in set(rows_by_key) | self.current.get(user_id, set()):
            rows = rows_by_key.get(key)
            if rows is None:  # no history: held throughout, while the user is active
                if user is not None and user.active:
                    held.add(key)
            elif any((r.started_at is None or self._local(r.started_at) <= day)
                     and (r.ended_at is None or day < self._local(r.ended_at)) for r in rows):
                held.add(key)
        return held

    def _assignment(self, keys: set[tuple[int, int | None]]) -> Assignment:
        return Assignment([self.estate] if (self.estate.id, None) in keys else [],
                          [self.buildings[b] for _e, b in keys if b is not None and b in self.buildings])

    def targets(self, steward: User, day: date) -> list[Target]:
        """The places `steward` was responsible for on `day`: theirs unless someone covered them, and
        those of the colleagues they covered."""
        in_force = [c for c in self.covers if c.in_force_on(day, self.estate.timezone)]
        parts = []
        if not any(c.covered_id == steward.id for c in in_force):
            parts.append(self._assignment(self._held(steward.id, day)))
        parts += [self._assignment(self._held(c.covered_id, day)) for c in in_force if c.cover_id == steward.id]
        buildings: dict[int, Building] = {}
        estate_wide = False
        for part in parts:
            buildings.update((b.id, b) for b in part.building_scope(self.estate))
            estate_wide = estate_wide or part.covers_estate_wide(self.estate.id)
        key = (tuple(sorted(buildings)), estate_wide)
        if key not in self._targets:
            self._targets[key] = targets_in(self.session, self.estate,
                                            sorted(buildings.values(), key=lambda b: (b.position, b.id)), estate_wide)
        return self._targets[key]


def stewards_of(session: Session, estate: Estate) -> list[User]:
    """Active stewards assigned to the estate or to one of its buildings."""
    by_estate = sa.select(user_estate.c.user_id).where(user_estate.c.estate_id == estate.id)
    by_building = (
        sa.select(user_building.c.user_id)
        .join(Building, Building.id == user_building.c.building_id)
        .where(Building.estate_id == estate.id)
    )
    return list(
        session.scalars(
            sa.select(User)
            .where(User.role == Role.STEWARD, User.active.is_(True))
            .where(sa.or_(User.id.in_(by_estate), User.id.in_(by_building)))
            .order_by(User.username)
        )
    )
