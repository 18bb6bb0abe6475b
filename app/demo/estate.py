"""The demo estate 翠湖花園: its places, owners, meters, teams and the demo logins, and the decoration
registrations of its decorating units. Deterministic (a fixed random seed)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..decoration import permits
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
from .story import HISTORY_DAYS

DEMO_ESTATE_CODE = "CUIHU"
DEMO_PASSWORD = "xuncha-demo"
FLOORS = 10
ENTRANCES_PER_BUILDING = 2
UNITS_PER_FLOOR_PER_ENTRANCE = 2
LAYOUTS = [("三室兩廳", Decimal("118.60")), ("兩室兩廳", Decimal("89.30")), ("三室一廳", Decimal("102.45"))]
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪邱曾廖賴徐周葉蘇莊呂江何蕭羅高"
GIVEN = "志明淑芬家豪雅婷俊傑美玲建宏怡君冠宇欣怡宗翰佳穎承恩詩涵子軒"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: Role


DEMO_LOGINS = [
    DemoLogin("steward1", "管家 陳小明", Role.STEWARD),
    DemoLogin("steward2", "管家 林小華", Role.STEWARD),
    DemoLogin("desk1", "前台 黃美玲", Role.DESK),
    DemoLogin("super1", "主管 張建宏", Role.SUPERVISOR),
    DemoLogin("eng1", "工程 李志強", Role.ENGINEERING),
    DemoLogin("gate", "門崗 王保安", Role.GATE),
]
CONTRACTORS = [("安居裝飾工程", "13760012345"), ("美家裝修隊", "13922334455"), ("匠心室內設計", "13534567890"),
               ("宏達裝飾", "13688776655")]
DECORATION_SCOPES = ["更換客廳及臥室地板，廚房、衛生間重新鋪貼瓷磚並做防水", "衛生間翻新：拆除舊瓷磚，重做防水，更換潔具",
                     "全屋翻新：水電改造、牆面批蕩刷漆、櫥櫃安裝", "陽台封閉及客廳吊頂，更換入戶門"]


def demo_exists(session: Session) -> bool:
    return session.scalar(sa.select(sa.exists().where(Estate.code == DEMO_ESTATE_CODE))) or False


def database_is_empty(session: Session) -> bool:
    return not session.scalar(sa.select(sa.exists().select_from(Estate))) and not session.scalar(
        sa.select(sa.exists().select_from(User))
    )


def _fake_id_number(rng: random.Random) -> str:
    # Demo values only: an area code, a birth date and a serial, never a real person.
    year = rng.randint(1955, 1998)
    return f"4403{rng.randint(0, 99):02d}{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}{rng.choice('0123456789X')}"


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))


def register_decorations(session: Session, estate: Estate, desk: User, today: date, *, before_history: bool) -> None:
    """A decoration registration (裝修登記) for every decorating unit, through app.decoration: made
    before the four weeks of history when there is one (its daily checks follow), else today."""
    tz = ZoneInfo(estate.timezone)
    units = sorted((u for b in estate.buildings for u in b.units if u.state is UnitState.DECORATING), key=lambda u: u.id)
    for i, unit in enumerate(units):
        owner = next((c for c in unit.contacts if c.relation is ContactRelation.OWNER), None)
        day = today - timedelta(days=HISTORY_DAYS + 2 + 3 * i) if before_history else today
        at = datetime.combine(day, time(10, 15 + i % 40), tz).astimezone(timezone.utc)
        if not before_history:
            at = min(at, datetime.now(timezone.utc))
        contractor, phone = CONTRACTORS[i % len(CONTRACTORS)]
        permits.register(session, desk, permits.Registration(
            unit_id=unit.id, owner_name=owner.name if owner else "業主", owner_phone=owner.phone if owner else "—",
            contractor_name=contractor, contractor_phone=phone, workers=2 + i % 4,
            worker_names="、".join(["張師傅", "李師傅", "王師傅", "趙師傅", "劉師傅"][: 2 + i % 4]),
            planned_start=day + timedelta(days=2), planned_end=today + timedelta(days=30 + 7 * i),
            scope=DECORATION_SCOPES[i % len(DECORATION_SCOPES)], deposit=Decimal(2000 + 1000 * (i % 3))), now=at)


def build_estate(session: Session) -> tuple[Estate, dict[str, User]]:
    """The estate, its places, owners and meters, and the demo logins assigned to it (not flushed)."""
    rng = random.Random(20261126)
    estate = Estate(code=DEMO_ESTATE_CODE, name="翠湖花園", address="深圳市南山區翠湖路 88 號", timezone="Asia/Shanghai")
    session.add(estate)

    vacancy_reasons = [VacancyReason.UNSOLD, VacancyReason.KEYS_NOT_COLLECTED, VacancyReason.DEVELOPER_HELD,
                       VacancyReason.DISPUTE, VacancyReason.SEIZED]
    for b in range(1, 4):
        building = Building(code=f"B{b}", name=f"{b}棟", floors=FLOORS, position=b)
        estate.buildings.append(building)
        for e in range(1, ENTRANCES_PER_BUILDING + 1):
            entrance = Entrance(code=f"E{e}", name=f"{e}梯", lowest_floor=1, highest_floor=FLOORS, position=e)
            building.entrances.append(entrance)
            for floor in range(1, FLOORS + 1):
                for n in range(1, UNITS_PER_FLOOR_PER_ENTRANCE + 1):
                    seq = (e - 1) * UNITS_PER_FLOOR_PER_ENTRANCE + n
                    layout, area = LAYOUTS[(seq - 1) % len(LAYOUTS)]
                    unit = Unit(room_number=f"{e}-{floor}{seq:02d}", floor=floor, area_m2=area, layout=layout,
                                entrance=entrance)
                    roll = rng.random()
                    if roll < 0.10:
                        unit.state, unit.vacancy_reason = UnitState.VACANT, rng.choice(vacancy_reasons)
                    elif roll < 0.14:
                        unit.state = UnitState.DECORATING
                    elif roll < 0.30:
                        unit.state = UnitState.RENTED
                    else:
                        unit.state = UnitState.OCCUPIED
                    building.units.append(unit)
                    if unit.state is not UnitState.VACANT or unit.vacancy_reason is not VacancyReason.UNSOLD:
                        unit.contacts.append(OwnerContact(
                            relation=ContactRelation.OWNER, name=_person(rng),
                            phone=f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
                            id_number=_fake_id_number(rng)))
                    if unit.state is UnitState.RENTED:
                        unit.contacts.append(OwnerContact(
                            relation=ContactRelation.TENANT, name=_person(rng),
                            phone=f"15{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
                            id_number=_fake_id_number(rng)))
                    for kind, prefix in ((MeterKind.WATER, "W"), (MeterKind.ELECTRICITY, "E")):
                        session.add(Meter(estate=estate, building=building, unit=unit, kind=kind,
                                          serial=f"{prefix}-{b}-{unit.room_number}", location=f"{floor}F {entrance.name}"))
            session.add(Asset(estate=estate, entrance=entrance, kind=AssetKind.ELEVATOR, name=f"{building.name}{entrance.name} 電梯"))
            session.add(Asset(estate=estate, entrance=entrance, kind=AssetKind.ENTRANCE_DOOR,
                              name=f"{building.name}{entrance.name} 入戶門及可視對講"))
        for kind, prefix in ((MeterKind.WATER, "W"), (MeterKind.ELECTRICITY, "E")):
            session.add(Meter(estate=estate, building=building, kind=kind, serial=f"{prefix}-{b}-PUBLIC",
                              location=f"{building.name} 1F 公共"))

    for position, (kind, name) in enumerate([
        (PublicAreaKind.ROAD, "主幹道及人行道"), (PublicAreaKind.GREENERY, "中心綠地"),
        (PublicAreaKind.PLAYGROUND, "兒童游樂場"), (PublicAreaKind.SHOPFRONT, "沿街店面"),
        (PublicAreaKind.GARAGE, "地下車庫"),
    ]):
        estate.public_areas.append(PublicArea(kind=kind, name=name, position=position))
    for kind, prefix in ((MeterKind.WATER, "W"), (MeterKind.ELECTRICITY, "E")):
        session.add(Meter(estate=estate, kind=kind, serial=f"{prefix}-GARAGE", location="地下車庫"))

    users = {}
    hashed = User()
    hashed.set_password(DEMO_PASSWORD)  # scrypt is slow on purpose: once for all the demo logins
    for login in DEMO_LOGINS:
        user = User(username=login.username, display_name=login.display_name, role=login.role,
                    password_hash=hashed.password_hash)
        session.add(user)
        users[login.username] = user
    b1, b2, b3 = estate.buildings
    users["steward1"].estates = [estate]  # facility round
    users["steward1"].buildings = [b1, b2]
    users["steward2"].buildings = [b3]
    for name in ("desk1", "super1", "eng1", "gate"):
        users[name].estates = [estate]
    return estate, users
