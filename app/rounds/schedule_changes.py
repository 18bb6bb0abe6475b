"""Changing a round kind's schedule rule from the browser (the administrator, a supervisor of the
whole estate): the windows a person sets, the pending rule, the preview of who is due, the estate's time zone."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..models import (
    Estate,
    LeaveCover,
    Period,
    RoundKind,
    ScheduleRule,
    User,
)
from ..refusals import Conflict, Rejected
from ..steps import content_sha256
from .schedule import (
    Occurrence,
    Rule,
    Target,
    occurrence_on,
    rule_for,
    set_rule,
    stewards_of,
    targets_in,
)

PREVIEW_DAYS = 28
DAYS_OF_EVERY_MONTH = 28  # February has no 29th in most years


@dataclass(frozen=True)
class Window:
    """A rule as a person sets it: daily; weekly on a run of weekdays (the first falls due, overdue
    after the last); or monthly from one day of the month to another (or until the next one)."""

    period: Period
    weekdays: tuple[int, ...] = ()  # WEEK: 0 = Monday … 6 = Sunday
    first_day: int | None = None  # MONTH: the day it falls due
    last_day: int | None = None  # MONTH: the last day before it is overdue; None: until the next one

    @classmethod
    def of(cls, rule: Rule) -> Window:
        if rule.period is Period.WEEK:
            length = min(rule.window_days or 7, 7)
            return cls(Period.WEEK, tuple(sorted((rule.anchor + i) % 7 for i in range(length))))
        if rule.period is Period.MONTH:
            last = None if rule.window_days is None else min(rule.anchor + rule.window_days - 1, DAYS_OF_EVERY_MONTH)
            return cls(Period.MONTH, first_day=rule.anchor, last_day=last)
        return cls(Period.DAY)

    def rule(self) -> Rule:
        """The Rule this window is, or a refusal saying, per field, why it never occurs as written."""
        errors: dict[str, list] = {}
        if self.period is Period.DAY:
            return Rule(Period.DAY, window_days=1)
        if self.period is Period.WEEK:
            days = set(self.weekdays)
            if not days:
                errors["weekdays"] = [_l("Weekly window: tick at least one weekday; with none it never falls due.")]
            elif not days <= set(range(7)):
                errors["weekdays"] = [_l("Weekly window: a weekday is Monday to Sunday.")]
            else:
                starts = [d for d in sorted(days) if (d - 1) % 7 not in days]
                if len(days) == 7:
                    return Rule(Period.WEEK, anchor=0, window_days=None)
                if len(starts) != 1:
                    errors["weekdays"] = [_l("Weekly window: the days must follow one another (such as Tuesday to "
                                             "Wednesday, or Saturday to Monday): one window a week.")]
                else:
                    return Rule(Period.WEEK, anchor=starts[0], window_days=len(days))
        else:
            first, last = self.first_day, self.last_day
            for field, day, words in (("first_day", first, _l("first day")), ("last_day", last, _l("last day"))):
                if day is None:
                    continue
                if not 1 <= day <= 31:
                    errors[field] = [_l("Monthly window, %(which)s: a day of the month is 1 to 28.", which=words)]
                elif day > DAYS_OF_EVERY_MONTH:
                    errors[field] = [_l("Monthly window, %(which)s: day %(day)d does not occur in every month "
                                        "(February has 28 days); choose a day from 1 to 28.", which=words, day=day)]
            if first is None:
                errors.setdefault("first_day", [_l("Monthly window: enter the day of the month it falls due (1 to 28).")])
            if not errors and last is not None and last < first:
                errors["last_day"] = [_l("Monthly window: the last day (%(last)d) is before the first (%(first)d).",
                                         last=last, first=first)]
            if not errors:
                return Rule(Period.MONTH, anchor=first, window_days=None if last is None else last - first + 1)
        raise Rejected(next(iter(errors.values()))[0], errors)


def _lock(session: Session, estate: Estate) -> None:
    """The estate's row, read afresh and locked (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers)."""
    session.scalars(sa.select(Estate).where(Estate.id == estate.id).with_for_update()
                    .execution_options(populate_existing=True)).one()


def rule_rows(session: Session, estate: Estate, kind: RoundKind) -> list[ScheduleRule]:
    return list(session.scalars(sa.select(ScheduleRule).where(ScheduleRule.estate_id == estate.id,
                                                              ScheduleRule.kind == kind)
                                .order_by(ScheduleRule.effective_from)))


def rules_fingerprint(session: Session, estate: Estate, kind: RoundKind) -> str:
    """What a schedule page showed of a rule: a change made meanwhile is refused, not overwritten."""
    return content_sha256({"timezone": estate.timezone, "rows": [
        (r.id, r.effective_from.isoformat(), r.period.value, r.anchor, r.window_days)
        for r in rule_rows(session, estate, kind)]})


def pending_rule(session: Session, estate: Estate, kind: RoundKind, today: date) -> ScheduleRule | None:
    """A change saved but not in force yet."""
    return next((r for r in reversed(rule_rows(session, estate, kind)) if r.effective_from > today), None)


def next_window_start(current: Rule, new: Rule, today: date) -> date:
    """Where a change takes over: the first day the new rule's window opens once the window running
    today (by the rule in force) is over."""
    day = occurrence_on(current, today).end
    for _ in range(62):
        if occurrence_on(new, day).start == day:
            return day
        day += timedelta(days=1)
    return day  # not reached: a weekly or monthly rule opens within a month


def change_rule(session: Session, by: User | None, estate: Estate, kind: RoundKind, rule: Rule, *,
                seen: str | None, today: date) -> ScheduleRule:
    """Change how `kind` recurs in `estate` from the next window on: a new ScheduleRule row (rows in
    force are never edited). A change saved earlier and not in force yet is replaced (its row, never
    applied, is removed). Refused when the page was out of date or nothing would change."""
    _lock(session, estate)  # two changes at once queue up; the second finds the page out of date
    if not seen or seen != rules_fingerprint(session, estate, kind):
        raise Conflict(_l("The schedule of %(estate)s was changed by someone else while this page was open. "
                          "Nothing was saved: check it as it stands now.", estate=estate.name))
    current = rule_for(session, estate.id, kind, today)
    pending = [r for r in rule_rows(session, estate, kind) if r.effective_from > today]
    if rule == current and not pending:
        raise Rejected(_l("This is the rule in force already: nothing to change."))
    for row in pending:
        session.delete(row)
    session.flush()
    return set_rule(session, estate, kind, rule, next_window_start(current, rule, today), by=by)


@dataclass(frozen=True)
class PreviewWindow:
    occurrence: Occurrence
    places: list[Target]
    new_rule: bool  # by the changed rule (else the one in force)


@dataclass(frozen=True)
class StewardPreview:
    steward: User
    windows: list[PreviewWindow]


def preview(session: Session, estate: Estate, kind: RoundKind, rule: Rule, effective_from: date, today: date,
            days: int = PREVIEW_DAYS) -> list[StewardPreview]:
    """The windows of `kind` that open in the next `days` days, per steward of the estate (and anyone
    covering one of them), with the places due in each: by the rule in force until `effective_from`,
    by `rule` from then on. Reads only."""

    stewards = stewards_of(session, estate)
    ids = {s.id for s in stewards}
    last = today + timedelta(days=days - 1)
    covering = session.scalars(sa.select(User).join(LeaveCover, LeaveCover.cover_id == User.id).where(
        LeaveCover.covered_id.in_(ids), LeaveCover.first_day <= last, LeaveCover.last_day >= today,
        User.active.is_(True)).distinct()).all() if ids else []
    stewards += [u for u in covering if u.id not in ids]
    # The windows that open in the span (and the one running today), the same for every steward.
    opening = []
    for n in range(days):
        day = today + timedelta(days=n)
        occ = occurrence_on(rule if day >= effective_from else rule_for(session, estate.id, kind, day), day)
        if occ.start == day or day == today:
            opening.append((day, occ))
    result = []
    found: dict[tuple, list[Target]] = {}  # the places of one assignment, read once
    for steward in stewards:
        windows = []
        for day, occ in opening:
            buildings, wide = steward.building_scope(estate, day), steward.covers_estate_wide(estate, day)
            key = (tuple(b.id for b in buildings), wide)
            if key not in found:
                found[key] = [t for t in targets_in(session, estate, buildings, wide) if t.kind is kind]
            places = found[key]
            if places:
                windows.append(PreviewWindow(occ, places, day >= effective_from))
        result.append(StewardPreview(steward, windows))
    return result


def set_timezone(session: Session, by: User | None, estate: Estate, timezone_name: str, *, seen: str | None) -> None:
    """The estate's time zone: its calendar (local dates of rounds from now on, when windows open)."""
    from zoneinfo import available_timezones

    name = (timezone_name or "").strip()
    _lock(session, estate)
    if seen != estate.timezone:
        raise Conflict(_l("The time zone of %(estate)s was changed by someone else while this page was open. "
                          "Nothing was saved.", estate=estate.name))
    if name not in available_timezones():
        message = _l("%(zone)s is not a time zone: write it as Region/City, such as Asia/Shanghai.", zone=name or "—")
        raise Rejected(message, {"timezone": [message]})
    estate.timezone = name
    session.flush()
