"""The printed QR codes: one per stairwell, public area and unit door notice. A code's URL carries
only its token (unguessable); a retired code answers 404 like one never made."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

import segno
import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ..models import Building, Estate, OwnerCode, Unit

KINDS = ("entrance", "public_area", "unit")


def new_token() -> str:
    return secrets.token_urlsafe(16)  # 128 bits


def code_by_token(session: Session, token: str) -> OwnerCode | None:
    if not token or len(token) > 32:
        return None
    code = session.scalars(sa.select(OwnerCode).where(OwnerCode.token == token)).first()
    if code is None or code.retired or code.estate.retired:
        return None
    return code


def _current(session: Session, estate: Estate) -> list[OwnerCode]:
    return list(session.scalars(sa.select(OwnerCode).where(OwnerCode.estate_id == estate.id,
                                                           OwnerCode.retired_at.is_(None))))


def ensure_codes(session: Session, estate: Estate, kind: str) -> int:
    """Give every place of `kind` in service a code of its own (the ones that have none); the count made."""
    have = {(c.entrance_id, c.public_area_id, c.unit_id) for c in _current(session, estate)}
    made = 0
    if kind == "entrance":
        for building in estate.buildings:
            if building.retired:
                continue
            for entrance in building.entrances:
                if not entrance.retired and (entrance.id, None, None) not in have:
                    session.add(OwnerCode(token=new_token(), estate_id=estate.id, building_id=building.id,
                                          entrance_id=entrance.id))
                    made += 1
    elif kind == "public_area":
        for area in estate.public_areas:
            if not area.retired and (None, area.id, None) not in have:
                session.add(OwnerCode(token=new_token(), estate_id=estate.id, public_area_id=area.id))
                made += 1
    elif kind == "unit":
        units = session.scalars(sa.select(Unit).join(Building).where(Building.estate_id == estate.id,
                                                                     Unit.retired_at.is_(None)))
        for unit in units:
            if (unit.entrance_id, None, unit.id) not in have and (None, None, unit.id) not in have:
                session.add(OwnerCode(token=new_token(), estate_id=estate.id, building_id=unit.building_id,
                                      entrance_id=unit.entrance_id, unit_id=unit.id))
                made += 1
    return made


def retire(code: OwnerCode, now: datetime | None = None) -> None:
    """A code taken down (lost, copied, misused): it answers 404 from now on; a new one can be made."""
    code.retired_at = code.retired_at or now or datetime.now(timezone.utc)


def codes_of(session: Session, estate: Estate, kind: str) -> list[OwnerCode]:
    query = sa.select(OwnerCode).where(OwnerCode.estate_id == estate.id, OwnerCode.retired_at.is_(None))
    if kind == "unit":
        query = query.where(OwnerCode.unit_id.is_not(None))
    elif kind == "entrance":
        query = query.where(OwnerCode.entrance_id.is_not(None), OwnerCode.unit_id.is_(None))
    else:
        query = query.where(OwnerCode.public_area_id.is_not(None))
    query = query.options(selectinload(OwnerCode.building), selectinload(OwnerCode.entrance),
                          selectinload(OwnerCode.public_area), selectinload(OwnerCode.unit))
    return sorted(session.scalars(query), key=lambda c: c.place_label)


def qr_svg(url: str) -> str:
    """The code as inline SVG markup (no style attribute, no script: the page's CSP allows it)."""
    return segno.make(url, error="m").svg_inline(scale=4, border=2, omitsize=True)
