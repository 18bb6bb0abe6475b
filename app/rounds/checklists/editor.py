"""The company's own checklists, edited in the browser by the administrator (and an estate's own).

A checklist is edited as the document the data files hold (kind, title, items with their labels in
three languages, hints, where a defect goes, urgency, whether it needs a photo, whether it must be
answered, common reasons and on-the-spot actions). Publishing stores it as a new ChecklistVersion:
rounds started afterwards walk it, rounds walked on an older one keep theirs, and phones take it
with their next offline pack. Every label needs its Traditional Chinese; a missing Simplified
Chinese or English one reads in Traditional Chinese (ChecklistItem.label).

A page sends the version it was built from (`base`): a version published meanwhile by someone else
is never overwritten, the publication is refused.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from ...models import (
    ChecklistItem,
    ChecklistPublication,
    ChecklistVersion,
    DefectRoute,
    Estate,
    EstateChecklist,
    ItemType,
    RoundKind,
    Urgency,
    User,
)
from ...refusals import Conflict, Rejected
from ...steps import content_sha256
from . import (
    APPLIES_TO,
    LANGS,
    company_version,
    estate_version,
    next_number,
    version_from_document,
)

LABEL_MAX = 120
MAX_ITEMS = 200
MAX_CHOICES = 40
CODE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
PREFIX = {RoundKind.CORRIDOR: "COR", RoundKind.FACILITY: "FAC", RoundKind.VACANT_UNIT: "VAC",
          RoundKind.DECORATION: "DEC", RoundKind.METER: "MTR"}
# The item types offered: a check, or (meter readings) a reading of one kind of meter.
TYPES = ("check", "water", "electricity")


def document_of(version: ChecklistVersion) -> dict:
    """A stored version as a checklist document (enums as in a loaded data file)."""
    return {
        "kind": version.kind,
        "title": {"zh_Hant": version.title_zh_hant, "zh_Hans": version.title_zh_hans, "en": version.title_en},
        "source": version.source,
        "items": [_item_document(i) for i in version.items],
    }


def _item_document(item: ChecklistItem) -> dict:
    return {"code": item.code, "origin": item.origin, "applies_to": item.applies_to, "type": item.item_type,
            "label": {"zh_Hant": item.label_zh_hant, "zh_Hans": item.label_zh_hans, "en": item.label_en},
            "hint": dict(item.hint) or None, "route": item.route, "urgency": item.urgency,
            "photo_required": item.photo_required, "required": item.required, "meter_kind": item.meter_kind,
            "reasons": list(item.reasons), "actions": list(item.actions)}


def canonical(document: dict) -> str:
    """A fingerprint of a document's content (what makes two versions the same)."""
    def plain(value):  # noqa: ANN001, ANN202
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.value if hasattr(value, "value") and not isinstance(value, (str, int)) else value

    return content_sha256(plain(document))


def choices_text(choices: list[dict]) -> str:
    """Reasons or actions as the form's text: one a line, `CODE | 繁體 | 简体 | English`."""
    return "\n".join(" | ".join([c["code"], *(c["label"].get(lang, "") for lang in LANGS)]) for c in choices)


@dataclass
class EditedItem:
    """One row of the form, as posted (shown again as it was typed when something is wrong)."""

    code: str = ""
    origin: str = "company"
    position: str = ""
    remove: bool = False
    label: dict | None = None
    hint: dict | None = None
    applies_to: str = ""
    type: str = "check"
    route: str = DefectRoute.ENGINEERING.value
    urgency: str = Urgency.NORMAL.value
    photo_required: bool = False
    required: bool = True
    reasons: str = ""
    actions: str = ""

    @property
    def blank(self) -> bool:
        return not self.code and not any((self.label or {}).values()) and not self.reasons.strip() \
            and not self.actions.strip() and not any((self.hint or {}).values())

    @classmethod
    def of(cls, item: dict, position: int) -> EditedItem:
        kind = "check" if item["type"] is ItemType.CHECK else item["meter_kind"]
        return cls(code=item["code"], origin=item["origin"], position=str(position), label=dict(item["label"]),
                   hint={lang: (item["hint"] or {}).get(lang, "") for lang in LANGS}, applies_to=item["applies_to"],
                   type=kind, route=item["route"].value, urgency=item["urgency"].value,
                   photo_required=item["photo_required"], required=item["required"],
                   reasons=choices_text(item["reasons"]), actions=choices_text(item["actions"]))


@dataclass
class Edited:
    """The whole form as posted: the title and the rows."""

    title: dict
    items: list[EditedItem]
    source: str = ""

    @classmethod
    def of(cls, document: dict) -> Edited:
        return cls(dict(document["title"]), [EditedItem.of(i, n + 1) for n, i in enumerate(document["items"])],
                   document.get("source", ""))


def read_form(form: MultiDict) -> Edited:
    def text(name: str, limit: int = 2000) -> str:
        return (form.get(name) or "").strip()[:limit]

    raw = text("rows")
    rows = min(int(raw), MAX_ITEMS + 1) if raw.isascii() and raw.isdigit() and len(raw) < 5 else 0
    items = []
    for i in range(rows):
        p = f"item-{i}-"
        items.append(EditedItem(
            code=text(p + "code", 48), origin=text(p + "origin", 16) or "company", position=text(p + "position", 6),
            remove=form.get(p + "remove") == "1",
            label={lang: text(f"{p}label_{lang}", 500) for lang in LANGS},
            hint={lang: text(f"{p}hint_{lang}", 1000) for lang in LANGS},
            applies_to=text(p + "applies_to", 32), type=text(p + "type", 16), route=text(p + "route", 32),
            urgency=text(p + "urgency", 16), photo_required=form.get(p + "photo_required") == "1",
            required=form.get(p + "required") == "1", reasons=text(p + "reasons", 20000),
            actions=text(p + "actions", 20000)))
    return Edited({lang: text(f"title_{lang}", 500) for lang in LANGS}, items, text("source", 255))


def _labels(values: dict, where, errors: dict, field: str) -> dict:  # noqa: ANN001 - a lazy string
    if not values.get("zh_Hant"):
        errors.setdefault(field, []).append(_l("%(where)s: the Traditional Chinese is missing.", where=where))
    for lang in LANGS:
        if len(values.get(lang, "")) > LABEL_MAX:
            errors.setdefault(field, []).append(_l("%(where)s: at most %(max)d characters.", where=where,
                                                   max=LABEL_MAX))
    return {lang: values.get(lang, "") for lang in LANGS}


def _choices(text: str, prefix: str, where, errors: dict, field: str) -> list[dict]:  # noqa: ANN001
    """`CODE | 繁體 | 简体 | English` lines (the code may be left out on a new line: one is made)."""
    out, codes = [], set()
    pending = []
    for n, line in enumerate((x for x in text.splitlines() if x.strip()), 1):
        parts = [p.strip() for p in re.split(r"[|｜]", line)]
        code = ""
        if len(parts) == 4:
            code, parts = parts[0], parts[1:]
            if not CODE.match(code):
                errors.setdefault(field, []).append(_l(
                    "%(where)s, line %(line)d: %(code)s is not a code (capital letters, digits and dashes); leave "
                    "it out on a new line.", where=where, line=n, code=code))
                continue
        elif len(parts) > 4:
            errors.setdefault(field, []).append(_l(
                "%(where)s, line %(line)d: write CODE | 繁體 | 简体 | English (or only the labels).", where=where,
                line=n))
            continue
        label = _labels(dict(zip(LANGS, parts + [""] * (3 - len(parts)), strict=True)), _l("%(where)s, line %(line)d",
                                                                            where=where, line=n), errors, field)
        if code and code in codes:
            errors.setdefault(field, []).append(_l("%(where)s, line %(line)d: the code %(code)s is used twice.",
                                                   where=where, line=n, code=code))
        if code:
            codes.add(code)
        entry = {"code": code, "label": label}
        out.append(entry)
        if not code:
            pending.append(entry)
    number = 1
    for entry in pending:
        while f"{prefix}{number}" in codes:
            number += 1
        entry["code"] = f"{prefix}{number}"
        codes.add(entry["code"])
    if len(out) > MAX_CHOICES:
        errors.setdefault(field, []).append(_l("%(where)s: at most %(max)d lines.", where=where, max=MAX_CHOICES))
    return out


def check(session: Session, kind: RoundKind, edited: Edited) -> tuple[dict, dict]:
    """The document the form describes, and what is wrong with it, field by field (empty: none)."""
    errors: dict[str, list] = {}
    title = _labels(edited.title, _l("Title"), errors, "title")
    kept = [(n, row) for n, row in enumerate(edited.items) if not row.remove and not row.blank]

    def order(entry: tuple[int, EditedItem]) -> tuple:
        """By the position typed; an item moved to a taken position goes before the one that was there."""
        n, row = entry
        position = int(row.position) if row.position.isascii() and row.position.isdigit() else n + 1
        return (position, position == n + 1, n)

    kept.sort(key=order)
    if not kept:
        errors["items"] = [_l("A checklist needs at least one item.")]
    taken = set(session.scalars(sa.select(ChecklistItem.code).join(ChecklistVersion)
                                .where(ChecklistVersion.kind == kind)))
    used: set[str] = set()
    items = []
    for n, row in kept:
        field = f"item-{n}"
        where = _l("Item %(n)d (%(label)s)", n=n + 1, label=(row.label or {}).get("zh_Hant") or "—")
        label = _labels(row.label or {}, where, errors, field)
        hint = row.hint or {}
        if any(hint.values()):
            hint = _labels(hint, _l("%(where)s, hint", where=where), errors, field)
        else:
            hint = None
        if row.applies_to not in APPLIES_TO[kind]:
            errors.setdefault(field, []).append(_l("%(where)s: choose where it is asked.", where=where))
        reading = row.type in ("water", "electricity")
        if row.type not in TYPES or (reading and row.applies_to != "meter"):
            errors.setdefault(field, []).append(_l("%(where)s: a reading is asked of a meter only.", where=where))
        try:
            route, urgency = DefectRoute(row.route), Urgency(row.urgency)
        except ValueError:
            errors.setdefault(field, []).append(_l("%(where)s: choose where a defect goes and how urgent it is.",
                                                   where=where))
            route, urgency = DefectRoute.ENGINEERING, Urgency.NORMAL
        code = row.code
        if code and (not CODE.match(code) or code in used):
            errors.setdefault(field, []).append(_l("%(where)s: its code was changed; reload the page.", where=where))
        if not code:
            number = 1
            while f"{PREFIX[kind]}-C{number}" in taken | used:
                number += 1
            code = f"{PREFIX[kind]}-C{number}"
        used.add(code)
        items.append({
            "code": code, "origin": row.origin if row.origin in ("manual", "trade", "company") else "company",
            "applies_to": row.applies_to, "type": ItemType.READING if reading else ItemType.CHECK, "label": label,
            "hint": hint, "route": route, "urgency": urgency, "photo_required": row.photo_required,
            "required": row.required, "meter_kind": row.type if reading else None,
            "reasons": _choices(row.reasons, "R", _l("%(where)s, reasons", where=where), errors, field),
            "actions": _choices(row.actions, "A", _l("%(where)s, on-the-spot actions", where=where), errors, field),
        })
    if len(items) > MAX_ITEMS:
        errors["items"] = [_l("A checklist has at most %(max)d items.", max=MAX_ITEMS)]
    return {"kind": kind, "title": title, "source": edited.source, "items": items}, errors


def current_of(session: Session, kind: RoundKind, estate: Estate | None) -> ChecklistVersion | None:
    """The version an edit of this scope starts from: the company's, or the estate's own."""
    return company_version(session, kind) if estate is None else estate_version(session, kind, estate.id)


def base_of(session: Session, kind: RoundKind, estate: Estate | None) -> str:
    current = current_of(session, kind, estate)
    return str(current.id) if current else "none"


def publish(session: Session, by: User | None, kind: RoundKind, estate: Estate | None, edited: Edited, *,
            base: str | None, now: datetime | None = None) -> ChecklistVersion:
    """Store the edited checklist as a new version of the company's (estate None) or of an estate's
    own, which that estate then walks. Refused, storing nothing, when a label lacks its Traditional
    Chinese or anything else is wrong, when nothing changed, or when a version was published since
    the page was built."""
    now = now or datetime.now(timezone.utc)
    document, errors = check(session, kind, edited)
    if errors:
        raise Rejected(next(iter(errors.values()))[0] if len(errors) == 1 else
                       _l("Nothing was published: see the notes below."), errors)
    current = current_of(session, kind, estate)
    if base != (str(current.id) if current else "none"):
        raise Conflict(_l("Version %(version)d was published by someone else while this page was open. Nothing "
                          "was published: reload the page to see it.", version=current.version if current else 0))
    sha = canonical(document)
    if current is not None and canonical(document_of(current)) == sha:
        raise Rejected(_l("Nothing changed since version %(version)d.", version=current.version))
    version = version_from_document(document, next_number(session, kind), sha)
    version.publication = ChecklistPublication(estate_id=estate.id if estate else None,
                                               published_by_id=by.id if by else None, published_at=now)
    session.add(version)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same number taken at the same moment by another publication
        raise Conflict(_l("Another version was published at the same moment. Nothing was published: reload the "
                          "page.")) from None
    if estate is not None:
        choose(session, by, estate, kind, own=True, now=now)
    return version


def choose(session: Session, by: User | None, estate: Estate, kind: RoundKind, *, own: bool,
           now: datetime | None = None) -> EstateChecklist:
    """Whether `estate` walks its own version of `kind` or the company's, for rounds started from now."""
    now = now or datetime.now(timezone.utc)
    if own and estate_version(session, kind, estate.id) is None:
        raise Rejected(_l("%(estate)s has no checklist of its own yet: publish one first.", estate=estate.name))
    row = session.get(EstateChecklist, (estate.id, kind))
    if row is None:
        row = EstateChecklist(estate_id=estate.id, kind=kind)
        session.add(row)
    row.own, row.changed_at, row.changed_by_id = own, now, by.id if by else None
    session.flush()
    return row
