"""Round completion for the summaries: which round occurrences of a period were due, done, missed or
still open, per round kind and per steward (see the section comment below)."""
from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import (
    Estate,
    Round,
    RoundKind,
    RoundStatus,
    ScheduleRule,
    User,
)
from ..rounds import schedule
from .periods import Period

# The order round kinds are shown in: the manual's order (二(二) 1–5).
KIND_ORDER = [RoundKind.CORRIDOR, RoundKind.FACILITY, RoundKind.VACANT_UNIT, RoundKind.DECORATION, RoundKind.METER]


@dataclass(frozen=True)
class Completion:
    """Round occurrences of the period: due so far, done, missed (over without a round), still open."""

    due: int = 0
    done: int = 0
    missed: int = 0

    @property
    def open(self) -> int:  # fallen due, not done, and still possible (the occurrence is not over)
        return self.due - self.done - self.missed

    @property
    def share_done(self) -> float | None:
        return self.done / self.due if self.due else None

    def __add__(self, other: Completion) -> Completion:
        return Completion(self.due + other.due, self.done + other.done, self.missed + other.missed)


@dataclass(frozen=True)
class KindCompletion:
    kind: RoundKind
    completion: Completion


@dataclass(frozen=True)
class StewardCompletion:
    """A steward's share: the occurrences they were responsible for (by the assignments and covers
    in force when each fell due) and how they stand, whoever walked them; and the rounds they walked
    in the period themselves (credited to who walked, a cover's included)."""

    steward: User
    completion: Completion
    walked: int = 0
    missed: tuple[MissedRound, ...] = ()  # the occurrences counted as missed, oldest first


@dataclass(frozen=True)
class MissedRound:
    """One occurrence over without a completed round: what was due, where, and when."""

    target: schedule.Target
    occurrence: schedule.Occurrence

    @property
    def kind(self) -> RoundKind:
        return self.target.kind



# --- Round completion ------------------------------------------------------------------------
#
# What was due comes from app/rounds/schedule.py: each steward's targets on the day an occurrence
# falls due (schedule.Responsibility: the assignments in force that day, from the assignment history,
# and the covers for leave in force that day — a covered steward's places are the cover's) and each
# round kind's rule in force (the estate's ScheduleRule, else the manual's). An occurrence belongs to
# the period it falls due in (its first day). It is
#   due     once it has fallen due (its first day is on or before today),
#   done    when a completed round of that place has a local date inside it (as schedule.standing
#           counts: a late round in the same occurrence still counts, whoever walked it),
#   missed  when it is over (the next occurrence has started, or would have) without such a round,
#   open    otherwise: not done yet, and still possible.
# A place two stewards cover counts once for the estate and once for each steward. Each steward is
# also credited with the rounds they walked in the period (a cover's rounds are the cover's).
# Limitation: unit states are today's (no history of them is kept), so a unit that stopped
# decorating during the period no longer counts, and one that started counts for the whole period.


def _rule_book(session: Session, estate: Estate):  # noqa: ANN202
    """rule_at(kind, day): what schedule.rule_for answers, from one query instead of one per day."""
    rows = session.scalars(
        sa.select(ScheduleRule).where(ScheduleRule.estate_id == estate.id).order_by(ScheduleRule.effective_from)
    ).all()
    by_kind: dict[RoundKind, list[ScheduleRule]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)

    def rule_at(kind: RoundKind, day: date) -> schedule.Rule:
        in_force = [r for r in by_kind.get(kind, []) if r.effective_from <= day]
        if not in_force:
            return schedule.DEFAULT_RULES[kind]
        r = in_force[-1]
        return schedule.Rule(r.period, r.anchor, r.window_days)

    return rule_at


def _place_key(kind: RoundKind, building_id: int | None, unit_id: int | None) -> tuple:
    """What a round walked, as schedule._place keys it: a unit, else a building, else the estate."""
    return (kind, None, unit_id) if unit_id is not None else (kind, building_id, None)


def round_completion(session: Session, estate: Estate, period: Period,
                     now: datetime | None = None) -> list[StewardCompletion]:
    """Each steward's rounds of the period as the summary counts them (missed ones listed): the
    supervisor's board shows the same figures as the summaries, from this one rule."""
    today = schedule.local_date(estate, now or datetime.now(timezone.utc))
    return _round_completion(session, estate, period, today)[1]


def _round_completion(session: Session, estate: Estate, period: Period, today: date):  # noqa: ANN202
    rule_at = _rule_book(session, estate)
    occurrences: dict[RoundKind, list[schedule.Occurrence]] = {}
    for kind in RoundKind:
        found = []
        for day in period.days():
            occ = schedule.occurrence_on(rule_at(kind, day), day)
            if occ.start == day and day <= today:
                found.append(occ)
        occurrences[kind] = found
    latest_end = max((o.end for occs in occurrences.values() for o in occs), default=period.end)

    done_dates: dict[tuple, list[date]] = defaultdict(list)
    rounds_completed = 0
    for kind, building_id, unit_id, day, n in session.execute(
        sa.select(Round.kind, Round.building_id, Round.unit_id, Round.local_date, sa.func.count())
        .where(Round.estate_id == estate.id, Round.kind.in_(list(RoundKind)),
               Round.local_date >= period.start, Round.local_date < max(latest_end, period.end),
               Round.status == RoundStatus.COMPLETED)
        .group_by(Round.kind, Round.building_id, Round.unit_id, Round.local_date)
    ):
        done_dates[_place_key(kind, building_id, unit_id)].append(day)
        if day < period.end:
            rounds_completed += n
    for dates in done_dates.values():
        dates.sort()

    def standing(key: tuple, occ: schedule.Occurrence) -> Completion:
        """One occurrence of one place: done (a completed round inside it, whoever walked it),
        missed (over without one), or open."""
        dates = done_dates.get(key, [])
        i = bisect_left(dates, occ.start)
        if i < len(dates) and dates[i] < occ.end:
            return Completion(1, 1, 0)
        return Completion(1, 0, 1 if occ.end <= today else 0)

    # Who was responsible for each occurrence: the assignments and covers in force on its first day.
    responsible = schedule.Responsibility(session, estate, period.start, period.last)
    by_target: dict[tuple, Completion] = {}
    kind_of: dict[tuple, RoundKind] = {}
    mine: dict[int, Completion] = {}
    missed: dict[int, list[MissedRound]] = defaultdict(list)
    for steward in responsible.stewards:
        total = Completion()
        for kind, occs in occurrences.items():
            for occ in occs:
                for target in responsible.targets(steward, occ.start):
                    if target.kind is not kind:
                        continue
                    place = _place_key(target.kind, target.building.id if target.building else None,
                                       target.unit.id if target.unit else None)
                    key = (target.key, occ.start)
                    if key not in by_target:
                        by_target[key] = standing(place, occ)
                        kind_of[key] = kind
                    total = total + by_target[key]
                    if by_target[key].missed:
                        missed[steward.id].append(MissedRound(target, occ))
        mine[steward.id] = total
    walked = dict(session.execute(
        sa.select(Round.steward_id, sa.func.count())
        .where(Round.estate_id == estate.id, Round.kind.in_(list(RoundKind)), Round.local_date >= period.start,
               Round.local_date < period.end, Round.status == RoundStatus.COMPLETED)
        .group_by(Round.steward_id)).all())
    people = {u.id: u for u in responsible.stewards}
    missing = set(walked) - set(people)
    if missing:  # walked here without being responsible (an assignment since taken away, another role now)
        people.update((u.id, u) for u in session.scalars(sa.select(User).where(User.id.in_(missing))))
    stewards = [StewardCompletion(u, mine.get(u.id, Completion()), walked.get(u.id, 0),
                                  tuple(sorted(missed.get(u.id, ()), key=lambda m: (m.occurrence.start, m.kind.value))))
                for u in people.values()
                if mine.get(u.id, Completion()).due or walked.get(u.id)]
    stewards.sort(key=lambda s: (-s.completion.missed, -s.completion.open, s.steward.display_name,
                                 s.steward.username))

    per_kind: dict[RoundKind, Completion] = {k: Completion() for k in KIND_ORDER}
    for key, completion in by_target.items():
        per_kind[kind_of[key]] = per_kind[kind_of[key]] + completion
    walked = set(kind_of.values())  # the kinds someone is responsible for in this estate
    completion = [KindCompletion(k, per_kind[k]) for k in KIND_ORDER if k in walked]
    return completion, stewards, rounds_completed
