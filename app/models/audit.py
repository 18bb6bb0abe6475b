"""The audit log: who changed what, when, with the values before and after. Never edited.

Entries are written only by app/audit/__init__.py (session events, and `record` for reads that must be
logged such as revealing an ID number). No foreign keys: an entry outlives what it describes."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (
        # A supervisor's page: one estate (or a few), newest first, keyset on id.
        sa.Index("ix_audit_entry_estate_id", "estate_id", "id"),
        sa.Index("ix_audit_entry_entity", "entity", "entity_id"),
        sa.Index("ix_audit_entry_user_id", "user_id", "id"),
        sa.Index("ix_audit_entry_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the server's clock
    user_id: Mapped[int | None]  # None: the system or the command line
    role: Mapped[str | None] = mapped_column(sa.String(16))  # the user's role at the time
    action: Mapped[str] = mapped_column(sa.String(16))  # created, updated, deleted, completed, revealed
    entity: Mapped[str] = mapped_column(sa.String(48))  # the table name
    entity_id: Mapped[int | None]
    entity_key: Mapped[str | None] = mapped_column(sa.String(64))  # its UUID, number or username
    estate_id: Mapped[int | None]  # where it can be told: what a supervisor's scope filters on
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    before: Mapped[dict | None] = mapped_column(sa.JSON)  # changed columns only (all when deleted)
    after: Mapped[dict | None] = mapped_column(sa.JSON)  # changed columns only (all when created)
    method: Mapped[str | None] = mapped_column(sa.String(8))
    path: Mapped[str | None] = mapped_column(sa.String(255))
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
