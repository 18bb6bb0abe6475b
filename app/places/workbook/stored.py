"""What is stored for the file's estates, read in a few queries, and how it differs from the plan."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...models import (
    Asset,
    Building,
    Entrance,
    Estate,
    Meter,
    OwnerContact,
    PublicArea,
    Unit,
)
from .plan import Change, Plan


class Stored:
    """The stored places of the file's estates, read in a few queries (not one per row)."""

    def __init__(self, session: Session, codes: set[str]) -> None:
        self.session = session
        self.estates = {e.code: e for e in session.scalars(sa.select(Estate).where(Estate.code.in_(codes)))} \
            if codes else {}
        ids = {e.id: code for code, e in self.estates.items()}
        self.buildings: dict[tuple, Building] = {}
        self.stairwells: dict[tuple, Entrance] = {}
        self.units: dict[tuple, Any] = {}
        self.areas: dict[tuple, PublicArea] = {}
        self.assets: dict[tuple, Asset] = {}
        self.meters: dict[tuple, Any] = {}
        self.contacts: dict[int, list[Any]] = defaultdict(list)
        self.unit_keys: dict[int, tuple] = {}
        if not ids:
            return
        for b in session.scalars(sa.select(Building).where(Building.estate_id.in_(ids))):
            self.buildings[(ids[b.estate_id], b.code)] = b
        code_of_building = {b.id: key for key, b in self.buildings.items()}
        for e in session.scalars(sa.select(Entrance).where(Entrance.building_id.in_(code_of_building))):
            self.stairwells[(*code_of_building[e.building_id], e.code)] = e
        stairwell_code = {e.id: key[2] for key, e in self.stairwells.items()}
        for u in session.execute(sa.select(Unit.__table__).where(Unit.building_id.in_(code_of_building))).mappings():
            key = (*code_of_building[u["building_id"]], u["room_number"])
            self.units[key] = dict(u, stairwell=stairwell_code.get(u["entrance_id"]))
            self.unit_keys[u["id"]] = key
        for a in session.scalars(sa.select(PublicArea).where(PublicArea.estate_id.in_(ids))):
            self.areas[(ids[a.estate_id], a.name)] = a
        for a in session.scalars(sa.select(Asset).where(Asset.estate_id.in_(ids))):
            where = self.stairwell_key(a.entrance_id)
            self.assets[(ids[a.estate_id], where[0] if where else None, where[1] if where else None, a.name)] = a
        for m in session.execute(sa.select(Meter.__table__).where(Meter.estate_id.in_(ids))).mappings():
            self.meters[(ids[m["estate_id"]], m["serial"])] = m
        for row in session.execute(sa.select(OwnerContact.__table__).where(
                OwnerContact.unit_id.in_(list(self.unit_keys)))).mappings():
            self.contacts[row["unit_id"]].append(row)

    def stairwell_key(self, entrance_id: int | None) -> tuple | None:
        """(building code, stairwell code) of a stored stairwell."""
        for key, e in self.stairwells.items():
            if e.id == entrance_id:
                return key[1], key[2]
        return None

    def compare(self, plan: Plan) -> None:
        """Fill plan.changes: what is new, and each stored field the file changes."""
        out = plan.changes

        def differ(kind: str, label: str, current: dict | None, wanted: dict) -> None:
            if current is None:
                out.append(Change(kind, label, "create"))
                return
            fields = {k: (current[k], v) for k, v in wanted.items() if current[k] != v}
            if fields:
                out.append(Change(kind, label, "update", fields))

        for code, v in plan.estates.items():
            e = self.estates.get(code)
            differ("estate", v["name"], e and dict(name=e.name, address=e.address, timezone=e.timezone),
                   dict(name=v["name"], address=v["address"], timezone=v["timezone"]))
        for key, v in plan.buildings.items():
            b = self.buildings.get(key)
            differ("building", f"{key[0]} {v['name']}", b and dict(name=b.name, floors=b.floors),
                   dict(name=v["name"], floors=v["floors"]))
        for key, v in plan.stairwells.items():
            e = self.stairwells.get(key)
            differ("stairwell", " ".join(key), e and dict(name=e.name, lowest_floor=e.lowest_floor,
                                                           highest_floor=e.highest_floor),
                   dict(name=v["name"], lowest_floor=v["lowest"], highest_floor=v["highest"]))
        for key, v in plan.units.items():
            u = self.units.get(key)
            differ("unit", " ".join(key), u and dict(stairwell=u["stairwell"], floor=u["floor"], area_m2=u["area_m2"],
                                                      layout=u["layout"], state=u["state"],
                                                      vacancy_reason=u["vacancy_reason"]),
                   dict(stairwell=v["stairwell"], floor=v["floor"], area_m2=v["area"], layout=v["layout"],
                        state=v["state"], vacancy_reason=v["reason"]))
        for key, v in plan.areas.items():
            a = self.areas.get(key)
            differ("area", " ".join(key), a and dict(kind=a.kind), dict(kind=v["kind"]))
        for key, v in plan.assets.items():
            a = self.assets.get(key)
            differ("asset", " ".join(k for k in key if k), a and dict(kind=a.kind), dict(kind=v["kind"]))
        building_code = {b.id: key[1] for key, b in self.buildings.items()}
        for key, v in plan.meters.items():
            m = self.meters.get(key)
            where = None
            if m is not None:
                unit_key = self.unit_keys.get(m["unit_id"]) if m["unit_id"] else None
                building = building_code.get(m["building_id"])
                where = dict(building=building, room=unit_key[2] if unit_key else None, kind=m["kind"])
            differ("meter", " ".join(key), where, dict(building=v["building"], room=v["room"], kind=v["kind"]))
        for key, listed in plan.contacts.items():
            unit = self.units.get(key)
            stored = {c["name"]: c for c in self.contacts.get(unit["id"], [])} if unit else {}
            for contact in listed:
                current = stored.pop(contact["name"], None)
                differ("contact", f"{' '.join(key)} {contact['name']}",
                       current and dict(phone=current["phone"], id_number=current["id_number"],
                                        relation=current["relation"]),
                       dict(phone=contact["phone"], id_number=contact["id_number"], relation=contact["relation"]))
            for name in stored:
                out.append(Change("contact", f"{' '.join(key)} {name}", "remove"))
