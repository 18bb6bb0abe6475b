"""The round aggregate: one walk of one checklist over one place."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, new_uuid, str_enum, utcnow
from .checklists import ChecklistItem, ChecklistVersion, RoundKind
from .people import User
from .places import Asset, Building, Entrance, Estate, Meter, PublicArea, Unit


class RoundStatus(enum.Enum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class FindingResult(enum.Enum):
    FINE = "fine"
    DEFECT = "defect"
    NOT_APPLICABLE = "not_applicable"


class VisitOutcome(enum.Enum):
    """How a decoration daily check went (二次裝修日檢): checked, or why it could not be."""

    CHECKED = "checked"
    NOBODY = "nobody"  # 無人
    REFUSED = "refused"  # 拒不開門
    FINISHED = "finished"  # 完工: the work is done, ready for acceptance


class PhotoStatus(enum.Enum):
    PENDING = "pending"  # named by a finding, bytes not received yet
    STORED = "stored"


class Round(db.Model):
    __tablename__ = "round"
    __table_args__ = (
        sa.Index("ix_round_estate_kind_date", "estate_id", "kind", "local_date"),
        # The desk's review (app/review/__init__.py): completed rounds newest first (date, then id), of one
        # estate or of all, with every filtered column in the index so a page or a capped count
        # walks the index alone and stops when it has enough.
        sa.Index("ix_round_review_estate", "estate_id", "status", "local_date", "id", "kind", "building_id",
                 "steward_id"),
        sa.Index("ix_round_review", "status", "local_date", "id", "estate_id", "kind", "building_id", "steward_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Made on the phone, so a round started offline is stored exactly once.
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    kind: Mapped[RoundKind] = mapped_column(str_enum(RoundKind))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    # The place walked: a building (corridor, meters), a unit (vacant, decoration) or the estate.
    building_id: Mapped[int | None] = mapped_column(sa.ForeignKey("building.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    steward_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    checklist_version_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_version.id"))
    # The estate's local date the round was started on: what the schedule counts.
    local_date: Mapped[date]
    status: Mapped[RoundStatus] = mapped_column(str_enum(RoundStatus), default=RoundStatus.IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 of the completion as the phone sent it: a repeat is recognised, a different one refused.
    completion_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    # Decoration checks only: empty means checked as usual.
    visit_outcome: Mapped[VisitOutcome | None] = mapped_column(str_enum(VisitOutcome))

    estate: Mapped[Estate] = relationship()
    building: Mapped[Building | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    steward: Mapped[User] = relationship()
    checklist_version: Mapped[ChecklistVersion] = relationship()
    findings: Mapped[list["Finding"]] = relationship(
        back_populates="round", order_by="Finding.id", cascade="all, delete-orphan"
    )
    stored_findings = None  # not a column: how many findings intake.complete_round just stored


class Answer:
    """What a steward answered for one item: kept by a finding, and again by each correction."""

    result: Mapped[FindingResult] = mapped_column(str_enum(FindingResult))
    reason_code: Mapped[str | None] = mapped_column(sa.String(48))
    reason_text: Mapped[str] = mapped_column(sa.String(500), default="")
    action_code: Mapped[str | None] = mapped_column(sa.String(48))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    reading_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))


class Finding(Answer, db.Model):
    """One checklist item answered at one place on a round. Never edited: see FindingAmendment."""

    __tablename__ = "finding"
    __table_args__ = (
        sa.Index("ix_finding_place_item", "checklist_item_id", "unit_id", "entrance_id", "floor"),
        # The review's defect / not-reviewed filters and counts, answered per round from an index
        # (not reviewed is rare once the desk keeps up: it gets a seek of its own).
        sa.Index("ix_finding_review", "round_id", "result", "reviewed_at"),
        sa.Index("ix_finding_round_reviewed", "round_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, insert_sentinel=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id", ondelete="CASCADE"), index=True)
    checklist_item_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_item.id"))
    # Where: the checkpoint of the round (a floor of a stairwell, a stairwell, a public area,
    # an asset, a unit, a meter, or the estate itself when all are empty).
    entrance_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entrance.id"))
    floor: Mapped[int | None]
    public_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("public_area.id"))
    asset_id: Mapped[int | None] = mapped_column(sa.ForeignKey("asset.id"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    meter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meter.id"), index=True)
    # Meter warnings worked out on the server: lower_than_last, consumption_spike, vacant_consumption.
    flags: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The repair ticket this defect opened, or was seen again on.
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("repair_ticket.id"), index=True)
    # Or the decoration violation this breach belongs to.
    violation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("violation.id"), index=True)
    # A resident violation (住戶違章) the steward marked here: {"kind", "room"}, and "problem" when it
    # could not become a violation (the finding is kept; the desk records it by hand).
    resident_violation: Mapped[dict | None] = mapped_column(sa.JSON)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The desk's review of what was synced.
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    round: Mapped[Round] = relationship(back_populates="findings")
    item: Mapped[ChecklistItem] = relationship()
    entrance: Mapped[Entrance | None] = relationship()
    public_area: Mapped[PublicArea | None] = relationship()
    asset: Mapped[Asset | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    meter: Mapped[Meter | None] = relationship()
    ticket: Mapped["RepairTicket | None"] = relationship(back_populates="findings")  # noqa: F821 - tickets module
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    violation: Mapped["Violation | None"] = relationship(back_populates="findings")  # noqa: F821 - decoration
    comments: Mapped[list["FindingComment"]] = relationship(
        back_populates="finding", order_by="FindingComment.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list["Photo"]] = relationship(back_populates="finding", order_by="Photo.id")
    amendments: Mapped[list["FindingAmendment"]] = relationship(
        back_populates="finding", order_by="FindingAmendment.id", cascade="all, delete-orphan"
    )

    @property
    def building(self) -> Building | None:
        """The building of where it was found: the round's, or for a round of the whole estate (the
        facility round checks each stairwell's door, intercom and elevators) the place's."""
        if self.round.building is not None:
            return self.round.building
        meter = self.meter
        for place in (self.entrance, self.asset.entrance if self.asset else None, self.unit,
                      meter.unit if meter else None):
            if place is not None:
                return place.building
        return meter.building if meter else None

    @property
    def place(self) -> tuple:
        """Where it was found, in the order of round_plan.Checkpoint.place."""
        return (self.entrance_id, self.floor, self.public_area_id, self.asset_id, self.unit_id, self.meter_id)

    @property
    def current(self) -> "Finding | FindingAmendment":
        """The answer as it stands: the latest amendment, else the finding as recorded."""
        return self.amendments[-1] if self.amendments else self


class FindingComment(db.Model):
    """A desk remark on a synced finding."""

    __tablename__ = "finding_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("finding.id", ondelete="CASCADE"), index=True)
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    text: Mapped[str] = mapped_column(sa.String(1000))

    finding: Mapped[Finding] = relationship(back_populates="comments")
    by: Mapped[User] = relationship()


class FindingAmendment(Answer, db.Model):
    """A correction after the round was completed: the original finding stays as it was."""

    __tablename__ = "finding_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("finding.id", ondelete="CASCADE"), index=True)
    amended_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    amended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    why: Mapped[str] = mapped_column(sa.String(500))
    # What was sent under `uuid` (made by the client): the same again is the same correction, other
    # content a conflict. Corrections stored before there was one have none.
    content_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    finding: Mapped[Finding] = relationship(back_populates="amendments")
    amended_by: Mapped[User] = relationship()


class Photo(db.Model):
    """A photo of a finding. Bytes live in photo storage under random keys, never in static/."""

    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    # The finding is named by its UUID, so a photo may arrive before or after its round.
    finding_uuid: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    # Or: an "after" photo of a repair, taken by the team that did it.
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("repair_ticket.id", ondelete="SET NULL"), index=True)
    # Or a decoration record made on the phone or at the gate: a flood test's start or result,
    # a violation's re-check, a material request (app/decoration/records.py knows who may see it).
    record_uuid: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finding.id", ondelete="SET NULL"), index=True)
    status: Mapped[PhotoStatus] = mapped_column(str_enum(PhotoStatus), default=PhotoStatus.PENDING)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    source_format: Mapped[str | None] = mapped_column(sa.String(8))
    width: Mapped[int | None]
    height: Mapped[int | None]
    byte_size: Mapped[int | None]
    display_key: Mapped[str | None] = mapped_column(sa.String(64))
    thumb_key: Mapped[str | None] = mapped_column(sa.String(64))
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    finding: Mapped[Finding | None] = relationship(back_populates="photos")
