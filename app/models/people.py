"""People: staff users with their role and scope, and owner/resident contacts (confidential)."""
from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

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


When = datetime | date | None  # an instant, an estate's local date, or None: now


def _day_in(timezone_name: str, when: When) -> date:
    """The local date in a time zone of `when`: an instant, a local date as it is, or None (today)."""
    if isinstance(when, datetime):
        return when.astimezone(ZoneInfo(timezone_name)).date()
    if isinstance(when, date):
        return when
    return datetime.now(ZoneInfo(timezone_name)).date()


class Assignment:
    """Where one person is assigned, and the rule of scope that follows from it: every building of
    an estate assigned estate-wide (and the estate's own places: the facility round, its roads and
    public meters), or only the buildings assigned to them there (a steward's 樓棟 of
    responsibility), with the estate's own places only if the estate is assigned too."""

    __slots__ = ("estates", "buildings")

    def __init__(self, estates: list[Estate], buildings: list[Building]) -> None:
        self.estates, self.buildings = estates, buildings

    @property
    def estate_ids(self) -> set[int]:
        return {e.id for e in self.estates} | {b.estate_id for b in self.buildings}

    @property
    def whole_estate_ids(self) -> set[int]:
        return {e.id for e in self.estates} - {b.estate_id for b in self.buildings}

    def building_scope(self, estate: Estate) -> list[Building]:
        own = [b for b in self.buildings if b.estate_id == estate.id]
        if own:
            return own
        if any(e.id == estate.id for e in self.estates):
            return list(estate.buildings)
        return []

    def covers_estate_wide(self, estate_id: int) -> bool:
        return any(e.id == estate_id for e in self.estates)

    def covers_building(self, building: Building) -> bool:
        own = [b.id for b in self.buildings if b.estate_id == building.estate_id]
        return building.id in own if own else self.covers_estate_wide(building.estate_id)

    def condition(self, building_id: sa.ColumnElement, estate_id: sa.ColumnElement) -> sa.ColumnElement[bool]:
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


class User(UserMixin, db.Model):
    """A member of staff. Their scope is their own assignment (`estates`, `buildings`) and, on the
    days of a cover for leave (LeaveCover), the assignment of the colleague they cover: every scope
    question below takes `when` (an instant, or the estate's local date; default now) and answers
    for that day in the estate's own calendar. Estate-wide figures and logs (the summaries, the
    audit log: `whole_estate_ids`) stay with the user's own assignment."""

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
    # The covers for leave this user works (林小華 covers 陳小明): past, running and planned.
    covering: Mapped[list["LeaveCover"]] = relationship(
        primaryjoin="User.id == LeaveCover.cover_id", viewonly=True, order_by="LeaveCover.first_day")

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

    # Scope: the one rule (Assignment), asked of the user's own assignment and of those they cover.

    @property
    def own_assignment(self) -> Assignment:
        return Assignment(self.estates, self.buildings)

    def covered_on(self, timezone_name: str, when: When = None) -> list[User]:
        """The colleagues whose places this user covers on that day, in a calendar (time zone)."""
        if not self.covering:
            return []
        day = _day_in(timezone_name, when)
        return [c.covered for c in self.covering if c.in_force_on(day, timezone_name)]

    def _assignments(self, estate: Estate, when: When) -> list[Assignment]:
        return [self.own_assignment, *(u.own_assignment for u in self.covered_on(estate.timezone, when))]

    def estate_ids_on(self, when: When = None) -> set[int]:
        """The estates this user works in on that day: their own, and those of whom they cover."""
        ids = self.own_assignment.estate_ids
        for cover in self.covering:
            if not cover.near(when):
                continue
            covered = cover.covered
            for estate in {*covered.estates, *(b.estate for b in covered.buildings)}:
                if estate.id not in ids and cover.in_force_on(_day_in(estate.timezone, when), estate.timezone):
                    ids.add(estate.id)
        return ids

    @property
    def visible_estate_ids(self) -> set[int]:
        return self.estate_ids_on(None)

    def building_scope(self, estate: Estate, when: When = None) -> list[Building]:
        """The buildings of `estate` this user covers."""
        scopes = [a.building_scope(estate) for a in self._assignments(estate, when)]
        if len(scopes) == 1:
            return scopes[0]
        seen: dict[int, Building] = {}
        for scope in scopes:
            seen.update((b.id, b) for b in scope if b.id not in seen)
        return sorted(seen.values(), key=lambda b: (b.position, b.id))

    def covers_estate_wide(self, estate: Estate, when: When = None) -> bool:
        return any(a.covers_estate_wide(estate.id) for a in self._assignments(estate, when))

    def covers_building(self, building: Building, when: When = None) -> bool:
        """Whether `building` is in this user's building_scope of its estate, asked of the one
        building instead of listing every building of the estate."""
        if self.own_assignment.covers_building(building):
            return True
        return bool(self.covering) and any(a.covers_building(building)
                                           for a in self._assignments(building.estate, when)[1:])

    def covers_place(self, estate_id: int, building: Building | None, when: When = None) -> bool:
        """Whether a record of a place is this user's: one of a building (a corridor round, a
        unit's ticket) by covers_building, one of the estate itself (the facility round, a road's
        ticket) if the user is assigned the estate estate-wide."""
        if building is not None:
            return self.covers_building(building, when)
        if self.own_assignment.covers_estate_wide(estate_id):
            return True
        return any(cover.in_force_on(_day_in(e.timezone, when), e.timezone)
                   for cover in self.covering if cover.near(when) for e in cover.covered.estates if e.id == estate_id)

    def covered_places(self, building_id: sa.ColumnElement, estate_id: sa.ColumnElement) -> sa.ColumnElement[bool]:
        """covers_place's rule (today) as a condition on a table's building and estate columns, so a
        list is scoped (and limited, and paged) in its query."""
        own = self.own_assignment.condition(building_id, estate_id)
        parts = []
        for cover in self.covering:
            if not cover.near(None):
                continue
            covered = cover.covered.own_assignment
            for estate in {*cover.covered.estates, *(b.estate for b in cover.covered.buildings)}:
                if cover.in_force_on(_day_in(estate.timezone, None), estate.timezone):
                    parts.append(sa.and_(estate_id == estate.id, covered.condition(building_id, estate_id)))
        return sa.or_(own, *parts) if parts else own

    def covered_buildings(self) -> sa.ColumnElement[bool]:
        """covers_building's rule as a condition on Building's columns."""
        return self.covered_places(Building.id, Building.estate_id)

    @property
    def whole_estate_ids(self) -> set[int]:
        """The estates of which this user covers every building: what estate-wide figures and logs
        (the summaries, the audit log) may show them. Their own assignment only: a cover for leave
        brings the colleague's rounds and checks, not the office's views."""
        return self.own_assignment.whole_estate_ids

    def can_see_unit(self, unit: Unit, when: When = None) -> bool:
        return self.covers_building(unit.building, when)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"


class LeaveCover(db.Model):
    """A cover for leave: 林小華 (`cover`) covers 陳小明's (`covered`) places from `first_day` to
    `last_day`, both included, each day read in the estate's own calendar. On those days the
    covered colleague's rounds, repair checks and decoration checks are the cover's too; the
    covered colleague keeps their own access (work walked before the leave and synced during it
    is never refused). Ended early (`ended_at`), it stops from that day on. Kept, never deleted:
    the summaries read who was responsible for each past day from it."""

    __tablename__ = "leave_cover"
    __table_args__ = (
        sa.CheckConstraint("first_day <= last_day", name="cover_days_in_order"),
        sa.CheckConstraint("cover_id <> covered_id", name="cover_not_oneself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cover_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    covered_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[date]
    last_day: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    cover: Mapped[User] = relationship(foreign_keys=[cover_id])
    covered: Mapped[User] = relationship(foreign_keys=[covered_id])

    def near(self, when: When) -> bool:
        """Whether the cover may hold at `when` in some time zone (a day's slack each side): a
        cheap test before the covered colleague's estates are loaded to ask in_force_on."""
        day = _day_in("UTC", when)
        return self.first_day - timedelta(days=1) <= day <= self.last_day + timedelta(days=1)

    def in_force_on(self, day: date, timezone_name: str) -> bool:
        """Whether the cover holds on an estate's local date (ended early: not from its end's day)."""
        if not self.first_day <= day <= self.last_day:
            return False
        return self.ended_at is None or day < self.ended_at.astimezone(ZoneInfo(timezone_name)).date()


class AssignmentPeriod(db.Model):
    """When a user held an assignment (an estate estate-wide: `building_id` None; or a building),
    written by the staff operations whenever they change a user's estates or buildings, so the
    summaries judge each past period by who was responsible then. `started_at` None: held since
    before this history was kept. An assignment with no row at all (made by the demo loader or
    before any staff operation touched the user) counts as held throughout."""

    __tablename__ = "assignment_period"
    __table_args__ = (sa.Index("ix_assignment_period_estate_user", "estate_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"))
    building_id: Mapped[int | None] = mapped_column(sa.ForeignKey("building.id", ondelete="CASCADE"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


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
