"""Notices: what the app tells a person (a gate request waiting, a ticket for their team…), kept
whether or not a push reached a phone; the phones that take Web Push; each person's quiet hours."""
from __future__ import annotations

import enum
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow
from .people import User
from .places import Estate


class NoticeKind(enum.Enum):
    GATE_REQUEST = "gate_request"  # materials wait at the gate for the steward's decision
    TICKET_DISPATCHED = "ticket_dispatched"  # a ticket sent to the team the user works in
    REPAIR_CHECK_DUE = "repair_check_due"  # a public repair waits for the steward's check on site
    COMPLAINT_ASSIGNED = "complaint_assigned"  # a complaint of the steward's places waits for the investigation
    WORK_OVERDUE = "work_overdue"  # a ticket or complaint past its time
    ESCALATION = "escalation"  # something handed up to the supervisor


class PushOutcome(enum.Enum):
    """What became of a notice's push. None on the row: not tried yet."""

    SENT = "sent"  # at least one of the person's phones took it
    QUIET = "quiet"  # in the person's quiet hours: listed, not pushed
    NO_DEVICE = "no_device"  # no phone of theirs takes pushes: listed only
    INACTIVE = "inactive"  # the account is deactivated: kept, not delivered
    EXPIRED = "expired"  # every subscription was gone (404/410): removed
    FAILED = "failed"  # the push services refused or could not be reached
    OFF = "off"  # this installation has no Web Push keys


class Notice(db.Model):
    __tablename__ = "notice"
    __table_args__ = (
        # The bell's count: a person's unread notices, read from the index alone.
        sa.Index("ix_notice_user_unread", "user_id", "read_at", "id"),
        # A notice that must go once (work overdue): its key, once per person.
        sa.UniqueConstraint("user_id", "key", name="uq_notice_user_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[NoticeKind] = mapped_column(str_enum(NoticeKind))
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"))
    # What the notice names (a unit, a ticket number…), shown in the reader's language.
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    link: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    key: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    push_outcome: Mapped[PushOutcome | None] = mapped_column(str_enum(PushOutcome))
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the push was tried
    push_detail: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")

    user: Mapped[User] = relationship()
    estate: Mapped[Estate | None] = relationship()


class PushSubscription(db.Model):
    """One browser's Web Push subscription (its push service endpoint and keys)."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(sa.String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(sa.String(200))
    auth: Mapped[str] = mapped_column(sa.String(64))
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(default=0, server_default="0")

    user: Mapped[User] = relationship()


class NoticeSettings(db.Model):
    """A person's quiet hours, in the time zone of the estate they work in: no push from `quiet_from`
    to `quiet_until` (across midnight when it is the earlier); the notices are still kept and listed."""

    __tablename__ = "notice_settings"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    quiet_from: Mapped[time | None] = mapped_column(sa.Time)
    quiet_until: Mapped[time | None] = mapped_column(sa.Time)
