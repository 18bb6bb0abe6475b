"""What a notice says, in the reader's language: a title per kind (and subject), a line naming
what it is about. The notice row keeps the kind and the names (`params`); the words are the reader's."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..models import Notice, NoticeKind

TITLES = {
    NoticeKind.GATE_REQUEST: _l("Materials wait at the gate"),
    NoticeKind.TICKET_DISPATCHED: _l("A ticket for your team"),
    NoticeKind.REPAIR_CHECK_DUE: _l("A repair waits for your check"),
    NoticeKind.COMPLAINT_ASSIGNED: _l("A complaint to investigate"),
    NoticeKind.WORK_OVERDUE: _l("Work overdue"),
    NoticeKind.ESCALATION: _l("Escalated to you"),
}
# What the work is, when a kind covers several (overdue work, escalations).
SUBJECTS = {
    "ticket": _l("Repair ticket"),
    "complaint": _l("Complaint"),
    "material": _l("Material entry"),
    "visit": _l("Return visit graded C"),
}
KIND_NAMES = {
    NoticeKind.GATE_REQUEST: _l("Gate requests"),
    NoticeKind.TICKET_DISPATCHED: _l("Tickets dispatched"),
    NoticeKind.REPAIR_CHECK_DUE: _l("Repair checks"),
    NoticeKind.COMPLAINT_ASSIGNED: _l("Complaints"),
    NoticeKind.WORK_OVERDUE: _l("Overdue work"),
    NoticeKind.ESCALATION: _l("Escalations"),
}


def title(notice: Notice) -> str:
    return str(TITLES[notice.kind])


def body(notice: Notice) -> str:
    """One line: the subject (if any), the record's number, the place and the text, as they are given."""
    p = notice.params or {}
    subject = SUBJECTS.get(p.get("subject", ""))
    parts = [str(subject) if subject else "", p.get("number", ""), p.get("place", "")]
    head = " ".join(x for x in parts if x)
    text = p.get("text", "")
    return f"{head}: {text}" if head and text else head or text
