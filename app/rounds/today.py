"""The steward's today page: the rounds due by the schedule, and the tasks other domains add.

Repairs (public repairs to check on site) and decoration (re-checks, material requests, units being
decorated) answer `steward_tasks` with the page sections they add; rounds knows none of them.
"""
from __future__ import annotations

import uuid as uuidlib

from blinker import Namespace
from sqlalchemy.orm import Session

from ..models import RoundKind, User
from . import schedule

_signals = Namespace()

#: `steward_tasks.send(session, steward=…)`: each domain answers a dict of the sections it adds to
#: the steward's today page (names the template reads), or {}.
steward_tasks = _signals.signal("steward-tasks")


#: Names the round a today card starts: the same card on every copy of the page (online or the
#: offline copy the service worker holds) carries the same UUID, so a round started from either is
#: one round, and a card already walked on the phone is recognised by it.
_ROUND_NAMESPACE = uuidlib.UUID("6f1c3a52-8d0e-4c8b-9a57-0d1f3c0e7b21")


def start_uuid(steward: User, due: schedule.DueRound) -> str:
    """The UUID of the round that starts `due` for `steward` (one per place and occurrence)."""
    t = due.target
    name = "/".join(str(x) for x in (steward.id, due.kind.value, t.estate.id, t.building.id if t.building else "",
                                     t.unit.id if t.unit else "", due.occurrence.start.isoformat()))
    return str(uuidlib.uuid5(_ROUND_NAMESPACE, name))


def target_key(due: schedule.DueRound) -> str:
    """The place as the phone's offline pack names it (kind/estate/building/unit)."""
    t = due.target
    return "/".join(str(x) for x in (due.kind.value, t.estate.id, t.building.id if t.building else "",
                                     t.unit.id if t.unit else ""))


def today_page(session: Session, steward: User) -> dict:
    """What the today page shows: overdue and due rounds, then every other domain's tasks."""
    due = sorted(schedule.due_rounds(session, steward), key=lambda d: d.occurrence.due_by)
    daily = RoundKind.DECORATION  # every day, many units: after what is due by a date
    page = {"overdue": [d for d in due if d.status is schedule.DueStatus.OVERDUE],
            "due": [d for d in due if d.status is schedule.DueStatus.DUE and d.kind is not daily],
            "decoration_due": [d for d in due if d.status is schedule.DueStatus.DUE and d.kind is daily]}
    for _, sections in steward_tasks.send(session, steward=steward):
        page.update(sections or {})
    return page
