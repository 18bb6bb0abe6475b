"""What the daily check (二次裝修日檢) finds: a breach becomes a violation, stopped on the spot, then
a notice, calls with the owner, re-checks by the steward and resolution or escalation.

Every function works in the caller's transaction and raises a refusal (app/refusals.py) before it
changes anything, so a refusal leaves nothing half-done."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..access import OFFICE
from ..models import (
    DefectRoute,
    Finding,
    FindingResult,
    MaterialRequest,
    MaterialStatus,
    PermitStatus,
    PhotoStatus,
    RecheckResult,
    Role,
    Round,
    RoundKind,
    Urgency,
    Unit,
    User,
    Violation,
    ViolationRecheck,
    ViolationStatus,
    VisitOutcome,
)
from ..refusals import Conflict, NotFound
from ..rounds import schedule
from ..rounds.intake import round_completed
from ..steps import content_sha256, phone_time, same_step
from .base import (
    MATERIAL_SETTLE_HOURS,
    active_permit,
    in_scope,
    in_scope_now_or_then,
    log_event,
    now_or_utc,
    numbered,
    refuse,
)
from . import alerts
from .permits import stop_work


def after_completion(session: Session, rnd: Round, defects: list[Finding], now: datetime | None = None) -> Violation | None:
    """Called in the completion's transaction of a decoration check: log how the visit went, and
    turn the breaches it found into one violation (stopped on the spot, photographed)."""
    if rnd.kind is not RoundKind.DECORATION or rnd.unit_id is None:
        return None
    now = now_or_utc(now)
    permit = active_permit(session, rnd.unit_id)
    outcome = rnd.visit_outcome or VisitOutcome.CHECKED
    if outcome is not VisitOutcome.CHECKED:
        log_event(session, rnd.unit_id, f"visit_{outcome.value}", rnd.steward, permit=permit, at=now, round_id=rnd.id)
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
    log_event(session, rnd.unit_id, "violation_found", rnd.steward, permit=permit, at=now, violation_id=violation.id,
              round_id=rnd.id, note=violation.summary)
    if serious and permit is not None and not permit.work_stopped:
        stop_work(session, rnd.steward, permit, _l("Serious breach: %(items)s", items=lines[0]), now=now,
                  violation=violation)
    return violation


# Resident violations beyond decoration (住戶違章, manual 九): found on any round or reported, traced
# to a unit; from then on the same steps as a decoration breach (notice → call → deadline → re-check
# → escalate), by the functions below, not a copy of them.
RESIDENT_KINDS = ("clutter", "illegal_structure", "facade", "group_renting", "other")


def report_violation(session: Session, user: User, *, unit: Unit, kind: str, summary: str,
                     finding: Finding | None = None, now: datetime | None = None) -> Violation:
    """A resident violation found (a round's finding, the unit marked responsible) or reported."""
    now = now_or_utc(now)
    if user.role not in (*OFFICE, Role.STEWARD) or not in_scope(user, unit):
        raise NotFound(_l("This unit does not exist or is not yours."))
    if kind not in RESIDENT_KINDS:
        raise refuse(_l("Choose the kind of violation."), "kind")
    if not (summary or "").strip():
        raise refuse(_l("Say what the violation is."), "summary")
    if finding is not None and (finding.round.estate_id != unit.building.estate_id or finding.violation_id):
        raise Conflict(_l("This finding is already a violation, or of another estate."))
    violation = Violation(estate_id=unit.building.estate_id, unit_id=unit.id, permit=None,
                          round_id=finding.round_id if finding else None, serious=False, kind=kind,
                          summary=summary.strip()[:2000], found_by_id=user.id, found_at=now,
                          status=ViolationStatus.STOPPED)
    session.add(violation)
    if finding is not None:
        finding.violation = violation
    session.flush()
    log_event(session, unit.id, "violation_found", user, at=now, violation_id=violation.id, violation_kind=kind)
    return violation


def issue_notice(session: Session, user: User, violation: Violation, *, deadline: date | None, requirements: str,
                 now: datetime | None = None) -> Violation:
    """The rectification notice (違章整改通知書): its number, what to put right, and by when."""
    now = now_or_utc(now)
    if user.role not in (*OFFICE, Role.STEWARD):
        raise NotFound(_l("This violation does not exist or is not yours."))
    if violation.status is not ViolationStatus.STOPPED:
        raise Conflict(_l("A notice was already issued for this violation."))
    today = schedule.local_date(violation.estate, now)
    if deadline is None or deadline < today:
        raise refuse(_l("Give a deadline from today on."), "deadline")
    if deadline > today + timedelta(days=60):
        raise refuse(_l("A deadline more than 60 days away is not a deadline."), "deadline")
    violation.notice_number = numbered(session, "ZG", violation.estate, now)
    violation.notice_requirements = (requirements or "").strip()[:2000] or "立即停止違章行為，按規定恢復原狀並整改完畢。"
    violation.notice_issued_at, violation.deadline = now, deadline
    violation.status = ViolationStatus.NOTICED
    log_event(session, violation.unit_id, "notice_issued", user, permit=violation.permit, at=now,
              violation_id=violation.id, note=violation.notice_number, deadline=deadline.isoformat())
    session.flush()
    return violation


def log_owner_call(session: Session, user: User, violation: Violation, note: str, now: datetime | None = None) -> None:
    """The desk phoned the owner about the violation (contacts are theirs to read)."""
    now = now_or_utc(now)
    if user.role not in OFFICE:
        raise NotFound(_l("This violation does not exist or is not yours."))
    if not violation.is_open:
        raise Conflict(_l("This violation is already closed."))
    if not (note or "").strip():
        raise refuse(_l("Write what the owner said."), "note")
    violation.owner_called_at = violation.owner_called_at or now
    log_event(session, violation.unit_id, "owner_called", user, permit=violation.permit, at=now,
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
        raise refuse(_l("Say how it was settled."), "note")
    violation.status, violation.closed_at = ViolationStatus.RESOLVED, now_or_utc(now)
    log_event(session, violation.unit_id, "violation_resolved", user, permit=violation.permit, at=now,
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
    at = now_or_utc(at)
    estate_ids = steward.estate_ids_on(at) if steward.role is Role.STEWARD else set()
    if not estate_ids:
        return []
    query = (sa.select(Violation).where(Violation.status == ViolationStatus.NOTICED,
                                        Violation.estate_id.in_(estate_ids))
             .order_by(Violation.deadline, Violation.id)
             .options(selectinload(Violation.unit), selectinload(Violation.estate),
                      selectinload(Violation.findings).selectinload(Finding.photos)))
    tasks = []
    for v in session.scalars(query):
        today = schedule.local_date(v.estate, at)
        if v.deadline > today or not in_scope(steward, v.unit, at):
            continue
        tasks.append(RecheckTask(v.id, v.unit_id, v.unit.label, v.notice_number or "", v.summary,
                                 v.notice_requirements, v.deadline, v.deadline < today, _photos_of(v.findings)))
    return tasks


def record_recheck(session: Session, steward: User, *, uuid: str, violation_id: int, result: RecheckResult,
                   note: str = "", recorded_at: datetime | None = None, now: datetime | None = None) -> ViolationRecheck:
    """The re-check from the phone, stored once by UUID: rectified closes the violation; not
    rectified or refused escalates it to the supervisor with the evidence."""
    now = now_or_utc(now)
    note = (note or "").strip()
    fingerprint = content_sha256({"violation_id": violation_id, "result": result.value, "note": note,
                                  "recorded_at": recorded_at.astimezone(timezone.utc).isoformat() if recorded_at else None})
    existing = session.scalars(sa.select(ViolationRecheck).where(ViolationRecheck.uuid == uuid)).first()
    if same_step(existing, steward, fingerprint, conflict=_l("This re-check was already stored with another answer."),
                 not_found=_l("This violation does not exist or is not yours.")):
        return existing
    violation = session.scalars(sa.select(Violation).where(Violation.id == violation_id).with_for_update()
                                .execution_options(populate_existing=True)).first()
    if violation is None or steward.role is not Role.STEWARD \
            or not in_scope_now_or_then(steward, violation.unit, phone_time(recorded_at, now)):
        raise NotFound(_l("This violation does not exist or is not yours."))
    if violation.status in (ViolationStatus.RECTIFIED, ViolationStatus.RESOLVED):
        raise Conflict(_l("This violation is already closed; the re-check was not recorded."))
    if violation.status is ViolationStatus.ESCALATED:
        raise Conflict(_l("This violation is already with the supervisor; the re-check was not recorded."))
    if violation.status is ViolationStatus.STOPPED:
        raise Conflict(_l("No rectification notice was issued yet: there is nothing to re-check."))
    if result is not RecheckResult.RECTIFIED and not note:
        raise refuse(_l("Say what is still wrong."), "note")
    permit = violation.permit
    stop = (violation.serious and result is RecheckResult.REFUSED and permit is not None
            and permit.status is PermitStatus.ACTIVE and not permit.work_stopped)
    record = ViolationRecheck(uuid=uuid, violation=violation, by_id=steward.id, result=result, note=note[:1000],
                              recorded_at=phone_time(recorded_at, now), received_at=now, content_sha256=fingerprint)
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(_l("This re-check was stored at the same moment by another request.")) from None
    if result is RecheckResult.RECTIFIED:
        violation.status, violation.closed_at = ViolationStatus.RECTIFIED, now
        log_event(session, violation.unit_id, "recheck_passed", steward, permit=violation.permit, at=now,
                  violation_id=violation.id, note=note, uuid=uuid)
    else:
        violation.status, violation.escalated_at = ViolationStatus.ESCALATED, now
        log_event(session, violation.unit_id, f"recheck_{result.value}", steward, permit=violation.permit, at=now,
                  violation_id=violation.id, note=note, uuid=uuid)
        log_event(session, violation.unit_id, "violation_escalated", steward, permit=violation.permit, at=now,
                  violation_id=violation.id, note=note)
        alerts.violation_escalated(session, violation, now)
        if stop:
            stop_work(session, steward, permit, _l("The owner refuses to put a serious breach right."), now=now,
                      violation=violation)
    session.flush()
    return record


@dataclass(frozen=True)
class Escalations:
    violations: list[Violation]
    materials: list[MaterialRequest]


def escalations(session: Session, user: User, now: datetime | None = None) -> Escalations:
    """What waits for the supervisor: escalated violations, and material requests escalated by the
    desk or refused and not settled with the owner within a day."""
    now = now_or_utc(now)
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


@round_completed.connect
def _violations_of_check(session: Session, *, round: Round, findings: list[Finding], now: datetime) -> None:  # noqa: A002
    """A decoration check's breaches become a violation (stopped on the spot); its outcome is logged."""
    if round.kind is RoundKind.DECORATION:
        after_completion(session, round, findings, now)
