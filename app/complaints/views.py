"""The complaint pages: the desk registers, answers and closes; the steward investigates on site;
the supervisor sees the late ones and sets the target times."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

import sqlalchemy as sa

from .. import refusals
from ..access import OFFICE, estates_of, may_read_contacts, roles, whole_estates_of
from ..extensions import db
from ..guard import record_id
from ..labels import TICKET_CHANNEL
from ..models import (
    Building,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    Estate,
    Finding,
    PublicArea,
    ReturnVisit,
    Role,
)
from ..models.base import utcnow
from ..repairs import queries as ticket_queries
from ..repairs.forms import choices
from ..repairs.tickets import TicketError
from ..web import chosen_estate
from . import investigations, operations, queries
from . import violations as resident_violations
from . import summary as summary_ops
from . import visits as visits_ops
from .forms import ComplaintForm
from .labels import CATEGORY, CHANNEL, EVENT, STATUS

bp = Blueprint("complaints", __name__, url_prefix="/complaints")
READERS = (*OFFICE, Role.STEWARD)


@bp.record_once
def _labels(state) -> None:  # noqa: ANN001 - globals, so that imported macros see them too
    state.app.jinja_env.globals.update(COMPLAINT_CATEGORY=CATEGORY, COMPLAINT_CHANNEL=CHANNEL,
                                       COMPLAINT_STATUS=STATUS, COMPLAINT_EVENT=EVENT,
                                       RESIDENT_VIOLATION_KIND=resident_violations.KIND,
                                       RESIDENT_VIOLATION_PROBLEM=resident_violations.PROBLEM)


def _complaint(complaint_id: int) -> Complaint:
    """404 for a complaint outside the user's places: its existence is not theirs to know."""
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None or not operations.may_see(current_user, complaint):
        abort(404)
    return complaint


@bp.route("/")
@roles(*OFFICE)
def index():
    status = request.args.get("status", "open")
    if status not in ("open", "closed", "all"):
        status = "open"
    rows, next_before = queries.complaint_list(db.session, current_user, status, request.args.get("before", type=record_id))
    next_url = url_for("complaints.index", status=status, before=next_before) if next_before else None
    return render_template("complaints/index.html", complaints=rows, status=status, next_url=next_url, now=utcnow())


@bp.route("/late")
@roles(*OFFICE)
def late():
    """Open complaints past their category's target time (上報)."""
    now = utcnow()
    return render_template("complaints/late.html", complaints=queries.late_complaints(db.session, current_user, now),
                           unhappy=visits_ops.graded_c(db.session, current_user, since=now - timedelta(days=30)),
                           now=now)


@bp.route("/new", methods=["GET", "POST"])
@roles(*OFFICE)
def new():
    """Register a complaint at once and tell the owner its number."""
    estates = estates_of(db.session, current_user)
    if not estates:
        abort(404)
    form = ComplaintForm()
    form.estate.choices = choices((e.id, e.name) for e in estates)
    chosen = next((e for e in estates if e.id == form.estate.data), estates[0])
    form.building.choices = choices([(0, "—"), *((b.id, b.name) for b in current_user.building_scope(chosen))])
    areas = chosen.public_areas if current_user.covers_estate_wide(chosen) else []
    form.public_area.choices = choices([(0, "—"), *((a.id, a.name) for a in areas)])
    if form.validate_on_submit():
        complaint = _register(form, chosen)
        if complaint is not None:
            db.session.commit()
            flash(_("Complaint %(number)s registered. Tell the owner this number.", number=complaint.number), "info")
            return redirect(url_for("complaints.detail", complaint_id=complaint.id))
    return render_template("complaints/new.html", form=form), 422 if request.method == "POST" else 200


def _register(form: ComplaintForm, estate: Estate) -> Complaint | None:
    building = db.session.get(Building, form.building.data) if form.building.data else None
    try:
        reg = operations.Registration(
            channel=ComplaintChannel(form.channel.data), category=ComplaintCategory(form.category.data),
            complainant_name=form.complainant_name.data or "", complainant_phone=form.complainant_phone.data or "",
            description=form.description.data or "", expectation=form.expectation.data or "",
            building=building, unit=ticket_queries.unit_by_room(db.session, building, form.room.data),
            public_area=db.session.get(PublicArea, form.public_area.data) if form.public_area.data else None,
            place_text=form.place_text.data or "")
        return operations.register(db.session, current_user, estate, reg)
    except (operations.ComplaintError, TicketError) as exc:
        db.session.rollback()
        (form.room if "room" in exc.errors else form.description).errors.append(str(exc.message))
        return None


@bp.route("/<int:complaint_id>")
@roles(*READERS)
def detail(complaint_id: int):
    return _detail(_complaint(complaint_id))


def _detail(complaint: Complaint, error: str | None = None, status: int = 200):
    return render_template(
        "complaints/detail.html", complaint=complaint, error=error, now=utcnow(),
        same=queries.same_place(db.session, complaint), photos=operations.complaint_photos(db.session, complaint),
        is_office=current_user.role in OFFICE, show_contacts=may_read_contacts(current_user),
        may_investigate=operations.may_investigate(current_user, complaint),
    ), status


def _act(complaint_id: int, action, success: str):  # noqa: ANN001
    complaint = _complaint(complaint_id)
    try:
        action(complaint)
    except refusals.Refusal as exc:
        db.session.rollback()
        code = exc.status if isinstance(exc, operations.ComplaintError) else 422
        return _detail(db.session.get(Complaint, complaint_id), error=str(exc.message), status=code)
    db.session.commit()
    flash(success, "info")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


def _form(name: str) -> str:
    return request.form.get(name, "").strip()


@bp.route("/<int:complaint_id>/reply", methods=["POST"])
@roles(*OFFICE)
def reply(complaint_id: int):
    return _act(complaint_id, lambda c: operations.reply(c, current_user, text=_form("text")),
                _("The answer to the owner is recorded."))


@bp.route("/<int:complaint_id>/close", methods=["POST"])
@roles(*OFFICE)
def close(complaint_id: int):
    return _act(complaint_id, lambda c: operations.close(c, current_user, cause=_form("cause")),
                _("Complaint closed."))


@bp.route("/<int:complaint_id>/investigate", methods=["GET", "POST"])
@roles(Role.STEWARD)
def investigate(complaint_id: int):
    """The steward's investigation on site: what was found, with up to three photos."""
    complaint = _complaint(complaint_id)
    if not operations.may_investigate(current_user, complaint):
        abort(404)
    error = None
    if request.method == "POST":
        uploads = [f.read() for f in request.files.getlist("photos") if f and f.filename]
        try:
            investigations.investigate(db.session, complaint, current_user, note=_form("note"), photos=uploads,
                                   max_bytes=current_app.config["PHOTO_MAX_BYTES"],
                                   max_pixels=current_app.config["PHOTO_MAX_PIXELS"])
        except refusals.Refusal as exc:
            db.session.rollback()
            error = str(exc.message)
            complaint = _complaint(complaint_id)
        else:
            db.session.commit()
            flash(_("Investigation recorded. The desk answers the owner."), "info")
            return redirect(url_for("rounds.today"))
    return render_template("complaints/investigate.html", complaint=complaint, error=error,
                           note=request.form.get("note", "")), 422 if error else 200


@bp.route("/targets", methods=["GET", "POST"])
@roles(Role.SUPERVISOR)
def targets():
    """The estate's target times per category, changed by the supervisor."""
    estates = whole_estates_of(db.session, current_user)
    estate = chosen_estate(estates)
    error = None
    if request.method == "POST":
        try:
            hours = {c: _hours(request.form.get(c.value)) for c in ComplaintCategory}
            operations.set_targets(db.session, estate, current_user, hours)
        except operations.ComplaintError as exc:
            db.session.rollback()
            error = str(exc.message)
        else:
            db.session.commit()
            flash(_("Target times saved. New complaints use them."), "info")
            return redirect(url_for("complaints.targets", estate=estate.id))
    current = {c: operations.target_hours(db.session, estate.id, c) for c in ComplaintCategory}
    return render_template("complaints/targets.html", estates=estates, estate=estate, current=current, error=error,
                           form=request.form if error else None), 422 if error else 200


def _hours(raw: str | None) -> int:
    text = (raw or "").strip()
    if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 6):  # beyond the database's integer: 500
        raise operations.ComplaintError(_("Enter whole numbers."))
    return int(text)


# Return visits (回訪) as a plan.


@bp.route("/visits")
@roles(*OFFICE)
def visits():
    """The desk's return visits due: planned visits of complaints and drawn repairs, and the unit
    repairs waiting for their own return visit."""
    due = visits_ops.visits_due(db.session, current_user)
    return render_template("complaints/visits.html", due=due, now=utcnow(),
                           show_contacts=may_read_contacts(current_user),
                           estates=whole_estates_of(db.session, current_user))


@bp.route("/visits/draw", methods=["POST"])
@roles(*OFFICE)
def draw_visits():
    """Draw the unit repairs closed since the last draw, by each estate's share."""
    drawn = 0
    for estate in whole_estates_of(db.session, current_user):
        drawn += len(visits_ops.draw_repairs(db.session, estate))
    db.session.commit()
    flash(_("%(num)d repairs drawn for a return visit.", num=drawn), "info")
    return redirect(url_for("complaints.visits"))


@bp.route("/visits/<int:visit_id>", methods=["POST"])
@roles(*OFFICE)
def record_visit(visit_id: int):
    visit = db.session.get(ReturnVisit, visit_id)
    if visit is None or not visits_ops.may_record(current_user, visit):
        abort(404)
    try:
        visits_ops.record(db.session, visit, current_user, grade=_form("grade"), words=_form("words"))
    except refusals.Refusal as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("complaints.visits")), 303
    db.session.commit()
    flash(_("Return visit recorded."), "info")
    return redirect(url_for("complaints.visits"))


@bp.route("/visits/plan", methods=["GET", "POST"])
@roles(Role.SUPERVISOR)
def visit_plan():
    """The estate's return-visit plan: days after a complaint closes, share of unit repairs."""
    estates = whole_estates_of(db.session, current_user)
    estate = chosen_estate(estates)
    error = None
    if request.method == "POST":
        try:
            visits_ops.set_plan(db.session, estate, current_user, complaint_days=_hours(request.form.get("days")),
                                repair_share=_hours(request.form.get("share")))
        except operations.ComplaintError as exc:
            db.session.rollback()
            error = str(exc.message)
        else:
            db.session.commit()
            flash(_("Return-visit plan saved."), "info")
            return redirect(url_for("complaints.visit_plan", estate=estate.id))
    plan = operations.visit_plan(db.session, estate.id)
    return render_template("complaints/plan.html", estates=estates, estate=estate, plan=plan, error=error,
                           form=request.form if error else None), 422 if error else 200


SUMMARY_DAYS = (7, 30, 90, 365)


@bp.route("/summary")
@roles(*OFFICE)
def summary():
    """Complaints by category and place, return-visit coverage and grades, owner reports by channel."""
    estates = whole_estates_of(db.session, current_user)
    estate = chosen_estate(estates)
    days = request.args.get("days", 30, type=int)
    if days not in SUMMARY_DAYS:
        days = 30
    now = utcnow()
    figures = summary_ops.summarise(db.session, estate, now - timedelta(days=days), now, now)
    return render_template("complaints/summary.html", estates=estates, estate=estate, days=days,
                           all_days=SUMMARY_DAYS, s=figures,
                           ticket_channels={c.value: label for c, label in TICKET_CHANNEL.items()},
                           complaint_channels={c.value: label for c, label in CHANNEL.items()},
                           violation_kinds={"decoration": _("Decoration violation"), **VIOLATION_KIND})


# Resident violations beyond decoration (住戶違章): traced here or from a round (violations.py), handled
# by decoration's own steps.

VIOLATION_KIND = resident_violations.KIND


@bp.route("/violations/new", methods=["GET", "POST"])
@roles(*READERS)
def new_violation():
    """A resident violation traced to a unit: from a round's finding (?finding=UUID) or a report.
    It then follows the same notice → call → re-check → escalate steps as a decoration breach."""
    finding = None
    if request.values.get("finding"):
        finding = db.session.scalars(sa.select(Finding).where(Finding.uuid == request.values["finding"])).first()
        if finding is None or not current_user.covers_place(finding.round.estate_id, finding.round.building):
            abort(404)
    buildings = [b for e in estates_of(db.session, current_user) for b in current_user.building_scope(e)]
    if not buildings:
        abort(404)
    error = None
    if request.method == "POST":
        building = next((b for b in buildings if b.id == request.form.get("building", type=int)), None)
        try:
            violation = resident_violations.trace_violation(
                db.session, current_user, building=building, room=_form("room"), kind=_form("kind"),
                summary=_form("summary"), finding=finding)
        except refusals.Refusal as exc:
            db.session.rollback()
            error = str(exc.message)
        else:
            db.session.commit()
            flash(_("Violation recorded. Issue the notice with its deadline."), "info")
            return redirect(url_for("decoration.violation", violation_id=violation.id))
    return render_template("complaints/violation_new.html", finding=finding, buildings=buildings, kinds=VIOLATION_KIND,
                           error=error, form=request.form), 422 if error else 200


@bp.cli.command("draw-visits")
def draw_visits_command() -> None:
    """Draw every estate's closed unit repairs for return visits (run daily, e.g. from cron)."""
    import click  # noqa: PLC0415

    drawn = 0
    for estate in db.session.scalars(sa.select(Estate).where(Estate.retired_at.is_(None))):
        drawn += len(visits_ops.draw_repairs(db.session, estate))
    db.session.commit()
    click.echo(f"{drawn} repairs drawn for a return visit")
