"""Decoration (二次裝修): a unit's registration, its process log, violations, flood tests and
material entry requests. Everything that happens to a decoration is kept: records are closed,
never deleted, and the log (DecorationEvent) is the 過程記錄 the manual asks for."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow
from .people import User
from .places import Estate, Unit, UnitState, VacancyReason

DEFAULT_WORKING_HOURS = "08:00-12:00,14:00-18:00"


class PermitStatus(enum.Enum):
    ACTIVE = "active"  # registered, work may go on
    COMPLETED = "completed"  # final acceptance (完工驗收) passed
    CANCELLED = "cancelled"  # registered in error or withdrawn


class DecorationPermit(db.Model):
    """A decoration registration (裝修登記): while active the unit is "decorating" and checked daily."""

    __tablename__ = "decoration_permit"
    __table_args__ = (
        # One active registration per unit, whatever the application checked first.
        sa.Index("ux_decoration_permit_active_unit", "unit_id", unique=True,
                 sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'")),
        sa.CheckConstraint("planned_end >= planned_start", name="decoration_end_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(24), unique=True)  # ZX-20261127-01
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    status: Mapped[PermitStatus] = mapped_column(str_enum(PermitStatus), default=PermitStatus.ACTIVE)
    # Confidential like the owner archive: desk and supervisors only.
    owner_name: Mapped[str] = mapped_column(sa.String(120))
    owner_phone: Mapped[str] = mapped_column(sa.String(32))
    # The contractor works on site: stewards and the gate may see who they are.
    contractor_name: Mapped[str] = mapped_column(sa.String(120))
    contractor_phone: Mapped[str] = mapped_column(sa.String(32))
    workers: Mapped[int] = mapped_column(default=1)
    worker_names: Mapped[str] = mapped_column(sa.String(500), default="")
    planned_start: Mapped[date]
    planned_end: Mapped[date]
    scope: Mapped[str] = mapped_column(sa.String(2000))
    working_hours: Mapped[str] = mapped_column(sa.String(64), default=DEFAULT_WORKING_HOURS)
    quiet_rest_days: Mapped[bool] = mapped_column(default=True)  # no noisy work on rest days
    deposit: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), default=Decimal("0"))
    # The unit's state before it became "decorating", and where it goes after acceptance.
    prior_state: Mapped[UnitState] = mapped_column(str_enum(UnitState))
    prior_vacancy_reason: Mapped[VacancyReason | None] = mapped_column(str_enum(VacancyReason))
    registered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 停工: a serious breach stops the work until a supervisor or the desk lets it go on.
    work_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    work_stopped_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    finished_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a daily check found it finished
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    acceptance_note: Mapped[str] = mapped_column(sa.String(1000), default="")

    estate: Mapped[Estate] = relationship()
    unit: Mapped[Unit] = relationship()
    registered_by: Mapped[User] = relationship(foreign_keys=[registered_by_id])
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])
    events: Mapped[list["DecorationEvent"]] = relationship(
        back_populates="permit", order_by="DecorationEvent.id", cascade="all, delete-orphan"
    )
    violations: Mapped[list["Violation"]] = relationship(back_populates="permit", order_by="Violation.id")
    flood_tests: Mapped[list["FloodTest"]] = relationship(back_populates="permit", order_by="FloodTest.id")

    @property
    def work_stopped(self) -> bool:
        return self.work_stopped_at is not None and self.status is PermitStatus.ACTIVE


class DecorationEvent(db.Model):
    """One step of a decoration's process record (過程記錄), in order; never edited."""

    __tablename__ = "decoration_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    permit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("decoration_permit.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    # registered, vacant_sheet_filed, visit_nobody, visit_refused, visit_finished, work_stopped,
    # work_resumed, violation_found, notice_issued, owner_called, recheck_passed, recheck_failed,
    # recheck_refused, violation_escalated, violation_resolved, flood_started, neighbour_checked,
    # flood_passed, flood_failed, material_requested, material_approved, material_refused,
    # material_resolved, material_escalated, acceptance_failed, accepted, cancelled
    kind: Mapped[str] = mapped_column(sa.String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the server's clock
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    violation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("violation.id"))
    flood_test_id: Mapped[int | None] = mapped_column(sa.ForeignKey("flood_test.id"))
    material_request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("material_request.id"))
    round_id: Mapped[int | None] = mapped_column(sa.ForeignKey("round.id"))
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    permit: Mapped[DecorationPermit | None] = relationship(back_populates="events")
    by: Mapped[User | None] = relationship()


class ViolationStatus(enum.Enum):
    STOPPED = "stopped"  # stopped on the spot, photographed; no notice yet
    NOTICED = "noticed"  # rectification notice issued, deadline set
    RECTIFIED = "rectified"  # re-checked and put right: closed
    ESCALATED = "escalated"  # not put right or refused: with the supervisor
    RESOLVED = "resolved"  # closed by the supervisor after escalation


OPEN_VIOLATION = (ViolationStatus.STOPPED, ViolationStatus.NOTICED, ViolationStatus.ESCALATED)


class Violation(db.Model):
    """A decoration breach (裝修違章) found on a daily check, with the defects that show it."""

    __tablename__ = "violation"
    __table_args__ = (sa.Index("ix_violation_estate_status_deadline", "estate_id", "status", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    permit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("decoration_permit.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(sa.ForeignKey("round.id"), index=True)
    status: Mapped[ViolationStatus] = mapped_column(str_enum(ViolationStatus), default=ViolationStatus.STOPPED)
    serious: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[str] = mapped_column(sa.String(2000))  # the items, as the notice prints them
    # What kind of violation: a decoration breach, or a resident violation beyond decoration (住戶違章:
    # corridor clutter, illegal structure, façade change, group renting, other), one shared process.
    kind: Mapped[str] = mapped_column(sa.String(24), default="decoration", server_default="decoration")
    found_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notice_number: Mapped[str | None] = mapped_column(sa.String(24), unique=True)  # ZG-20261127-01
    notice_requirements: Mapped[str] = mapped_column(sa.String(2000), default="")
    notice_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[date | None]  # the estate's local date of the re-check (複查)
    owner_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    permit: Mapped[DecorationPermit | None] = relationship(back_populates="violations")
    unit: Mapped[Unit] = relationship()
    estate: Mapped[Estate] = relationship()
    found_by: Mapped[User] = relationship()
    findings: Mapped[list["Finding"]] = relationship(back_populates="violation", order_by="Finding.id")  # noqa: F821
    rechecks: Mapped[list["ViolationRecheck"]] = relationship(back_populates="violation",
                                                              order_by="ViolationRecheck.id")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_VIOLATION


class RecheckResult(enum.Enum):
    RECTIFIED = "rectified"
    NOT_RECTIFIED = "not_rectified"
    REFUSED = "refused"  # the owner or workers refuse to put it right (拒不整改)


class ViolationRecheck(db.Model):
    """The steward's re-check (複查) at the deadline, sent from the phone, stored once by UUID."""

    __tablename__ = "violation_recheck"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    violation_id: Mapped[int] = mapped_column(sa.ForeignKey("violation.id"), index=True)
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    result: Mapped[RecheckResult] = mapped_column(str_enum(RecheckResult))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's clock, within bounds
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_sha256: Mapped[str] = mapped_column(sa.String(64))

    violation: Mapped[Violation] = relationship(back_populates="rechecks")
    by: Mapped[User] = relationship()


class WetArea(enum.Enum):
    BATHROOM = "bathroom"  # 衛生間
    KITCHEN = "kitchen"  # 廚房
    BALCONY = "balcony"  # 陽臺


class FloodTestStatus(enum.Enum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


FLOOD_TEST_HOURS = 48  # the manual: at least 48 hours (閉水試驗是否達到48小時)


class FloodTest(db.Model):
    """A flood test (閉水試驗) of one wet area. Its hours count from when the server heard of the
    start (`started_at`), never from a phone's clock."""

    __tablename__ = "flood_test"
    __table_args__ = (
        # One running test per wet area, whatever two phones sent at the same moment.
        sa.Index("ux_flood_test_running_area", "unit_id", "wet_area", unique=True,
                 sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)  # the start, made on the phone
    permit_id: Mapped[int] = mapped_column(sa.ForeignKey("decoration_permit.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    wet_area: Mapped[WetArea] = mapped_column(str_enum(WetArea))
    status: Mapped[FloodTestStatus] = mapped_column(str_enum(FloodTestStatus), default=FloodTestStatus.RUNNING)
    started_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)  # server time the start arrived
    phone_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # what the phone said
    water_level_cm: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 1))
    start_photo_uuid: Mapped[str] = mapped_column(sa.String(36))
    start_content_sha256: Mapped[str] = mapped_column(sa.String(64))
    # The unit below and the adjacent units, checked for leaks: required before a pass.
    neighbour_uuid: Mapped[str | None] = mapped_column(sa.String(36), unique=True)
    neighbour_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    neighbour_checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    neighbour_units: Mapped[str] = mapped_column(sa.String(255), default="")
    neighbour_leak: Mapped[bool | None]
    neighbour_note: Mapped[str] = mapped_column(sa.String(1000), default="")
    neighbour_content_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    result_uuid: Mapped[str | None] = mapped_column(sa.String(36), unique=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # server time the result arrived
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    result_note: Mapped[str] = mapped_column(sa.String(1000), default="")
    result_photo_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    result_content_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    permit: Mapped[DecorationPermit] = relationship(back_populates="flood_tests")
    unit: Mapped[Unit] = relationship()
    started_by: Mapped[User] = relationship(foreign_keys=[started_by_id])


class MaterialStatus(enum.Enum):
    PENDING = "pending"  # the gate waits for the steward
    APPROVED = "approved"
    REFUSED = "refused"  # with the desk, to contact the owner
    RESOLVED = "resolved"  # the desk settled it with the owner
    ESCALATED = "escalated"  # the desk could not: with the supervisor


class MaterialRequest(db.Model):
    """The security gate asks to let decoration materials in (裝修材料進場)."""

    __tablename__ = "material_request"
    __table_args__ = (sa.Index("ix_material_request_estate_status", "estate_id", "status", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    permit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("decoration_permit.id"), index=True)
    materials: Mapped[str] = mapped_column(sa.String(500))
    photo_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    status: Mapped[MaterialStatus] = mapped_column(str_enum(MaterialStatus), default=MaterialStatus.PENDING)
    raised_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision_uuid: Mapped[str | None] = mapped_column(sa.String(36), unique=True)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.String(1000), default="")  # why it was refused
    decision_content_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str] = mapped_column(sa.String(1000), default="")

    unit: Mapped[Unit] = relationship()
    estate: Mapped[Estate] = relationship()
    permit: Mapped[DecorationPermit | None] = relationship()
    raised_by: Mapped[User] = relationship(foreign_keys=[raised_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class DecorationCounter(db.Model):
    """The last number given per prefix and local day (ZX registrations, ZG notices): numbers are
    unique across estates, so the counter is shared and locked like the repair tickets' one."""

    __tablename__ = "decoration_counter"

    prefix: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)
