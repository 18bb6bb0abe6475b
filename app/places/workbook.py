"""The estate workbook (.xlsx): how a company brings its estates into Xuncha, and keeps them.

One sheet per kind of place, Traditional Chinese headers (the English names are accepted too).
Reading is bounded before any cell is parsed (file size, uncompressed size, shared strings, rows);
formulas are read as the values the file holds, never evaluated. Every row is checked against the
file itself and what is stored; a file with any problem stores nothing, and the problems are listed
by sheet, row and column. A clean file is stored in one transaction, matched to what is stored by
codes (estate code; building code; stairwell code; room number; meter serial; contact name), so the
same file again changes nothing and a changed file updates what changed, each change in the audit log.
Nothing is deleted or retired by a workbook: a place with history is retired on its page.
"""
from __future__ import annotations

import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
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
    Unit,
    UnitState,
    User,
    VacancyReason,
)
from ..refusals import Rejected

# Bounds, checked before openpyxl parses anything: a property office's workbook of a few estates is
# a few MB; 1,000,000 rows or a zip bomb is refused with a message, not read.
MAX_FILE_BYTES = 20 * 1024 * 1024  # within the app's request limit (MAX_CONTENT_LENGTH)
MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024
MAX_ROWS = 250_000  # data rows over all sheets
MAX_PROBLEMS = 500  # listed; the count says how many more

# Accepted values: the manual's words (Traditional and Simplified Chinese) and the English names.
UNIT_STATES = {"自住": UnitState.OCCUPIED, "出租": UnitState.RENTED, "空置": UnitState.VACANT,
               "裝修中": UnitState.DECORATING, "装修中": UnitState.DECORATING}
VACANCY_REASONS = {"未售": VacancyReason.UNSOLD, "未收房": VacancyReason.KEYS_NOT_COLLECTED,
                   "開發商留存": VacancyReason.DEVELOPER_HELD, "开发商留存": VacancyReason.DEVELOPER_HELD,
                   "糾紛": VacancyReason.DISPUTE, "纠纷": VacancyReason.DISPUTE, "查封": VacancyReason.SEIZED}
AREA_KINDS = {"道路": PublicAreaKind.ROAD, "綠化": PublicAreaKind.GREENERY, "绿化": PublicAreaKind.GREENERY,
              "兒童遊樂場": PublicAreaKind.PLAYGROUND, "儿童游乐场": PublicAreaKind.PLAYGROUND,
              "商鋪": PublicAreaKind.SHOPFRONT, "商铺": PublicAreaKind.SHOPFRONT,
              "車庫": PublicAreaKind.GARAGE, "车库": PublicAreaKind.GARAGE}
ASSET_KINDS = {"電梯": AssetKind.ELEVATOR, "电梯": AssetKind.ELEVATOR, "入戶門": AssetKind.ENTRANCE_DOOR,
               "入户门": AssetKind.ENTRANCE_DOOR, "單元門": AssetKind.ENTRANCE_DOOR, "单元门": AssetKind.ENTRANCE_DOOR,
               "可視對講": AssetKind.ENTRANCE_DOOR, "可视对讲": AssetKind.ENTRANCE_DOOR}
METER_KINDS = {"水": MeterKind.WATER, "電": MeterKind.ELECTRICITY, "电": MeterKind.ELECTRICITY}
RELATIONS = {"業主": ContactRelation.OWNER, "业主": ContactRelation.OWNER, "住戶": ContactRelation.RESIDENT,
             "住户": ContactRelation.RESIDENT, "租客": ContactRelation.TENANT, "租戶": ContactRelation.TENANT,
             "租户": ContactRelation.TENANT}
for _choices in (UNIT_STATES, VACANCY_REASONS, AREA_KINDS, ASSET_KINDS, METER_KINDS, RELATIONS):
    _choices.update({member.value: member for member in list(_choices.values())})


@dataclass(frozen=True)
class Column:
    zh: str
    en: str
    key: str
    required: bool = False


@dataclass(frozen=True)
class Sheet:
    zh: str
    en: str
    key: str
    columns: tuple[Column, ...]
    help: str  # one line for the template's instructions


ESTATE, BUILDING, STAIRWELL, ROOM = (Column("小區代碼", "estate", "estate", True), Column("樓棟代碼", "building", "building", True),
                                     Column("梯代碼", "stairwell", "stairwell", True), Column("房號", "room", "room", True))
SHEETS = (
    Sheet("小區", "estates", "estates", (Column("代碼", "code", "code", True), Column("名稱", "name", "name", True),
                                       Column("地址", "address", "address"), Column("時區", "timezone", "timezone")),
          "一行一個小區。時區留空為 Asia/Shanghai。"),
    Sheet("樓棟", "buildings", "buildings", (ESTATE, BUILDING, Column("名稱", "name", "name", True),
                                          Column("層數", "floors", "floors", True)),
          "一行一棟樓。層數為地上層數。"),
    Sheet("梯", "stairwells", "stairwells", (ESTATE, BUILDING, STAIRWELL, Column("名稱", "name", "name", True),
                                           Column("最低層", "lowest floor", "lowest", True),
                                           Column("最高層", "highest floor", "highest", True)),
          "一行一個梯（單元門）。最低層、最高層在樓棟的層數之內。"),
    Sheet("單元", "units", "units", (ESTATE, BUILDING, STAIRWELL, ROOM, Column("樓層", "floor", "floor", True),
                                    Column("面積", "area", "area"), Column("戶型", "layout", "layout"),
                                    Column("狀態", "state", "state", True), Column("空置原因", "vacancy reason", "reason")),
          "狀態：自住、出租、空置、裝修中。空置的單元須填空置原因：未售、未收房、開發商留存、糾紛、查封。"),
    Sheet("公共區域", "public areas", "areas", (ESTATE, Column("類別", "kind", "kind", True),
                                            Column("名稱", "name", "name", True)),
          "類別：道路、綠化、兒童遊樂場、商鋪、車庫。"),
    Sheet("設施", "assets", "assets", (ESTATE, Column("類別", "kind", "kind", True), Column("名稱", "name", "name", True),
                                     Column("樓棟代碼", "building", "building"), Column("梯代碼", "stairwell", "stairwell")),
          "類別：電梯、入戶門（含可視對講）。梯的設施填樓棟代碼和梯代碼。"),
    Sheet("表計", "meters", "meters", (ESTATE, Column("樓棟代碼", "building", "building"), Column("房號", "room", "room"),
                                     Column("類別", "kind", "kind", True), Column("表號", "serial", "serial", True)),
          "類別：水、電。公共表房號留空；小區的公共表樓棟代碼也留空。表號在小區內不重複。"),
    Sheet("業主", "owners", "owners", (ESTATE, BUILDING, ROOM, Column("姓名", "name", "name", True),
                                     Column("電話", "phone", "phone"), Column("證件號", "id number", "id_number"),
                                     Column("關係", "relation", "relation")),
          "關係：業主、住戶、租客（留空為業主）。一個單元在此表列出的聯繫人即其全部聯繫人。"),
)
SHEET_BY_KEY = {s.key: s for s in SHEETS}


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int | None
    column: str | None
    message: Any  # a lazy string

    def __str__(self) -> str:
        where = self.sheet + (f" 第 {self.row} 行" if self.row else "") + (f" {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class WorkbookRefused(Rejected):
    """The file cannot be imported: every problem found, each with where it is."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        super().__init__(_l("The workbook has %(count)d problems; nothing was stored.", count=total or len(problems)))
        self.problems = problems
        self.total = total or len(problems)


@dataclass
class Row:
    number: int  # as the spreadsheet shows it
    values: dict[str, Any]


# Reading --------------------------------------------------------------------------------------


def _check_container(data: bytes) -> None:
    """Bounds on the zip container, before openpyxl opens it."""
    if len(data) > MAX_FILE_BYTES:
        raise WorkbookRefused([Problem("—", None, None, _l("The file is larger than %(mb)d MB.",
                                                           mb=MAX_FILE_BYTES // (1024 * 1024)))])
    if not data.startswith(b"PK") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise WorkbookRefused([Problem("—", None, None, _l(
            "This is not an Excel workbook (.xlsx). Save the file as .xlsx and try again."))])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names:
            raise WorkbookRefused([Problem("—", None, None, _l(
                "This is not an Excel workbook (.xlsx). Save the file as .xlsx and try again."))])
        if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED_BYTES:
            raise WorkbookRefused([Problem("—", None, None, _l("The workbook is too large once unpacked."))])
        strings = next((i for i in infos if i.filename == "xl/sharedStrings.xml"), None)
        if strings is not None and strings.file_size > MAX_SHARED_STRINGS_BYTES:
            raise WorkbookRefused([Problem("—", None, None, _l(
                "The workbook's text table is too large (over %(mb)d MB).", mb=MAX_SHARED_STRINGS_BYTES // (1024 * 1024)))])


def _header_key(text: Any, sheet: Sheet) -> str | None:
    if text is None:
        return None
    raw = str(text).strip()
    m = re.fullmatch(r"(.*?)\s*[(（](.*)[)）]\s*", raw)  # "房號 (room)" as the template writes it
    candidates = {raw, raw.lower()} | ({m.group(1).strip(), m.group(2).strip().lower()} if m else set())
    for column in sheet.columns:
        if column.zh in candidates or column.en in candidates:
            return column.key
    return None


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_workbook(data: bytes) -> dict[str, list[Row]]:
    """Every sheet's rows as {column key: value}; refuses a file it cannot read, with where."""
    from openpyxl import load_workbook  # imported here: only the import page and command need it

    _check_container(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        raise WorkbookRefused([Problem("—", None, None, _l(
            "The workbook cannot be read; it may be damaged. Open it in Excel, save it as .xlsx and try again."))]) from None
    problems: list[Problem] = []
    rows: dict[str, list[Row]] = {}
    total = 0
    try:
        titles = {title.strip(): title for title in book.sheetnames}
        for sheet in SHEETS:
            title = titles.get(sheet.zh) or next((t for k, t in titles.items() if k.lower() == sheet.en), None)
            if title is None:
                problems.append(Problem(sheet.zh, None, None, _l(
                    "The sheet is missing. Download the template and keep all its sheets (an empty sheet is fine).")))
                continue
            it = book[title].iter_rows(values_only=True)
            header = next(it, None) or ()
            keys = [_header_key(h, sheet) for h in header]
            missing = [c for c in sheet.columns if c.required and c.key not in keys]
            for column in missing:
                problems.append(Problem(sheet.zh, 1, column.zh, _l("This column is missing from the first row.")))
            if missing:
                continue
            found: list[Row] = []
            for number, values in enumerate(it, start=2):
                if not any(v is not None and str(v).strip() for v in values):
                    continue
                total += 1
                if total > MAX_ROWS:
                    raise WorkbookRefused([Problem(sheet.zh, number, None, _l(
                        "The workbook has more than %(rows)d rows; split it into several files.", rows=MAX_ROWS))])
                found.append(Row(number, {k: _cell(v) for k, v in zip(keys, values) if k is not None}))
            rows[sheet.key] = found
    finally:
        book.close()
    if problems:
        raise WorkbookRefused(problems)
    return rows


# Checking -------------------------------------------------------------------------------------


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
HKID = re.compile(r"^([A-Z]{1,2})(\d{6})\(?([0-9A])\)?$")
NOT_TEXT = re.compile("[\x00\ud800-\udfff]")  # a NUL or half of a character: not text a person typed
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,30}$")


def valid_id_number(text: str) -> bool:
    """A mainland resident ID (18 characters, its birth date and check digit right) or a Hong Kong
    identity card number (its check digit right)."""
    text = text.strip().upper()
    if re.fullmatch(r"\d{17}[\dX]", text):
        try:
            born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
        except ValueError:
            return False
        total = sum(int(d) * w for d, w in zip(text[:17], ID_WEIGHTS))
        return ID_CHECK[total % 11] == text[17] and date(1900, 1, 1) <= born
    m = HKID.fullmatch(text)
    if m:
        letters, digits, check = m.groups()
        values = ([36] if len(letters) == 1 else []) + [ord(c) - 55 for c in letters] + [int(d) for d in digits]
        total = sum(v * w for v, w in zip(values, range(9, 1, -1)))
        expected = (11 - total % 11) % 11
        return check == ("A" if expected == 10 else str(expected))
    return False


@dataclass
class Change:
    kind: str  # "estate", "building", "stairwell", "unit", "area", "asset", "meter", "contact"
    label: str  # the place, as people write it
    action: str  # "create" / "update" / "remove"
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name → (before, after)


@dataclass
class Plan:
    """What storing the file would change, checked; `apply` writes it."""

    estates: dict[str, dict] = field(default_factory=dict)  # code → values
    buildings: dict[tuple, dict] = field(default_factory=dict)  # (estate, building) → values
    stairwells: dict[tuple, dict] = field(default_factory=dict)  # (estate, building, stairwell) → values
    units: dict[tuple, dict] = field(default_factory=dict)  # (estate, building, room) → values
    areas: dict[tuple, dict] = field(default_factory=dict)  # (estate, name) → values
    assets: dict[tuple, dict] = field(default_factory=dict)  # (estate, building, stairwell, name) → values
    meters: dict[tuple, dict] = field(default_factory=dict)  # (estate, serial) → values
    contacts: dict[tuple, list[dict]] = field(default_factory=lambda: defaultdict(list))  # (estate, building, room)
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = {"estates": len(self.estates), "buildings": len(self.buildings), "stairwells": len(self.stairwells),
               "units": len(self.units), "public areas": len(self.areas), "assets": len(self.assets),
               "meters": len(self.meters), "contacts": sum(len(v) for v in self.contacts.values())}
        return out


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
    stored = _Stored(session, {str(r.values.get("code")).strip() for r in rows["estates"] if r.values.get("code")}
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


# What is stored ------------------------------------------------------------------------------


class _Stored:
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


# Storing --------------------------------------------------------------------------------------


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
    stored = _Stored(session, set(plan.estates) | {k[0] for k in plan.buildings} | {k[0] for k in plan.units}
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


# The template ---------------------------------------------------------------------------------


def template_workbook() -> bytes:
    """An empty workbook with every sheet and header, and a first sheet that explains them."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    guide = book.active
    guide.title = "說明"
    guide.column_dimensions["A"].width = 14
    guide.column_dimensions["B"].width = 100
    lines = [("巡查 Xuncha 小區資料表", ""),
             ("", "填好各表後，在「小區資料」頁面上傳，或執行 flask import-estate 檔案.xlsx。"),
             ("", "先用「只檢查」：每個問題都會列出表、行、欄；有任何問題時不會儲存任何資料。"),
             ("", "同一個檔案再匯入不會有任何改變；改過的檔案按代碼更新，改動記入審計日誌。已有記錄的地點不會被刪除。"),
             ("", "欄名可用中文或括號內的英文。公式按檔案中的值讀取，不會計算。請勿合併儲存格。"), ("", "")]
    lines += [(s.zh, s.help) for s in SHEETS]
    for row in lines:
        guide.append(row)
    guide["A1"].font = Font(bold=True, size=14)
    for cell in guide["B"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    lists = {("units", "state"): ["自住", "出租", "空置", "裝修中"],
             ("units", "reason"): ["未售", "未收房", "開發商留存", "糾紛", "查封"],
             ("areas", "kind"): ["道路", "綠化", "兒童遊樂場", "商鋪", "車庫"],
             ("assets", "kind"): ["電梯", "入戶門"], ("meters", "kind"): ["水", "電"],
             ("owners", "relation"): ["業主", "住戶", "租客"]}
    for sheet in SHEETS:
        ws = book.create_sheet(sheet.zh)
        ws.append([f"{c.zh} ({c.en})" for c in sheet.columns])
        for i, column in enumerate(sheet.columns, start=1):
            cell = ws.cell(row=1, column=i)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="FFF2CC" if column.required else "EEEEEE")
            ws.column_dimensions[cell.column_letter].width = max(12, len(column.en) + 8)
            choices = lists.get((sheet.key, column.key))
            if choices:
                dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
                ws.add_data_validation(dv)
                dv.add(f"{cell.column_letter}2:{cell.column_letter}100000")
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
