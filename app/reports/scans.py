"""Checkpoint scans in the summaries: coverage per steward and round kind over a period, and the
rounds a supervisor should look at (scans implausibly close together, refused scans, checkpoints
neither scanned nor explained where scans are required). Counted from each completed round's tally
(`ScanTally`, written with its completion), so a month costs one grouped query."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ..models import Estate, Round, RoundKind, RoundStatus, ScanTally, User
from .summaries import Period

LOOK_AT_LIMIT = 50


@dataclass(frozen=True)
class Coverage:
    steward: User
    kind: RoundKind
    rounds: int  # completed rounds with a tally
    checkpoints: int
    scanned: int
    sticker_damaged: int
    refused: int
    too_fast_rounds: int

    @property
    def share(self) -> float | None:
        return self.scanned / self.checkpoints if self.checkpoints else None


@dataclass(frozen=True)
class LookAt:
    round: Round
    tally: ScanTally

    @property
    def unexplained(self) -> int:
        return max(self.tally.checkpoints - self.tally.scanned - self.tally.sticker_damaged, 0)


@dataclass(frozen=True)
class ScanSummary:
    coverage: list[Coverage]
    look_at: list[LookAt]
    any_scans: bool


def _in_period(estate: Estate, period: Period):  # noqa: ANN202
    return sa.and_(Round.estate_id == estate.id, Round.status == RoundStatus.COMPLETED,
                   Round.local_date >= period.start, Round.local_date < period.end)


def scan_summary(session: Session, estate: Estate, period: Period) -> ScanSummary:
    rows = session.execute(
        sa.select(Round.steward_id, Round.kind, sa.func.count(), sa.func.sum(ScanTally.checkpoints),
                  sa.func.sum(ScanTally.scanned), sa.func.sum(ScanTally.sticker_damaged),
                  sa.func.sum(ScanTally.refused),
                  sa.func.sum(sa.case((ScanTally.too_fast > 0, 1), else_=0)),
                  sa.func.sum(sa.case((ScanTally.required, 1), else_=0)))
        .join(ScanTally, ScanTally.round_id == Round.id).where(_in_period(estate, period))
        .group_by(Round.steward_id, Round.kind)).all()
    # A steward and kind with no scan, no refusal and no rule asking for scans tells nothing.
    rows = [r for r in rows if (r[4] or 0) + (r[5] or 0) + (r[6] or 0) + (r[8] or 0)]
    users = {u.id: u for u in session.scalars(sa.select(User).where(User.id.in_({r[0] for r in rows})))} if rows else {}
    coverage = sorted(
        (Coverage(users[r[0]], r[1], r[2], r[3] or 0, r[4] or 0, r[5] or 0, r[6] or 0, r[7] or 0) for r in rows),
        key=lambda c: (c.steward.display_name, list(RoundKind).index(c.kind)))
    flagged = session.execute(
        sa.select(Round, ScanTally).join(ScanTally, ScanTally.round_id == Round.id)
        .where(_in_period(estate, period), sa.or_(
            ScanTally.too_fast > 0, ScanTally.refused > 0,
            sa.and_(ScanTally.required, ScanTally.scanned + ScanTally.sticker_damaged < ScanTally.checkpoints)))
        .options(selectinload(Round.steward), selectinload(Round.building), selectinload(Round.unit))
        .order_by(ScanTally.too_fast.desc(), Round.local_date.desc(), Round.id.desc()).limit(LOOK_AT_LIMIT)).all()
    return ScanSummary(coverage=coverage, look_at=[LookAt(r, t) for r, t in flagged], any_scans=bool(coverage))
