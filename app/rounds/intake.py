"""The phone's rounds, stored exactly once: start, completion with all its findings, amendments.

Every round and finding carries a UUID made on the phone (app/steps.py). A round's completion and
all its findings are stored in one transaction; the domains that act on what a round found (repair
tickets, decoration violations) listen to `round_completed` and write in that same transaction.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import (
    Building,
    Estate,
    Finding,
    FindingAmendment,
    FindingResult,
    ItemType,
    Photo,
    PhotoStatus,
    Role,
    Round,
    RoundKind,
    RoundStatus,
    Unit,
    User,
    VisitOutcome,
)
from ..photos.uploads import photo_visible
from ..refusals import Conflict, NotFound, Rejected
from ..steps import content_sha256, phone_time, same_step
from . import scans as checkpoint_scans
from . import schedule
from .checkpoints import scans_required
from .checklists import latest_version, version_numbered
from .plan import build_plan, meter_flags

_signals = Namespace()

#: Sent in a completion's transaction, after its findings are stored:
#: `round_completed.send(session, round=…, findings=[defects and photographed findings], now=…)`.
#: Higher domains connect to it (app/repairs/tickets.py, app/decoration/violations.py, and
#: app/complaints/violations.py for the defects marked as resident violations).
round_completed = _signals.signal("round-completed")


# Statements every round's start and completion runs, built once (building one costs more than running it).
_ROUND_BY_UUID = sa.select(Round).where(Round.uuid == sa.bindparam("uuid"))
_ROUNDS_OF_FINDINGS = sa.select(Finding.round_id).where(Finding.uuid.in_(sa.bindparam("uuids", expanding=True))).distinct()


def _target_key(kind: RoundKind, estate_id: int, building_id: int | None, unit_id: int | None) -> tuple:
    return (kind, estate_id, building_id, unit_id)


def start_round(
    session: Session, steward: User, *, uuid: str, kind: RoundKind, estate_id: int,
    building_id: int | None = None, unit_id: int | None = None, started_at: datetime | None = None,
    checklist_version: int | None = None, now: datetime | None = None,
) -> Round:
    """Start (or find again) the round `uuid` of `steward` on one of their targets.

    `checklist_version` is the version the phone walked (it may have started offline before a
    newer one was published); by default the latest.
    """
    rnd = round_to_start(session, steward, uuid=uuid, kind=kind, estate_id=estate_id, building_id=building_id,
                         unit_id=unit_id, started_at=started_at, checklist_version=checklist_version, now=now)
    if rnd.id is not None:
        return rnd
    session.add(rnd)
    try:
        session.flush()
    except IntegrityError:  # the same UUID arrived twice at once: the other request stored it
        session.rollback()
        return start_round(session, steward, uuid=uuid, kind=kind, estate_id=estate_id,
                           building_id=building_id, unit_id=unit_id, started_at=started_at,
                           checklist_version=checklist_version, now=now)
    return rnd


def round_to_start(
    session: Session, steward: User, *, uuid: str, kind: RoundKind, estate_id: int,
    building_id: int | None = None, unit_id: int | None = None, started_at: datetime | None = None,
    checklist_version: int | None = None, now: datetime | None = None,
) -> Round:
    """The checks of a start, reading only: the stored round `uuid` (same place), or a new Round
    not yet in the session (`id` None) for the caller to add."""
    now = now or datetime.now(timezone.utc)
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    if unit is not None and building_id is None:
        building_id = unit.building_id  # a unit's round belongs to its building too
    existing = session.scalars(_ROUND_BY_UUID, {"uuid": uuid}).first()
    if existing is not None:
        if existing.steward_id != steward.id:
            raise NotFound(_l("This round does not exist or is not yours."))
        if _target_key(existing.kind, existing.estate_id, existing.building_id, existing.unit_id) != _target_key(
            kind, estate_id, building_id, unit_id
        ):
            raise Conflict(_l("This round was already started for another place."))
        return existing

    started = phone_time(started_at, now)
    # Today's places, or those of the day it was walked: a cover's round walked offline on the
    # last day of the cover is accepted when it reaches the server the day after.
    estate = session.get(Estate, estate_id) if estate_id in steward.visible_estate_ids \
        or estate_id in steward.estate_ids_on(started) else None
    building = session.get(Building, building_id) if building_id is not None and estate is not None else None
    if estate is None or steward.role is not Role.STEWARD or not any(
            _in_scope(session, steward, estate, kind, building_id, unit_id, when) for when in (None, started)):
        raise NotFound(_l("This place is not on your rounds."))

    version = latest_version(session, kind, estate.id)  # the estate's own, or the company's
    if checklist_version is not None:
        version = version_numbered(session, kind, checklist_version, estate.id)
        if version is None:
            raise Rejected(_l("This checklist version does not exist."),
                           {"checklist_version": [_l("This checklist version does not exist.")]})
    rnd = Round(
        uuid=uuid, kind=kind, estate=estate, estate_id=estate_id, building=building, building_id=building_id,
        unit=unit, unit_id=unit_id, steward=steward, steward_id=steward.id, checklist_version=version,
        local_date=schedule.local_date(estate, started), started_at=started,
    )
    rnd.stored_findings = 0  # a new round has none: its answer needs no count
    return rnd


def _in_scope(session: Session, steward: User, estate: Estate, kind: RoundKind, building_id: int | None,
              unit_id: int | None, when: datetime | None = None) -> bool:
    """Whether the place is the steward's to walk at `when` (default now; a cover for leave counts on
    its days). Only scope counts, not today's due list: a round walked offline must still be
    accepted after the unit stopped decorating or the rule changed."""
    if kind in (RoundKind.FACILITY,):
        return building_id is None and unit_id is None and steward.covers_estate_wide(estate, when)
    if kind in (RoundKind.VACANT_UNIT, RoundKind.DECORATION):
        unit = session.get(Unit, unit_id) if unit_id is not None else None
        return unit is not None and _covers_building(steward, estate, unit.building, when) \
            and building_id in (None, unit.building_id)
    if kind is RoundKind.METER and building_id is None:
        return unit_id is None and steward.covers_estate_wide(estate, when)
    # round_to_start loaded the building already: this comes from the session's identity map.
    building = session.get(Building, building_id) if building_id is not None else None
    return unit_id is None and _covers_building(steward, estate, building, when)


def _covers_building(steward: User, estate: Estate, building: Building | None, when: datetime | None) -> bool:
    return building is not None and building.estate_id == estate.id and steward.covers_building(building, when)


def round_for(session: Session, user: User, uuid: str, *, for_update: bool = False) -> Round:
    """The round `uuid` if `user` may see it: its steward, or desk/supervisor of its estate.

    `for_update` locks the row (PostgreSQL) so concurrent completions of one round queue up;
    SQLite's BEGIN IMMEDIATE already serialises writers.
    """
    query = sa.select(Round).where(Round.uuid == uuid)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    rnd = session.scalars(query).first()
    if rnd is None or not may_see_round(user, rnd):
        raise NotFound(_l("This round does not exist or is not yours."))
    return rnd


def may_see_round(user: User, rnd: Round) -> bool:
    """Stewards see their own rounds; others the rounds of the places they cover (User.covers_place)."""
    if user.role is Role.STEWARD:
        return rnd.steward_id == user.id
    if user.role is Role.GATE:  # the gate asks for materials; rounds are not its business
        return False
    return user.covers_place(rnd.estate_id, rnd.building)  # a unit's round carries its building too


@dataclass(frozen=True)
class FindingInput:
    uuid: str
    checkpoint: str
    item_code: str
    result: FindingResult
    reason_code: str | None = None
    reason_text: str = ""
    action_code: str | None = None
    note: str = ""
    reading_value: Decimal | None = None
    recorded_at: datetime | None = None
    photo_uuids: tuple[str, ...] = ()
    resident_violation: dict | None = None  # a defect marked as a resident violation: {"kind", "room"}


@dataclass(frozen=True)
class Completion:
    """A round's completion as the phone sent it, made domain input by the API's schema."""

    findings: list[FindingInput]
    fingerprint: str  # of the content as sent, the round's start left out (a resend without it is the same)
    completed_at: datetime | None = None
    visit_outcome: VisitOutcome | None = None
    start: dict | None = None  # the arguments of `start_round` but the UUID, for a round walked offline
    scans: list[checkpoint_scans.ScanInput] = field(default_factory=list)  # checkpoint codes read on the way


def _check_finding(plan, f: FindingInput, index: int, errors: dict[str, list]) -> None:
    where = f"findings.{index}"
    point = plan.checkpoint(f.checkpoint)
    item = next((i for i in plan.items_at.get(f.checkpoint, []) if i.code == f.item_code), None)
    if point is None or item is None:
        errors.setdefault(where, []).append(_l("This item is not on this round's checklist for this place."))
        return
    if f.result is FindingResult.DEFECT:
        known = {r["code"] for r in item.reasons}
        if not f.reason_text.strip() and f.reason_code not in known:
            errors.setdefault(f"{where}.reason", []).append(_l("Pick a reason or describe the defect."))
        if item.photo_required and not f.photo_uuids:
            errors.setdefault(f"{where}.photos", []).append(_l("This defect needs at least one photo."))
    if f.action_code and f.action_code not in {a["code"] for a in item.actions}:
        errors.setdefault(f"{where}.action", []).append(_l("Unknown on-the-spot action."))
    if item.item_type is ItemType.READING and f.result is FindingResult.FINE:
        if f.reading_value is None:
            errors.setdefault(f"{where}.reading_value", []).append(_l("Enter the meter reading as a number."))
        elif f.reading_value < 0:
            errors.setdefault(f"{where}.reading_value", []).append(_l("A meter reading cannot be negative."))


@dataclass
class CompletionToStore:
    """A completion that passed its checks: what `store_completion` writes."""

    round: Round  # stored, or new (id None: its start came with the completion)
    findings: list[FindingInput]
    rows: list[dict]  # the findings' rows, less their round_id
    completed_at: datetime
    fingerprint: str
    visit_outcome: VisitOutcome | None
    now: datetime
    scans: list[dict] = field(default_factory=list)  # the scans' rows, less their round_id
    scan_tally: dict = field(default_factory=dict)


class _StartedMeanwhile(Exception):
    """The new round's UUID was stored by a twin request between the checks and the writes."""


def complete_round(
    session: Session, steward: User, uuid: str, findings: list[FindingInput], *,
    completed_at: datetime | None = None, fingerprint: str, now: datetime | None = None,
    visit_outcome: VisitOutcome | None = None, start: dict | None = None,
    between_checks_and_writes: Callable[[], None] = lambda: None,
    scans: list[checkpoint_scans.ScanInput] = (),
) -> Round:
    """Store a round's findings and close it, all or nothing. `fingerprint` identifies the content.

    With `start` (the arguments of `start_round` but the UUID), a round the server has not seen
    yet is started in the same transaction: a round walked offline goes up in one request.
    The checks only read; `between_checks_and_writes` runs after them (the API ends its read
    transaction there, so SQLite's write lock is held for the writes alone, which re-check the
    round's state).

    A decoration check may end in a `visit_outcome` other than a check (nobody on site, entry
    refused, work finished): then no answer is required."""
    new_round = round_to_start(session, steward, uuid=uuid, now=now, **start) if start else None
    todo = completion_to_store(session, steward, uuid, findings, completed_at=completed_at,
                               fingerprint=fingerprint, now=now, visit_outcome=visit_outcome, new_round=new_round,
                               scans=scans)
    if isinstance(todo, Round):
        return todo  # sent before: the same answer again
    between_checks_and_writes()
    try:
        return store_completion(session, todo)
    except _StartedMeanwhile:
        # A twin request started it: once more, now against what the twin stored (the start then
        # finds the stored round, so this cannot come back here).
        session.rollback()
        return complete_round(session, steward, uuid, findings, completed_at=completed_at, fingerprint=fingerprint,
                              now=now, visit_outcome=visit_outcome, start=start, scans=scans)


def completion_to_store(
    session: Session, steward: User, uuid: str, findings: list[FindingInput], *,
    completed_at: datetime | None = None, fingerprint: str, now: datetime | None = None,
    visit_outcome: VisitOutcome | None = None, new_round: Round | None = None,
    scans: list[checkpoint_scans.ScanInput] = (),
) -> Round | CompletionToStore:
    """The checks of a completion, reading only: the round itself when it was already completed
    with this very content (the same answer again), else what to store. `new_round`: the round
    from `round_to_start` (stored already, or new), which has checked it is the steward's."""
    now = now or datetime.now(timezone.utc)
    rnd = new_round if new_round is not None else round_for(session, steward, uuid)
    if rnd.steward_id != steward.id:
        raise NotFound(_l("This round does not exist or is not yours."))
    if rnd.status is RoundStatus.COMPLETED:
        if rnd.completion_sha256 == fingerprint:
            return rnd
        raise Conflict(_l("This round was already completed with other answers. Correct it from the round's summary."))

    plan = build_plan(session, rnd)
    errors: dict[str, list] = {}
    if visit_outcome is not None and rnd.kind is not RoundKind.DECORATION:
        errors["visit_outcome"] = [_l("Only a decoration check has a visit outcome.")]
    answers_required = visit_outcome in (None, VisitOutcome.CHECKED)
    seen: dict[tuple[str, str], int] = {}
    for index, f in enumerate(findings):
        _check_finding(plan, f, index, errors)
        key = (f.checkpoint, f.item_code)
        if key in seen:
            errors.setdefault(f"findings.{index}", []).append(_l("This item was answered twice at the same place."))
        seen[key] = index
    missing = [
        f"{point.key}/{item.code}"
        for point in plan.checkpoints for item in plan.items_at[point.key]
        if answers_required and item.required and (point.key, item.code) not in seen
    ]
    if missing:
        errors["unanswered"] = [_l("Required items not answered yet: %(count)d.", count=len(missing))]
        errors["unanswered_items"] = missing
    uuids = [f.uuid for f in findings]
    if len(set(uuids)) != len(uuids):
        errors.setdefault("findings", []).append(_l("Two answers carry the same ID. Reload the round and try again."))
    scan_uuids = [s.uuid for s in scans]
    if len(set(scan_uuids)) != len(scan_uuids):
        errors.setdefault("scans", []).append(_l("Two scans carry the same ID. Reload the round and try again."))
    if errors:
        raise Rejected(_l("The round cannot be completed yet."), errors)
    stored_with = set(session.scalars(_ROUNDS_OF_FINDINGS, {"uuids": uuids}))
    if stored_with:
        # Stored with this very round: a twin request completed (or started and completed) it
        # after it was read above, as PostgreSQL reads each statement afresh. Answer from that.
        current = session.scalars(sa.select(Round).where(Round.uuid == rnd.uuid)
                                  .execution_options(populate_existing=True)).first()
        if current is None or stored_with != {current.id}:
            raise Conflict(_l("Some of these findings were already stored with another round."))
        if current.steward_id != steward.id:
            raise NotFound(_l("This round does not exist or is not yours."))
        if current.status is RoundStatus.COMPLETED and current.completion_sha256 == fingerprint:
            return current
        raise Conflict(_l("This round was already completed with other answers. Correct it from the round's summary."))

    items = {i.code: i for i in plan.items}
    rows = []
    for f in findings:
        point = plan.checkpoint(f.checkpoint)
        defect = f.result is FindingResult.DEFECT
        rows.append(dict(
            uuid=f.uuid, checklist_item_id=items[f.item_code].id, result=f.result,
            entrance_id=point.entrance_id, floor=point.floor, public_area_id=point.public_area_id,
            asset_id=point.asset_id, unit_id=point.unit_id, meter_id=point.meter_id,
            reason_code=f.reason_code if defect else None, reason_text=f.reason_text.strip() if defect else "",
            action_code=f.action_code, note=f.note.strip(), reading_value=f.reading_value,
            flags=meter_flags(point.meter, f.reading_value) if point.meter and f.reading_value is not None else [],
            recorded_at=phone_time(f.recorded_at, now), received_at=now,
            # Read by the domain that traces resident violations (it listens to `round_completed`).
            resident_violation=({"kind": f.resident_violation["kind"], "room": f.resident_violation["room"].strip()}
                                if defect and f.resident_violation else None),
        ))
    # Bad scans never hold the round back: each is judged and kept, refused ones with their reason.
    scan_rows = checkpoint_scans.judge(session, rnd, plan, list(scans), now)
    scan_tally = checkpoint_scans.tally(session, plan, scan_rows, scans_required(session, rnd.estate_id, rnd.kind))
    return CompletionToStore(rnd, findings, rows, phone_time(completed_at, now), fingerprint, visit_outcome, now,
                             scan_rows, scan_tally)


def store_completion(session: Session, todo: CompletionToStore) -> Round:
    """Write a checked completion: the round (started here when new), its findings in one bulk
    INSERT, tickets for its defects. The round's state is read again first, under the lock."""
    rnd = todo.round
    if rnd.id is not None:
        rnd = session.scalars(sa.select(Round).where(Round.id == rnd.id).with_for_update()
                              .execution_options(populate_existing=True)).one()
        if rnd.status is RoundStatus.COMPLETED:  # a twin request completed it meanwhile
            if rnd.completion_sha256 == todo.fingerprint:
                return rnd
            raise Conflict(_l("This round was already completed with other answers. "
                              "Correct it from the round's summary."))
    rnd.status, rnd.completed_at = RoundStatus.COMPLETED, todo.completed_at
    rnd.completion_sha256, rnd.visit_outcome = todo.fingerprint, todo.visit_outcome
    if rnd.id is None:  # started with its completion: inserted completed, one INSERT
        session.add(rnd)
        try:
            session.flush()
        except IntegrityError:
            raise _StartedMeanwhile() from None
    rows = [dict(row, round_id=rnd.id) for row in todo.rows]
    try:
        if rows:  # a decoration visit with nobody on site may have no answers
            session.execute(Finding.__table__.insert(), rows)  # Core executemany: one statement
        checkpoint_scans.store(session, rnd, todo.scans, todo.scan_tally)
        session.flush()
    except IntegrityError:
        session.rollback()
        stored = session.scalars(sa.select(Round).where(Round.uuid == rnd.uuid)).first()
        if stored is not None and stored.status is RoundStatus.COMPLETED and stored.completion_sha256 == todo.fingerprint:
            return stored
        raise Conflict(_l("This round was stored at the same moment by another request.")) from None
    session.expire(rnd, ["findings"])
    rnd.stored_findings = len(rows)
    special = {f.uuid: f for f in todo.findings if f.result is FindingResult.DEFECT or f.photo_uuids}
    stored_findings: list[Finding] = []
    if special:
        stored_findings = session.scalars(
            sa.select(Finding).where(Finding.uuid.in_(special)).order_by(Finding.id)).all()
        for finding in stored_findings:
            for photo_uuid in special[finding.uuid].photo_uuids:
                _name_photo(session, photo_uuid, finding)
    # In this transaction: every defect becomes a repair ticket or is seen again on an open one
    # (app/repairs), a decoration check's breaches become a violation (app/decoration).
    round_completed.send(session, round=rnd, findings=stored_findings, now=todo.now)
    session.flush()
    return rnd


def _name_photo(session: Session, photo_uuid: str, finding: Finding) -> None:
    photo = session.scalars(sa.select(Photo).where(Photo.uuid == photo_uuid)).first()
    if photo is None:
        session.add(Photo(uuid=photo_uuid, finding_uuid=finding.uuid, finding=finding, status=PhotoStatus.PENDING))
    elif photo.finding_uuid != finding.uuid or (
        photo.uploaded_by_id is not None and photo.uploaded_by_id != finding.round.steward_id
    ):
        raise Conflict(_l("A photo of this round belongs to another finding."))
    else:
        photo.finding = finding


KEEP: Any = object()  # an amendment field left out keeps the answer as it stands


def _amendment_again(session: Session, user: User, uuid: str, fingerprint: str) -> FindingAmendment | None:
    stored = session.scalars(sa.select(FindingAmendment).where(FindingAmendment.uuid == uuid)).first()
    return same_step(stored, user, fingerprint, sent_by="amended_by_id",
                     conflict=_l("This correction was already stored with other content."),
                     not_found=_l("This finding does not exist or is not yours."))


def amend_finding(
    session: Session, user: User, finding_uuid: str, *, uuid: str, result: FindingResult, why: str,
    reason_code: str | None = KEEP, reason_text: str = KEEP, action_code: str | None = KEEP, note: str = KEEP,
    reading_value: Decimal | None = KEEP,
) -> FindingAmendment:
    """Correct a completed round's finding; the original stays as it was recorded, and what the
    correction does not mention stays as it stands (a note fixed does not wipe the reading).
    Idempotent by `uuid`, made by the client: the same correction sent again is stored once and
    answered alike; other content under a stored UUID is a conflict, and nothing changes."""
    sent = {"finding_uuid": finding_uuid, "result": result.value, "why": why}
    sent.update({k: (str(v) if isinstance(v, Decimal) else v) for k, v in (
        ("reason_code", reason_code), ("reason_text", reason_text), ("action_code", action_code), ("note", note),
        ("reading_value", reading_value)) if v is not KEEP})
    fingerprint = content_sha256(sent)
    again = _amendment_again(session, user, uuid, fingerprint)
    if again is not None:
        return again
    finding = session.scalars(sa.select(Finding).where(Finding.uuid == finding_uuid)).first()
    if finding is None or not may_see_round(user, finding.round) or user.role not in (
        Role.STEWARD, Role.DESK, Role.SUPERVISOR
    ):
        raise NotFound(_l("This finding does not exist or is not yours."))
    if not why.strip():
        raise Rejected(_l("Say why the finding is corrected."), {"why": [_l("Say why the finding is corrected.")]})
    now = finding.current
    pick = lambda value, current: current if value is KEEP else value  # noqa: E731
    reason_code, reason_text = pick(reason_code, now.reason_code), pick(reason_text, now.reason_text) or ""
    action_code, note = pick(action_code, now.action_code), pick(note, now.note) or ""
    reading_value = pick(reading_value, now.reading_value)
    item = finding.item
    if result is FindingResult.DEFECT and not reason_text.strip() and reason_code not in {r["code"] for r in item.reasons}:
        raise Rejected(_l("Pick a reason or describe the defect."), {"reason": [_l("Pick a reason or describe the defect.")]})
    amendment = FindingAmendment(
        uuid=uuid, content_sha256=fingerprint, finding=finding, amended_by_id=user.id, result=result, why=why.strip(),
        reason_code=reason_code if result is FindingResult.DEFECT else None,
        reason_text=reason_text.strip() if result is FindingResult.DEFECT else "",
        action_code=action_code, note=note.strip(), reading_value=reading_value,
    )
    session.add(amendment)
    try:
        with session.begin_nested():  # the same UUID stored at the same moment by a twin request
            session.flush()
    except IntegrityError:
        again = _amendment_again(session, user, uuid, fingerprint)
        if again is None:
            raise Conflict(_l("This correction was stored at the same moment by another request.")) from None
        return again
    return amendment


# Photos


@photo_visible.connect
def _finding_photo_visible(session: Session, *, user: User, photo: Photo) -> bool:
    """A finding's photo: whoever may see its round."""
    return photo.finding is not None and may_see_round(user, photo.finding.round)
