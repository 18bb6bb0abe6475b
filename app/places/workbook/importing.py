"""Storing a clean plan in one transaction (each change in the audit log), and the report."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ... import audit
from ...models import (
    Asset,
    Building,
    Entrance,
    Estate,
    Meter,
    OwnerContact,
    PublicArea,
    Unit,
    User,
)
from .check import check
from .plan import Change, Plan
from .reading import read_workbook
from .sheets import MAX_PROBLEMS, WorkbookRefused
from .stored import Stored

# What the import page calls each kind, by count key and by change kind.
KIND_LABELS = {
    "estates": _l("Estates"), "estate": _l("Estates"),
    "buildings": _l("Buildings"), "building": _l("Buildings"),
    "stairwells": _l("Stairwells"), "stairwell": _l("Stairwells"),
    "units": _l("Units"), "unit": _l("Units"),
    "public areas": _l("Public areas"), "area": _l("Public areas"),
    "assets": _l("Assets"), "asset": _l("Assets"),
    "meters": _l("Meters"), "meter": _l("Meters"),
    "contacts": _l("Owner contacts"), "contact": _l("Owner contacts"),
}


@dataclass
class ImportReport:
    counts: dict[str, int]  # rows of the file, per sheet
    changes: list[Change]
    dry_run: bool

    @property
    def created(self) -> dict[str, int]:
        return _tally(self.changes, "create")

    @property
    def updated(self) -> dict[str, int]:
        return _tally(self.changes, "update")

    @property
    def removed(self) -> dict[str, int]:
        return _tally(self.changes, "remove")


def describe(report: ImportReport) -> str:
    """The report in a few lines, for the command line."""
    rows = ", ".join(f"{n} {kind}" for kind, n in report.counts.items() if n)
    lines = [("Checked" if report.dry_run else "Imported") + f": {rows or 'no rows'}."]
    if not report.changes:
        lines.append("Nothing to change: everything is stored as the file says.")
    for action, tally in (("create", report.created), ("update", report.updated), ("remove", report.removed)):
        if tally:
            verb = {"create": "new", "update": "changed", "remove": "removed"}[action]
            lines.append(("Would be " if report.dry_run else "") + f"{verb}: "
                         + ", ".join(f"{n} {kind}" for kind, n in sorted(tally.items())))
    for change in [c for c in report.changes if c.action == "update"][:50]:
        fields = "; ".join(f"{k}: {_plain(a)} → {_plain(b)}" for k, (a, b) in change.fields.items())
        lines.append(f"  {change.kind} {change.label}: {fields}")
    return "\n".join(lines)


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return str(value.value if hasattr(value, "value") else value)


def _tally(changes: list[Change], action: str) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for change in changes:
        if change.action == action:
            out[change.kind] += 1
    return dict(out)


def import_workbook(session: Session, data: bytes, by: User | None, *, dry_run: bool = False) -> ImportReport:
    """Read, check and (unless `dry_run`) store the workbook in the caller's transaction. Raises
    WorkbookRefused, with every problem, before anything is written."""
    rows = read_workbook(data)
    plan = check(session, rows)
    if plan.problems:
        shown = plan.problems[:MAX_PROBLEMS]
        raise WorkbookRefused(shown, total=len(plan.problems))
    report = ImportReport(plan.counts, plan.changes, dry_run)
    if not dry_run and plan.changes:
        _apply(session, plan, by)
    return report


def _apply(session: Session, plan: Plan, by: User | None) -> None:
    stored = Stored(session, set(plan.estates) | {k[0] for k in plan.buildings} | {k[0] for k in plan.units}
                     | {k[0] for k in plan.areas} | {k[0] for k in plan.assets} | {k[0] for k in plan.meters}
                     | {k[0] for k in plan.contacts})
    estates = dict(stored.estates)
    for code, v in plan.estates.items():
        e = estates.get(code)
        if e is None:
            e = estates[code] = Estate(code=code, name=v["name"], address=v["address"], timezone=v["timezone"])
            session.add(e)
        else:
            _set(e, name=v["name"], address=v["address"], timezone=v["timezone"])
    session.flush()
    buildings = dict(stored.buildings)
    for position, (key, v) in enumerate(plan.buildings.items()):
        b = buildings.get(key)
        if b is None:
            b = buildings[key] = Building(estate_id=estates[key[0]].id, code=key[1], name=v["name"],
                                          floors=v["floors"], position=position)
            session.add(b)
        else:
            _set(b, name=v["name"], floors=v["floors"])
    session.flush()
    stairwells = dict(stored.stairwells)
    for position, (key, v) in enumerate(plan.stairwells.items()):
        e = stairwells.get(key)
        if e is None:
            e = stairwells[key] = Entrance(building_id=buildings[key[:2]].id, code=key[2], name=v["name"],
                                           lowest_floor=v["lowest"], highest_floor=v["highest"], position=position)
            session.add(e)
        else:
            _set(e, name=v["name"], lowest_floor=v["lowest"], highest_floor=v["highest"])
    session.flush()

    # Units: new ones in one executemany; changed ones through the ORM, so each change is audited.
    new_units, changed_units = [], {}
    for key, v in plan.units.items():
        values = dict(entrance_id=stairwells[(*key[:2], v["stairwell"])].id, floor=v["floor"], area_m2=v["area"],
                      layout=v["layout"], state=v["state"], vacancy_reason=v["reason"])
        current = stored.units.get(key)
        if current is None:
            new_units.append(dict(values, building_id=buildings[key[:2]].id, room_number=key[2]))
        elif any(current[k] != values[k] for k in values):
            changed_units[current["id"]] = values
    if new_units:
        session.execute(sa.insert(Unit.__table__), new_units)
    for unit in session.scalars(sa.select(Unit).where(Unit.id.in_(changed_units))) if changed_units else ():
        _set(unit, **changed_units[unit.id])
    session.flush()
    unit_ids = {key: row.id for key, row in _unit_rows(session, buildings)}

    for position, (key, v) in enumerate(plan.areas.items()):
        a = stored.areas.get(key)
        if a is None:
            session.add(PublicArea(estate_id=estates[key[0]].id, kind=v["kind"], name=key[1], position=position))
        else:
            _set(a, kind=v["kind"])
    for key, v in plan.assets.items():
        a = stored.assets.get(key)
        if a is None:
            entrance = stairwells[(key[0], key[1], key[2])] if key[1] else None
            session.add(Asset(estate_id=estates[key[0]].id, entrance_id=entrance.id if entrance else None,
                              kind=v["kind"], name=key[3]))
        else:
            _set(a, kind=v["kind"])

    new_meters = []
    for key, v in plan.meters.items():
        values = dict(building_id=buildings[(key[0], v["building"])].id if v["building"] else None,
                      unit_id=unit_ids[(key[0], v["building"], v["room"])] if v["room"] else None, kind=v["kind"])
        current = stored.meters.get(key)
        if current is None:
            new_meters.append(dict(values, estate_id=estates[key[0]].id, serial=key[1], location=""))
        elif any(current[k] != values[k] for k in values):
            session.execute(sa.update(Meter.__table__).where(Meter.id == current["id"]).values(**values))
    if new_meters:
        session.execute(sa.insert(Meter.__table__), new_meters)

    new_contacts = []
    for key, listed in plan.contacts.items():
        unit_id = unit_ids[key]
        current = {c["name"]: c for c in stored.contacts.get(unit_id, [])}
        for contact in listed:
            row = current.pop(contact["name"], None)
            values = dict(phone=contact["phone"], id_number=contact["id_number"], relation=contact["relation"])
            if row is None:
                new_contacts.append(dict(values, unit_id=unit_id, name=contact["name"]))
            elif any(row[k] != values[k] for k in values):
                _set(session.get(OwnerContact, row["id"]), **values)
        for row in current.values():  # the sheet lists a unit's contacts in full
            session.delete(session.get(OwnerContact, row["id"]))
    if new_contacts:
        session.execute(sa.insert(OwnerContact.__table__), new_contacts)
    session.flush()

    # What the bulk inserts stored, in one entry per estate (each update above has its own).
    created = _tally([c for c in plan.changes], "create")
    if created:
        summary = "Workbook import: " + ", ".join(f"{n} {kind}" for kind, n in sorted(created.items())) + " created"
        for code in plan.estates or {k[0] for k in plan.units}:
            audit.record(session, audit.CREATED, estates[code], summary[:audit.SUMMARY_MAX],
                         after={"imported_by": by.username if by else "command line", **created})


def _unit_rows(session: Session, buildings: dict[tuple, Building]) -> Iterator[tuple[tuple, Any]]:
    key_of = {b.id: k for k, b in buildings.items()}
    for row in session.execute(sa.select(Unit.id, Unit.building_id, Unit.room_number)
                               .where(Unit.building_id.in_(key_of))):
        yield (*key_of[row.building_id], row.room_number), row


def _set(obj: Any, **values: Any) -> None:
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
