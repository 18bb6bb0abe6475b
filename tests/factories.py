"""Factories: small functions that build valid domain objects with sensible defaults, and the
shared test world (World, build_world) that lays them out under names for a test."""
from __future__ import annotations

import functools
import hashlib
import io
import itertools
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

from PIL import Image
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.decoration import permits
from app.models import (
    Building,
    ContactRelation,
    DecorationPermit,
    Entrance,
    Estate,
    Finding,
    FindingResult,
    Language,
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


def registration(unit_: Unit, **changes) -> permits.Registration:
    """A decoration registration (裝修登記) of `unit_` as the desk fills it in; `changes` override any field."""
    fields = dict(unit_id=unit_.id, owner_name="陳大文", owner_phone="13800138000", contractor_name="安居裝飾",
                  contractor_phone="13900139000", workers=3, planned_start=date(2026, 11, 20),
                  planned_end=date(2026, 12, 31), scope="廚衛改造", deposit=Decimal("2000"))
    fields.update(changes)
    return permits.Registration(**fields)


def permit(desk: User, unit_: Unit, now: datetime | None = None, **changes) -> DecorationPermit:
    """A decoration registered by `desk` through the service: the unit becomes decorating."""
    return permits.register(db.session, desk, registration(unit_, **changes), now=now)


# --------------------------------------------------------------------------- the shared test world


class World(dict):
    """What a test stands on: estates, buildings, units, people and records, each under a key
    (world["estate"], world["amy"]), read as the dict it is.

    build_world() lays out the usual shape in one call; the add_* methods grow it, each storing what it
    makes under its key and returning it. People are placed by the keys of their estates and buildings.
    Nothing is committed until save(): a test module's fixture decides, as it always has.
    """

    language: Language | None = None  # every person's saved language unless add_person is told otherwise

    def add_estate(self, key: str = "estate", name: str | None = None, **kw) -> Estate:
        self[key] = estate(name, **kw)
        return self[key]

    def add_building(self, key: str, estate_key: str = "estate", name: str | None = None, floors: int = 6,
                     stairwell: bool = False, **kw) -> Building:
        """A building of world[estate_key]; with `stairwell`, one stairwell (1梯) from the ground floor up."""
        self[key] = building(self[estate_key], name, floors, **kw)
        if stairwell:
            entrance(self[key])
        return self[key]

    def add_unit(self, key: str, building_key: str, room_number: str | None = None, **kw) -> Unit:
        self[key] = unit(self[building_key], room_number, **kw)
        return self[key]

    def add_person(self, key: str, role: Role, *places: str, username: str | None = None, **kw) -> User:
        """A user of `role` assigned to the estates and buildings named by `places` (keys of this world);
        their username is the key with "-" for "_" (world["far_desk"] signs in as far-desk) unless given."""
        self[key] = self._user(role, places, username or key.replace("_", "-"), **kw)
        return self[key]

    def add_everyone(self, places: tuple[str, ...] = ("estate",), key: str = "users", prefix: str = "u-",
                     **kw) -> dict[Role, User]:
        """One user of every role assigned to `places` (u-steward, u-desk, …), kept as {role: user} under `key`."""
        self[key] = {role: self._user(role, places, f"{prefix}{role.value}", **kw) for role in Role}
        return self[key]

    def _user(self, role: Role, places, username: str, **kw) -> User:
        if self.language is not None:
            kw.setdefault("language", self.language)
        return user(role, username, estates=[self[p] for p in places if isinstance(self[p], Estate)],
                    buildings=[self[p] for p in places if isinstance(self[p], Building)], **kw)

    def add_permit(self, key: str, unit_key: str, by: str = "desk", now: datetime | None = None,
                   **changes) -> DecorationPermit:
        """A decoration of world[unit_key] registered by world[by] (see registration() for the details)."""
        self[key] = permit(self[by], self[unit_key], now=now, **changes)
        return self[key]

    def save(self) -> World:
        """Commit what was built."""
        db.session.commit()
        return self


def build_world(*, estate: str | None = None, buildings: dict[str, str | None] | None = None, floors: int = 6,
                stairwells: bool = False, other: str | bool = False, everyone: bool = False,
                people: dict[str, tuple] | None = None, language: Language | None = None) -> World:
    """The usual shape of a test's world in one call:

    - an estate under "estate" (`estate` is its name);
    - its `buildings` as {key: name} (default: one under "building"), each `floors` high, each with one
      stairwell if `stairwells`;
    - a second estate under "other" if `other` (True, or its name);
    - one user of every role of the estate under "users" ({role: user}, usernames u-steward, u-desk, …)
      if `everyone`;
    - `people` as {key: (role, place keys…)}, e.g. {"amy": (Role.STEWARD, "building"),
      "far_desk": (Role.DESK, "other"), "nobody": (Role.DESK,)}: see World.add_person;
    - every person with the saved `language`, if given.

    It returns the World to grow further (add_unit, add_permit, add_person …) and to save().
    """
    world = World()
    world.language = language
    world.add_estate("estate", estate)
    for key, name in (buildings if buildings is not None else {"building": None}).items():
        world.add_building(key, "estate", name, floors=floors, stairwell=stairwells)
    if other:
        world.add_estate("other", other if isinstance(other, str) else None)
    if everyone:
        world.add_everyone()
    for key, (role, *places) in (people or {}).items():
        world.add_person(key, role, *places)
    return world
