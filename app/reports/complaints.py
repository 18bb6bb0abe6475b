"""The summary's figures beyond rounds and repairs (總結分析, manual 五 5.7, 六 6.3, 九): complaints by
category (how many, closed, late, hours to close) and by place, return-visit coverage and grades
(A/B/C) for complaints and for unit repairs, how repairs and complaints came in (owners' own reports
by QR code among them), and violations by kind.

The counting is app/complaints/summary.py's (the complaints' own summary page counts the same way);
here it runs on the period's local bounds, as every other figure of the summary does. Reports is
the higher domain: it reads complaints' queries, complaints knows nothing of reports."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..complaints import summary as complaint_summary
from ..models import Estate
from .summaries import Period

Summary = complaint_summary.Summary
GRADES = ("A", "B", "C")


def complaints_summary(session: Session, estate: Estate, period: Period, now: datetime) -> Summary:
    """The period's complaint, return-visit, channel and violation figures of `estate`."""
    start_utc, end_utc = period.bounds(estate.timezone)
    return complaint_summary.summarise(session, estate, start_utc, end_utc, now)
