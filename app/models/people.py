"""People: staff users with their role and scope, and owner/resident contacts (confidential)."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow
from .places import Building, Estate, Unit


class Role(enum.Enum):
    ADMIN = "admin"  # 系統管理員: company-wide; estates, staff, schedules and checklists
    STEWARD = "steward"  # 樓宇客服管家
    DESK = "desk"  # 前台 / 客服助理
    SUPERVISOR = "supervisor"  # 客服主管
    ENGINEERING = "engineering"  # 工程部
    GATE = "gate"  # 保安門崗: asks for decoration materials to come in; never reads owner details


class Language(enum.Enum):
    ZH_HANT = "zh_Hant"
    ZH_HANS = "zh_Hans"
    EN = "en"


class ContactRelation(enum.Enum):
    OWNER = "owner"  # 業主
    TENANT = "tenant"  # 租戶
    RESIDENT = "resident"  # 住戶 (family member)


user_estate = sa.Table(
    "user_estate",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("estate_id", sa.ForeignKey("estate.id", ondelete="CASCADE"), primary_key=True),
)

user_building = sa.Table(
    "user_building",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("building_id", sa.ForeignKey("building.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    language: Mapped[Language | None] = mapped_column(str_enum(Language))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the id kept in the session (get_id, Flask-Login's "alternative token"): signing out
    # or a new password moves it on, so every cookie issued before stops counting, including
    # one that a request still in flight brings back later.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set when an administrator resets the password: the user chooses a new one at the next sign-in.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    # Estate-wide assignment: every building of the estate, and its estate-wide rounds.
    estates: Mapped[list[Estate]] = relationship(secondary=user_estate, order_by=Estate.id)
    # Building assignment: only these buildings (a steward's 樓棟 of responsibility).
    buildings: Mapped[list[Building]] = relationship(secondary=user_building, order_by=Building.id)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.end_sessions()

    def get_id(self) -> str:
        return f"{self.id}-{self.session_version or 0}"

    def end_sessions(self) -> None:
        """Sign this user out everywhere: the sessions issued so far no longer count."""
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def visible_estate_ids(self) -> set[int]:
        return {e.id for e in self.estates} | {b.estate_id for b in self.buildings}

    def building_scope(self, estate: Estate) -> list[Building]:
        """The buildings of `estate` this user covers."""
        own = [b for b in self.buildings if b.estate_id == estate.id]
        if own:
            return own
        if any(e.id == estate.id for e in self.estates):
            return list(estate.buildings)
        return []

    def covers_estate_wide(self, estate: Estate) -> bool:
        return any(e.id == estate.id for e in self.estates)

    def covers_building(self, building: Building) -> bool:
        """Whether `building` is in this user's building_scope of its estate, asked of the one
        building instead of listing every building of the estate."""
        own = [b.id for b in self.buildings if b.estate_id == building.estate_id]
        return building.id in own if own else any(e.id == building.estate_id for e in self.estates)

    def covers_place(self, estate_id: int, building: Building | None) -> bool:
        """Whether a record of a place is this user's: one of a building (a corridor round, a
        unit's ticket) by covers_building, one of the estate itself (the facility round, a road's
        ticket) if the user is assigned the estate estate-wide."""
        if building is not None:
            return self.covers_building(building)
        return any(e.id == estate_id for e in self.estates)

    def covered_places(self, building_id: sa.ColumnElement, estate_id: sa.ColumnElement) -> sa.ColumnElement[bool]:
        """covers_place's rule as a condition on a table's building and estate columns, so a list is
        scoped (and limited, and paged) in its query."""
        whole = self.whole_estate_ids
        mixed = {e.id for e in self.estates} - whole  # estate-wide and some of its buildings
        parts = []  # only the parts that can match: a user of whole estates gets a plain, indexed estate_id IN
        if self.buildings:
            parts.append(building_id.in_(sorted(b.id for b in self.buildings)))
        if whole:  # every record of these estates
            parts.append(estate_id.in_(sorted(whole)))
        if mixed:  # the estate's own records too
            parts.append(sa.and_(building_id.is_(None), estate_id.in_(sorted(mixed))))
        return sa.or_(*parts) if parts else sa.false()

    def covered_buildings(self) -> sa.ColumnElement[bool]:
        """covers_building's rule as a condition on Building's columns."""
        return self.covered_places(Building.id, Building.estate_id)

    @property
    def whole_estate_ids(self) -> set[int]:
        """The estates of which this user covers every building: what estate-wide figures and logs
        (the summaries, the audit log) may show them."""
        return {e.id for e in self.estates} - {b.estate_id for b in self.buildings}

    def can_see_unit(self, unit: Unit) -> bool:
        return self.covers_building(unit.building)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"


class OwnerContact(db.Model):
    """An owner's or resident's contact details: confidential (檔案保密)."""

    __tablename__ = "owner_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    relation: Mapped[ContactRelation] = mapped_column(str_enum(ContactRelation), default=ContactRelation.OWNER)
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    id_number: Mapped[str] = mapped_column(sa.String(32), default="")

    unit: Mapped[Unit] = relationship(back_populates="contacts")

    @property
    def masked_id_number(self) -> str:
        """Enough to confirm an identity on the phone, not enough to leak it."""
        n = self.id_number
        if len(n) > 7:
            return n[:3] + "*" * (len(n) - 7) + n[-4:]
        return "*" * len(n)
