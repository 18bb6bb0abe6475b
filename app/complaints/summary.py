"""The complaint and return-visit figures of a period (總結分析): complaints by category (how many,
closed, late, hours to close) and by place, return-visit coverage and grades for complaints and
repairs, and owners' own reports beside the other ways repairs and complaints came in."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import (
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    Estate,
    OwnerReport,
    RepairTicket,
    ReturnVisit,
    TicketEvent,
    TicketStatus,
    Violation,
)


@dataclass
class CategoryRow:
    category: ComplaintCategory
    count: int = 0
    closed: int = 0
    late: int = 0
    hours: list[float] = field(default_factory=list)

    @property
    def mean_hours(self) -> float | None:
        return sum(self.hours) / len(self.hours) if self.hours else None


@dataclass(frozen=True)
class Coverage:
    closed: int
    visited: int
    grades: dict[str, int]

    @property
    def share(self) -> float | None:
        return self.visited / self.closed if self.closed else None


@dataclass(frozen=True)
class Summary:
    by_category: list[CategoryRow]
    by_place: list[tuple[str, int]]
    complaint_visits: Coverage
    repair_visits: Coverage
    tickets_by_channel: dict[str, int]
    complaints_by_channel: dict[str, int]
    owner_reports: int
    owner_seen_again: int
    violations_by_kind: dict[str, int]


def summarise(session: Session, estate: Estate, start: datetime, end: datetime, now: datetime) -> Summary:
    complaints = list(session.scalars(sa.select(Complaint).where(
        Complaint.estate_id == estate.id, Complaint.created_at >= start, Complaint.created_at < end)))
    rows = {c: CategoryRow(c) for c in ComplaintCategory}
    places: Counter = Counter()
    for c in complaints:
        row = rows[c.category]
        row.count += 1
        places[c.place_label] += 1
        if c.status is ComplaintStatus.CLOSED and c.closed_at:
            row.closed += 1
            row.hours.append((c.closed_at - c.created_at).total_seconds() / 3600)
            if c.closed_at > c.due_at:
                row.late += 1
        elif now > c.due_at:
            row.late += 1
    # Return visits: complaints closed in the period and visited; unit repairs closed and visited.
    closed_complaints = session.scalar(sa.select(sa.func.count()).select_from(Complaint).where(
        Complaint.estate_id == estate.id, Complaint.closed_at >= start, Complaint.closed_at < end)) or 0
    complaint_grades = Counter(g for (g,) in session.execute(sa.select(ReturnVisit.grade).where(
        ReturnVisit.estate_id == estate.id, ReturnVisit.complaint_id.is_not(None), ReturnVisit.done_at >= start,
        ReturnVisit.done_at < end)))
    closed_repairs = list(session.scalars(sa.select(RepairTicket.id).where(
        RepairTicket.estate_id == estate.id, RepairTicket.is_unit_repair.is_(True),
        RepairTicket.status == TicketStatus.CLOSED, RepairTicket.closed_at >= start, RepairTicket.closed_at < end)))
    repair_grades: Counter = Counter()
    visited_repairs = 0
    if closed_repairs:
        events = session.execute(sa.select(TicketEvent.ticket_id, TicketEvent.data).where(
            TicketEvent.ticket_id.in_(closed_repairs), TicketEvent.kind == "return_visit"))
        seen = set()
        for ticket_id, data in events:
            repair_grades[(data or {}).get("grade")] += 1
            seen.add(ticket_id)
        visited_repairs = len(seen)
    tickets_by_channel = dict(session.execute(sa.select(RepairTicket.channel, sa.func.count()).where(
        RepairTicket.estate_id == estate.id, RepairTicket.created_at >= start, RepairTicket.created_at < end)
        .group_by(RepairTicket.channel)).all())
    complaints_by_channel = Counter(c.channel for c in complaints)
    reports = session.execute(sa.select(OwnerReport.seen_again, sa.func.count()).where(
        OwnerReport.estate_id == estate.id, OwnerReport.created_at >= start, OwnerReport.created_at < end)
        .group_by(OwnerReport.seen_again)).all()
    violations = dict(session.execute(sa.select(Violation.kind, sa.func.count()).where(
        Violation.estate_id == estate.id, Violation.found_at >= start, Violation.found_at < end)
        .group_by(Violation.kind)).all())
    return Summary(
        by_category=[r for r in rows.values() if r.count],
        by_place=places.most_common(10),
        complaint_visits=Coverage(closed_complaints, sum(complaint_grades.values()), dict(complaint_grades)),
        repair_visits=Coverage(len(closed_repairs), visited_repairs, {k: v for k, v in repair_grades.items() if k}),
        tickets_by_channel={k.value: v for k, v in tickets_by_channel.items()},
        complaints_by_channel={k.value: v for k, v in complaints_by_channel.items()},
        owner_reports=sum(n for _, n in reports), owner_seen_again=sum(n for seen, n in reports if seen),
        violations_by_kind=violations,
    )
