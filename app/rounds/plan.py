"""What a round walks: its checkpoints (places) and the checklist items asked at each.

The plan is plain data, so the phone can hold it and walk the round with no signal:
a corridor round goes stairwell by stairwell and floor by floor, the facility round area
by area, a vacant-unit or decoration check covers one unit, a meter round meter by meter.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import (
    Asset,
    AssetKind,
    ChecklistItem,
    Finding,
    FindingResult,
    ItemType,
    Meter,
    Round,
    RoundKind,
    RoundStatus,
    Unit,
    UnitState,
)
from .checklists import items_of

# How many earlier monthly consumptions a spike is judged against, and how far above their median.
HISTORY_MONTHS = 12
SPIKE_FACTOR = Decimal(3)
MIN_CONSUMPTIONS_FOR_SPIKE = 2


@dataclass(frozen=True)
class MeterContext:
    kind: str
    serial: str
    location: str
    unit_label: str | None
    unit_vacant: bool
    history: tuple[tuple[date, Decimal], ...]  # earlier readings, oldest first

    @property
    def previous(self) -> tuple[date, Decimal] | None:
        return self.history[-1] if self.history else None

    @property
    def median_consumption(self) -> Decimal | None:
        used = [b - a for (_, a), (_, b) in pairwise(self.history) if b >= a][-HISTORY_MONTHS:]
        return statistics.median(used) if len(used) >= MIN_CONSUMPTIONS_FOR_SPIKE else None


@dataclass(frozen=True)
class Checkpoint:
    key: str
    applies_to: str
    label: str
    entrance_id: int | None = None
    floor: int | None = None
    public_area_id: int | None = None
    asset_id: int | None = None
    unit_id: int | None = None
    meter_id: int | None = None
    meter: MeterContext | None = None

    @property
    def place(self) -> tuple:
        return (self.entrance_id, self.floor, self.public_area_id, self.asset_id, self.unit_id, self.meter_id)


@dataclass
class Plan:
    round: Round
    checkpoints: list[Checkpoint]
    items: list[ChecklistItem]
    items_at: dict[str, list[ChecklistItem]] = field(default_factory=dict)

    def checkpoint(self, key: str) -> Checkpoint | None:
        return next((c for c in self.checkpoints if c.key == key), None)


def meter_flags(meter: MeterContext, value: Decimal) -> list[str]:
    """Warnings for a new reading: lower than the last one, far above the usual, used while vacant."""
    flags: list[str] = []
    if meter.previous is None:
        return flags
    consumption = value - meter.previous[1]
    if consumption < 0:
        flags.append("lower_than_last")
    median = meter.median_consumption
    if median is not None and median > 0 and consumption > SPIKE_FACTOR * median:
        flags.append("consumption_spike")
    if meter.unit_vacant and consumption > 0:
        flags.append("vacant_consumption")
    return flags


def reading_history(session: Session, meter_ids: list[int], before: Round | None = None) -> dict[int, list]:
    """Earlier readings of these meters from completed rounds, oldest first, amendments applied."""
    if not meter_ids:
        return {}
    query = (
        sa.select(Finding, Round.local_date)
        .join(Round)
        .where(Finding.meter_id.in_(meter_ids), Round.status == RoundStatus.COMPLETED,
               Finding.reading_value.is_not(None))
        .order_by(Round.local_date, Finding.recorded_at)
    )
    if before is not None:
        query = query.where(Round.id != before.id)
    history: dict[int, list] = defaultdict(list)
    for finding, local_date in session.execute(query):
        value = finding.reading_value
        if finding.amendments:
            value = finding.amendments[-1].reading_value
        if value is not None and finding.result is not FindingResult.NOT_APPLICABLE:
            history[finding.meter_id].append((local_date, value))
    return history


def _corridor(rnd: Round) -> list[Checkpoint]:
    building = rnd.building
    points: list[Checkpoint] = []
    for entrance in [e for e in building.entrances if e.in_service_at(rnd.started_at)]:
        points.append(Checkpoint(f"entrance:{entrance.id}", "entrance", entrance.name, entrance_id=entrance.id))
        for floor in range(entrance.lowest_floor, entrance.highest_floor + 1):
            points.append(Checkpoint(f"floor:{entrance.id}:{floor}", "floor", f"{entrance.name} {floor}F",
                                     entrance_id=entrance.id, floor=floor))
    if not building.entrances:
        points += [Checkpoint(f"floor::{f}", "floor", f"{f}F", floor=f) for f in range(1, building.floors + 1)]
    return points


def _facility(session: Session, rnd: Round) -> list[Checkpoint]:
    estate = rnd.estate
    points = [Checkpoint("estate", "estate", estate.name)]
    started = rnd.started_at
    points += [Checkpoint(f"area:{a.id}", a.kind.value, a.name, public_area_id=a.id) for a in estate.public_areas
               if a.in_service_at(started)]
    for building in [b for b in estate.buildings if b.in_service_at(started)]:
        points += [Checkpoint(f"entrance:{e.id}", "entrance", f"{building.name}{e.name}", entrance_id=e.id)
                   for e in building.entrances if e.in_service_at(started)]
    elevators = session.scalars(
        sa.select(Asset).where(Asset.estate_id == estate.id, Asset.kind == AssetKind.ELEVATOR).order_by(Asset.id)
    )
    points += [Checkpoint(f"asset:{a.id}", "elevator", a.name, asset_id=a.id) for a in elevators
               if a.in_service_at(started)]
    return points


def _unit(rnd: Round) -> list[Checkpoint]:
    unit = rnd.unit
    return [Checkpoint(f"unit:{unit.id}", "unit", unit.label, unit_id=unit.id)]


def _meters(session: Session, rnd: Round) -> list[Checkpoint]:
    query = sa.select(Meter).outerjoin(Unit, Meter.unit_id == Unit.id).where(Meter.estate_id == rnd.estate_id)
    if rnd.building_id is not None:
        query = query.where(sa.or_(Meter.building_id == rnd.building_id, Unit.building_id == rnd.building_id))
    else:
        query = query.where(Meter.building_id.is_(None), Meter.unit_id.is_(None))
    meters = [m for m in session.scalars(query.order_by(Unit.room_number.nulls_first(), Meter.kind, Meter.serial))
              if m.in_service_at(rnd.started_at)]
    history = reading_history(session, [m.id for m in meters], before=rnd)
    points = []
    for m in meters:
        context = MeterContext(
            kind=m.kind.value, serial=m.serial, location=m.location,
            unit_label=m.unit.label if m.unit else None,
            unit_vacant=bool(m.unit and m.unit.state is UnitState.VACANT),
            history=tuple(history.get(m.id, ())),
        )
        label = f"{m.unit.label if m.unit else m.location} · {m.serial}"
        points.append(Checkpoint(f"meter:{m.id}", "meter", label, meter_id=m.id, meter=context))
    return points


def build_plan(session: Session, rnd: Round) -> Plan:
    kind = rnd.kind
    if kind is RoundKind.CORRIDOR:
        points = _corridor(rnd)
    elif kind is RoundKind.FACILITY:
        points = _facility(session, rnd)
    elif kind in (RoundKind.VACANT_UNIT, RoundKind.DECORATION):
        points = _unit(rnd)
    else:
        points = _meters(session, rnd)

    items = items_of(session, rnd.checklist_version)
    plan = Plan(rnd, [], items)
    for point in points:
        asked = [i for i in items if i.applies_to == point.applies_to]
        if point.meter is not None:
            asked = [i for i in asked if i.item_type is ItemType.CHECK or i.meter_kind == point.meter.kind]
        if asked:  # a place with nothing to ask is not walked
            plan.checkpoints.append(point)
            plan.items_at[point.key] = asked
    return plan


def checkpoint_documents(plan: Plan, codes: dict[str, list[str]] | None = None) -> list[dict]:
    """The checkpoints as the phone holds them (the API's plan and the offline pack); `codes`: the
    digests of each checkpoint's sticker codes (app/rounds/checkpoints.py: code_digests)."""
    codes = codes or {}
    return [
        {"key": c.key, "applies_to": c.applies_to, "label": c.label,
         "items": [i.code for i in plan.items_at[c.key]], "meter": c.meter, "codes": codes.get(c.key, [])}
        for c in plan.checkpoints
    ]


@dataclass
class RoundSummary:
    notable: list[tuple[Checkpoint, list[Finding]]]  # places with a defect, an N/A or a reading
    all_fine: list[tuple[Checkpoint, list[Finding]]]
    counts: dict[str, int]


def summarise(plan: Plan, other_places_label: str) -> RoundSummary:
    """A completed round's findings by place, as the stored round's page shows them."""
    by_place: dict[tuple, list[Finding]] = {}
    for finding in plan.round.findings:
        by_place.setdefault(finding.place, []).append(finding)
    sections = [(c, by_place.pop(c.place, [])) for c in plan.checkpoints]
    # Places that left the plan since (a stairwell renumbered, a unit merged) still show their findings.
    sections += [(Checkpoint("other", "", other_places_label), f) for f in by_place.values()]
    sections = [(c, f) for c, f in sections if f]
    notable = [(c, f) for c, f in sections
               if any(x.current.result is not FindingResult.FINE or x.current.reading_value is not None for x in f)]
    all_fine = [(c, f) for c, f in sections if (c, f) not in notable]
    counts = {r.value: sum(1 for f in plan.round.findings if f.current.result is r) for r in FindingResult}
    return RoundSummary(notable, all_fine, counts)
