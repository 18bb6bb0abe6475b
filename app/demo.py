"""A realistic demo estate: 3 buildings, 120 units, public areas, meters and the demo staff.

Deterministic (a fixed random seed), so every fresh clone shows the same estate.
Only this loader creates the demo users.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import (
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
]


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


def load_demo(session: Session) -> Estate:
    """Create the demo estate and users. The caller commits."""
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
    for login in DEMO_LOGINS:
        user = User(username=login.username, display_name=login.display_name, role=login.role)
        user.set_password(DEMO_PASSWORD)
        session.add(user)
        users[login.username] = user
    b1, b2, b3 = estate.buildings
    users["steward1"].estates = [estate]  # facility round
    users["steward1"].buildings = [b1, b2]
    users["steward2"].buildings = [b3]
    for name in ("desk1", "super1", "eng1"):
        users[name].estates = [estate]
    session.flush()
    return estate
