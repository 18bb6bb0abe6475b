"""Decoration management (二次裝修): registration, the daily check's outcomes, violations through
rectification or escalation, flood tests held for 48 hours by the server's clock, material entry
asked by the gate, and final acceptance.

Every function works in the caller's transaction and raises a `sync.SyncError` (NotFound, Conflict,
Rejected) before it changes anything, so a refusal leaves nothing half-done. What comes from a phone
(flood test steps, re-checks, material decisions) is stored once by its UUID, like a round.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from . import schedule
from .models import (
    FLOOD_TEST_HOURS,
    DecorationCounter,
    DecorationEvent,
    DecorationPermit,
    DefectRoute,
    Estate,
    Finding,
    FindingResult,
    FloodTest,
    FloodTestStatus,
    MaterialRequest,
    MaterialStatus,
    PermitStatus,
    Photo,
    PhotoStatus,
    RecheckResult,
    Role,
    Round,
    RoundKind,
    RoundStatus,
    Unit,
    UnitState,
    Urgency,
    User,
    Violation,
    ViolationRecheck,
    ViolationStatus,
    VisitOutcome,
    WetArea,
)
from .sync import Conflict, NotFound, Rejected, _phone_time, content_sha256

OFFICE_ROLES = (Role.DESK, Role.SUPERVISOR)
HOURS_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
RETURN_STATES = (UnitState.OCCUPIED, UnitState.RENTED, UnitState.VACANT)
MAX_WORKERS = 999
MAX_DEPOSIT = Decimal("99999999.99")  # Numeric(10, 2)
# A refused material request the desk has not settled within this long goes to the supervisor.
MATERIAL_SETTLE_HOURS = 24


def _refuse(message, field: str | None = None) -> Rejected:  # noqa: ANN001
    return Rejected(message, {field: [message]} if field else {})


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def _log(session: Session, unit_id: int, kind: str, by: User | None, *, permit: DecorationPermit | None = None,
         note: str = "", at: datetime | None = None, **links) -> DecorationEvent:
    event = DecorationEvent(unit_id=unit_id, kind=kind, by_id=by.id if by else None, note=(note or "")[:1000],
                            at=_now(at), permit=permit, **{k: v for k, v in links.items() if k.endswith("_id")},
                            data={k: v for k, v in links.items() if not k.endswith("_id")})
    session.add(event)
    return event


# Scope: who may act on which unit.


# Who reads decoration records: stewards, desk, supervisors and the gate (never engineering).
DECORATION_READERS = (Role.STEWARD, *OFFICE_ROLES, Role.GATE)


def in_scope(user: User, unit: Unit) -> bool:
    """Stewards, desk, supervisors and the gate: the units of the buildings they cover."""
    # A user assigned to some buildings of an estate sees those buildings' units, not the estate's.
    return user.role in DECORATION_READERS and user.can_see_unit(unit)


def _unit(session: Session, user: User, unit_id: int | None) -> Unit:
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    if unit is None or not in_scope(user, unit):
        raise NotFound(_l("This unit does not exist or is not yours."))
    return unit


def active_permit(session: Session, unit_id: int) -> DecorationPermit | None:
    return session.scalars(sa.select(DecorationPermit).where(
        DecorationPermit.unit_id == unit_id, DecorationPermit.status == PermitStatus.ACTIVE)).first()


def permit_for(session: Session, user: User, permit_id: int) -> DecorationPermit:
    permit = session.get(DecorationPermit, permit_id)
    if permit is None or not in_scope(user, permit.unit):
        raise NotFound(_l("This decoration registration does not exist or is not yours."))
    return permit


def violation_for(session: Session, user: User, violation_id: int) -> Violation:
    violation = session.get(Violation, violation_id)
    if violation is None or user.role is Role.GATE or not in_scope(user, violation.unit):
        raise NotFound(_l("This violation does not exist or is not yours."))
    return violation


def _numbered(session: Session, prefix: str, estate: Estate, now: datetime) -> str:
    """PREFIX-YYYYMMDD-NN, numbered per local day across estates (like repair tickets): the day's
    counter row is locked (PostgreSQL) so two numberings at once queue up; SQLite's BEGIN
    IMMEDIATE already serialises writers."""
    day = schedule.local_date(estate, now)
    query = sa.select(DecorationCounter).where(DecorationCounter.prefix == prefix, DecorationCounter.day == day)
    counter = session.scalars(query.with_for_update()).first()
    if counter is None:
        try:
            with session.begin_nested():
                counter = DecorationCounter(prefix=prefix, day=day, last=0)
                session.add(counter)
        except IntegrityError:  # another request made today's counter first
            counter = session.scalars(query.with_for_update()).one()
    counter.last += 1
    return f"{prefix}-{day:%Y%m%d}-{counter.last:02d}"


# Registration (裝修登記)


def parse_hours(text: str) -> str:
    """"08:00-12:00, 14:00-18:00" → "08:00-12:00,14:00-18:00", or Rejected."""
    spans = [s.strip() for s in (text or "").replace("，", ",").split(",") if s.strip()]
    if not spans or not all(HOURS_RE.match(s) and s[:5] < s[6:] for s in spans):
        raise _refuse(_l("Write working hours like 08:00-12:00, 14:00-18:00 (start before end)."), "working_hours")
    return ",".join(spans)


def set_rules(session: Session, user: User, estate: Estate, *, working_hours: str, quiet_rest_days: bool) -> None:
    """The estate's decoration working hours, which new registrations start from (the supervisor's)."""
    if user.role is not Role.SUPERVISOR or estate.id not in user.whole_estate_ids:
        raise NotFound(_l("This estate does not exist or is not yours."))
    estate.decoration_hours = parse_hours(working_hours)
    estate.decoration_quiet_rest_days = quiet_rest_days
    session.flush()


@dataclass
class Registration:
    unit_id: int
    owner_name: str
    owner_phone: str
    contractor_name: str
    contractor_phone: str
    workers: int
    planned_start: date
    planned_end: date
    scope: str
    deposit: Decimal
    worker_names: str = ""
    working_hours: str | None = None  # default: the estate's
    quiet_rest_days: bool | None = None


def register(session: Session, user: User, form: Registration, now: datetime | None = None) -> DecorationPermit:
    """Register a decoration: the unit becomes "decorating" (its daily check starts, its vacant-unit
    checks stop) and the last vacant-unit inspection record is filed into its history."""
    now = _now(now)
    if user.role not in OFFICE_ROLES:
        raise NotFound(_l("This unit does not exist or is not yours."))
    unit = session.scalars(sa.select(Unit).where(Unit.id == form.unit_id).with_for_update()).first()
    if unit is None or not in_scope(user, unit):
        raise NotFound(_l("This unit does not exist or is not yours."))
    errors: dict[str, list] = {}
    for field, value in (("owner_name", form.owner_name), ("owner_phone", form.owner_phone),
                         ("contractor_name", form.contractor_name), ("contractor_phone", form.contractor_phone),
                         ("scope", form.scope)):
        if not (value or "").strip():
            errors.setdefault(field, []).append(_l("This field is required."))
    if form.planned_end < form.planned_start:
        errors.setdefault("planned_end", []).append(_l("The planned end is before the planned start."))
    if not 1 <= form.workers <= MAX_WORKERS:
        errors.setdefault("workers", []).append(_l("Between 1 and %(most)d workers.", most=MAX_WORKERS))
    if not form.deposit.is_finite() or not 0 <= form.deposit <= MAX_DEPOSIT:
        errors.setdefault("deposit", []).append(_l("The deposit is an amount from 0 to %(most)s.", most=MAX_DEPOSIT))
    if errors:
        raise Rejected(next(iter(errors.values()))[0], errors)
    estate = unit.building.estate
    hours = parse_hours(form.working_hours if form.working_hours is not None else estate.decoration_hours)
    existing = active_permit(session, unit.id)
    if existing is not None:
        raise Conflict(_l("%(unit)s already has an active decoration registration (%(number)s, %(start)s to %(end)s).",
                          unit=unit.label, number=existing.number, start=existing.planned_start,
                          end=existing.planned_end))
    prior = unit.state if unit.state is not UnitState.DECORATING else UnitState.OCCUPIED
    permit = DecorationPermit(
        number=_numbered(session, "ZX", estate, now),
        estate_id=estate.id, unit=unit, owner_name=form.owner_name.strip(), owner_phone=form.owner_phone.strip(),
        contractor_name=form.contractor_name.strip(), contractor_phone=form.contractor_phone.strip(),
        workers=form.workers, worker_names=form.worker_names.strip(), planned_start=form.planned_start,
        planned_end=form.planned_end, scope=form.scope.strip(), working_hours=hours,
        quiet_rest_days=estate.decoration_quiet_rest_days if form.quiet_rest_days is None else form.quiet_rest_days,
        deposit=form.deposit, prior_state=prior, prior_vacancy_reason=unit.vacancy_reason if prior is UnitState.VACANT
        else None, registered_by_id=user.id, registered_at=now,
    )
    session.add(permit)
    unit.state, unit.vacancy_reason = UnitState.DECORATING, None
    _log(session, unit.id, "registered", user, permit=permit, at=now, note=permit.scope)
    if prior is UnitState.VACANT:
        sheet = session.scalars(sa.select(Round).where(
            Round.unit_id == unit.id, Round.kind == RoundKind.VACANT_UNIT, Round.status == RoundStatus.COMPLETED,
        ).order_by(Round.completed_at.desc(), Round.id.desc()).limit(1)).first()
        # The vacant-unit inspection sheet on the door goes into the unit's archive (the manual).
        _log(session, unit.id, "vacant_sheet_filed", user, permit=permit, at=now,
             round_id=sheet.id if sheet else None, round_uuid=sheet.uuid if sheet else None,
             checked_on=sheet.local_date.isoformat() if sheet else None)
    try:
        session.flush()
    except IntegrityError:  # another desk registered the same unit at the same moment
        session.rollback()
        raise Conflict(_l("This unit was registered for decoration at the same moment by someone else.")) from None
    return permit


def cancel(session: Session, user: User, permit: DecorationPermit, note: str, now: datetime | None = None) -> None:
    """A registration made in error or withdrawn: the unit goes back to its state before."""
    if permit.status is not PermitStatus.ACTIVE:
        raise Conflict(_l("This registration is no longer active."))
    if not (note or "").strip():
        raise _refuse(_l("Say why the registration is cancelled."), "note")
    open_violations = [v for v in permit.violations if v.is_open]
    running = [t for t in permit.flood_tests if t.status is FloodTestStatus.RUNNING]
    waiting = session.scalar(sa.select(sa.func.count()).select_from(MaterialRequest).where(
        MaterialRequest.permit_id == permit.id, MaterialRequest.status.in_([MaterialStatus.PENDING,
                                                                            MaterialStatus.REFUSED,
                                                                            MaterialStatus.ESCALATED])))
    if open_violations or running or waiting:
        raise Conflict(_l("Not while %(violations)d violation(s), %(tests)d flood test(s) and %(requests)d material "
                          "request(s) are open: close them first.", violations=len(open_violations),
                          tests=len(running), requests=waiting))
    permit.status = PermitStatus.CANCELLED
    permit.unit.state, permit.unit.vacancy_reason = permit.prior_state, permit.prior_vacancy_reason
    _log(session, permit.unit_id, "cancelled", user, permit=permit, note=note.strip(), at=now)
    session.flush()


# The daily check (二次裝修日檢) and what it finds


def after_completion(session: Session, rnd: Round, defects: list[Finding], now: datetime | None = None) -> Violation | None:
    """Called in the completion's transaction of a decoration check: log how the visit went, and
    turn the breaches it found into one violation (stopped on the spot, photographed)."""
    if rnd.kind is not RoundKind.DECORATION or rnd.unit_id is None:
        return None
    now = _now(now)
    permit = active_permit(session, rnd.unit_id)
    outcome = rnd.visit_outcome or VisitOutcome.CHECKED
    if outcome is not VisitOutcome.CHECKED:
        _log(session, rnd.unit_id, f"visit_{outcome.value}", rnd.steward, permit=permit, at=now, round_id=rnd.id)
        if outcome is VisitOutcome.FINISHED and permit is not None and permit.finished_reported_at is None:
            permit.finished_reported_at = now
    breaches = [f for f in defects if f.result is FindingResult.DEFECT and f.item.route is DefectRoute.DECORATION_VIOLATION]
    if not breaches:
        return None
    lines = []
    for f in breaches:
        reason = next((r["label"]["zh_Hant"] for r in f.item.reasons if r["code"] == f.reason_code), "")
        lines.append("：".join(x for x in (f.item.label_zh_hant, "，".join(y for y in (reason, f.reason_text) if y)) if x))
    serious = any(f.item.urgency is Urgency.URGENT for f in breaches)
    violation = Violation(
        estate_id=rnd.estate_id, unit_id=rnd.unit_id, permit=permit, round_id=rnd.id, serious=serious,
        summary="\n".join(lines)[:2000], found_by_id=rnd.steward_id, found_at=rnd.completed_at or now,
        status=ViolationStatus.STOPPED,
    )
    session.add(violation)
    for f in breaches:
        f.violation = violation
    session.flush()
    _log(session, rnd.unit_id, "violation_found", rnd.steward, permit=permit, at=now, violation_id=violation.id,
         round_id=rnd.id, note=violation.summary)
    if serious and permit is not None and not permit.work_stopped:
        stop_work(session, rnd.steward, permit, _l("Serious breach: %(items)s", items=lines[0]), now=now,
                  violation=violation)
    return violation


def stop_work(session: Session, user: User, permit: DecorationPermit, reason, *, now: datetime | None = None,  # noqa: ANN001
              violation: Violation | None = None) -> None:
    """停工: the work stops until the office lets it go on; the gate sees the unit in its list."""
    if permit.status is not PermitStatus.ACTIVE:
        raise Conflict(_l("This registration is no longer active."))
    if permit.work_stopped:
        raise Conflict(_l("Work is already stopped at this unit."))
    reason = str(reason or "").strip()
    if not reason:
        raise _refuse(_l("Say why the work is stopped."), "reason")
    permit.work_stopped_at, permit.work_stopped_reason = _now(now), reason[:500]
    _log(session, permit.unit_id, "work_stopped", user, permit=permit, note=reason, at=now,
         violation_id=violation.id if violation else None)
    session.flush()


def resume_work(session: Session, user: User, permit: DecorationPermit, note: str, now: datetime | None = None) -> None:
    if user.role not in OFFICE_ROLES:
        raise NotFound(_l("This decoration registration does not exist or is not yours."))
    if not permit.work_stopped:
        raise Conflict(_l("Work is not stopped at this unit."))
    if not (note or "").strip():
        raise _refuse(_l("Say why the work may go on."), "note")
    permit.work_stopped_at, permit.work_stopped_reason = None, ""
    _log(session, permit.unit_id, "work_resumed", user, permit=permit, note=note.strip(), at=now)
    session.flush()


# Violations: notice → call → re-check → rectified or escalated


def issue_notice(session: Session, user: User, violation: Violation, *, deadline: date | None, requirements: str,
                 now: datetime | None = None) -> Violation:
    """The rectification notice (違章整改通知書): its number, what to put right, and by when."""
    now = _now(now)
    if user.role not in (*OFFICE_ROLES, Role.STEWARD):
        raise NotFound(_l("This violation does not exist or is not yours."))
    if violation.status is not ViolationStatus.STOPPED:
        raise Conflict(_l("A notice was already issued for this violation."))
    today = schedule.local_date(violation.estate, now)
    if deadline is None or deadline < today:
        raise _refuse(_l("Give a deadline from today on."), "deadline")
    if deadline > today + timedelta(days=60):
        raise _refuse(_l("A deadline more than 60 days away is not a deadline."), "deadline")
    violation.notice_number = _numbered(session, "ZG", violation.estate, now)
    violation.notice_requirements = (requirements or "").strip()[:2000] or "立即停止違章行為，按規定恢復原狀並整改完畢。"
    violation.notice_issued_at, violation.deadline = now, deadline
    violation.status = ViolationStatus.NOTICED
    _log(session, violation.unit_id, "notice_issued", user, permit=violation.permit, at=now,
         violation_id=violation.id, note=violation.notice_number, deadline=deadline.isoformat())
    session.flush()
    return violation


def log_owner_call(session: Session, user: User, violation: Violation, note: str, now: datetime | None = None) -> None:
    """The desk phoned the owner about the violation (contacts are theirs to read)."""
    now = _now(now)
    if user.role not in OFFICE_ROLES:
        raise NotFound(_l("This violation does not exist or is not yours."))
    if not violation.is_open:
        raise Conflict(_l("This violation is already closed."))
    if not (note or "").strip():
        raise _refuse(_l("Write what the owner said."), "note")
    violation.owner_called_at = violation.owner_called_at or now
    _log(session, violation.unit_id, "owner_called", user, permit=violation.permit, at=now,
         violation_id=violation.id, note=note.strip())
    session.flush()


def resolve_violation(session: Session, user: User, violation: Violation, note: str,
                      now: datetime | None = None) -> None:
    """The supervisor closes an escalated violation, saying how it ended."""
    if user.role is not Role.SUPERVISOR:
        raise NotFound(_l("This violation does not exist or is not yours."))
    if violation.status is not ViolationStatus.ESCALATED:
        raise Conflict(_l("Only an escalated violation is closed by the supervisor."))
    if not (note or "").strip():
        raise _refuse(_l("Say how it was settled."), "note")
    violation.status, violation.closed_at = ViolationStatus.RESOLVED, _now(now)
    _log(session, violation.unit_id, "violation_resolved", user, permit=violation.permit, at=now,
         violation_id=violation.id, note=note.strip())
    session.flush()


@dataclass(frozen=True)
class RecheckTask:
    violation_id: int
    unit_id: int
    unit: str
    notice_number: str
    summary: str
    requirements: str
    deadline: date
    overdue: bool
    photos: tuple[str, ...]


def _photos_of(findings: list[Finding]) -> tuple[str, ...]:
    return tuple(p.uuid for f in findings for p in f.photos if p.status is PhotoStatus.STORED)


def recheck_tasks(session: Session, steward: User, at: datetime | None = None) -> list[RecheckTask]:
    """Noticed violations of the steward's units whose deadline has come (複查), oldest first."""
    at = _now(at)
    if steward.role is not Role.STEWARD or not steward.visible_estate_ids:
        return []
    query = (sa.select(Violation).where(Violation.status == ViolationStatus.NOTICED,
                                        Violation.estate_id.in_(steward.visible_estate_ids))
             .order_by(Violation.deadline, Violation.id)
             .options(selectinload(Violation.unit), selectinload(Violation.estate),
                      selectinload(Violation.findings).selectinload(Finding.photos)))
    tasks = []
    for v in session.scalars(query):
        today = schedule.local_date(v.estate, at)
        if v.deadline > today or not steward.can_see_unit(v.unit):
            continue
        tasks.append(RecheckTask(v.id, v.unit_id, v.unit.label, v.notice_number or "", v.summary,
                                 v.notice_requirements, v.deadline, v.deadline < today, _photos_of(v.findings)))
    return tasks


def record_recheck(session: Session, steward: User, *, uuid: str, violation_id: int, result: RecheckResult,
                   note: str = "", recorded_at: datetime | None = None, now: datetime | None = None) -> ViolationRecheck:
    """The re-check from the phone, stored once by UUID: rectified closes the violation; not
    rectified or refused escalates it to the supervisor with the evidence."""
    now = _now(now)
    note = (note or "").strip()
    fingerprint = content_sha256({"violation_id": violation_id, "result": result.value, "note": note,
                                  "recorded_at": recorded_at.astimezone(timezone.utc).isoformat() if recorded_at else None})
    existing = session.scalars(sa.select(ViolationRecheck).where(ViolationRecheck.uuid == uuid)).first()
    if existing is not None:
        if existing.by_id != steward.id:
            raise NotFound(_l("This violation does not exist or is not yours."))
        if existing.content_sha256 != fingerprint:
            raise Conflict(_l("This re-check was already stored with another answer."))
        return existing
    violation = session.scalars(sa.select(Violation).where(Violation.id == violation_id).with_for_update()
                                .execution_options(populate_existing=True)).first()
    if violation is None or steward.role is not Role.STEWARD or not steward.can_see_unit(violation.unit):
        raise NotFound(_l("This violation does not exist or is not yours."))
    if violation.status in (ViolationStatus.RECTIFIED, ViolationStatus.RESOLVED):
        raise Conflict(_l("This violation is already closed; the re-check was not recorded."))
    if violation.status is ViolationStatus.ESCALATED:
        raise Conflict(_l("This violation is already with the supervisor; the re-check was not recorded."))
    if violation.status is ViolationStatus.STOPPED:
        raise Conflict(_l("No rectification notice was issued yet: there is nothing to re-check."))
    if result is not RecheckResult.RECTIFIED and not note:
        raise _refuse(_l("Say what is still wrong."), "note")
    permit = violation.permit
    stop = (violation.serious and result is RecheckResult.REFUSED and permit is not None
            and permit.status is PermitStatus.ACTIVE and not permit.work_stopped)
    record = ViolationRecheck(uuid=uuid, violation=violation, by_id=steward.id, result=result, note=note[:1000],
                              recorded_at=_phone_time(recorded_at, now), received_at=now, content_sha256=fingerprint)
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(_l("This re-check was stored at the same moment by another request.")) from None
    if result is RecheckResult.RECTIFIED:
        violation.status, violation.closed_at = ViolationStatus.RECTIFIED, now
        _log(session, violation.unit_id, "recheck_passed", steward, permit=violation.permit, at=now,
             violation_id=violation.id, note=note, uuid=uuid)
    else:
        violation.status, violation.escalated_at = ViolationStatus.ESCALATED, now
        _log(session, violation.unit_id, f"recheck_{result.value}", steward, permit=violation.permit, at=now,
             violation_id=violation.id, note=note, uuid=uuid)
        _log(session, violation.unit_id, "violation_escalated", steward, permit=violation.permit, at=now,
             violation_id=violation.id, note=note)
        if stop:
            stop_work(session, steward, permit, _l("The owner refuses to put a serious breach right."), now=now,
                      violation=violation)
    session.flush()
    return record


# Flood tests (閉水試驗)


def flood_test_for(session: Session, user: User, uuid: str, *, for_update: bool = False) -> FloodTest:
    query = sa.select(FloodTest).where(FloodTest.uuid == uuid)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    test = session.scalars(query).first()
    if test is None or user.role is Role.GATE or not in_scope(user, test.unit):
        raise NotFound(_l("This flood test does not exist or is not yours."))
    return test


def _step_uuid_free(session: Session, user: User, own: FloodTest | MaterialRequest, column, uuid: str,  # noqa: ANN001
                    not_found) -> None:  # noqa: ANN001 - a lazy string
    """A step's UUID (a neighbour check, a flood test's result, a material decision) already stored on
    another record: a conflict if that record is one the steward may act on, else not found, so a UUID
    tells nothing of records outside the user's units. Asked right after the record is found, before a
    step sent again is answered (the unique index keeps the two apart) and before anything is written,
    so a reused UUID never reaches the index and the phone, the desk's import and the web page get the
    same answer."""
    model = column.class_
    other = session.scalars(sa.select(model).where(column == uuid, model.id != own.id).limit(1)).first()
    if other is None:
        return
    if user.role is not Role.STEWARD or not in_scope(user, other.unit):
        raise NotFound(not_found)
    raise Conflict(_l("This ID was already used for another record."))


def earliest_pass(test: FloodTest) -> datetime:
    return test.started_at + timedelta(hours=FLOOD_TEST_HOURS)


def start_flood_test(session: Session, steward: User, *, uuid: str, unit_id: int, wet_area: WetArea, photo_uuid: str,
                     water_level_cm: Decimal | None = None, recorded_at: datetime | None = None,
                     now: datetime | None = None) -> FloodTest:
    """Start a flood test of one wet area, with the photo of the water level. Its 48 hours count
    from now, the server's time: a phone's clock, right or wrong, never shortens them."""
    now = _now(now)
    fingerprint = content_sha256({"unit_id": unit_id, "wet_area": wet_area.value, "photo_uuid": photo_uuid,
                                  "water_level_cm": str(water_level_cm) if water_level_cm is not None else None})
    existing = session.scalars(sa.select(FloodTest).where(FloodTest.uuid == uuid)).first()
    if existing is not None:
        if existing.started_by_id != steward.id:
            raise NotFound(_l("This flood test does not exist or is not yours."))
        if existing.start_content_sha256 != fingerprint:
            raise Conflict(_l("This flood test was already started with other details."))
        return existing
    if steward.role is not Role.STEWARD:
        raise NotFound(_l("This unit does not exist or is not yours."))
    unit = _unit(session, steward, unit_id)
    permit = active_permit(session, unit.id)
    if permit is None:
        raise Conflict(_l("%(unit)s has no active decoration registration.", unit=unit.label))
    if not photo_uuid:
        raise _refuse(_l("Take a photo of the water level."), "photo_uuid")
    running = session.scalars(sa.select(FloodTest).where(
        FloodTest.unit_id == unit.id, FloodTest.wet_area == wet_area, FloodTest.status == FloodTestStatus.RUNNING)).first()
    if running is not None:
        raise Conflict(_l("A flood test of this area is already running (started %(at)s).",
                          at=running.started_at.isoformat(timespec="minutes")))
    test = FloodTest(uuid=uuid, permit=permit, unit_id=unit.id, wet_area=wet_area, started_by_id=steward.id,
                     started_at=now, phone_started_at=recorded_at, water_level_cm=water_level_cm,
                     start_photo_uuid=photo_uuid, start_content_sha256=fingerprint)
    session.add(test)
    try:
        session.flush()
    except IntegrityError:  # a twin of this start, or another start of this area, at the same moment
        session.rollback()
        twin = session.scalars(sa.select(FloodTest).where(FloodTest.uuid == uuid)).first()
        if twin is not None and twin.started_by_id == steward.id and twin.start_content_sha256 == fingerprint:
            return twin
        raise Conflict(_l("A flood test of this area is already running.")) from None
    _log(session, unit.id, "flood_started", steward, permit=permit, at=now, flood_test_id=test.id,
         wet_area=wet_area.value, photo_uuid=photo_uuid,
         phone_time=recorded_at.isoformat() if recorded_at else None)
    session.flush()
    return test


def check_neighbours(session: Session, steward: User, *, uuid: str, flood_test_uuid: str, units: str, leak: bool,
                     note: str = "", recorded_at: datetime | None = None, now: datetime | None = None) -> FloodTest:
    """The unit below and the adjacent units checked for leaks: required before a pass; a leak fails the test."""
    now = _now(now)
    units, note = (units or "").strip(), (note or "").strip()
    fingerprint = content_sha256({"flood_test_uuid": flood_test_uuid, "units": units, "leak": leak, "note": note})
    test = flood_test_for(session, steward, flood_test_uuid, for_update=True)
    _step_uuid_free(session, steward, test, FloodTest.neighbour_uuid, uuid,
                    _l("This flood test does not exist or is not yours."))
    if test.neighbour_uuid == uuid:
        if test.neighbour_content_sha256 != fingerprint:
            raise Conflict(_l("This neighbour check was already stored with another answer."))
        return test
    if steward.role is not Role.STEWARD:
        raise NotFound(_l("This flood test does not exist or is not yours."))
    if test.status is not FloodTestStatus.RUNNING:
        raise Conflict(_l("This flood test has already ended."))
    if test.neighbour_uuid is not None:
        raise Conflict(_l("The neighbours were already checked for this flood test."))
    if not units:
        raise _refuse(_l("Name the units you checked (the one below and the adjacent ones)."), "units")
    if leak and not note:
        raise _refuse(_l("Describe the leak."), "note")
    test.neighbour_uuid, test.neighbour_checked_at, test.neighbour_checked_by_id = uuid, now, steward.id
    test.neighbour_units, test.neighbour_leak, test.neighbour_note = units[:255], leak, note[:1000]
    test.neighbour_content_sha256 = fingerprint
    _log(session, test.unit_id, "neighbour_checked", steward, permit=test.permit, at=now, flood_test_id=test.id,
         note="；".join(x for x in (units, note) if x), leak=leak)
    if leak:
        _end(session, test, steward, FloodTestStatus.FAILED, note, None, now)
    session.flush()
    return test


def end_flood_test(session: Session, steward: User, *, uuid: str, flood_test_uuid: str, passed: bool, note: str = "",
                   photo_uuid: str | None = None, recorded_at: datetime | None = None,
                   now: datetime | None = None) -> FloodTest:
    """Pass or fail the test. A pass needs 48 hours since the server heard of the start, by the
    server's clock (`now`), and a neighbour check without leaks."""
    now = _now(now)
    note = (note or "").strip()
    fingerprint = content_sha256({"flood_test_uuid": flood_test_uuid, "passed": passed, "note": note,
                                  "photo_uuid": photo_uuid})
    test = flood_test_for(session, steward, flood_test_uuid, for_update=True)
    _step_uuid_free(session, steward, test, FloodTest.result_uuid, uuid,
                    _l("This flood test does not exist or is not yours."))
    if test.result_uuid == uuid:
        if test.result_content_sha256 != fingerprint:
            raise Conflict(_l("This result was already stored with another answer."))
        return test
    if steward.role is not Role.STEWARD:
        raise NotFound(_l("This flood test does not exist or is not yours."))
    if test.status is not FloodTestStatus.RUNNING:
        raise Conflict(_l("This flood test has already ended."))
    if passed:
        if now < earliest_pass(test):
            raise _refuse(_l("A flood test passes only after %(hours)d hours. This one reached the office at "
                             "%(start)s UTC and can pass from %(earliest)s UTC.", hours=FLOOD_TEST_HOURS,
                             start=test.started_at.strftime("%Y-%m-%d %H:%M"),
                             earliest=earliest_pass(test).strftime("%Y-%m-%d %H:%M")), "passed")
        if test.neighbour_checked_at is None:
            raise _refuse(_l("Check the unit below and the adjacent units for leaks before the pass."), "neighbours")
    elif not note:
        raise _refuse(_l("Say why it failed."), "note")
    test.result_uuid, test.result_content_sha256 = uuid, fingerprint
    _end(session, test, steward, FloodTestStatus.PASSED if passed else FloodTestStatus.FAILED, note, photo_uuid, now)
    session.flush()
    return test


def _end(session: Session, test: FloodTest, by: User, status: FloodTestStatus, note: str, photo_uuid: str | None,
         now: datetime) -> None:
    test.status, test.ended_at, test.ended_by_id = status, now, by.id
    test.result_note, test.result_photo_uuid = note[:1000], photo_uuid
    hours = round((now - test.started_at).total_seconds() / 3600, 1)
    _log(session, test.unit_id, f"flood_{status.value}", by, permit=test.permit, at=now, flood_test_id=test.id,
         note=note, hours=hours, wet_area=test.wet_area.value, photo_uuid=photo_uuid)


# Material entry (裝修材料進場)


def material_request_by_uuid(session: Session, uuid: str) -> MaterialRequest | None:
    """The request stored under this UUID, whoever raised it (the caller decides what it may see)."""
    return session.scalars(sa.select(MaterialRequest).where(MaterialRequest.uuid == uuid)).first()


def raise_material_request(session: Session, user: User, *, uuid: str, unit_id: int, materials: str,
                           photo_uuid: str | None, now: datetime | None = None) -> MaterialRequest:
    """The gate (or the desk on its behalf) asks to let materials in; the steward decides."""
    now = _now(now)
    materials = (materials or "").strip()

    def again(existing: MaterialRequest) -> MaterialRequest:
        if existing.raised_by_id != user.id:
            raise NotFound(_l("This request does not exist or is not yours."))
        if existing.unit_id != unit_id or existing.materials != materials[:500]:
            raise Conflict(_l("This request was already sent with other details."))
        return existing

    existing = material_request_by_uuid(session, uuid)
    if existing is not None:
        return again(existing)
    if user.role not in (Role.GATE, *OFFICE_ROLES):
        raise NotFound(_l("This unit does not exist or is not yours."))
    unit = _unit(session, user, unit_id)
    if not materials:
        raise _refuse(_l("Say what materials are coming in."), "materials")
    if not photo_uuid:
        raise _refuse(_l("Take a photo of the materials."), "photo")
    permit = active_permit(session, unit.id)
    if permit is None:
        raise Conflict(_l("%(unit)s has no active decoration registration: materials cannot come in.", unit=unit.label))
    request = MaterialRequest(uuid=uuid, estate_id=permit.estate_id, unit_id=unit.id, permit=permit,
                              materials=materials[:500], photo_uuid=photo_uuid, raised_by_id=user.id, raised_at=now)
    session.add(request)
    try:
        session.flush()
    except IntegrityError:  # the same request (a double tap) stored at the same moment
        session.rollback()
        existing = material_request_by_uuid(session, uuid)
        if existing is None:
            raise Conflict(_l("This request was stored at the same moment by another request.")) from None
        return again(existing)
    _log(session, unit.id, "material_requested", user, permit=permit, at=now, material_request_id=request.id,
         note=request.materials, photo_uuid=photo_uuid)
    session.flush()
    return request


def material_tasks(session: Session, steward: User) -> list[MaterialRequest]:
    """Requests waiting for this steward's decision, oldest first: the top of their list."""
    if steward.role is not Role.STEWARD or not steward.visible_estate_ids:
        return []
    query = (sa.select(MaterialRequest)
             .where(MaterialRequest.status == MaterialStatus.PENDING,
                    MaterialRequest.estate_id.in_(steward.visible_estate_ids))
             .order_by(MaterialRequest.raised_at, MaterialRequest.id)
             .options(selectinload(MaterialRequest.unit), selectinload(MaterialRequest.permit)))
    return [r for r in session.scalars(query) if steward.can_see_unit(r.unit)]


def decide_material(session: Session, steward: User, *, uuid: str, request_id: int, approved: bool, reason: str = "",
                    recorded_at: datetime | None = None, now: datetime | None = None) -> MaterialRequest:
    """Approve, or refuse with a reason (the desk then contacts the owner). Stored once by UUID."""
    now = _now(now)
    reason = (reason or "").strip()
    fingerprint = content_sha256({"request_id": request_id, "approved": approved, "reason": reason})
    request = session.scalars(sa.select(MaterialRequest).where(MaterialRequest.id == request_id).with_for_update()
                              .execution_options(populate_existing=True)).first()
    if request is None or steward.role is not Role.STEWARD or not steward.can_see_unit(request.unit):
        raise NotFound(_l("This request does not exist or is not yours."))
    _step_uuid_free(session, steward, request, MaterialRequest.decision_uuid, uuid,
                    _l("This request does not exist or is not yours."))
    if request.decision_uuid == uuid:
        if request.decision_content_sha256 != fingerprint:
            raise Conflict(_l("This decision was already stored with another answer."))
        return request
    if request.status is not MaterialStatus.PENDING:
        raise Conflict(_l("This request was already decided."))
    if not approved and not reason:
        raise _refuse(_l("Say why the materials may not come in."), "reason")
    if approved and request.permit is not None and request.permit.work_stopped:
        raise Conflict(_l("Work is stopped at this unit (停工): materials cannot be approved."))
    request.status = MaterialStatus.APPROVED if approved else MaterialStatus.REFUSED
    request.decision_uuid, request.decision_content_sha256 = uuid, fingerprint
    request.decided_by_id, request.decided_at, request.reason = steward.id, now, reason[:1000]
    _log(session, request.unit_id, "material_approved" if approved else "material_refused", steward,
         permit=request.permit, at=now, material_request_id=request.id, note=reason)
    session.flush()
    return request


def settle_material(session: Session, user: User, request: MaterialRequest, *, escalate: bool, note: str,
                    now: datetime | None = None) -> None:
    """The desk contacted the owner about a refused request: settled, or escalated to the supervisor,
    who settles it in the end."""
    now = _now(now)
    if user.role not in OFFICE_ROLES or not in_scope(user, request.unit):
        raise NotFound(_l("This request does not exist or is not yours."))
    escalated = request.status is MaterialStatus.ESCALATED
    if escalated and (user.role is not Role.SUPERVISOR or escalate):
        raise Conflict(_l("This request is with the supervisor: only the supervisor settles it."))
    if request.status is not MaterialStatus.REFUSED and not escalated:
        raise Conflict(_l("Only a refused request waits for the owner to be contacted."))
    if not (note or "").strip():
        raise _refuse(_l("Write what was agreed with the owner."), "note")
    request.status = MaterialStatus.ESCALATED if escalate else MaterialStatus.RESOLVED
    request.resolved_by_id, request.resolved_at, request.resolution_note = user.id, now, note.strip()[:1000]
    _log(session, request.unit_id, "material_escalated" if escalate else "material_resolved", user,
         permit=request.permit, at=now, material_request_id=request.id, note=note.strip())
    session.flush()


# Completion (完工驗收)


def accept(session: Session, user: User, permit: DecorationPermit, *, passed: bool, note: str,
           return_state: UnitState | None, now: datetime | None = None) -> None:
    """Final acceptance: passed, the unit returns to occupied, rented or vacant and its daily checks stop."""
    now = _now(now)
    if user.role not in OFFICE_ROLES:
        raise NotFound(_l("This decoration registration does not exist or is not yours."))
    if permit.status is not PermitStatus.ACTIVE:
        raise Conflict(_l("This registration is no longer active."))
    note = (note or "").strip()
    if not passed:
        if not note:
            raise _refuse(_l("Say what must still be put right."), "note")
        _log(session, permit.unit_id, "acceptance_failed", user, permit=permit, at=now, note=note)
        session.flush()
        return
    if return_state not in RETURN_STATES:
        raise _refuse(_l("Choose what the unit becomes: occupied, rented or vacant."), "return_state")
    open_violations = [v for v in permit.violations if v.is_open]
    running = [t for t in permit.flood_tests if t.status is FloodTestStatus.RUNNING]
    if open_violations or running or permit.work_stopped:
        raise Conflict(_l("Not yet: %(violations)d open violation(s), %(tests)d running flood test(s)%(stopped)s.",
                          violations=len(open_violations), tests=len(running),
                          stopped=_l(", work stopped") if permit.work_stopped else ""))
    permit.status, permit.accepted_at, permit.accepted_by_id, permit.acceptance_note = (
        PermitStatus.COMPLETED, now, user.id, note[:1000])
    # Back to vacant: for the reason it was vacant before, if it was (unsold, keys not collected…).
    permit.unit.state = return_state
    permit.unit.vacancy_reason = permit.prior_vacancy_reason if return_state is UnitState.VACANT else None
    _log(session, permit.unit_id, "accepted", user, permit=permit, at=now, note=note, unit_state=return_state.value)
    session.flush()


# Lists

# A flood test that ended this long ago drops out of the steward's list.
RECENT_FLOOD_TESTS = timedelta(days=7)


@dataclass(frozen=True)
class DecoratingUnit:
    permit: DecorationPermit
    flood_tests: list[FloodTest]  # running, or ended lately

    @property
    def unit_id(self) -> int:
        return self.permit.unit_id

    @property
    def unit(self) -> str:
        return self.permit.unit.label

    @property
    def permit_number(self) -> str:
        return self.permit.number

    @property
    def work_stopped(self) -> bool:
        return self.permit.work_stopped


def decorating_units(session: Session, steward: User, at: datetime | None = None) -> list[DecoratingUnit]:
    """The steward's units under an active registration, with their running and recent flood tests
    (the today page and the offline pack)."""
    if steward.role is not Role.STEWARD or not steward.visible_estate_ids:
        return []
    since = _now(at) - RECENT_FLOOD_TESTS
    permits = session.scalars(
        sa.select(DecorationPermit).where(DecorationPermit.status == PermitStatus.ACTIVE,
                                          DecorationPermit.estate_id.in_(steward.visible_estate_ids))
        .order_by(DecorationPermit.unit_id)
        .options(selectinload(DecorationPermit.unit), selectinload(DecorationPermit.estate),
                 selectinload(DecorationPermit.flood_tests)))
    return [DecoratingUnit(p, [t for t in p.flood_tests if t.status is FloodTestStatus.RUNNING
                               or (t.ended_at is not None and t.ended_at >= since)])
            for p in permits if steward.can_see_unit(p.unit)]


def stopped_units(session: Session, user: User) -> list[DecorationPermit]:
    """Units where work is stopped (停工), for the gate and the office."""
    if not user.visible_estate_ids:
        return []
    return [p for p in session.scalars(
        sa.select(DecorationPermit).where(DecorationPermit.status == PermitStatus.ACTIVE,
                                          DecorationPermit.work_stopped_at.is_not(None),
                                          DecorationPermit.estate_id.in_(user.visible_estate_ids))
        .order_by(DecorationPermit.work_stopped_at).options(selectinload(DecorationPermit.unit)))
        if in_scope(user, p.unit)]


@dataclass(frozen=True)
class Escalations:
    violations: list[Violation]
    materials: list[MaterialRequest]


def escalations(session: Session, user: User, now: datetime | None = None) -> Escalations:
    """What waits for the supervisor: escalated violations, and material requests escalated by the
    desk or refused and not settled with the owner within a day."""
    now = _now(now)
    ids = user.visible_estate_ids
    if not ids:
        return Escalations([], [])
    violations = list(session.scalars(
        sa.select(Violation).where(Violation.status == ViolationStatus.ESCALATED, Violation.estate_id.in_(ids))
        .order_by(Violation.escalated_at).options(selectinload(Violation.unit))))
    materials = list(session.scalars(
        sa.select(MaterialRequest).where(MaterialRequest.estate_id.in_(ids), sa.or_(
            MaterialRequest.status == MaterialStatus.ESCALATED,
            sa.and_(MaterialRequest.status == MaterialStatus.REFUSED,
                    MaterialRequest.decided_at <= now - timedelta(hours=MATERIAL_SETTLE_HOURS))))
        .order_by(MaterialRequest.raised_at).options(selectinload(MaterialRequest.unit))))
    return Escalations([v for v in violations if in_scope(user, v.unit)],
                       [m for m in materials if in_scope(user, m.unit)])


def may_see_record_photo(session: Session, user: User, photo: Photo) -> bool:
    """Photos of decoration records: whoever may see the unit's decoration (the gate only its requests')."""
    uuid = photo.record_uuid
    if not uuid:
        return False
    request = session.scalars(sa.select(MaterialRequest).where(MaterialRequest.photo_uuid == photo.uuid)).first()
    if request is not None:
        return in_scope(user, request.unit)
    if user.role is Role.GATE:
        return False
    test = session.scalars(sa.select(FloodTest).where(sa.or_(FloodTest.uuid == uuid, FloodTest.result_uuid == uuid))).first()
    if test is not None:
        return in_scope(user, test.unit)
    recheck = session.scalars(sa.select(ViolationRecheck).where(ViolationRecheck.uuid == uuid)).first()
    if recheck is not None:
        return in_scope(user, recheck.violation.unit)
    return photo.uploaded_by_id == user.id
