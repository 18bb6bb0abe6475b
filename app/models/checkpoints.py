"""Proof of presence on a round: printed checkpoint codes, the scans a round brings, and per estate
and round kind whether scans are asked for. No location is tracked: a scan says only "this sticker
was read at this time"."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow
from .checklists import RoundKind
from .people import User
from .places import Estate, Retirable
from .rounds import Round
from .tickets import RepairTicket


class CheckpointCode(Retirable, db.Model):
    """A printed sticker for one checkpoint of a round plan (a stairwell's floor, a public area, an
    elevator, a unit's door, a meter), named by the plan's key (`floor:<entrance>:<floor>`, `area:<id>`…).
    Its token is unguessable (128 bits); a retired code (damaged, replaced) is refused when scanned."""

    __tablename__ = "checkpoint_code"
    __table_args__ = (sa.Index("ix_checkpoint_code_estate_key", "estate_id", "checkpoint_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32), unique=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"))
    checkpoint_key: Mapped[str] = mapped_column(sa.String(64))
    label: Mapped[str] = mapped_column(sa.String(200))  # the place as printed under the code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    estate: Mapped[Estate] = relationship()


class ScanRule(db.Model):
    """A supervisor's decision: rounds of this kind in this estate are to scan every checkpoint."""

    __tablename__ = "scan_rule"
    __table_args__ = (sa.UniqueConstraint("estate_id", "kind", name="uq_scan_rule_estate_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"))
    kind: Mapped[RoundKind] = mapped_column(str_enum(RoundKind))
    required: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    changed_by: Mapped[User | None] = relationship()


class ScanMethod(enum.Enum):
    CAMERA = "camera"
    NFC = "nfc"
    STICKER_DAMAGED = "sticker_damaged"  # no scan: the sticker is missing or unreadable, with a reason


class ScanOutcome(enum.Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"  # kept with its refusal, shown to the supervisor; the round is never refused for it
    STICKER_DAMAGED = "sticker_damaged"


class ScanRefusal(enum.Enum):
    UNKNOWN_CODE = "unknown_code"  # not a code of ours: forged, mistyped, another system's
    RETIRED_CODE = "retired_code"
    OTHER_ESTATE = "other_estate"
    NOT_ON_ROUND = "not_on_round"  # a code of this estate, of a place this round does not walk
    TWICE = "twice"  # the same code already scanned on this round
    FUTURE_TIME = "future_time"  # the phone's time is ahead of the server's beyond the tolerance


class CheckpointScan(db.Model):
    """One scan (or one damaged sticker) recorded on a round, stored with its completion."""

    __tablename__ = "checkpoint_scan"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id", ondelete="CASCADE"), index=True)
    method: Mapped[ScanMethod] = mapped_column(str_enum(ScanMethod))
    outcome: Mapped[ScanOutcome] = mapped_column(str_enum(ScanOutcome))
    refusal: Mapped[ScanRefusal | None] = mapped_column(str_enum(ScanRefusal))
    # The place it stands for: the code's checkpoint, or the one whose sticker is damaged (null: unknown code).
    checkpoint_key: Mapped[str | None] = mapped_column(sa.String(64))
    code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checkpoint_code.id", ondelete="SET NULL"))
    code_text: Mapped[str] = mapped_column(sa.String(256), default="")  # as read, kept for a refused scan
    reason: Mapped[str] = mapped_column(sa.String(500), default="")  # a damaged sticker's
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's clock, as sent
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("repair_ticket.id"))  # a damaged sticker's

    round: Mapped[Round] = relationship()
    code: Mapped[CheckpointCode | None] = relationship()
    ticket: Mapped[RepairTicket | None] = relationship()


class ScanTally(db.Model):
    """A completed round's scans counted once at completion, so the summaries count coverage
    without rebuilding every round's plan."""

    __tablename__ = "scan_tally"

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    required: Mapped[bool] = mapped_column(default=False)  # the estate's rule when the round was completed
    checkpoints: Mapped[int] = mapped_column(default=0)
    scanned: Mapped[int] = mapped_column(default=0)
    sticker_damaged: Mapped[int] = mapped_column(default=0)  # explained, not scanned
    refused: Mapped[int] = mapped_column(default=0)
    too_fast: Mapped[int] = mapped_column(default=0)  # pairs of scans closer than the walk between them

    round: Mapped[Round] = relationship()
