"""Finding a unit by its room number, among the buildings the user covers."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..access import estates_of
from ..models import Building, Unit, User


def unit_search(session: Session, user: User, query: str, limit: int = 50) -> list[Unit]:
    """Units in the user's scope whose room number contains `query` (e.g. 301, 2-1-301)."""
    query = query.strip()
    if not query:
        return []
    buildings = [b.id for e in estates_of(session, user) for b in user.building_scope(e)]
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(session.scalars(
        sa.select(Unit).join(Building)
        .where(Unit.building_id.in_(buildings), Unit.room_number.like(pattern, escape="\\"))
        .order_by(Building.position, Unit.room_number).limit(limit)
    ))
