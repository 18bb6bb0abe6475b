"""The steward's today page: the rounds due by the schedule, and the tasks other domains add.

Repairs (public repairs to check on site) and decoration (re-checks, material requests, units being
decorated) answer `steward_tasks` with the page sections they add; rounds knows none of them.
"""
from __future__ import annotations

from blinker import Namespace
from sqlalchemy.orm import Session

from ..models import User
from . import schedule

_signals = Namespace()

#: `steward_tasks.send(session, steward=…)`: each domain answers a dict of the sections it adds to
#: the steward's today page (names the template reads), or {}.
steward_tasks = _signals.signal("steward-tasks")


def today_page(session: Session, steward: User) -> dict:
    """What the today page shows: overdue and due rounds, then every other domain's tasks."""
    due = schedule.due_rounds(session, steward)
    page = {"overdue": [d for d in due if d.status is schedule.DueStatus.OVERDUE],
            "due": [d for d in due if d.status is schedule.DueStatus.DUE]}
    for _, sections in steward_tasks.send(session, steward=steward):
        page.update(sections or {})
    return page
