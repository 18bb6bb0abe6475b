"""The manual's checklists, kept as data files in `data/` and loaded into versions; and which
version a round walks.

Each file is validated against `ChecklistFileSchema`. `sync_checklists` stores a
new `ChecklistVersion` whenever a file's content differs from the latest stored
version of its kind; older versions stay, and rounds keep the one they started with.
The files are the manual's defaults: once the company publishes its own version of a
checklist in the browser (editor.py), that one is the company's and the file is left
alone. An estate may walk its own version (EstateChecklist) instead of the company's.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from flask import current_app
from sqlalchemy.orm import Session, lazyload

from ...models import (
    ChecklistItem,
    ChecklistPublication,
    ChecklistVersion,
    DefectRoute,
    EstateChecklist,
    ItemType,
    RoundKind,
    Urgency,
)

DATA_DIR = Path(__file__).with_name("data")
LANGS = ("zh_Hant", "zh_Hans", "en")
CODE = validate.Regexp(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", error="codes are UPPER-KEBAB-CASE")

APPLIES_TO = {
    RoundKind.CORRIDOR: {"floor", "entrance"},
    RoundKind.FACILITY: {"road", "greenery", "playground", "shopfront", "garage", "entrance", "elevator", "estate"},
    RoundKind.VACANT_UNIT: {"unit"},
    RoundKind.DECORATION: {"unit"},
    RoundKind.METER: {"meter"},
}


class LabelSchema(Schema):
    zh_Hant = fields.String(required=True, validate=validate.Length(min=1, max=120))
    zh_Hans = fields.String(required=True, validate=validate.Length(min=1, max=120))
    en = fields.String(required=True, validate=validate.Length(min=1, max=120))


class ChoiceSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    label = fields.Nested(LabelSchema, required=True)


def _unique_codes(entries: list[dict], what: str) -> None:
    codes = [e["code"] for e in entries]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValidationError(f"duplicate {what} codes: {', '.join(duplicates)}")


class ItemSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    origin = fields.String(required=True, validate=validate.OneOf(["manual", "trade"]))
    applies_to = fields.String(required=True)
    type = fields.Enum(ItemType, by_value=True, required=True)
    label = fields.Nested(LabelSchema, required=True)
    hint = fields.Nested(LabelSchema, load_default=None)
    route = fields.Enum(DefectRoute, by_value=True, required=True)
    urgency = fields.Enum(Urgency, by_value=True, load_default=Urgency.NORMAL)
    photo_required = fields.Boolean(required=True)
    required = fields.Boolean(load_default=True)
    reasons = fields.List(fields.Nested(ChoiceSchema), load_default=list)
    actions = fields.List(fields.Nested(ChoiceSchema), load_default=list)
    meter_kind = fields.String(load_default=None, validate=validate.OneOf(["water", "electricity"]))

    @validates_schema
    def _codes(self, data: dict, **_: object) -> None:
        if (data["type"] is ItemType.READING) != (data["meter_kind"] is not None):
            raise ValidationError(f"{data['code']}: a reading item names its meter_kind, a check item does not")
        _unique_codes(data["reasons"], "reason")
        _unique_codes(data["actions"], "action")


class ChecklistFileSchema(Schema):
    kind = fields.Enum(RoundKind, by_value=True, required=True)
    title = fields.Nested(LabelSchema, required=True)
    source = fields.String(load_default="")
    items = fields.List(fields.Nested(ItemSchema), required=True, validate=validate.Length(min=1))

    @validates_schema
    def _items(self, data: dict, **_: object) -> None:
        _unique_codes(data["items"], "item")
        allowed = APPLIES_TO[data["kind"]]
        wrong = [i["code"] for i in data["items"] if i["applies_to"] not in allowed]
        if wrong:
            raise ValidationError(
                f"applies_to must be one of {sorted(allowed)} for {data['kind'].value}: {', '.join(wrong)}"
            )


@dataclass(frozen=True)
class ChecklistFile:
    path: Path
    raw: dict
    data: dict
    sha256: str


class ChecklistFileError(ValueError):
    pass


def read_checklist_file(path: Path) -> ChecklistFile:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        data = ChecklistFileSchema().load(raw)
    except (ValueError, ValidationError) as exc:
        raise ChecklistFileError(f"{path.name}: {exc}") from exc
    if data["kind"].value != path.stem:
        raise ChecklistFileError(f"{path.name}: kind {data['kind'].value!r} does not match the file name")
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return ChecklistFile(path, raw, data, hashlib.sha256(canonical.encode()).hexdigest())


def read_all(data_dir: Path = DATA_DIR) -> dict[RoundKind, ChecklistFile]:
    files = {f.data["kind"]: f for f in map(read_checklist_file, sorted(data_dir.glob("*.json")))}
    missing = set(RoundKind) - set(files)
    if missing:
        raise ChecklistFileError(f"no checklist file for {', '.join(sorted(k.value for k in missing))}")
    return files


def _newest(session: Session, kind: RoundKind, estate_id: int | None) -> ChecklistVersion | None:
    query = (sa.select(ChecklistVersion).outerjoin(ChecklistPublication)
             .where(ChecklistVersion.kind == kind, ChecklistPublication.estate_id.is_(None) if estate_id is None
                    else ChecklistPublication.estate_id == estate_id)
             .order_by(ChecklistVersion.version.desc()))
    return session.scalars(query).first()


def company_version(session: Session, kind: RoundKind) -> ChecklistVersion | None:
    """The company's checklist of a kind: its latest version (from the file, or published in the browser)."""
    return _newest(session, kind, None)


def estate_version(session: Session, kind: RoundKind, estate_id: int) -> ChecklistVersion | None:
    """An estate's own latest version of a kind, if it ever published one."""
    return _newest(session, kind, estate_id)


def uses_own(session: Session, estate_id: int, kind: RoundKind) -> bool:
    choice = session.get(EstateChecklist, (estate_id, kind))
    return choice is not None and choice.own


def latest_version(session: Session, kind: RoundKind, estate_id: int | None = None) -> ChecklistVersion | None:
    """The version a round of `kind` started now walks: in an estate that walks its own, the estate's
    latest; else the company's latest. One statement (every round's start asks it): the estate's own
    versions, when it walks its own, sort ahead of the company's."""
    if estate_id is None:
        return company_version(session, kind)
    return session.scalars(_LATEST, {"kind": kind, "estate_id": estate_id}).first()


def _latest_statement() -> sa.Select:
    """latest_version's statement, built once (building it costs more than running it)."""
    kind, estate_id = sa.bindparam("kind"), sa.bindparam("estate_id", type_=sa.Integer)
    walks_own = sa.exists().where(EstateChecklist.estate_id == estate_id, EstateChecklist.kind == kind,
                                  EstateChecklist.own.is_(True))
    own = sa.and_(ChecklistPublication.estate_id == estate_id, walks_own)
    return (sa.select(ChecklistVersion).outerjoin(ChecklistPublication)
            .where(ChecklistVersion.kind == kind, sa.or_(ChecklistPublication.estate_id.is_(None), own))
            .order_by(sa.case((ChecklistPublication.estate_id.is_(None), 1), else_=0), ChecklistVersion.version.desc())
            .limit(1)
            .options(lazyload(ChecklistVersion.publication)))  # read only if asked (estate_id, from_file)


_LATEST = _latest_statement()


def items_of(session: Session, version: ChecklistVersion) -> list[ChecklistItem]:
    """A version's items, in order. A version never changes once stored (a change is a new version), so
    each process keeps them, per app and per version (its id and content hash), detached from any
    session: read-only copies, loaded once instead of at every round's start, plan and completion."""
    cache = current_app.extensions.setdefault("xuncha_checklist_items", {})
    key = (version.id, version.content_sha256)
    items = cache.get(key)
    if items is None:
        # Loaded by a session of their own on the same connection (the same transaction), so the
        # caller's session and its objects are left as they are.
        with Session(bind=session.connection(), autoflush=False, expire_on_commit=False) as own:
            items = tuple(own.scalars(sa.select(ChecklistItem).where(ChecklistItem.version_id == version.id)
                                      .order_by(ChecklistItem.position)))
        if len(cache) >= _ITEMS_CACHE_MAX:
            cache.clear()
        cache[key] = items
    return list(items)


_ITEMS_CACHE_MAX = 256


def version_numbered(session: Session, kind: RoundKind, number: int, estate_id: int) -> ChecklistVersion | None:
    """The version a phone names by number for a round in `estate_id`: the company's or the estate's
    own, any of them (a phone may have walked one published before its latest offline pack)."""
    version = session.scalars(sa.select(ChecklistVersion).where(ChecklistVersion.kind == kind,
                                                                ChecklistVersion.version == number)).first()
    if version is None or version.estate_id not in (None, estate_id):
        return None
    return version


def next_number(session: Session, kind: RoundKind) -> int:
    """Version numbers run per kind over the company's and the estates' versions."""
    return (session.scalar(sa.select(sa.func.max(ChecklistVersion.version)).where(ChecklistVersion.kind == kind))
            or 0) + 1


def version_from_document(document: dict, number: int, sha256: str) -> ChecklistVersion:
    """A new version (not added to the session) from a checklist document as the data files write it,
    loaded (ChecklistFileSchema or the editor's reading): kind, title, source, items."""
    d = document
    version = ChecklistVersion(
        kind=d["kind"],
        version=number,
        content_sha256=sha256,
        title_zh_hant=d["title"]["zh_Hant"],
        title_zh_hans=d["title"]["zh_Hans"],
        title_en=d["title"]["en"],
        source=d["source"],
    )
    for position, item in enumerate(d["items"]):
        version.items.append(
            ChecklistItem(
                code=item["code"],
                position=position,
                origin=item["origin"],
                applies_to=item["applies_to"],
                item_type=item["type"],
                label_zh_hant=item["label"]["zh_Hant"],
                label_zh_hans=item["label"]["zh_Hans"],
                label_en=item["label"]["en"],
                hint=item["hint"] or {},
                route=item["route"],
                urgency=item["urgency"],
                photo_required=item["photo_required"],
                required=item["required"],
                meter_kind=item["meter_kind"],
                reasons=item["reasons"],
                actions=item["actions"],
            )
        )
    return version


def sync_checklists(session: Session, data_dir: Path = DATA_DIR) -> list[ChecklistVersion]:
    """Store a new version of every checklist whose file changed. Returns the new versions.

    A kind whose company version was published in the browser stays as the company made it: its
    file is not loaded (`edited_in_browser` names those kinds). Adds to the session; the caller commits.
    """
    created = []
    for kind, file in read_all(data_dir).items():
        current = company_version(session, kind)
        if current is not None and (not current.from_file or current.content_sha256 == file.sha256):
            continue
        version = version_from_document(file.data, next_number(session, kind), file.sha256)
        session.add(version)
        created.append(version)
    session.flush()
    return created


def edited_in_browser(session: Session, data_dir: Path = DATA_DIR) -> list[ChecklistVersion]:
    """The company versions published in the browser whose data file says otherwise: sync-checklists
    leaves them as they are."""
    out = []
    for kind, file in read_all(data_dir).items():
        current = company_version(session, kind)
        if current is not None and not current.from_file:
            latest_file = session.scalars(
                sa.select(ChecklistVersion).outerjoin(ChecklistPublication)
                .where(ChecklistVersion.kind == kind, ChecklistPublication.version_id.is_(None))
                .order_by(ChecklistVersion.version.desc())).first()
            if latest_file is None or latest_file.content_sha256 != file.sha256:
                out.append(current)
    return out
