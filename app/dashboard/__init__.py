"""The office's landing pages (blueprint "dashboard", URLs under /desk): the desk's day and the
supervisor's board. They read the other domains; nothing is written here.

Every figure is counted by the rule of the page it links to (the review page's counts, the ticket
list's filter, the summaries' round completion), so a number and the list behind it always agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from .. import review
from ..models import Estate, User
from ..reports import summaries
from ..repairs import queries
from ..rounds import schedule


@dataclass(frozen=True)
class Waiting:
    """One thing waiting for the office: how many, and the list (its filters) that shows them."""

    key: str
    count: str  # "12", or "1000+" when a count stops
    endpoint: str
    args: dict

    @property
    def none(self) -> bool:
        return self.count == "0"


def desk_waiting(session: Session, user: User) -> list[Waiting]:
    """What waits for the desk: defects not yet reviewed, reports not yet dispatched, tickets to
    dispatch, repairs to check on site and return visits to make."""
    defects = review.ReviewFilter(defects_only=True, unreviewed_only=True)
    found = [Waiting("new_defects", str(review.review_counts(session, user, defects).findings),
                     "review.findings", defects.to_args())]
    for key, args in (
        ("new_reports", {"status": "new", "source": "report"}),
        ("to_dispatch", {"status": "new"}),
        ("checks_due", {"status": "repaired", "follow_up": "check"}),
        ("visits_due", {"status": "repaired", "follow_up": "visit"}),
    ):
        flt = queries.TicketFilter.from_args(args)
        found.append(Waiting(key, str(queries.count(session, user, flt)), "tickets.index", args))
    return found


@dataclass(frozen=True)
class MissedBoard:
    estate: Estate
    period: summaries.Period
    stewards: list[summaries.StewardCompletion]  # those with a missed round, most missed first

    @property
    def missed(self) -> int:
        return sum(s.completion.missed for s in self.stewards)


def missed_this_month(session: Session, estate: Estate, now: datetime | None = None) -> MissedBoard:
    """The rounds each steward missed this month, counted as the month's summary counts them."""
    now = now or datetime.now(timezone.utc)
    period = summaries.Period.containing("month", schedule.local_date(estate, now))
    stewards = [s for s in summaries.round_completion(session, estate, period, now) if s.completion.missed]
    return MissedBoard(estate, period, stewards)
