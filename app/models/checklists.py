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
    """One version of a checklist: the company's, or an estate's own (published in the browser for
    that estate: ChecklistPublication). Version numbers run per kind across the company and the
    estates, so (kind, version) names one version, as a phone sends it."""

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

    # None: loaded from the manual's data file (sync-checklists).
    publication: Mapped["ChecklistPublication | None"] = relationship(
        back_populates="version", cascade="all, delete-orphan", lazy="selectin")
    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="version", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )

    def title(self, lang: str) -> str:
        """The title in a language, or in Traditional Chinese where it has no translation."""
        return {"zh_Hans": self.title_zh_hans, "en": self.title_en}.get(lang) or self.title_zh_hant

    @property
    def estate_id(self) -> int | None:
        """The estate whose own version this is; None: the company's."""
        return self.publication.estate_id if self.publication else None

    @property
    def from_file(self) -> bool:
        return self.publication is None


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
        """The label in a language, or in Traditional Chinese where it has no translation."""
        return {"zh_Hans": self.label_zh_hans, "en": self.label_en}.get(lang) or self.label_zh_hant


class ChecklistPublication(db.Model):
    """A checklist version published in the browser: for the company (`estate_id` None) or for one
    estate, by whom and when. (A table of its own, so checklist_version keeps its columns: rounds
    and items point at it.)"""

    __tablename__ = "checklist_publication"

    version_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_version.id", ondelete="CASCADE"),
                                            primary_key=True)
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estate.id"), index=True)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[ChecklistVersion] = relationship(back_populates="publication")


class EstateChecklist(db.Model):
    """Whether an estate walks its own version of a checklist (the latest it published) or the
    company's. No row: the company's."""

    __tablename__ = "estate_checklist"

    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[RoundKind] = mapped_column(str_enum(RoundKind), primary_key=True)
    own: Mapped[bool] = mapped_column(default=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
