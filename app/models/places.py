"""The estate aggregate: estate → building → entrance → unit, public areas, assets, meters."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, str_enum


class Retirable:
    """A place with history is never deleted: it is retired, drops out of lists, rounds and imports'
    choices, and stays in the history (rounds, findings and tickets keep pointing at it)."""

    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    def in_service_at(self, moment: datetime | None) -> bool:
        """Whether the place was in service at `moment`: a round started before it was retired
        still walks it (its plan, its summary and its findings stay as they were)."""
        return self.retired_at is None or (moment is not None and self.retired_at > moment)


class UnitState(enum.Enum):
    VACANT = "vacant"
    OCCUPIED = "occupied"
    RENTED = "rented"
    DECORATING = "decorating"


class VacancyReason(enum.Enum):
    UNSOLD = "unsold"  # 未售
    KEYS_NOT_COLLECTED = "keys_not_collected"  # 未收房
    DEVELOPER_HELD = "developer_held"  # 開發商留存
    DISPUTE = "dispute"  # 糾紛
    SEIZED = "seized"  # 查封
    OTHER = "other"


class PublicAreaKind(enum.Enum):
    ROAD = "road"
    GREENERY = "greenery"
    PLAYGROUND = "playground"
    SHOPFRONT = "shopfront"
    GARAGE = "garage"


class AssetKind(enum.Enum):
    ELEVATOR = "elevator"
    ENTRANCE_DOOR = "entrance_door"  # 入戶門 with its video intercom 可視對講


class MeterKind(enum.Enum):
    WATER = "water"
    ELECTRICITY = "electricity"


class Estate(Retirable, db.Model):
    __tablename__ = "estate"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Shanghai")
    # A unit repair's return visit (回訪) is due this long after it is repaired.
    return_visit_hours: Mapped[int] = mapped_column(default=48, server_default="48")
    # Decoration working hours, copied into each registration ("08:00-12:00,14:00-18:00").
    decoration_hours: Mapped[str] = mapped_column(sa.String(64), default="08:00-12:00,14:00-18:00",
                                                  server_default="08:00-12:00,14:00-18:00")
    decoration_quiet_rest_days: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    buildings: Mapped[list["Building"]] = relationship(
        back_populates="estate", order_by="Building.position", cascade="all, delete-orphan"
    )
    public_areas: Mapped[list["PublicArea"]] = relationship(
        back_populates="estate", order_by="PublicArea.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Estate {self.code}>"


class Building(Retirable, db.Model):
    __tablename__ = "building"
    __table_args__ = (sa.UniqueConstraint("estate_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(120))
    floors: Mapped[int] = mapped_column(default=1)
    position: Mapped[int] = mapped_column(default=0)

    estate: Mapped[Estate] = relationship(back_populates="buildings")
    entrances: Mapped[list["Entrance"]] = relationship(
        back_populates="building", order_by="Entrance.position", cascade="all, delete-orphan"
    )
    units: Mapped[list["Unit"]] = relationship(
        back_populates="building", order_by="Unit.room_number", cascade="all, delete-orphan"
    )


class Entrance(Retirable, db.Model):
    """A stairwell / entrance (梯, 單元門) of a building."""

    __tablename__ = "entrance"
    __table_args__ = (sa.UniqueConstraint("building_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("building.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(120))
    lowest_floor: Mapped[int] = mapped_column(default=1)
    highest_floor: Mapped[int] = mapped_column(default=1)
    position: Mapped[int] = mapped_column(default=0)

    building: Mapped[Building] = relationship(back_populates="entrances")
    units: Mapped[list["Unit"]] = relationship(back_populates="entrance", order_by="Unit.room_number")


class Unit(Retirable, db.Model):
    __tablename__ = "unit"
    __table_args__ = (
        sa.UniqueConstraint("building_id", "room_number"),
        sa.CheckConstraint(
            "(state = 'vacant') OR (vacancy_reason IS NULL)", name="vacancy_reason_only_when_vacant"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("building.id", ondelete="CASCADE"), index=True)
    entrance_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("entrance.id", ondelete="SET NULL"), index=True
    )
    room_number: Mapped[str] = mapped_column(sa.String(32))
    floor: Mapped[int]
    area_m2: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2))
    layout: Mapped[str] = mapped_column(sa.String(64), default="")
    state: Mapped[UnitState] = mapped_column(str_enum(UnitState), default=UnitState.OCCUPIED, index=True)
    vacancy_reason: Mapped[VacancyReason | None] = mapped_column(str_enum(VacancyReason))

    building: Mapped[Building] = relationship(back_populates="units")
    entrance: Mapped[Entrance | None] = relationship(back_populates="units")
    contacts: Mapped[list["OwnerContact"]] = relationship(  # noqa: F821 - people module
        back_populates="unit", cascade="all, delete-orphan", order_by="OwnerContact.id"
    )
    meters: Mapped[list["Meter"]] = relationship(back_populates="unit", order_by="Meter.kind")

    @property
    def label(self) -> str:
        return f"{self.building.name} {self.room_number}"


class PublicArea(Retirable, db.Model):
    """A public place checked on the facility round: roads, greenery, playground, shopfronts, garage."""

    __tablename__ = "public_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PublicAreaKind] = mapped_column(str_enum(PublicAreaKind))
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)

    estate: Mapped[Estate] = relationship(back_populates="public_areas")


class Asset(Retirable, db.Model):
    """Equipment checked on rounds: an entrance's elevators, its entrance door and intercom."""

    __tablename__ = "asset"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), index=True)
    entrance_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entrance.id", ondelete="CASCADE"), index=True)
    public_area_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public_area.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AssetKind] = mapped_column(str_enum(AssetKind))
    name: Mapped[str] = mapped_column(sa.String(120))

    estate: Mapped[Estate] = relationship()
    entrance: Mapped[Entrance | None] = relationship()
    public_area: Mapped[PublicArea | None] = relationship()


class Meter(Retirable, db.Model):
    """A water or electricity meter: a unit's own, or a public one of a building or the estate."""

    __tablename__ = "meter"
    __table_args__ = (sa.UniqueConstraint("estate_id", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int | None] = mapped_column(sa.ForeignKey("building.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MeterKind] = mapped_column(str_enum(MeterKind))
    serial: Mapped[str] = mapped_column(sa.String(64))
    location: Mapped[str] = mapped_column(sa.String(120), default="")

    estate: Mapped[Estate] = relationship()
    building: Mapped[Building | None] = relationship()
    unit: Mapped[Unit | None] = relationship(back_populates="meters")

    @property
    def is_public(self) -> bool:
        return self.unit_id is None


def place_words(*, building: str | None = None, room: str | None = None, area: str | None = None,
                asset: str | None = None, entrance: str | None = None, floor: int | None = None,
                meter: str | None = None, fallback: str = "") -> str:
    """How a place is written everywhere (tickets, the review, summaries): "1棟 1-101",
    "兒童遊樂場", "2棟 1梯 5F", "2棟 1梯電梯"; `fallback` (the estate's name) for the estate itself."""
    if room:
        return f"{building} {room}" if building else room
    if area:
        return area
    parts = [building or ""]
    if asset:
        parts.append(asset)
    elif entrance:
        parts.append(entrance + (f" {floor}F" if floor is not None else ""))
    elif meter:
        parts.append(meter)
    elif floor is not None:
        parts.append(f"{floor}F")
    return " ".join(p for p in parts if p) or fallback
