"""Checkpoint codes: a printed sticker per checkpoint a round plan lists, and per estate and round
kind whether rounds are to scan them.

A code holds `XUNCHA:CP:<token>`, the token unguessable (128 bits) and kept on the server: a code
printed from anything but our sheet is unknown, a retired one refused. The phone holds only each
code's SHA-256 (in the plan and the offline pack), so it recognises a sticker with no signal but
cannot make one from what it holds.
"""
from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from datetime import datetime, timezone

import segno
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import CheckpointCode, Estate, Round, RoundKind, ScanRule, Unit, UnitState, User
from .checklists import latest_version
from .plan import build_plan

PREFIX = "XUNCHA:CP:"
SHEET_KINDS = tuple(RoundKind)


def new_token() -> str:
    return secrets.token_urlsafe(16)  # 128 bits, 22 characters


def code_text(code: CheckpointCode) -> str:
    """What the sticker's QR code (or NFC tag) holds."""
    return PREFIX + code.token


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def token_of(text: str) -> str | None:
    """The token a scanned text carries, or None when it is not one of our codes' shape."""
    text = (text or "").strip()
    if not text.startswith(PREFIX):
        return None
    token = text[len(PREFIX):]
    return token if 16 <= len(token) <= 32 and token.replace("-", "").replace("_", "").isalnum() else None


def code_by_text(session: Session, text: str) -> CheckpointCode | None:
    token = token_of(text)
    if token is None:
        return None
    return session.scalars(sa.select(CheckpointCode).where(CheckpointCode.token == token)).first()


# Which checkpoints an estate's rounds of a kind walk (what the sheet prints).


def _drafts(session: Session, estate: Estate, kind: RoundKind, now: datetime) -> list[Round]:
    """Unsaved rounds, one per target a round of `kind` walks in the estate today."""
    version = latest_version(session, kind, estate.id)
    if version is None:
        return []
    buildings = [b for b in estate.buildings if b.in_service_at(now)]

    def draft(building=None, unit=None) -> Round:  # noqa: ANN001
        return Round(kind=kind, estate=estate, estate_id=estate.id, building=building,
                     building_id=building.id if building else None, unit=unit, unit_id=unit.id if unit else None,
                     checklist_version=version, started_at=now)

    if kind is RoundKind.CORRIDOR:
        return [draft(b) for b in buildings]
    if kind is RoundKind.FACILITY:
        return [draft()]
    if kind is RoundKind.METER:
        return [draft(b) for b in buildings] + [draft()]
    state = UnitState.VACANT if kind is RoundKind.VACANT_UNIT else UnitState.DECORATING
    units = session.scalars(sa.select(Unit).where(Unit.building_id.in_([b.id for b in buildings]), Unit.state == state,
                                                  Unit.retired_at.is_(None)).order_by(Unit.building_id, Unit.room_number))
    return [draft(u.building, u) for u in units]


def estate_checkpoints(session: Session, estate: Estate, kind: RoundKind,
                       now: datetime | None = None) -> list[tuple[str, str]]:
    """(key, label) of every checkpoint the estate's rounds of `kind` walk, in walking order."""
    now = now or datetime.now(timezone.utc)
    seen: dict[str, str] = {}
    with session.no_autoflush:  # the drafts are never stored
        for rnd in _drafts(session, estate, kind, now):
            for point in build_plan(session, rnd).checkpoints:
                where = rnd.building.name if rnd.building is not None and point.key.startswith(("floor", "entrance")) \
                    else ""
                seen.setdefault(point.key, f"{where} {point.label}".strip())
    return list(seen.items())


def _current(session: Session, estate_id: int) -> list[CheckpointCode]:
    return list(session.scalars(sa.select(CheckpointCode).where(
        CheckpointCode.estate_id == estate_id, CheckpointCode.retired_at.is_(None)).order_by(CheckpointCode.id)))


def ensure_codes(session: Session, estate: Estate, kind: RoundKind, now: datetime | None = None) -> int:
    """Give every checkpoint of `kind`'s rounds a code of its own (those with none); the count made."""
    have = {c.checkpoint_key for c in _current(session, estate.id)}
    made = 0
    for key, label in estate_checkpoints(session, estate, kind, now):
        if key not in have:
            session.add(CheckpointCode(token=new_token(), estate_id=estate.id, checkpoint_key=key, label=label[:200]))
            made += 1
    return made


def codes_of(session: Session, estate: Estate, kind: RoundKind) -> list[tuple[str, str, CheckpointCode | None]]:
    """The sheet: (key, label, its current code or None) per checkpoint, in walking order."""
    current = {c.checkpoint_key: c for c in _current(session, estate.id)}
    return [(key, label, current.get(key)) for key, label in estate_checkpoints(session, estate, kind)]


def retire(code: CheckpointCode, now: datetime | None = None) -> None:
    """A sticker taken down (damaged, copied): its code is refused from now on; a new one can be made."""
    code.retired_at = code.retired_at or now or datetime.now(timezone.utc)


def code_digests(session: Session, estate_id: int) -> dict[str, list[str]]:
    """Per checkpoint key, the SHA-256 of its current codes' text (what the phone matches a scan with)."""
    digests: dict[str, list[str]] = defaultdict(list)
    for code in _current(session, estate_id):
        digests[code.checkpoint_key].append(digest(code_text(code)))
    return dict(digests)


def qr_svg(text: str) -> str:
    """The code as inline SVG markup (no style attribute, no script: the page's CSP allows it)."""
    return segno.make(text, error="m").svg_inline(scale=4, border=2, omitsize=True)


# Whether scans are asked for.


def scans_required(session: Session, estate_id: int, kind: RoundKind) -> bool:
    rule = session.scalars(sa.select(ScanRule).where(ScanRule.estate_id == estate_id, ScanRule.kind == kind)).first()
    return bool(rule and rule.required)


def rules_of(session: Session, estate_id: int) -> dict[RoundKind, bool]:
    rules = {r.kind: r.required for r in session.scalars(sa.select(ScanRule).where(ScanRule.estate_id == estate_id))}
    return {kind: rules.get(kind, False) for kind in RoundKind}


def set_required(session: Session, estate: Estate, kind: RoundKind, required: bool, by: User,
                 now: datetime | None = None) -> ScanRule:
    """A supervisor's decision, from the next round completed on (rounds done keep their tally)."""
    rule = session.scalars(sa.select(ScanRule).where(ScanRule.estate_id == estate.id, ScanRule.kind == kind)).first()
    if rule is None:
        rule = ScanRule(estate_id=estate.id, kind=kind)
        session.add(rule)
    if rule.required != required or rule.id is None:
        rule.required, rule.changed_by_id = required, by.id
        rule.changed_at = now or datetime.now(timezone.utc)
    return rule


def place_of_key(key: str) -> dict:
    """The place columns (as a finding's) a checkpoint key names: `floor:<entrance>:<floor>`,
    `floor::<floor>`, `entrance:<id>`, `area:<id>`, `asset:<id>`, `unit:<id>`, `meter:<id>`, `estate`."""
    place = dict(entrance_id=None, floor=None, public_area_id=None, asset_id=None, unit_id=None, meter_id=None)
    kind, _, rest = key.partition(":")
    try:
        if kind == "floor":
            entrance, _, floor = rest.partition(":")
            place.update(entrance_id=int(entrance) if entrance else None, floor=int(floor))
        elif kind in ("entrance", "area", "asset", "unit", "meter"):
            column = {"entrance": "entrance_id", "area": "public_area_id", "asset": "asset_id", "unit": "unit_id",
                      "meter": "meter_id"}[kind]
            place[column] = int(rest)
    except ValueError:
        pass
    return place
