"""A decoration's registration (裝修登記) through to its acceptance (驗收): registering, cancelling,
stopping and resuming work, the estate's working hours, and the units being decorated.

Every function works in the caller's transaction and raises a refusal (app/refusals.py) before it
changes anything, so a refusal leaves nothing half-done."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..access import OFFICE
from ..models import (
    DecorationPermit,
    Estate,
    FloodTest,
    FloodTestStatus,
    MaterialRequest,
    MaterialStatus,
    PermitStatus,
    Role,
    Round,
    RoundKind,
    RoundStatus,
    Unit,
    UnitState,
    User,
    Violation,
)
from ..refusals import Conflict, NotFound, Rejected
from .base import (
    HOURS_RE,
    MAX_DEPOSIT,
    MAX_WORKERS,
    RETURN_STATES,
    active_permit,
    in_scope,
    log_event,
    now_or_utc,
    numbered,
    refuse,
)


def parse_hours(text: str) -> str:
    """"08:00-12:00, 14:00-18:00" → "08:00-12:00,14:00-18:00", or Rejected."""
    spans = [s.strip() for s in (text or "").replace("，", ",").split(",") if s.strip()]
    if not spans or not all(HOURS_RE.match(s) and s[:5] < s[6:] for s in spans):
        raise refuse(_l("Write working hours like 08:00-12:00, 14:00-18:00 (start before end)."), "working_hours")
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
    now = now_or_utc(now)
    if user.role not in OFFICE:
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
        number=numbered(session, "ZX", estate, now),
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
    log_event(session, unit.id, "registered", user, permit=permit, at=now, note=permit.scope)
    if prior is UnitState.VACANT:
        sheet = session.scalars(sa.select(Round).where(
            Round.unit_id == unit.id, Round.kind == RoundKind.VACANT_UNIT, Round.status == RoundStatus.COMPLETED,
        ).order_by(Round.completed_at.desc(), Round.id.desc()).limit(1)).first()
        # The vacant-unit inspection sheet on the door goes into the unit's archive (the manual).
        log_event(session, unit.id, "vacant_sheet_filed", user, permit=permit, at=now,
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
        raise refuse(_l("Say why the registration is cancelled."), "note")
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
    log_event(session, permit.unit_id, "cancelled", user, permit=permit, note=note.strip(), at=now)
    session.flush()


def stop_work(session: Session, user: User, permit: DecorationPermit, reason, *, now: datetime | None = None,  # noqa: ANN001
              violation: Violation | None = None) -> None:
    """停工: the work stops until the office lets it go on; the gate sees the unit in its list."""
    if permit.status is not PermitStatus.ACTIVE:
        raise Conflict(_l("This registration is no longer active."))
    if permit.work_stopped:
        raise Conflict(_l("Work is already stopped at this unit."))
    reason = str(reason or "").strip()
    if not reason:
        raise refuse(_l("Say why the work is stopped."), "reason")
    permit.work_stopped_at, permit.work_stopped_reason = now_or_utc(now), reason[:500]
    log_event(session, permit.unit_id, "work_stopped", user, permit=permit, note=reason, at=now,
              violation_id=violation.id if violation else None)
    session.flush()


def resume_work(session: Session, user: User, permit: DecorationPermit, note: str, now: datetime | None = None) -> None:
    if user.role not in OFFICE:
        raise NotFound(_l("This decoration registration does not exist or is not yours."))
    if not permit.work_stopped:
        raise Conflict(_l("Work is not stopped at this unit."))
    if not (note or "").strip():
        raise refuse(_l("Say why the work may go on."), "note")
    permit.work_stopped_at, permit.work_stopped_reason = None, ""
    log_event(session, permit.unit_id, "work_resumed", user, permit=permit, note=note.strip(), at=now)
    session.flush()


def accept(session: Session, user: User, permit: DecorationPermit, *, passed: bool, note: str,
           return_state: UnitState | None, now: datetime | None = None) -> None:
    """Final acceptance: passed, the unit returns to occupied, rented or vacant and its daily checks stop."""
    now = now_or_utc(now)
    if user.role not in OFFICE:
        raise NotFound(_l("This decoration registration does not exist or is not yours."))
    if permit.status is not PermitStatus.ACTIVE:
        raise Conflict(_l("This registration is no longer active."))
    note = (note or "").strip()
    if not passed:
        if not note:
            raise refuse(_l("Say what must still be put right."), "note")
        log_event(session, permit.unit_id, "acceptance_failed", user, permit=permit, at=now, note=note)
        session.flush()
        return
    if return_state not in RETURN_STATES:
        raise refuse(_l("Choose what the unit becomes: occupied, rented or vacant."), "return_state")
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
    log_event(session, permit.unit_id, "accepted", user, permit=permit, at=now, note=note, unit_state=return_state.value)
    session.flush()


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
    estate_ids = steward.estate_ids_on(at) if steward.role is Role.STEWARD else set()
    if not estate_ids:
        return []
    since = now_or_utc(at) - RECENT_FLOOD_TESTS
    permits = session.scalars(
        sa.select(DecorationPermit).where(DecorationPermit.status == PermitStatus.ACTIVE,
                                          DecorationPermit.estate_id.in_(estate_ids))
        .order_by(DecorationPermit.unit_id)
        .options(selectinload(DecorationPermit.unit), selectinload(DecorationPermit.estate),
                 selectinload(DecorationPermit.flood_tests)))
    return [DecoratingUnit(p, [t for t in p.flood_tests if t.status is FloodTestStatus.RUNNING
                               or (t.ended_at is not None and t.ended_at >= since)])
            for p in permits if in_scope(steward, p.unit, at)]


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
