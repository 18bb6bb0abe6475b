"""Checking every row against the file itself and what is stored; all problems, or a plan."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ...models import (
    ContactRelation,
    UnitState,
)
from .plan import Plan
from .rules import NOT_TEXT, PHONE, valid_id_number
from .sheets import (
    AREA_KINDS,
    ASSET_KINDS,
    METER_KINDS,
    RELATIONS,
    SHEET_BY_KEY,
    UNIT_STATES,
    VACANCY_REASONS,
    Problem,
    Row,
    Sheet,
)
from .stored import Stored


class _Checker:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def problem(self, sheet: Sheet, row: Row | None, key: str | None, message: Any) -> None:
        column = next((c.zh for c in sheet.columns if c.key == key), key) if key else None
        self.plan.problems.append(Problem(sheet.zh, row.number if row else None, column, message))

    def text(self, sheet: Sheet, row: Row, key: str, max_length: int, *, required: bool = False) -> str | None:
        value = row.values.get(key)
        if value is None:
            if required:
                self.problem(sheet, row, key, _l("This cell is empty (merged cells count as empty: unmerge them)."))
            return None
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        text = str(value).strip()
        if NOT_TEXT.search(text):
            self.problem(sheet, row, key, _l("This cell holds characters that are not text."))
            return None
        if len(text) > max_length:
            self.problem(sheet, row, key, _l("At most %(n)d characters.", n=max_length))
            return None
        return text

    def number(self, sheet: Sheet, row: Row, key: str, low: int, high: int, *, required: bool = False) -> int | None:
        value = row.values.get(key)
        if value is None:
            if required:
                self.problem(sheet, row, key, _l("This cell is empty (merged cells count as empty: unmerge them)."))
            return None
        try:
            number = int(str(value).strip())
        except ValueError:
            self.problem(sheet, row, key, _l("A whole number, please."))
            return None
        if not low <= number <= high:
            self.problem(sheet, row, key, _l("Between %(low)d and %(high)d.", low=low, high=high))
            return None
        return number

    def choice(self, sheet: Sheet, row: Row, key: str, choices: dict, *, required: bool = False):  # noqa: ANN201
        value = self.text(sheet, row, key, 32, required=required)
        if value is None:
            return None
        found = choices.get(value) or choices.get(value.lower())
        if found is None:
            words = "、".join(k for k in choices if not k.isascii())
            self.problem(sheet, row, key, _l("Unknown value %(value)s; use one of: %(choices)s.", value=value, choices=words))
        return found


def check(session: Session, rows: dict[str, list[Row]]) -> Plan:
    """Check every row against the file and what is stored; the plan lists what would change."""
    plan = Plan()
    c = _Checker(plan)
    sheets = SHEET_BY_KEY
    stored = Stored(session, {str(r.values.get("code")).strip() for r in rows["estates"] if r.values.get("code")}
                     | {str(r.values.get("estate")).strip() for k in SHEET_BY_KEY if k != "estates"
                        for r in rows.get(k, []) if r.values.get("estate")})

    s = sheets["estates"]
    for row in rows["estates"]:
        code, name = c.text(s, row, "code", 32, required=True), c.text(s, row, "name", 120, required=True)
        address = c.text(s, row, "address", 255) or ""
        tz = c.text(s, row, "timezone", 64) or "Asia/Shanghai"
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            c.problem(s, row, "timezone", _l("Unknown time zone %(tz)s (e.g. Asia/Shanghai, Asia/Hong_Kong).", tz=tz))
        if code and code in plan.estates:
            c.problem(s, row, "code", _l("The estate %(code)s is listed twice.", code=code))
        elif code and name:
            plan.estates[code] = dict(code=code, name=name, address=address, timezone=tz, row=row.number)
    known_estates = set(plan.estates) | set(stored.estates)

    def estate_of(sheet: Sheet, row: Row) -> str | None:
        code = c.text(sheet, row, "estate", 32, required=True)
        if code and code not in known_estates:
            c.problem(sheet, row, "estate", _l("Unknown estate %(code)s: add it to the sheet 小區.", code=code))
            return None
        return code

    s = sheets["buildings"]
    floors_of: dict[tuple, int] = {key: b.floors for key, b in stored.buildings.items()}
    for row in rows["buildings"]:
        estate, code = estate_of(s, row), c.text(s, row, "building", 32, required=True)
        name, floors = c.text(s, row, "name", 120, required=True), c.number(s, row, "floors", 1, 200, required=True)
        if not (estate and code and name and floors):
            continue
        if (estate, code) in plan.buildings:
            c.problem(s, row, "building", _l("The building %(code)s is listed twice.", code=code))
            continue
        plan.buildings[(estate, code)] = dict(name=name, floors=floors, row=row.number)
        floors_of[(estate, code)] = floors

    def building_of(sheet: Sheet, row: Row, estate: str | None, *, required: bool = True) -> str | None:
        code = c.text(sheet, row, "building", 32, required=required)
        if estate and code and (estate, code) not in floors_of:
            c.problem(sheet, row, "building", _l("Unknown building %(code)s: add it to the sheet 樓棟.", code=code))
            return None
        return code

    s = sheets["stairwells"]
    span: dict[tuple, tuple[int, int]] = {key: (e.lowest_floor, e.highest_floor) for key, e in stored.stairwells.items()}
    for row in rows["stairwells"]:
        estate = estate_of(s, row)
        building = building_of(s, row, estate)
        code, name = c.text(s, row, "stairwell", 32, required=True), c.text(s, row, "name", 120, required=True)
        low, high = c.number(s, row, "lowest", -10, 200, required=True), c.number(s, row, "highest", -10, 200, required=True)
        if not (estate and building and code and name) or low is None or high is None:
            continue
        if low > high:
            c.problem(s, row, "highest", _l("The highest floor is below the lowest."))
            continue
        if high > floors_of[(estate, building)]:
            c.problem(s, row, "highest", _l("Building %(b)s has %(n)d floors.", b=building, n=floors_of[(estate, building)]))
            continue
        if (estate, building, code) in plan.stairwells:
            c.problem(s, row, "stairwell", _l("The stairwell %(code)s is listed twice.", code=code))
            continue
        plan.stairwells[(estate, building, code)] = dict(name=name, lowest=low, highest=high, row=row.number)
        span[(estate, building, code)] = (low, high)

    s = sheets["units"]
    for row in rows["units"]:
        estate = estate_of(s, row)
        building = building_of(s, row, estate)
        stairwell, room = c.text(s, row, "stairwell", 32, required=True), c.text(s, row, "room", 32, required=True)
        floor = c.number(s, row, "floor", -10, 200, required=True)
        area = None
        if row.values.get("area") is not None:
            try:
                area = Decimal(str(row.values["area"]).strip()).quantize(Decimal("0.01"))
                if not Decimal(0) < area < Decimal(100000):
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                c.problem(s, row, "area", _l("The area in square metres, e.g. 89.5."))
                area = None
        layout = c.text(s, row, "layout", 64) or ""
        state = c.choice(s, row, "state", UNIT_STATES, required=True)
        reason = c.choice(s, row, "reason", VACANCY_REASONS)
        if state is UnitState.VACANT and reason is None and row.values.get("reason") is None:
            c.problem(s, row, "reason", _l("A vacant unit needs its vacancy reason."))
            continue
        if state is not None and state is not UnitState.VACANT and row.values.get("reason") is not None:
            c.problem(s, row, "reason", _l("Only a vacant unit has a vacancy reason."))
            continue
        if not (estate and building and stairwell and room and state) or floor is None:
            continue
        if (estate, building, stairwell) not in span:
            c.problem(s, row, "stairwell", _l("Unknown stairwell %(code)s of building %(b)s: add it to the sheet 梯.",
                                              code=stairwell, b=building))
            continue
        low, high = span[(estate, building, stairwell)]
        if not low <= floor <= high:
            c.problem(s, row, "floor", _l("Floor %(floor)d is outside stairwell %(s)s (floors %(low)d to %(high)d).",
                                          floor=floor, s=stairwell, low=low, high=high))
            continue
        if (estate, building, room) in plan.units:
            c.problem(s, row, "room", _l("Room %(room)s of building %(b)s is listed twice.", room=room, b=building))
            continue
        plan.units[(estate, building, room)] = dict(stairwell=stairwell, floor=floor, area=area, layout=layout,
                                                    state=state, reason=reason if state is UnitState.VACANT else None)
    known_units = set(plan.units) | set(stored.units)

    s = sheets["areas"]
    for row in rows["areas"]:
        estate, kind = estate_of(s, row), c.choice(s, row, "kind", AREA_KINDS, required=True)
        name = c.text(s, row, "name", 120, required=True)
        if not (estate and kind and name):
            continue
        if (estate, name) in plan.areas:
            c.problem(s, row, "name", _l("The public area %(name)s is listed twice.", name=name))
            continue
        plan.areas[(estate, name)] = dict(kind=kind)

    s = sheets["assets"]
    for row in rows["assets"]:
        estate, kind = estate_of(s, row), c.choice(s, row, "kind", ASSET_KINDS, required=True)
        name = c.text(s, row, "name", 120, required=True)
        building = building_of(s, row, estate, required=False)
        stairwell = c.text(s, row, "stairwell", 32)
        if building and stairwell and estate and (estate, building, stairwell) not in span:
            c.problem(s, row, "stairwell", _l("Unknown stairwell %(code)s of building %(b)s: add it to the sheet 梯.",
                                              code=stairwell, b=building))
            continue
        if bool(building) != bool(stairwell):
            c.problem(s, row, "stairwell", _l("An asset of a stairwell names both its building and its stairwell."))
            continue
        if not (estate and kind and name):
            continue
        key = (estate, building, stairwell, name)
        if key in plan.assets:
            c.problem(s, row, "name", _l("The asset %(name)s is listed twice.", name=name))
            continue
        plan.assets[key] = dict(kind=kind)

    s = sheets["meters"]
    for row in rows["meters"]:
        estate = estate_of(s, row)
        building = building_of(s, row, estate, required=False)
        room, kind = c.text(s, row, "room", 32), c.choice(s, row, "kind", METER_KINDS, required=True)
        serial = c.text(s, row, "serial", 64, required=True)
        if room and not building:
            c.problem(s, row, "building", _l("A unit's meter names its building."))
            continue
        if estate and building and room and (estate, building, room) not in known_units:
            c.problem(s, row, "room", _l("Unknown room %(room)s of building %(b)s: add it to the sheet 單元.",
                                         room=room, b=building))
            continue
        if not (estate and kind and serial):
            continue
        if (estate, serial) in plan.meters:
            c.problem(s, row, "serial", _l("The meter serial %(serial)s is listed twice.", serial=serial))
            continue
        plan.meters[(estate, serial)] = dict(building=building, room=room, kind=kind)

    s = sheets["owners"]
    for row in rows["owners"]:
        estate = estate_of(s, row)
        building = building_of(s, row, estate)
        room, name = c.text(s, row, "room", 32, required=True), c.text(s, row, "name", 120, required=True)
        phone, id_number = c.text(s, row, "phone", 32) or "", (c.text(s, row, "id_number", 32) or "").upper()
        relation = c.choice(s, row, "relation", RELATIONS) or ContactRelation.OWNER
        if phone and not PHONE.fullmatch(phone):
            c.problem(s, row, "phone", _l("A phone number of digits, spaces or dashes, e.g. 138 0013 8000."))
            continue
        if id_number and not valid_id_number(id_number):
            c.problem(s, row, "id_number", _l("This is not an ID number (a resident ID of 18 characters or a Hong Kong "
                                              "identity card number, its check digit right)."))
            continue
        if not (estate and building and room and name):
            continue
        if (estate, building, room) not in known_units:
            c.problem(s, row, "room", _l("Unknown room %(room)s of building %(b)s: add it to the sheet 單元.",
                                         room=room, b=building))
            continue
        listed = plan.contacts[(estate, building, room)]
        if any(x["name"] == name for x in listed):
            c.problem(s, row, "name", _l("%(name)s is listed twice for this unit.", name=name))
            continue
        listed.append(dict(name=name, phone=phone, id_number=id_number, relation=relation))

    if not plan.problems:
        stored.compare(plan)
    return plan
