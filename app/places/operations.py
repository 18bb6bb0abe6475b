"""Add, edit and retire places one at a time, as the administrator's pages do.

Each kind of place is described once (`KINDS`): its fields, how it is found, what it belongs to.
The rules are the workbook's (a room's floor within its stairwell, a vacant unit's reason, a serial
once per estate, an ID number that is one). An edit carries the fingerprint of what the form showed:
if someone changed the record meanwhile, the edit is refused and the page shows what is stored now,
so two administrators never overwrite each other unseen. Retiring keeps the place and its history.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from .. import audit
from ..models import (
    Asset,
    AssetKind,
    Building,
    ContactRelation,
    Entrance,
    Estate,
    Meter,
    MeterKind,
    OwnerContact,
    PublicArea,
    PublicAreaKind,
    Role,
    Unit,
    UnitState,
    User,
    VacancyReason,
)
from ..models.base import utcnow
from ..refusals import Conflict, NotFound, Rejected
from .workbook.rules import PHONE, valid_id_number

PAGE_SIZE = 100


@dataclass(frozen=True)
class Field:
    name: str
    label: Any
    type: str = "text"  # text, int, decimal, choice, parent
    required: bool = False
    max_length: int = 120
    choices: type | None = None  # an enum
    parent: type | None = None  # the model a "parent" field names
    secret: bool = False  # confidential: shown masked, left empty to keep


@dataclass(frozen=True)
class Kind:
    key: str
    model: type
    label: Any
    fields: tuple[Field, ...]
    search: tuple[str, ...]  # columns the search box looks in
    estate_of: Callable[[Any], int]
    estate_column: Any  # for the estate filter of the list
    joins: tuple = ()
    order: tuple = ()
    retirable: bool = True

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


KINDS = {k.key: k for k in (
    Kind("estates", Estate, _l("Estates"), (
        Field("code", _l("Code"), required=True, max_length=32), Field("name", _l("Name"), required=True),
        Field("address", _l("Address"), max_length=255), Field("timezone", _l("Time zone"), required=True, max_length=64)),
        ("code", "name"), lambda e: e.id, Estate.id, order=(Estate.code,)),
    Kind("buildings", Building, _l("Buildings"), (
        Field("estate_id", _l("Estate"), "parent", True, parent=Estate), Field("code", _l("Code"), required=True, max_length=32),
        Field("name", _l("Name"), required=True), Field("floors", _l("Floors"), "int", True)),
        ("code", "name"), lambda b: b.estate_id, Building.estate_id, order=(Building.estate_id, Building.position, Building.code)),
    Kind("stairwells", Entrance, _l("Stairwells"), (
        Field("building_id", _l("Building"), "parent", True, parent=Building), Field("code", _l("Code"), required=True, max_length=32),
        Field("name", _l("Name"), required=True), Field("lowest_floor", _l("Lowest floor"), "int", True),
        Field("highest_floor", _l("Highest floor"), "int", True)),
        ("code", "name"), lambda e: e.building.estate_id, Building.estate_id, joins=(Building,),
        order=(Entrance.building_id, Entrance.code)),
    Kind("units", Unit, _l("Units"), (
        Field("entrance_id", _l("Stairwell"), "parent", True, parent=Entrance),
        Field("room_number", _l("Room"), required=True, max_length=32), Field("floor", _l("Floor"), "int", True),
        Field("area_m2", _l("Area (m²)"), "decimal"), Field("layout", _l("Layout"), max_length=64),
        Field("state", _l("State"), "choice", True, choices=UnitState),
        Field("vacancy_reason", _l("Vacancy reason"), "choice", choices=VacancyReason)),
        ("room_number",), lambda u: u.building.estate_id, Building.estate_id, joins=(Building,),
        order=(Unit.building_id, Unit.room_number)),
    Kind("areas", PublicArea, _l("Public areas"), (
        Field("estate_id", _l("Estate"), "parent", True, parent=Estate),
        Field("kind", _l("Kind"), "choice", True, choices=PublicAreaKind), Field("name", _l("Name"), required=True)),
        ("name",), lambda a: a.estate_id, PublicArea.estate_id, order=(PublicArea.estate_id, PublicArea.position)),
    Kind("assets", Asset, _l("Assets"), (
        Field("entrance_id", _l("Stairwell"), "parent", True, parent=Entrance),
        Field("kind", _l("Kind"), "choice", True, choices=AssetKind), Field("name", _l("Name"), required=True)),
        ("name",), lambda a: a.estate_id, Asset.estate_id, order=(Asset.estate_id, Asset.name)),
    Kind("meters", Meter, _l("Meters"), (
        Field("estate_id", _l("Estate"), "parent", True, parent=Estate),
        Field("unit_id", _l("Unit (empty for a public meter)"), "parent", parent=Unit),
        Field("kind", _l("Kind"), "choice", True, choices=MeterKind), Field("serial", _l("Serial"), required=True, max_length=64),
        Field("location", _l("Location"))),
        ("serial", "location"), lambda m: m.estate_id, Meter.estate_id, order=(Meter.estate_id, Meter.serial)),
    Kind("contacts", OwnerContact, _l("Owner contacts"), (
        Field("unit_id", _l("Unit"), "parent", True, parent=Unit), Field("name", _l("Name"), required=True),
        Field("relation", _l("Relation"), "choice", True, choices=ContactRelation),
        Field("phone", _l("Phone"), max_length=32, secret=True), Field("id_number", _l("ID number"), max_length=32, secret=True)),
        ("name",), lambda c: c.unit.building.estate_id, Building.estate_id, joins=(Unit, Building),
        order=(OwnerContact.unit_id, OwnerContact.name), retirable=False),
)}


def kind_of(key: str) -> Kind:
    if key not in KINDS:
        raise NotFound(_l("There is no such kind of place."))
    return KINDS[key]


def _require_admin(user: User) -> None:
    if user.role is not Role.ADMIN:
        raise NotFound(_l("This page or record does not exist, or is not yours to see."))


# Reading


@dataclass
class Listing:
    rows: list[Any]
    more: bool


def list_places(session: Session, user: User, kind: Kind, *, estate_id: int | None = None, q: str = "",
                retired: bool = False, limit: int = PAGE_SIZE) -> Listing:
    _require_admin(user)
    query = sa.select(kind.model)
    model = kind.model
    if model is Entrance:
        query = query.join(Building, Entrance.building_id == Building.id)
    elif model is Unit:
        query = query.join(Building, Unit.building_id == Building.id)
    elif model is OwnerContact:
        query = query.join(Unit, OwnerContact.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
    if estate_id is not None:
        query = query.where(kind.estate_column == estate_id)
    q = (q or "").strip()
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(sa.or_(*(getattr(model, c).like(pattern, escape="\\") for c in kind.search)))
    if kind.retirable and not retired:
        query = query.where(model.retired_at.is_(None))
    rows = list(session.scalars(query.order_by(*kind.order).limit(limit + 1)))
    return Listing(rows[:limit], len(rows) > limit)


def place_for(session: Session, user: User, kind: Kind, place_id: int) -> Any:
    _require_admin(user)
    obj = session.get(kind.model, place_id)
    if obj is None:
        raise NotFound(_l("This record does not exist."))
    return obj


def describe(obj: Any) -> str:
    """How a place is named on the pages."""
    if isinstance(obj, Estate):
        return f"{obj.name} ({obj.code})"
    if isinstance(obj, Building):
        return f"{obj.estate.name} {obj.name}"
    if isinstance(obj, Entrance):
        return f"{obj.building.estate.name} {obj.building.name} {obj.name}"
    if isinstance(obj, Unit):
        return f"{obj.building.estate.name} {obj.label}"
    if isinstance(obj, OwnerContact):
        return f"{obj.unit.label} {obj.name}"
    return getattr(obj, "name", None) or getattr(obj, "serial", "")


def choices_for(session: Session, field: Field) -> list[tuple[int, str]]:
    """The places a parent field may name (active ones)."""
    model = field.parent
    rows = session.scalars(sa.select(model).where(model.retired_at.is_(None)).limit(5000))
    return [(r.id, describe(r)) for r in rows]


def fingerprint(obj: Any, kind: Kind) -> str:
    """What the edit form showed: an edit made on another fingerprint was made on stale values."""
    values = {f.name: str(getattr(obj, f.name)) for f in kind.fields}
    return hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


# Writing


def parse(session: Session, kind: Kind, form: Mapping[str, str], current: Any | None = None) -> dict:
    """The form's values as the model's, with every problem at its field (a Rejected)."""
    values: dict[str, Any] = {}
    errors: dict[str, list] = {}
    for f in kind.fields:
        raw = (form.get(f.name) or "").strip()
        if "\x00" in raw:
            errors[f.name] = [_l("This value holds characters that are not text.")]
            continue
        if f.secret and not raw and current is not None:
            continue  # left empty: keep the confidential value as it is
        if not raw:
            if f.required:
                errors[f.name] = [_l("Fill this in.")]
            else:
                values[f.name] = "" if f.type == "text" else None
            continue
        try:
            if f.type == "text":
                if len(raw) > f.max_length:
                    raise ValueError(_l("At most %(n)d characters.", n=f.max_length))
                values[f.name] = raw
            elif f.type == "int":
                if not raw.lstrip("-").isdigit() or len(raw) > 4:
                    raise ValueError(_l("A whole number, please."))
                values[f.name] = int(raw)
            elif f.type == "decimal":
                number = Decimal(raw).quantize(Decimal("0.01"))
                if not Decimal(0) < number < Decimal(100000):
                    raise ValueError(_l("Between 0 and 100000."))
                values[f.name] = number
            elif f.type == "choice":
                values[f.name] = f.choices(raw)
            elif f.type == "parent":
                if not raw.isdigit() or len(raw) > 9:
                    raise ValueError(_l("Choose one of the listed places."))
                parent = session.get(f.parent, int(raw))
                if parent is None or parent.retired:
                    raise ValueError(_l("Choose one of the listed places."))
                values[f.name] = parent.id
        except (ValueError, InvalidOperation) as exc:
            message = exc.args[0] if exc.args and not isinstance(exc.args[0], str) else _l("Choose one of the listed values.")
            errors[f.name] = [message]
    if not errors:
        _rules(session, kind, values, current, errors)
    if errors:
        first = next(iter(errors.values()))[0]
        raise Rejected(first, errors)
    return values


def _rules(session: Session, kind: Kind, v: dict, current: Any | None, errors: dict) -> None:
    """The workbook's rules, for one record."""
    def taken(query: sa.Select) -> bool:
        if current is not None:
            query = query.where(kind.model.id != current.id)
        return session.scalar(query.limit(1)) is not None

    model = kind.model
    if model is Estate:
        try:
            ZoneInfo(v["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = [_l("Unknown time zone (e.g. Asia/Shanghai, Asia/Hong_Kong).")]
        if taken(sa.select(Estate.id).where(Estate.code == v["code"])):
            errors["code"] = [_l("Another estate has this code.")]
    elif model is Building:
        if not 1 <= v["floors"] <= 200:
            errors["floors"] = [_l("Between %(low)d and %(high)d.", low=1, high=200)]
        if taken(sa.select(Building.id).where(Building.estate_id == v["estate_id"], Building.code == v["code"])):
            errors["code"] = [_l("Another building of this estate has this code.")]
    elif model is Entrance:
        building = session.get(Building, v["building_id"])
        if v["lowest_floor"] > v["highest_floor"]:
            errors["highest_floor"] = [_l("The highest floor is below the lowest.")]
        elif v["highest_floor"] > building.floors:
            errors["highest_floor"] = [_l("Building %(b)s has %(n)d floors.", b=building.name, n=building.floors)]
        if taken(sa.select(Entrance.id).where(Entrance.building_id == building.id, Entrance.code == v["code"])):
            errors["code"] = [_l("Another stairwell of this building has this code.")]
    elif model is Unit:
        stairwell = session.get(Entrance, v["entrance_id"])
        v["building_id"] = stairwell.building_id
        if not stairwell.lowest_floor <= v["floor"] <= stairwell.highest_floor:
            errors["floor"] = [_l("Floor %(floor)d is outside stairwell %(s)s (floors %(low)d to %(high)d).",
                                  floor=v["floor"], s=stairwell.name, low=stairwell.lowest_floor, high=stairwell.highest_floor)]
        if v["state"] is UnitState.VACANT and v.get("vacancy_reason") is None:
            errors["vacancy_reason"] = [_l("A vacant unit needs its vacancy reason.")]
        if v["state"] is not UnitState.VACANT and v.get("vacancy_reason") is not None:
            errors["vacancy_reason"] = [_l("Only a vacant unit has a vacancy reason.")]
        if taken(sa.select(Unit.id).where(Unit.building_id == stairwell.building_id, Unit.room_number == v["room_number"])):
            errors["room_number"] = [_l("This building already has a room %(room)s.", room=v["room_number"])]
    elif model is Asset:
        stairwell = session.get(Entrance, v["entrance_id"])
        v["estate_id"] = stairwell.building.estate_id
    elif model is Meter:
        if v.get("unit_id"):
            unit = session.get(Unit, v["unit_id"])
            if unit.building.estate_id != v["estate_id"]:
                errors["unit_id"] = [_l("This unit is in another estate.")]
            v["building_id"] = unit.building_id
        if taken(sa.select(Meter.id).where(Meter.estate_id == v["estate_id"], Meter.serial == v["serial"])):
            errors["serial"] = [_l("Another meter of this estate has this serial.")]
    elif model is OwnerContact:
        if v.get("phone") and not PHONE.fullmatch(v["phone"]):
            errors["phone"] = [_l("A phone number of digits, spaces or dashes, e.g. 138 0013 8000.")]
        if v.get("id_number"):
            v["id_number"] = v["id_number"].upper()
            if not valid_id_number(v["id_number"]):
                errors["id_number"] = [_l("This is not an ID number (a resident ID of 18 characters or a Hong Kong "
                                          "identity card number, its check digit right).")]


def add_place(session: Session, user: User, kind: Kind, form: Mapping[str, str]) -> Any:
    _require_admin(user)
    values = parse(session, kind, form)
    obj = kind.model(**values)
    session.add(obj)
    session.flush()
    return obj


def edit_place(session: Session, user: User, kind: Kind, obj: Any, form: Mapping[str, str]) -> Any:
    """Change a place as the form says, unless it changed since the form was shown."""
    _require_admin(user)
    if form.get("seen") != fingerprint(obj, kind):
        raise Conflict(_l("Someone changed this record while you were editing it. The page now shows what is "
                          "stored; make your change again."))
    values = parse(session, kind, form, current=obj)
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
    session.flush()
    return obj


def retire(session: Session, user: User, kind: Kind, obj: Any, *, back: bool = False) -> None:
    """Retire a place (or bring it back): it keeps its history; a contact is removed instead."""
    _require_admin(user)
    if not kind.retirable:
        session.delete(obj)
        session.flush()
        return
    obj.retired_at = None if back else utcnow()
    session.flush()


def reveal(session: Session, user: User, contact: OwnerContact) -> OwnerContact:
    """The confidential values of a contact, once, logged."""
    _require_admin(user)
    audit.record(session, audit.REVEALED, contact, f"phone and ID number of {contact.name} ({contact.unit.label})")
    return contact
