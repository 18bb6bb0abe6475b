"""A realistic demo estate: 3 buildings, 120 units, public areas, meters and the demo staff.

Deterministic (a fixed random seed), so every fresh clone shows the same estate.
Only this loader creates the demo users.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Estate, Notice, Team
from ..rounds import schedule
from .estate import (
    DEMO_ESTATE_CODE,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    build_estate,
    database_is_empty,
    demo_exists,
    register_decorations,
)
from .history import history_counts, load_history
from .story import BREACH_ITEM, BREACH_NOTE, BREACH_REASON, DEMO_TEAMS, HISTORY_DAYS

__all__ = ["BREACH_ITEM", "BREACH_NOTE", "BREACH_REASON", "DEMO_ESTATE_CODE", "DEMO_LOGINS", "DEMO_PASSWORD",
           "HISTORY_DAYS", "database_is_empty", "demo_exists", "history_counts", "load_demo", "load_history"]


def load_demo(session: Session, *, history: bool = False, today: date | None = None) -> Estate:
    """Create the demo estate and users; with `history`, also the four weeks before `today` (the
    estate's local date, by default now): rounds, findings, photos and tickets. The caller commits."""
    estate, users = build_estate(session)
    for name, kind, phone in DEMO_TEAMS:
        session.add(Team(estate=estate, name=name, kind=kind, phone=phone))
    session.flush()
    today = today or schedule.local_date(estate, datetime.now(timezone.utc))
    register_decorations(session, estate, users["desk1"], today, before_history=history)
    if history:
        load_history(session, estate, users, today=today)
        # The notices of past weeks' events were seen then: only today's wait unread on the bell.
        start = datetime.combine(today, time.min, ZoneInfo(estate.timezone))
        session.execute(sa.update(Notice).where(Notice.created_at < start).values(read_at=Notice.created_at))
    return estate
