"""The scans a round brings with its completion: judged, kept (refused ones too, with the reason),
counted, and read back for the supervisor.

A round is never refused because of one bad scan. A code of another estate, of a place this round
does not walk, one never printed (forged), one retired, the same code again, or a scan time ahead
of the server's clock beyond the tolerance every step has (`steps.CLOCK_SKEW`) are stored as
refused with their reason; a missing or damaged sticker is stored with its reason instead of a scan
(and becomes a ticket to replace it: app/repairs/stickers.py).

**Plausible walking time.** No location is tracked; what is judged is the time between two scans
taken one after the other against the least time a walk between the two places takes:

- the same stairwell: FLOOR_SECONDS (8 s) per storey between them (a brisk climb, nothing checked);
- another stairwell of the same building: STAIRWELL_SECONDS (30 s), plus the storeys down to the
  ground floor and up again (8 s each);
- another building, a public area, an elevator of the estate, the estate itself: BUILDING_SECONDS
  (60 s), plus the storeys down and up.

A pair closer in time than that is "implausibly close"; a round with any such pair is shown to the
supervisor with the pair. The figures are a floor, not an expectation: a floor really checked takes
longer, so a flagged pair means the codes were not read where they hang (a photo of the sheet).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..models import (
    Asset,
    CheckpointScan,
    Entrance,
    Meter,
    Round,
    ScanMethod,
    ScanOutcome,
    ScanRefusal,
    ScanTally,
    Unit,
)
from ..steps import CLOCK_SKEW, phone_time
from .checkpoints import code_by_text
from .plan import Checkpoint, Plan

FLOOR_SECONDS = 8
STAIRWELL_SECONDS = 30
BUILDING_SECONDS = 60
GROUND_FLOOR = 1

REFUSALS = {
    ScanRefusal.UNKNOWN_CODE: _l("Not one of our checkpoint codes (forged or from elsewhere)."),
    ScanRefusal.RETIRED_CODE: _l("This code was retired."),
    ScanRefusal.OTHER_ESTATE: _l("A code of another estate."),
    ScanRefusal.NOT_ON_ROUND: _l("A code of a place this round does not walk."),
    ScanRefusal.TWICE: _l("The same code was already scanned on this round."),
    ScanRefusal.FUTURE_TIME: _l("The scan's time is ahead of the server's clock."),
}


@dataclass(frozen=True)
class ScanInput:
    uuid: str
    method: ScanMethod
    scanned_at: datetime | None = None
    code: str = ""
    checkpoint: str | None = None  # a damaged sticker's place
    reason: str = ""


def judge(session: Session, rnd: Round, plan: Plan, scans: list[ScanInput], now: datetime) -> list[dict]:
    """The rows to store for `scans` (round_id left out), each accepted or refused with its reason."""
    on_plan = {c.key for c in plan.checkpoints}
    accepted: set[str] = set()
    rows = []
    # Oldest first: of a code scanned twice, the later scan is the one refused.
    order = sorted(range(len(scans)), key=lambda i: (scans[i].scanned_at or now, i))
    for i in order:
        scan = scans[i]
        row = dict(uuid=scan.uuid, method=scan.method, outcome=ScanOutcome.REFUSED, refusal=None, checkpoint_key=None,
                   code_id=None, code_text=scan.code[:256], reason=scan.reason.strip()[:500],
                   scanned_at=phone_time(scan.scanned_at, now), received_at=now)
        if scan.method is ScanMethod.STICKER_DAMAGED:
            row["checkpoint_key"] = scan.checkpoint
            if scan.checkpoint in on_plan:
                row["outcome"] = ScanOutcome.STICKER_DAMAGED
            else:
                row["refusal"] = ScanRefusal.NOT_ON_ROUND
            rows.append(row)
            continue
        code = code_by_text(session, scan.code)
        if scan.scanned_at is not None and scan.scanned_at > now + CLOCK_SKEW:
            row["refusal"], row["scanned_at"] = ScanRefusal.FUTURE_TIME, scan.scanned_at
        elif code is None:
            row["refusal"] = ScanRefusal.UNKNOWN_CODE
        elif code.estate_id != rnd.estate_id:
            row["refusal"] = ScanRefusal.OTHER_ESTATE  # nothing of the other estate's is linked or told
        else:
            row["code_id"], row["checkpoint_key"] = code.id, code.checkpoint_key
            if code.retired_at is not None:
                row["refusal"] = ScanRefusal.RETIRED_CODE
            elif code.checkpoint_key not in on_plan:
                row["refusal"] = ScanRefusal.NOT_ON_ROUND
            elif code.checkpoint_key in accepted:
                row["refusal"] = ScanRefusal.TWICE
            else:
                row["outcome"] = ScanOutcome.ACCEPTED
                accepted.add(code.checkpoint_key)
        rows.append(row)
    return rows


# Plausible walking time.


@dataclass(frozen=True)
class Position:
    key: str
    building_id: int | None
    entrance_id: int | None
    floor: int


def position(session: Session, point: Checkpoint, round_building_id: int | None) -> Position:
    entrance_id, floor = point.entrance_id, point.floor
    building_id = None
    if point.asset_id is not None:
        asset = session.get(Asset, point.asset_id)
        entrance_id = asset.entrance_id if asset else None
    unit = session.get(Unit, point.unit_id) if point.unit_id is not None else None
    if point.meter_id is not None:
        meter = session.get(Meter, point.meter_id)
        unit = meter.unit if meter else None
        building_id = meter.building_id if meter else None
    if unit is not None:
        entrance_id, floor, building_id = unit.entrance_id, unit.floor, unit.building_id
    if entrance_id is not None:
        entrance = session.get(Entrance, entrance_id)
        building_id = entrance.building_id if entrance else building_id
    if building_id is None and point.key.startswith("floor::"):
        building_id = round_building_id  # a building without stairwells: its floors
    return Position(point.key, building_id, entrance_id, GROUND_FLOOR if floor is None else floor)


def min_walk_seconds(a: Position, b: Position) -> int:
    """The least time a walk from `a` to `b` takes (the rule in this module's docstring)."""
    if a.key == b.key:
        return 0
    if a.entrance_id is not None and a.entrance_id == b.entrance_id or (
            a.entrance_id is None and b.entrance_id is None and a.building_id is not None
            and a.building_id == b.building_id):
        return FLOOR_SECONDS * abs(a.floor - b.floor)
    down_and_up = FLOOR_SECONDS * (abs(a.floor - GROUND_FLOOR) + abs(b.floor - GROUND_FLOOR))
    if a.building_id is not None and a.building_id == b.building_id:
        return STAIRWELL_SECONDS + down_and_up
    return BUILDING_SECONDS + down_and_up


@dataclass(frozen=True)
class FastPair:
    before: CheckpointScan
    after: CheckpointScan
    seconds: float
    needed: int


def fast_pairs(session: Session, plan: Plan, accepted: list) -> list[FastPair]:
    """Consecutive accepted scans closer in time than the walk between their places."""
    points = {c.key: c for c in plan.checkpoints}
    ordered = sorted((s for s in accepted if s.checkpoint_key in points), key=lambda s: s.scanned_at)
    where = {k: position(session, points[k], plan.round.building_id) for k in {s.checkpoint_key for s in ordered}}
    pairs = []
    for a, b in zip(ordered, ordered[1:]):
        seconds = (b.scanned_at - a.scanned_at).total_seconds()
        needed = min_walk_seconds(where[a.checkpoint_key], where[b.checkpoint_key])
        if seconds < needed:
            pairs.append(FastPair(a, b, seconds, needed))
    return pairs


@dataclass(frozen=True)
class _Row:  # a stored row's fields fast_pairs reads, before the row exists
    checkpoint_key: str
    scanned_at: datetime


def tally(session: Session, plan: Plan, rows: list[dict], required: bool) -> dict:
    """A completion's counts, for the summaries (ScanTally's columns but round_id)."""
    accepted = [_Row(r["checkpoint_key"], r["scanned_at"]) for r in rows if r["outcome"] is ScanOutcome.ACCEPTED]
    scanned = {r.checkpoint_key for r in accepted}
    damaged = {r["checkpoint_key"] for r in rows if r["outcome"] is ScanOutcome.STICKER_DAMAGED} - scanned
    return dict(required=required, checkpoints=len(plan.checkpoints), scanned=len(scanned),
                sticker_damaged=len(damaged), refused=sum(1 for r in rows if r["outcome"] is ScanOutcome.REFUSED),
                too_fast=len(fast_pairs(session, plan, accepted)))


def store(session: Session, rnd: Round, rows: list[dict], counts: dict) -> None:
    if rows:
        session.execute(CheckpointScan.__table__.insert(), [dict(r, round_id=rnd.id) for r in rows])
    session.add(ScanTally(round_id=rnd.id, **counts))


# What the supervisor reads.


@dataclass
class PointScans:
    checkpoint: Checkpoint
    scan: CheckpointScan | None  # the accepted one
    damaged: CheckpointScan | None  # a damaged sticker's record


@dataclass
class RoundScans:
    required: bool
    points: list[PointScans]
    refused: list[CheckpointScan]
    fast: list[FastPair]
    recorded: bool  # any scan or sticker record at all

    @property
    def scanned(self) -> int:
        return sum(1 for p in self.points if p.scan is not None)


def round_scans(session: Session, plan: Plan, required: bool) -> RoundScans:
    stored = list(session.scalars(sa.select(CheckpointScan).where(CheckpointScan.round_id == plan.round.id)
                                  .order_by(CheckpointScan.scanned_at, CheckpointScan.id)))
    accepted = {s.checkpoint_key: s for s in stored if s.outcome is ScanOutcome.ACCEPTED}
    damaged = {s.checkpoint_key: s for s in stored if s.outcome is ScanOutcome.STICKER_DAMAGED}
    points = [PointScans(c, accepted.get(c.key), damaged.get(c.key)) for c in plan.checkpoints]
    return RoundScans(required=required, points=points,
                      refused=[s for s in stored if s.outcome is ScanOutcome.REFUSED],
                      fast=fast_pairs(session, plan, list(accepted.values())), recorded=bool(stored))

