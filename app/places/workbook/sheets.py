"""The workbook's sheets and columns, its words (states, kinds, relations), its bounds, and a problem's shape."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from ...models import (
    AssetKind,
    ContactRelation,
    MeterKind,
    PublicAreaKind,
    UnitState,
    VacancyReason,
)
from ...refusals import Rejected

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
