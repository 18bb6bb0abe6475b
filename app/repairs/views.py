from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import review, sync, ticket_export, tickets
from ..access import estates_of, may_read_contacts, roles, whole_estates_of
from ..csv_export import csv_response
from ..extensions import db
from ..labels import GRADE, ROUTE, TICKET_CHANNEL, TICKET_STATUS, URGENCY
from ..models import (
    Building,
    DefectRoute,
    Estate,
    Finding,
    PublicArea,
    RepairTicket,
    Role,
    TicketChannel,
    TicketStatus,
    Unit,
    Urgency,
)
from . import bp
from .forms import IntakeForm, choices

DESK = (Role.DESK, Role.SUPERVISOR)
WORKERS = (Role.DESK, Role.SUPERVISOR, Role.ENGINEERING)
PAGE = 50
EXPORT_MAX_DAYS = review.MAX_RANGE_DAYS  # one bound for every export


def _ticket(ticket_id: int) -> RepairTicket:
    """404 for a ticket outside the user's estates or team: its existence is not theirs to know."""
    ticket = db.session.get(RepairTicket, ticket_id)
    if ticket is None or not tickets.may_see_ticket(current_user, ticket):
        abort(404)
    return ticket


def _now() -> datetime:
    return datetime.now(timezone.utc)


@bp.route("/")
@roles(*WORKERS)
def index():
    """Tickets newest first, filtered; engineering sees only its own team's."""
    status = request.args.get("status", "open")
    query = tickets.visible_tickets(current_user)
    if status == "open":
        query = query.where(RepairTicket.status.not_in([TicketStatus.CLOSED, TicketStatus.CANCELLED]))
    elif status != "all":
        try:
            query = query.where(RepairTicket.status == TicketStatus(status))
        except ValueError:
            abort(400)
    for name, enum_cls, column in (("route", DefectRoute, RepairTicket.route),
                                   ("urgency", Urgency, RepairTicket.urgency)):
        if request.args.get(name):
            try:
                query = query.where(column == enum_cls(request.args[name]))
            except ValueError:
                abort(400)
    number = request.args.get("q", "").strip()
    if number:
        query = query.where(RepairTicket.number.contains(number.upper()))
    before = request.args.get("before", type=int)
    if before:
        query = query.where(RepairTicket.id < before)
    rows = list(db.session.scalars(query.order_by(RepairTicket.id.desc()).limit(PAGE + 1).options(*tickets.PLACE_LOADS)))
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    next_url = url_for("tickets.index", **{**request.args, "before": rows[-1].id}) if more else None
    return render_template("tickets/index.html", tickets=rows, status=status, next_url=next_url, now=_now(),
                           statuses=TICKET_STATUS, routes=ROUTE, urgencies=URGENCY)


@bp.route("/overdue")
@roles(*DESK)
def overdue():
    """What is late (上報): overdue tickets and return visits, and unsatisfied return visits."""
    now = _now()
    late = tickets.overdue_tickets(db.session, current_user, now)
    unhappy = tickets.escalations(db.session, current_user, since=now - timedelta(days=30))
    return render_template("tickets/overdue.html", late=late, unhappy=unhappy, now=now)


@bp.route("/new", methods=["GET", "POST"])
@roles(*DESK)
def new():
    """Register a phone or walk-in report and tell the reporter its number."""
    estates = estates_of(db.session, current_user)
    if not estates:
        abort(404)
    form = IntakeForm()
    form.estate.choices = choices((e.id, e.name) for e in estates)
    chosen = next((e for e in estates if e.id == form.estate.data), estates[0])
    # Only places the user covers: their buildings, and the estate's public places if estate-wide.
    form.building.choices = choices([(0, "—"), *((b.id, b.name) for b in current_user.building_scope(chosen))])
    areas = chosen.public_areas if current_user.covers_estate_wide(chosen) else []
    form.public_area.choices = choices([(0, "—"), *((a.id, a.name) for a in areas)])
    if form.validate_on_submit():
        ticket = _register(form, chosen)
        if ticket is not None:
            db.session.commit()
            flash(_("Ticket %(number)s registered. Tell the reporter this number.", number=ticket.number), "info")
            return redirect(url_for("tickets.detail", ticket_id=ticket.id))
    status = 422 if request.method == "POST" else 200
    return render_template("tickets/new.html", form=form), status


def _register(form: IntakeForm, estate: Estate) -> RepairTicket | None:
    building = db.session.get(Building, form.building.data) if form.building.data else None
    unit = None
    room = (form.room.data or "").strip()
    if room:
        if building is None:
            form.room.errors.append(_("Choose the building of this room."))
            return None
        unit = db.session.scalars(sa.select(Unit).where(Unit.building_id == building.id,
                                                         Unit.room_number == room)).first()
        if unit is None:
            form.room.errors.append(_("There is no room %(room)s in %(building)s.", room=room, building=building.name))
            return None
    area = db.session.get(PublicArea, form.public_area.data) if form.public_area.data else None
    report = tickets.Report(
        channel=TicketChannel(form.channel.data), reporter_name=form.reporter_name.data,
        reporter_phone=form.reporter_phone.data or "", description=form.description.data,
        expectation=form.expectation.data or "", unit=unit, building=building, public_area=area,
        place_text=form.place_text.data or "", route=DefectRoute(form.route.data), urgency=Urgency(form.urgency.data),
    )
    try:
        return tickets.register_report(db.session, current_user, estate, report)
    except tickets.TicketError as exc:
        db.session.rollback()
        form.description.errors.append(str(exc.message))
        return None


@bp.route("/<int:ticket_id>")
@roles(*WORKERS)
def detail(ticket_id: int):
    return _detail(_ticket(ticket_id))


def _detail(ticket: RepairTicket, error: str | None = None, status: int = 200):
    open_elsewhere = []
    if current_user.role in DESK and ticket.is_open:
        open_elsewhere = list(db.session.scalars(
            tickets.visible_tickets(current_user).where(
                RepairTicket.estate_id == ticket.estate_id, RepairTicket.id != ticket.id,
                RepairTicket.status.not_in([TicketStatus.CLOSED, TicketStatus.CANCELLED]))
            .order_by(RepairTicket.id.desc()).limit(30)))
    return render_template(
        "tickets/detail.html", ticket=ticket, error=error, now=_now(), merge_choices=open_elsewhere,
        is_desk=current_user.role in DESK, show_contacts=may_read_contacts(current_user),
        grades=GRADE, routes={r: ROUTE[r] for r in tickets.TICKET_ROUTES}, urgencies=URGENCY,
        channels=TICKET_CHANNEL,
    ), status


def _act(ticket_id: int, action, success: str):  # noqa: ANN001
    """Run one ticket action in one transaction; a refusal re-shows the ticket with the reason."""
    ticket = _ticket(ticket_id)
    try:
        action(ticket)
    except (tickets.TicketError, sync.SyncError) as exc:
        db.session.rollback()
        code = 422 if isinstance(exc, sync.SyncError) else exc.status
        return _detail(db.session.get(RepairTicket, ticket_id), error=str(exc.message), status=code)
    db.session.commit()
    flash(success, "info")
    return redirect(url_for("tickets.detail", ticket_id=ticket_id))


def _form(name: str) -> str:
    return request.form.get(name, "").strip()


@bp.route("/<int:ticket_id>/dispatch", methods=["POST"])
@roles(*DESK)
def dispatch(ticket_id: int):
    return _act(ticket_id, lambda t: tickets.dispatch(t, current_user, to=_form("to"), note=_form("note")),
                _("Dispatched."))


@bp.route("/<int:ticket_id>/start", methods=["POST"])
@roles(*WORKERS)
def start(ticket_id: int):
    return _act(ticket_id, lambda t: tickets.start(t, current_user), _("Marked as being repaired."))


@bp.route("/<int:ticket_id>/repair", methods=["POST"])
@roles(*WORKERS)
def repair(ticket_id: int):
    def work(ticket: RepairTicket) -> None:
        tickets.repair(ticket, current_user, work_done=_form("work_done"), parts=_form("parts"),
                       chargeable=request.form.get("chargeable") == "1", amount=_amount())
        upload = request.files.get("photo")
        if upload and upload.filename:
            sync.store_after_photo(db.session, current_user, ticket, upload.read(),
                                   max_bytes=current_app.config["PHOTO_MAX_BYTES"],
                                   max_pixels=current_app.config["PHOTO_MAX_PIXELS"])

    return _act(ticket_id, work, _("Marked as repaired."))


def _amount() -> str | None:
    raw = _form("amount")
    if not raw:
        return None
    try:
        value = round(float(raw), 2)
    except ValueError:
        raise tickets.TicketError(_("The amount is a number, e.g. 120 or 35.50.")) from None
    if not 0 < value < 1_000_000:
        raise tickets.TicketError(_("The amount is a number, e.g. 120 or 35.50."))
    return f"{value:.2f}"


@bp.route("/<int:ticket_id>/verify", methods=["POST"])
@roles(*DESK)
def verify(ticket_id: int):
    passed = request.form.get("passed") == "1"

    def work(ticket: RepairTicket) -> None:
        if not passed and not _form("note"):
            raise tickets.TicketError(_("Say what is still wrong."))
        tickets.verify(ticket, current_user, passed=passed, note=_form("note"))

    return _act(ticket_id, work, _("Checked on site: closed.") if passed else _("Checked on site: sent back."))


@bp.route("/<int:ticket_id>/return-visit", methods=["POST"])
@roles(*DESK)
def return_visit(ticket_id: int):
    return _act(ticket_id, lambda t: tickets.return_visit(t, current_user, grade=_form("grade"),
                                                          comment=_form("comment")),
                _("Return visit recorded."))


@bp.route("/<int:ticket_id>/cancel", methods=["POST"])
@roles(*DESK)
def cancel(ticket_id: int):
    return _act(ticket_id, lambda t: tickets.cancel(t, current_user, reason=_form("reason")), _("Cancelled."))


def _enum(enum_cls, name: str):  # noqa: ANN001, ANN202
    try:
        return enum_cls(_form(name))
    except ValueError:
        raise tickets.TicketError(_("Choose one of the listed values.")) from None


@bp.route("/<int:ticket_id>/urgency", methods=["POST"])
@roles(*DESK)
def urgency(ticket_id: int):
    return _act(ticket_id, lambda t: tickets.change_urgency(db.session, t, current_user, _enum(Urgency, "urgency")),
                _("Urgency changed; the target times follow."))


@bp.route("/<int:ticket_id>/route", methods=["POST"])
@roles(*DESK)
def route(ticket_id: int):
    return _act(ticket_id, lambda t: tickets.change_route(t, current_user, _enum(DefectRoute, "route")),
                _("Route corrected."))


@bp.route("/<int:ticket_id>/merge", methods=["POST"])
@roles(*DESK)
def merge(ticket_id: int):
    def work(ticket: RepairTicket) -> None:
        number = _form("into").upper()
        target = db.session.scalars(sa.select(RepairTicket).where(RepairTicket.number == number)).first()
        if target is None or not tickets.may_see_ticket(current_user, target):
            raise tickets.TicketError(_("There is no ticket %(number)s.", number=number or "—"))
        tickets.merge(db.session, ticket, target, current_user)

    return _act(ticket_id, work, _("Merged."))


@bp.route("/<int:ticket_id>/split", methods=["POST"])
@roles(*DESK)
def split(ticket_id: int):
    created = []

    def work(ticket: RepairTicket) -> None:
        finding = db.session.scalars(sa.select(Finding).where(Finding.uuid == _form("finding"),
                                                               Finding.ticket_id == ticket.id)).first()
        if finding is None:
            raise tickets.TicketError(_("This defect is not on this ticket."))
        created.append(tickets.split(db.session, finding, current_user))

    answer = _act(ticket_id, work, _("Split out into a ticket of its own."))
    return redirect(url_for("tickets.detail", ticket_id=created[0].id)) if created else answer


@bp.route("/<int:ticket_id>/print")
@roles(*WORKERS)
def print_ticket(ticket_id: int):
    size = request.args.get("size", "a5")
    if size not in ("a5", "a4"):
        abort(400)
    return render_template("tickets/print.html", ticket=_ticket(ticket_id), size=size,
                           show_contacts=may_read_contacts(current_user), grades=GRADE)


def _day(name: str) -> date | None:
    raw = request.args.get(name, "")
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@bp.route("/export.csv")
@roles(*DESK)
def export():
    """Tickets opened in a date range (at most a year), for Excel: UTF-8 with a BOM."""
    first, last = _day("from"), _day("to")
    if first is None or last is None or last < first or (last - first).days >= EXPORT_MAX_DAYS:
        flash(_("Choose a date range of at most %(days)d days to export.", days=EXPORT_MAX_DAYS), "error")
        return render_template("tickets/export.html", first=request.args.get("from", ""),
                               last=request.args.get("to", "")), 400 if request.args else 200
    rows = ticket_export.rows(db.session, current_user, first, last, estate_id=request.args.get("estate", type=int),
                              show_contacts=may_read_contacts(current_user))
    return csv_response(f"tickets-{first}-{last}.csv", ticket_export.header(), rows)


@bp.route("/clocks", methods=["GET", "POST"])
@roles(Role.SUPERVISOR)
def clocks():
    """The estate's target times per urgency (defaults from the manual), changed by the supervisor."""
    estates = whole_estates_of(db.session, current_user)
    estate = next((e for e in estates if e.id == request.values.get("estate", type=int)), estates[0] if estates else None)
    if estate is None:
        abort(404)
    error = None
    if request.method == "POST":
        try:
            new = {u: tickets.Clock(_minutes(f"{u.value}_on_site", hours=False), _minutes(f"{u.value}_done"))
                   for u in Urgency}
            tickets.set_clocks(db.session, estate, current_user, new, _whole(request.form.get("return_visit_hours")))
        except tickets.TicketError as exc:
            db.session.rollback()
            error = str(exc.message)
        else:
            db.session.commit()
            flash(_("Target times saved. New tickets use them."), "info")
            return redirect(url_for("tickets.clocks", estate=estate.id))
    current = {u: tickets.clock_for(db.session, estate.id, u) for u in Urgency}
    return render_template("tickets/clocks.html", estates=estates, estate=estate, current=current, error=error,
                           form=request.form if error else None), 422 if error else 200


def _whole(raw: str | None) -> int:
    try:
        return int((raw or "").strip())
    except ValueError:
        raise tickets.TicketError(_("Enter whole numbers.")) from None


def _minutes(name: str, hours: bool = True) -> int | None:
    """Done times are entered in hours, on-site times in minutes (empty: no on-site target)."""
    raw = request.form.get(name, "").strip()
    if not raw and not hours:
        return None
    value = _whole(raw)
    return value * 60 if hours else value
