"""Factories: small functions that build valid domain objects with sensible defaults."""
from __future__ import annotations

import functools
import hashlib
import io
import itertools
import uuid
from datetime import date, datetime, timezone

from PIL import Image
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import (
    Building,
    ContactRelation,
    Entrance,
    Estate,
    Finding,
    FindingResult,
    Meter,
    MeterKind,
    OwnerContact,
    Role,
    Round,
    RoundKind,
    RoundStatus,
    Unit,
    UnitState,
    User,
)
from app.photos import uploads
from app.rounds.checklists import latest_version

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


@functools.cache
def _password_hash(password: str) -> str:
    # scrypt is slow on purpose; hash each test password once per test session.
    return generate_password_hash(password, method="scrypt")


def estate(name: str | None = None, timezone_name: str = "Asia/Shanghai", **kw) -> Estate:
    n = next(_seq)
    obj = Estate(code=kw.pop("code", f"E{n}"), name=name or f"Estate {n}", timezone=timezone_name, **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def building(estate_: Estate, name: str | None = None, floors: int = 6, **kw) -> Building:
    n = next(_seq)
    obj = Building(estate=estate_, code=kw.pop("code", f"B{n}"), name=name or f"{n}棟", floors=floors,
                   position=kw.pop("position", n), **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def entrance(building_: Building, name: str = "1梯") -> Entrance:
    obj = Entrance(building=building_, code=f"E{next(_seq)}", name=name, lowest_floor=1, highest_floor=building_.floors)
    db.session.add(obj)
    db.session.flush()
    return obj


def unit(building_: Building, room_number: str | None = None, state: UnitState = UnitState.OCCUPIED,
         floor: int = 1, **kw) -> Unit:
    obj = Unit(building=building_, room_number=room_number or f"{floor}{next(_seq):02d}", floor=floor,
               state=state, **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def contact(unit_: Unit, name: str = "陳大文", phone: str = "13800138000",
            id_number: str = "440301199001011234", relation: ContactRelation = ContactRelation.OWNER) -> OwnerContact:
    obj = OwnerContact(unit=unit_, name=name, phone=phone, id_number=id_number, relation=relation)
    db.session.add(obj)
    db.session.flush()
    return obj


def meter(estate_: Estate, building_: Building | None = None, unit_: Unit | None = None,
          kind: MeterKind = MeterKind.WATER) -> Meter:
    obj = Meter(estate=estate_, building=building_, unit=unit_, kind=kind, serial=f"M-{next(_seq)}")
    db.session.add(obj)
    db.session.flush()
    return obj


def user(role: Role = Role.STEWARD, username: str | None = None, estates=(), buildings=(), active: bool = True,
         password: str = PASSWORD, **kw) -> User:
    obj = User(username=username or f"{role.value}{next(_seq)}", display_name=kw.pop("display_name", "測試用戶"),
               role=role, active=active, estates=list(estates), buildings=list(buildings), **kw)
    obj.password_hash = _password_hash(password)
    db.session.add(obj)
    db.session.flush()
    return obj


def round_(kind: RoundKind, steward: User, estate_: Estate, local_date: date, building_: Building | None = None,
           unit_: Unit | None = None, completed: bool = True) -> Round:
    version = latest_version(db.session, kind)
    now = datetime.now(timezone.utc)
    # A unit's round carries its unit's building, as intake.round_to_start stores it.
    obj = Round(kind=kind, estate=estate_, building=building_ or (unit_.building if unit_ else None), unit=unit_,
                steward=steward,
                checklist_version=version, local_date=local_date,
                status=RoundStatus.COMPLETED if completed else RoundStatus.IN_PROGRESS,
                completed_at=now if completed else None)
    db.session.add(obj)
    db.session.flush()
    return obj


def jpeg_bytes(size=(640, 480), color=(200, 30, 30)) -> bytes:
    """A real JPEG made by Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def finding_with_photo(steward: User, estate_: Estate, building_: Building,
                       result: FindingResult = FindingResult.DEFECT) -> Finding:
    """A completed corridor round with one finding and one stored photo, through the real pipeline."""
    pass  # import moved

    rnd = round_(RoundKind.CORRIDOR, steward, estate_, date(2026, 11, 24), building_=building_)
    item = next(i for i in rnd.checklist_version.items if i.code == "COR-LIGHT")
    entrance_id = building_.entrances[0].id if building_.entrances else None
    finding = Finding(uuid=str(uuid.uuid4()), round=rnd, item=item, result=result, reason_code="LIGHT-OFF",
                      entrance_id=entrance_id, floor=1, recorded_at=datetime.now(timezone.utc))
    db.session.add(finding)
    db.session.flush()
    data = jpeg_bytes()
    uploads.store_photo(db.session, steward, str(uuid.uuid4()), finding.uuid, data, hashlib.sha256(data).hexdigest(),
                        max_bytes=10_000_000, max_pixels=50_000_000)
    db.session.flush()
    db.session.refresh(finding)
    return finding
