"""The period a summary covers: a week or a month on the estate's own calendar."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ..refusals import Rejected

PERIOD_KINDS = ("week", "month")


class PeriodError(Rejected, ValueError):
    """A period asked for that cannot be read (unknown kind, malformed or far-off date)."""


@dataclass(frozen=True)
class Period:
    """A week (Monday to Sunday) or a calendar month, as local dates of an estate."""

    kind: str  # "week" | "month"
    start: date  # the first day: a Monday, or the 1st of a month

    def __post_init__(self) -> None:
        if self.kind not in PERIOD_KINDS:
            raise PeriodError(f"unknown period kind {self.kind!r}")
        if (self.kind == "week" and self.start.weekday() != 0) or (self.kind == "month" and self.start.day != 1):
            raise PeriodError("a period starts on a Monday (week) or on the 1st (month); use Period.containing")

    @classmethod
    def containing(cls, kind: str, day: date) -> Period:
        """The week (from its Monday) or month that `day` falls in."""
        if kind == "week":
            return cls(kind, day - timedelta(days=day.weekday()))
        if kind == "month":
            return cls(kind, day.replace(day=1))
        raise PeriodError(f"unknown period kind {kind!r}")

    @property
    def end(self) -> date:
        """The first day after the period (exclusive bound)."""
        if self.kind == "week":
            return self.start + timedelta(days=7)
        y, m = (self.start.year + 1, 1) if self.start.month == 12 else (self.start.year, self.start.month + 1)
        return date(y, m, 1)

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    def previous(self) -> Period:
        return Period.containing(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        return Period(self.kind, self.end)

    def bounds(self, timezone_name: str) -> tuple[datetime, datetime]:
        """Local midnight of the first day and of the day after the last, as UTC instants."""
        zone = ZoneInfo(timezone_name)
        return tuple(  # type: ignore[return-value]
                     datetime.combine(d, time(0), tzinfo=zone).astimezone(timezone.utc) for d in (self.start, self.end)
        )


def parse_period(kind: str | None, start: str | None, today: date) -> Period:
    """The period named by query parameters: `kind` week|month (default month), `start` an ISO date
    inside it (default: the period containing `today`). A date inside a period names that period."""
    kind = kind or "month"
    if kind not in PERIOD_KINDS:
        raise PeriodError(f"unknown period kind {kind!r}")
    if not start:
        return Period.containing(kind, today)
    try:
        day = date.fromisoformat(start) if start.isascii() else date.fromisoformat("-")
    except ValueError as exc:
        raise PeriodError(f"not a date: {start!r}") from exc
    if not 2000 <= day.year <= 2100:
        raise PeriodError(f"date out of range: {start!r}")
    return Period.containing(kind, day)
