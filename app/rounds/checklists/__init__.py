"""The manual's checklists, kept as data files in `data/` and loaded into versions.

Each file is validated against `ChecklistFileSchema`. `sync_checklists` stores a
new `ChecklistVersion` whenever a file's content differs from the latest stored
version of its kind; older versions stay, and rounds keep the one they started with.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import Session

from ...models import (
    ChecklistItem,
    ChecklistVersion,
    DefectRoute,
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


def latest_version(session: Session, kind: RoundKind) -> ChecklistVersion | None:
    return session.scalars(
        sa.select(ChecklistVersion).where(ChecklistVersion.kind == kind).order_by(ChecklistVersion.version.desc())
    ).first()


def _version_from_file(file: ChecklistFile, number: int) -> ChecklistVersion:
    d = file.data
    version = ChecklistVersion(
        kind=d["kind"],
        version=number,
        content_sha256=file.sha256,
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

    Adds to the session; the caller commits.
    """
    created = []
    for kind, file in read_all(data_dir).items():
        current = latest_version(session, kind)
        if current is not None and current.content_sha256 == file.sha256:
            continue
        version = _version_from_file(file, (current.version + 1) if current else 1)
        session.add(version)
        created.append(version)
    session.flush()
    return created
