"""Versioned checklists: a round keeps the version it started with."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow


class RoundKind(enum.Enum):
    CORRIDOR = "corridor"  # 樓道巡查, every Tuesday–Wednesday
    FACILITY = "facility"  # 公共設施巡查, every Thursday
    VACANT_UNIT = "vacant_unit"  # 空置房屋檢查, monthly
    DECORATION = "decoration"  # 二次裝修日檢, daily
    METER = "meter"  # 抄表, monthly


class DefectRoute(enum.Enum):
    ENGINEERING = "engineering"
    CLEANING = "cleaning"
    OUTSIDE_PARTY = "outside_party"
    DECORATION_VIOLATION = "decoration_violation"


class Urgency(enum.Enum):
    URGENT = "urgent"
    NORMAL = "normal"
    PLANNED = "planned"


class ItemType(enum.Enum):
    CHECK = "check"  # fine / defect / not applicable
    READING = "reading"  # a numeric meter reading


class ChecklistVersion(db.Model):
    __tablename__ = "checklist_version"
    __table_args__ = (sa.UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RoundKind] = mapped_column(str_enum(RoundKind))
    version: Mapped[int]
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    title_zh_hant: Mapped[str] = mapped_column(sa.String(120))
    title_zh_hans: Mapped[str] = mapped_column(sa.String(120))
    title_en: Mapped[str] = mapped_column(sa.String(120))
    source: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="version", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )

    def title(self, lang: str) -> str:
        return {"zh_Hans": self.title_zh_hans, "en": self.title_en}.get(lang, self.title_zh_hant)


class ChecklistItem(db.Model):
    __tablename__ = "checklist_item"
    __table_args__ = (sa.UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_version.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(48))
    position: Mapped[int]
    origin: Mapped[str] = mapped_column(sa.String(16))  # "manual" or "trade"
    applies_to: Mapped[str] = mapped_column(sa.String(32))
    item_type: Mapped[ItemType] = mapped_column(str_enum(ItemType))
    label_zh_hant: Mapped[str] = mapped_column(sa.String(120))
    label_zh_hans: Mapped[str] = mapped_column(sa.String(120))
    label_en: Mapped[str] = mapped_column(sa.String(120))
    hint: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    route: Mapped[DefectRoute] = mapped_column(str_enum(DefectRoute))
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency), default=Urgency.NORMAL)
    photo_required: Mapped[bool] = mapped_column(default=False)
    required: Mapped[bool] = mapped_column(default=True)
    # [{"code": ..., "label": {"zh_Hant": ..., "zh_Hans": ..., "en": ...}}, ...]
    # For a reading item: the kind of meter it reads ("water" / "electricity").
    meter_kind: Mapped[str | None] = mapped_column(sa.String(16))
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    actions: Mapped[list] = mapped_column(sa.JSON, default=list)

    version: Mapped[ChecklistVersion] = relationship(back_populates="items")

    def label(self, lang: str) -> str:
        return {"zh_Hans": self.label_zh_hans, "en": self.label_en}.get(lang, self.label_zh_hant)
