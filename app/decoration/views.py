"""Decoration pages for the desk and supervisors (stewards read within their buildings).

Thin routes over the decoration domain: every rule and refusal lives in its operations, every list
in lists.py; a refusal rolls back, is flashed and sends the user back to the page they
acted on.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import refusals
from ..access import (
    DECORATION_PAGES,
    OFFICE,
    estates_of,
    may_read_contacts,
    roles,
    whole_estates_of,
)
from ..extensions import db
from ..models import (
    OPEN_VIOLATION,
    ContactRelation,
    DecorationPermit,
    Role,
    Unit,
    UnitState,
    Violation,
    ViolationStatus,
)
from ..models.base import utcnow
from ..repairs.forms import choices
from ..rounds import schedule
from ..guard import record_id
from ..web import chosen_estate, parse_day, refused
from . import base, flood_tests, lists, permits, violations
from .forms import RegistrationForm

bp = Blueprint("decoration", __name__, url_prefix="/decoration")


NOTICE_DAYS = 3  # the default rectification deadline: three days from today


def _form(name: str) -> str:
    return request.form.get(name, "").strip()


def _permit(permit_id: int) -> DecorationPermit:
    try:
        return base.permit_for(db.session, current_user, permit_id)
    except refusals.NotFound:
        abort(404)


def _violation(violation_id: int) -> Violation:
    try:
        return base.violation_for(db.session, current_user, violation_id)
    except refusals.NotFound:
        abort(404)


def _act(target: str, load: Callable, action: Callable, success: str):  # noqa: ANN202
    """One action in one transaction; a refusal is flashed and nothing is kept."""
    obj = load()
    back = url_for(target, **{("permit_id" if isinstance(obj, DecorationPermit) else "violation_id"): obj.id})
    try:
        action(obj)
    except refusals.Refusal as exc:
        return refused(exc, back)
    db.session.commit()
    flash(success, "info")
    return redirect(back)


# Lists (the queries are in lists.py)


@bp.route("/")
@roles(*DECORATION_PAGES)
def index():
    """The decorating units of the user's estates, what needs action, and what was finished lately."""
    active = lists.active_permits(db.session, current_user)
    open_violations = lists.open_violations(db.session, current_user)
    completed = lists.recently_completed(db.session, current_user)
    by_status = {s: [v for v in open_violations if v.status is s] for s in OPEN_VIOLATION}
    return render_template("decoration/index.html", active=active, by_status=by_status,
                           overdue=lists.overdue(open_violations, utcnow()), completed=completed,
                           is_desk=current_user.role in OFFICE, ViolationStatus=ViolationStatus)


@bp.route("/escalations")
@roles(Role.SUPERVISOR)
def escalations():
    """What waits for the supervisor: escalated violations and material requests, and stopped units. The
    supervisor's alone (the manual: an owner who refuses is reported up, 上報); the desk works from the
    violation pages and the gate's requests."""
    found = violations.escalations(db.session, current_user, now=utcnow())  # both lists already scoped by unit
    return render_template("decoration/escalations.html", violations=found.violations, materials=found.materials,
                           stopped=permits.stopped_units(db.session, current_user))


@bp.route("/unit/<int:unit_id>")
@roles(*DECORATION_PAGES)
def unit(unit_id: int):
    """A unit's registrations, newest first (the link from the unit page)."""
    place = db.session.get(Unit, unit_id)
    if place is None or not base.in_scope(current_user, place):
        abort(404)
    return render_template("decoration/unit.html", unit=place, is_desk=current_user.role in OFFICE,
                           permits=lists.unit_permits(db.session, place))


# Registration (裝修登記)


def _unit_label(unit: Unit, many_estates: bool) -> str:
    return f"{unit.building.estate.name} {unit.label}" if many_estates else unit.label


@bp.route("/new", methods=["GET", "POST"])
@roles(*OFFICE)
def new():
    estates = estates_of(db.session, current_user)
    if not estates:
        abort(404)
    many = len(estates) > 1
    free = lists.units_free_to_register(db.session, current_user)
    form = RegistrationForm()
    form.unit.choices = choices([(0, "—"), *((u.id, _unit_label(u, many)) for u in free)])
    if request.method == "GET":
        chosen = db.session.get(Unit, request.args.get("unit_id", type=record_id) or 0)
        if chosen is not None and not base.in_scope(current_user, chosen):
            chosen = None
        if chosen is not None:
            existing = base.active_permit(db.session, chosen.id)
            if existing is not None:
                flash(_("%(unit)s already has an active decoration registration.", unit=chosen.label), "info")
                return redirect(url_for("decoration.permit", permit_id=existing.id))
            form.unit.data = chosen.id
            owner = next((c for c in chosen.contacts if c.relation is ContactRelation.OWNER), None)
            if owner is not None:
                form.owner_name.data, form.owner_phone.data = owner.name, owner.phone
            estate = chosen.building.estate
        else:
            estate = estates[0]
        if not many or len({e.decoration_hours for e in estates}) == 1 or chosen is not None:
            form.working_hours.data = estate.decoration_hours
        form.quiet_rest_days.data = estate.decoration_quiet_rest_days
    elif form.validate_on_submit():
        permit = _register(form)
        if permit is not None:
            db.session.commit()
            flash(_("Decoration %(number)s registered for %(unit)s.", number=permit.number, unit=permit.unit.label),
                  "info")
            return redirect(url_for("decoration.permit", permit_id=permit.id))
    if form.unit.data and form.unit.data not in {c.value for c in form.unit.choices}:
        # Keep a unit posted from an older page selected, so the form shows what was refused.
        posted = db.session.get(Unit, form.unit.data)
        if posted is not None and base.in_scope(current_user, posted):
            form.unit.choices.append(choices([(posted.id, _unit_label(posted, many))])[0])
    status = 422 if request.method == "POST" else 200
    return render_template("decoration/new.html", form=form), status


def _register(form: RegistrationForm) -> DecorationPermit | None:
    hours = (form.working_hours.data or "").strip()
    entry = permits.Registration(
        unit_id=form.unit.data, owner_name=form.owner_name.data, owner_phone=form.owner_phone.data,
        contractor_name=form.contractor_name.data, contractor_phone=form.contractor_phone.data,
        workers=form.workers.data, worker_names=form.worker_names.data or "", planned_start=form.planned_start.data,
        planned_end=form.planned_end.data, scope=form.scope.data, deposit=Decimal(form.deposit.data),
        working_hours=hours or None, quiet_rest_days=bool(form.quiet_rest_days.data),
    )
    try:
        return permits.register(db.session, current_user, entry)
    except refusals.Refusal as exc:
        db.session.rollback()
        placed = False
        for name, messages in (exc.errors or {}).items():
            field = getattr(form, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, *(str(m) for m in messages)]
                placed = True
        if not placed:
            if isinstance(exc, (refusals.Conflict, refusals.NotFound)):
                form.unit.errors = [*form.unit.errors, str(exc.message)]
            flash(str(exc.message), "error")
        return None


# A registration's page and its actions


@bp.route("/<int:permit_id>")
@roles(*DECORATION_PAGES)
def permit(permit_id: int):
    found = _permit(permit_id)
    return render_template(
        "decoration/permit.html", permit=found, materials=lists.permit_materials(db.session, found),
        now=utcnow(), is_desk=current_user.role in OFFICE, show_contacts=may_read_contacts(current_user),
        earliest_pass=flood_tests.earliest_pass, return_states=base.RETURN_STATES,
        default_return=found.prior_state if found.prior_state in base.RETURN_STATES else UnitState.OCCUPIED,
    )


@bp.route("/<int:permit_id>/stop", methods=["POST"])
@roles(*OFFICE)
def stop(permit_id: int):
    return _act("decoration.permit", lambda: _permit(permit_id),
                lambda p: permits.stop_work(db.session, current_user, p, _form("reason")), _("Work stopped."))


@bp.route("/<int:permit_id>/resume", methods=["POST"])
@roles(*OFFICE)
def resume(permit_id: int):
    return _act("decoration.permit", lambda: _permit(permit_id),
                lambda p: permits.resume_work(db.session, current_user, p, _form("note")), _("Work may go on."))


def _return_state() -> UnitState | None:
    try:
        return UnitState(_form("return_state"))
    except ValueError:
        return None


@bp.route("/<int:permit_id>/accept", methods=["POST"])
@roles(*OFFICE)
def accept(permit_id: int):
    passed = _form("passed") == "yes"
    return _act("decoration.permit", lambda: _permit(permit_id),
                lambda p: permits.accept(db.session, current_user, p, passed=passed, note=_form("note"),
                                         return_state=_return_state() if passed else None),
                _("Final acceptance passed.") if passed else _("Final acceptance not passed: recorded."))


@bp.route("/<int:permit_id>/cancel", methods=["POST"])
@roles(*OFFICE)
def cancel(permit_id: int):
    return _act("decoration.permit", lambda: _permit(permit_id),
                lambda p: permits.cancel(db.session, current_user, p, _form("note")), _("Registration cancelled."))


# Violations (裝修違章)


@bp.route("/violations/<int:violation_id>")
@roles(*DECORATION_PAGES)
def violation(violation_id: int):
    found = _violation(violation_id)
    today = schedule.local_date(found.estate, utcnow())
    return render_template(
        "decoration/violation.html", violation=found, events=lists.violation_events(db.session, found),
        today=today, default_deadline=today + timedelta(days=NOTICE_DAYS),
        may_notice=current_user.role in DECORATION_PAGES, may_call=current_user.role in OFFICE,
        may_resolve=current_user.role is Role.SUPERVISOR,
    )


def _deadline() -> date | None:
    return parse_day(_form("deadline"))


@bp.route("/violations/<int:violation_id>/notice", methods=["POST"])
@roles(*DECORATION_PAGES)
def issue_notice(violation_id: int):
    return _act("decoration.violation", lambda: _violation(violation_id),
                lambda v: violations.issue_notice(db.session, current_user, v, deadline=_deadline(),
                                                  requirements=_form("requirements")),
                _("Rectification notice issued: print it for the owner."))


@bp.route("/violations/<int:violation_id>/call", methods=["POST"])
@roles(*OFFICE)
def call(violation_id: int):
    return _act("decoration.violation", lambda: _violation(violation_id),
                lambda v: violations.log_owner_call(db.session, current_user, v, _form("note")),
                _("Call recorded."))


@bp.route("/violations/<int:violation_id>/resolve", methods=["POST"])
@roles(Role.SUPERVISOR)
def resolve(violation_id: int):
    return _act("decoration.violation", lambda: _violation(violation_id),
                lambda v: violations.resolve_violation(db.session, current_user, v, _form("note")),
                _("Violation settled."))


@bp.route("/violations/<int:violation_id>/notice")
@roles(*DECORATION_PAGES)
def notice(violation_id: int):
    """The printable rectification notice (違章整改通知書), always in Chinese: it is a legal form."""
    found = _violation(violation_id)
    if found.notice_number is None:
        flash(_("No rectification notice was issued for this violation yet."), "error")
        return redirect(url_for("decoration.violation", violation_id=found.id))
    return render_template("decoration/notice.html", violation=found,
                           issued=schedule.local_date(found.estate, found.notice_issued_at),
                           items=[line for line in found.summary.splitlines() if line.strip()])


@bp.route("/rules", methods=["GET", "POST"])
@roles(Role.SUPERVISOR)
def rules():
    """The estate's decoration working hours and rest-day rule: new registrations start from them."""
    estates = whole_estates_of(db.session, current_user)
    estate = chosen_estate(estates)
    error = None
    if request.method == "POST":
        try:
            permits.set_rules(db.session, current_user, estate, working_hours=request.form.get("working_hours", ""),
                              quiet_rest_days=request.form.get("quiet_rest_days") == "1")
        except refusals.Refusal as exc:
            db.session.rollback()
            error = str(exc.message)
        else:
            db.session.commit()
            flash(_("Decoration rules saved. New registrations use them."), "info")
            return redirect(url_for("decoration.rules", estate=estate.id))
    return render_template("decoration/rules.html", estates=estates, estate=estate, error=error,
                           hours=request.form.get("working_hours") if error else estate.decoration_hours), \
        422 if error else 200
