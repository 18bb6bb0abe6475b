"""A unit's history: the owner archive's box of daily sheets, filed in order (manual, section 四).

One list, oldest first, of everything that happened at a unit: the rounds walked there (vacant-unit
checks, decoration daily checks) with their findings, the findings on the unit's meters, its repair
tickets, and its decorations: registrations, the process log, violations and their notices, flood
tests and material requests, each with its stored photos.

Built without a request (testable), with a bounded number of queries whatever the unit holds: each
kind of record is read once, newest first, at most `limit` + 1 rows, and only the newest `limit`
entries are kept. Owner details (names, phones) never come into it: the page is for stewards too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ..access import OFFICE
from ..models import (
    DecorationEvent,
    DecorationPermit,
    Finding,
    FloodTest,
    MaterialRequest,
    Meter,
    Photo,
    PhotoStatus,
    RepairTicket,
    Round,
    Unit,
    User,
    Violation,
)
from ..rounds import schedule
from ..rounds.intake import may_see_round

LIMIT = 1000
KINDS = ("all", "rounds", "tickets", "decoration")
# Roles that may open a repair ticket from the history (tickets.detail is the desk's and engineering's).
# The decoration log's steps that only say a record was made: the record's own entry tells it.
CREATION_EVENTS = {"registered": "permit_id", "violation_found": "violation_id",
                   "flood_started": "flood_test_id", "material_requested": "material_request_id"}


@dataclass
class Entry:
    """One thing in the unit's history. `kind` names the record: round, finding, ticket, permit,
    event, violation, flood_test, material."""

    at: datetime
    kind: str
    record: Any
    photos: list[str] = field(default_factory=list)  # UUIDs of stored photos the viewer may see
    may_open: bool = False  # the viewer may follow the link (round summary, ticket)
    event: DecorationEvent | None = None  # the log step that made this record, when there is one
    extra: dict = field(default_factory=dict)

    @property
    def group(self) -> str:
        if self.kind in ("round", "finding"):
            return "rounds"
        if self.kind == "ticket":
            return "tickets"
        return "decoration"


@dataclass
class Month:
    month: date  # the first day of the month, the estate's local calendar
    entries: list[Entry]


@dataclass
class History:
    unit: Unit
    kind: str
    months: list[Month]
    count: int
    truncated: bool  # older entries left out: only the newest `limit` are shown
    limit: int


# Entries of the same moment: the record before what was logged about it.
RANK = {"round": 0, "finding": 1, "permit": 2, "violation": 3, "flood_test": 4, "material": 5, "ticket": 6, "event": 7}


def _newest(session: Session, query, limit: int, when, cutoffs: list) -> list:  # noqa: ANN001
    """The newest `limit` rows of one kind; when there are more, the moment before which this kind
    is incomplete goes into `cutoffs` (nothing older than it is shown, of any kind)."""
    rows = list(session.scalars(query.limit(limit + 1)))
    if len(rows) > limit:
        rows = rows[:limit]
        cutoffs.append(when(rows[-1]))
    return rows


def _round_at(rnd: Round) -> datetime:
    return rnd.completed_at or rnd.started_at


def unit_history(session: Session, user: User, unit: Unit, kind: str = "all", limit: int = LIMIT) -> History:
    """The unit's history as `user` may see it (the caller checked the unit is theirs)."""
    kind = kind if kind in KINDS else "all"
    want = {"rounds", "tickets", "decoration"} if kind == "all" else {kind}
    meter_ids = list(session.scalars(sa.select(Meter.id).where(Meter.unit_id == unit.id)))
    entries: list[Entry] = []
    cutoffs: list[datetime] = []
    finding_photos: dict[int, list[str]] = {}
    record_uuids: set[str] = set()
    photo_uuids: set[str] = set()

    def visible_finding_photos(f: Finding, rnd: Round) -> list[str]:
        if not may_see_round(user, rnd):
            return []
        return [p.uuid for p in f.photos if p.status is PhotoStatus.STORED]

    finding_options = (selectinload(Finding.item), selectinload(Finding.photos), selectinload(Finding.amendments),
                       selectinload(Finding.meter))
    if "rounds" in want:
        rounds = _newest(session, sa.select(Round).where(Round.unit_id == unit.id)
                         .order_by(sa.func.coalesce(Round.completed_at, Round.started_at).desc(), Round.id.desc())
                         .options(selectinload(Round.steward), selectinload(Round.findings).options(*finding_options)),
                         limit, _round_at, cutoffs)
        for rnd in rounds:
            mine = may_see_round(user, rnd)
            findings = list(rnd.findings)
            for f in findings:
                finding_photos[f.id] = visible_finding_photos(f, rnd)
            defects = [f for f in findings if f.current.result.value == "defect" or f.current.reading_value is not None]
            entries.append(Entry(_round_at(rnd), "round", rnd, may_open=mine, extra={
                "notable": defects, "plain": [f for f in findings if f not in defects],
                "photos_of": finding_photos}))
        # Findings at the unit (its meters) on rounds walked elsewhere: the building's meter reading.
        place = Finding.unit_id == unit.id
        if meter_ids:
            place = sa.or_(place, Finding.meter_id.in_(meter_ids))
        elsewhere = _newest(session, sa.select(Finding).join(Round, Finding.round_id == Round.id)
                            .where(place, sa.or_(Round.unit_id.is_(None), Round.unit_id != unit.id))
                            .order_by(Finding.recorded_at.desc(), Finding.id.desc())
                            .options(*finding_options, selectinload(Finding.round).selectinload(Round.steward)),
                            limit, lambda f: f.recorded_at, cutoffs)
        for f in elsewhere:
            entries.append(Entry(f.recorded_at, "finding", f, photos=visible_finding_photos(f, f.round),
                                 may_open=may_see_round(user, f.round)))

    if "tickets" in want:
        where = RepairTicket.unit_id == unit.id
        if meter_ids:
            where = sa.or_(where, RepairTicket.meter_id.in_(meter_ids))
        for t in _newest(session, sa.select(RepairTicket).where(where)
                         .order_by(RepairTicket.created_at.desc(), RepairTicket.id.desc()), limit,
                         lambda t: t.created_at, cutoffs):
            entries.append(Entry(t.created_at, "ticket", t, may_open=user.role in OFFICE))

    if "decoration" in want:
        permits = {p.id: p for p in _newest(session, sa.select(DecorationPermit).where(DecorationPermit.unit_id == unit.id)
                                            .order_by(DecorationPermit.registered_at.desc(), DecorationPermit.id.desc())
                                            .options(selectinload(DecorationPermit.registered_by)), limit,
                                            lambda p: p.registered_at, cutoffs)}
        violations = {v.id: v for v in _newest(
            session, sa.select(Violation).where(Violation.unit_id == unit.id)
            .order_by(Violation.found_at.desc(), Violation.id.desc())
            .options(selectinload(Violation.found_by), selectinload(Violation.permit),
                     selectinload(Violation.findings).options(*finding_options, selectinload(Finding.round)),
                     selectinload(Violation.rechecks)), limit, lambda v: v.found_at, cutoffs)}
        tests = {t.id: t for t in _newest(session, sa.select(FloodTest).where(FloodTest.unit_id == unit.id)
                                          .order_by(FloodTest.started_at.desc(), FloodTest.id.desc())
                                          .options(selectinload(FloodTest.started_by)), limit,
                                          lambda t: t.started_at, cutoffs)}
        materials = {m.id: m for m in _newest(session, sa.select(MaterialRequest).where(MaterialRequest.unit_id == unit.id)
                                              .order_by(MaterialRequest.raised_at.desc(), MaterialRequest.id.desc())
                                              .options(selectinload(MaterialRequest.decided_by)), limit,
                                              lambda m: m.raised_at, cutoffs)}
        events = _newest(session, sa.select(DecorationEvent).where(DecorationEvent.unit_id == unit.id)
                         .order_by(DecorationEvent.at.desc(), DecorationEvent.id.desc())
                         .options(selectinload(DecorationEvent.by)), limit, lambda e: e.at, cutoffs)

        made: dict[tuple[str, int], Entry] = {}
        for p in permits.values():
            made[("permit_id", p.id)] = Entry(p.registered_at, "permit", p)
        for v in violations.values():
            photos = [u for f in v.findings for u in visible_finding_photos(f, f.round)]
            made[("violation_id", v.id)] = Entry(v.found_at, "violation", v, photos=photos)
            record_uuids.update(r.uuid for r in v.rechecks)
        for t in tests.values():
            hours = round((t.ended_at - t.started_at).total_seconds() / 3600, 1) if t.ended_at else None
            made[("flood_test_id", t.id)] = Entry(t.started_at, "flood_test", t, extra={"hours": hours})
            record_uuids.update(u for u in (t.uuid, t.result_uuid) if u)
            photo_uuids.update(u for u in (t.start_photo_uuid, t.result_photo_uuid) if u)
        for m in materials.values():
            made[("material_request_id", m.id)] = Entry(m.raised_at, "material", m)
            record_uuids.add(m.uuid)
            if m.photo_uuid:
                photo_uuids.add(m.photo_uuid)
        entries.extend(made.values())
        for e in events:
            link = CREATION_EVENTS.get(e.kind)
            record = made.get((link, getattr(e, link))) if link else None
            if record is not None and record.event is None:
                record.event = e  # "registered", "flood started"…: told by the record's own entry
                continue
            data = e.data or {}
            if data.get("photo_uuid"):
                photo_uuids.add(data["photo_uuid"])
            if data.get("uuid"):
                record_uuids.add(data["uuid"])
            entries.append(Entry(e.at, "event", e))

        # Decoration photos: stored ones, by their own UUID or the record they were taken for.
        if record_uuids or photo_uuids:
            stored = list(session.execute(
                sa.select(Photo.uuid, Photo.record_uuid).where(
                    Photo.status == PhotoStatus.STORED,
                    sa.or_(Photo.uuid.in_(sorted(photo_uuids)), Photo.record_uuid.in_(sorted(record_uuids))))
                .order_by(Photo.id)))
        else:
            stored = []
        by_uuid = {u for u, _ in stored}
        by_record: dict[str, list[str]] = {}
        for u, record_uuid in stored:
            if record_uuid:
                by_record.setdefault(record_uuid, []).append(u)

        def photos_for(*, uuids=(), records=()) -> list[str]:  # noqa: ANN001
            out = [u for u in uuids if u and u in by_uuid]
            for r in records:
                out += [u for u in by_record.get(r, []) if u not in out]
            return out

        for entry in entries:
            rec = entry.record
            if entry.kind == "flood_test":
                entry.extra["start_photos"] = photos_for(uuids=[rec.start_photo_uuid], records=[rec.uuid])
                entry.extra["result_photos"] = [u for u in photos_for(uuids=[rec.result_photo_uuid],
                                                                      records=[rec.result_uuid] if rec.result_uuid else [])
                                                if u not in entry.extra["start_photos"]]
                entry.photos = entry.extra["start_photos"] + entry.extra["result_photos"]
            elif entry.kind == "material":
                entry.photos = photos_for(uuids=[rec.photo_uuid])
            elif entry.kind == "violation":
                entry.photos += [u for r in rec.rechecks for u in photos_for(records=[r.uuid])]
            elif entry.kind == "event":
                data = rec.data or {}
                entry.photos = photos_for(uuids=[data.get("photo_uuid")],
                                          records=[data["uuid"]] if data.get("uuid") else [])

    truncated = bool(cutoffs)
    if cutoffs:  # some kind has older rows than were read: nothing older than its oldest read is shown
        cutoff = max(cutoffs)
        entries = [e for e in entries if e.at >= cutoff]
    entries.sort(key=lambda e: (e.at, RANK[e.kind], e.record.id))
    if len(entries) > limit:
        entries, truncated = entries[-limit:], True
    estate = unit.building.estate
    months: list[Month] = []
    for entry in entries:
        day = schedule.local_date(estate, entry.at)
        first = day.replace(day=1)
        if not months or months[-1].month != first:
            months.append(Month(first, []))
        months[-1].entries.append(entry)
    return History(unit, kind, months, len(entries), truncated, limit)
