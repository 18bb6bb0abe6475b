from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import refusals
from ..access import (
    OFFICE,
    TICKET_WORKERS,
    estates_of,
    may_read_contacts,
    roles,
    whole_estates_of,
)
from ..extensions import db
from ..labels import GRADE, ROUTE, TICKET_CHANNEL, TICKET_STATUS, URGENCY
from ..models import (
    Building,
    DefectRoute,
    Estate,
    PublicArea,
    RepairTicket,
    Role,
    TicketChannel,
    Urgency,
)
from ..models.base import utcnow
from ..guard import record_id
from ..web import MAX_RANGE_DAYS, chosen_estate, csv_response, parse_day
from . import export as ticket_csv
from . import queries, tickets
from .forms import IntakeForm, choices

bp = Blueprint("tickets", __name__, url_prefix="/tickets")


EXPORT_MAX_DAYS = MAX_RANGE_DAYS  # one bound for every export


def _ticket(ticket_id: int) -> RepairTicket:
    """404 for a ticket outside the user's estates or team: its existence is not theirs to know."""
    ticket = db.session.get(RepairTicket, ticket_id)
    if ticket is None or not tickets.may_see_ticket(current_user, ticket):
        abort(404)
    return ticket


@bp.route("/")
@roles(*TICKET_WORKERS)
def index():
    """Tickets newest first, filtered; engineering sees only its own team's."""
    flt = queries.TicketFilter.from_args(request.args)
    page = queries.ticket_page(db.session, current_user, flt)
    next_url = url_for("tickets.index", **{**request.args, "before": page.next_before}) if page.next_before else None
    return render_template("tickets/index.html", tickets=page.tickets, status=flt.status, next_url=next_url,
                           now=utcnow(), statuses=TICKET_STATUS, routes=ROUTE, urgencies=URGENCY)


@bp.route("/overdue")
@roles(*OFFICE)
def overdue():
    """What is late (上報): overdue tickets and return visits, and unsatisfied return visits."""
    now = utcnow()
    late = tickets.overdue_tickets(db.session, current_user, now)
    unhappy = tickets.escalations(db.session, current_user, since=now - timedelta(days=30))
    return render_template("tickets/overdue.html", late=late, unhappy=unhappy, now=now)


@bp.route("/new", methods=["GET", "POST"])
@roles(*OFFICE)
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
    try:
        report = tickets.Report(
            channel=TicketChannel(form.channel.data), reporter_name=form.reporter_name.data,
            reporter_phone=form.reporter_phone.data or "", description=form.description.data,
            expectation=form.expectation.data or "", building=building,
            unit=queries.unit_by_room(db.session, building, form.room.data),
            public_area=db.session.get(PublicArea, form.public_area.data) if form.public_area.data else None,
            place_text=form.place_text.data or "", route=DefectRoute(form.route.data),
            urgency=Urgency(form.urgency.data),
        )
        return tickets.register_report(db.session, current_user, estate, report)
    except tickets.TicketError as exc:
        db.session.rollback()
        (form.room if "room" in exc.errors else form.description).errors.append(str(exc.message))
        return None


@bp.route("/<int:ticket_id>")
@roles(*TICKET_WORKERS)
def detail(ticket_id: int):
    return _detail(_ticket(ticket_id))


def _detail(ticket: RepairTicket, error: str | None = None, status: int = 200):
    is_office = current_user.role in OFFICE
    open_elsewhere = queries.merge_choices(db.session, current_user, ticket) if is_office else []
    teams = tickets.teams_of(db.session, ticket.estate_id) if is_office else []
    return render_template(
        "tickets/detail.html", ticket=ticket, error=error, now=utcnow(), merge_choices=open_elsewhere,
        teams=teams, usual_team=ticket.team or tickets.team_for_route(teams, ticket.route),
        is_desk=is_office, show_contacts=may_read_contacts(current_user),
        grades=GRADE, routes={r: ROUTE[r] for r in tickets.TICKET_ROUTES}, urgencies=URGENCY,
        channels=TICKET_CHANNEL, reported_photos=tickets.photos_reported(db.session, ticket),
    ), status


def _act(ticket_id: int, action, success: str):  # noqa: ANN001
    """Run one ticket action in one transaction; a refusal re-shows the ticket with the reason."""
    ticket = _ticket(ticket_id)
    try:
        action(ticket)
    except refusals.Refusal as exc:
        db.session.rollback()
        # A ticket's own refusal keeps its status (409); a photo's or a step's is a form error (422).
        code = exc.status if isinstance(exc, tickets.TicketError) else 422
        return _detail(db.session.get(RepairTicket, ticket_id), error=str(exc.message), status=code)
    db.session.commit()
    flash(success, "info")
    return redirect(url_for("tickets.detail", ticket_id=ticket_id))


def _form(name: str) -> str:
    return request.form.get(name, "").strip()


@bp.route("/<int:ticket_id>/dispatch", methods=["POST"])
@roles(*OFFICE)
def dispatch(ticket_id: int):
    def work(ticket: RepairTicket) -> None:
        teams = tickets.teams_of(db.session, ticket.estate_id)
        if not teams:  # an estate without teams yet: who it went to, in words
            tickets.dispatch(ticket, current_user, to=_form("to"), note=_form("note"))
            return
        raw = _form("team")
        team = next((t for t in teams if raw.isdigit() and t.id == int(raw)), None)
        if team is None:
            raise tickets.TicketError(_("Choose the team the ticket goes to."))
        tickets.dispatch(ticket, current_user, team=team, to=_form("who"), note=_form("note"))

    return _act(ticket_id, work, _("Dispatched."))


@bp.route("/<int:ticket_id>/start", methods=["POST"])
@roles(*TICKET_WORKERS)
def start(ticket_id: int):
    return _act(ticket_id, lambda t: tickets.start(t, current_user), _("Marked as being repaired."))


@bp.route("/<int:ticket_id>/repair", methods=["POST"])
@roles(*TICKET_WORKERS)
def repair(ticket_id: int):
    def work(ticket: RepairTicket) -> None:
        tickets.repair(ticket, current_user, work_done=_form("work_done"), parts=_form("parts"),
                       chargeable=request.form.get("chargeable") == "1", amount=_amount())
        upload = request.files.get("photo")
        if upload and upload.filename:
            tickets.store_after_photo(db.session, current_user, ticket, upload.read(),
                                      max_bytes=current_app.config["PHOTO_MAX_BYTES"],
                                      max_pixels=current_app.config["PHOTO_MAX_PIXELS"])

    return _act(ticket_id, work, _("Marked as repaired."))


def _amount() -> str | None:
    return tickets.parse_amount(_form("amount"))


@bp.route("/<int:ticket_id>/verify", methods=["POST"])
@roles(*OFFICE)
def verify(ticket_id: int):
    passed = request.form.get("passed") == "1"

    return _act(ticket_id, lambda t: tickets.verify(t, current_user, passed=passed, note=_form("note")),
                _("Checked on site: closed.") if passed else _("Checked on site: sent back."))


@bp.route("/<int:ticket_id>/return-visit", methods=["POST"])
@roles(*OFFICE)
def return_visit(ticket_id: int):
    return _act(ticket_id, lambda t: tickets.return_visit(t, current_user, grade=_form("grade"),
                                                          comment=_form("comment")),
                _("Return visit recorded."))


@bp.route("/<int:ticket_id>/cancel", methods=["POST"])
@roles(*OFFICE)
def cancel(ticket_id: int):
    return _act(ticket_id, lambda t: tickets.cancel(t, current_user, reason=_form("reason")), _("Cancelled."))


def _enum(enum_cls, name: str):  # noqa: ANN001, ANN202
    try:
        return enum_cls(_form(name))
    except ValueError:
        raise tickets.TicketError(_("Choose one of the listed values.")) from None


@bp.route("/<int:ticket_id>/urgency", methods=["POST"])
@roles(*OFFICE)
def urgency(ticket_id: int):
    return _act(ticket_id, lambda t: tickets.change_urgency(db.session, t, current_user, _enum(Urgency, "urgency")),
                _("Urgency changed; the target times follow."))


@bp.route("/<int:ticket_id>/route", methods=["POST"])
@roles(*OFFICE)
def route(ticket_id: int):
    return _act(ticket_id, lambda t: tickets.change_route(t, current_user, _enum(DefectRoute, "route")),
                _("Route corrected."))


@bp.route("/<int:ticket_id>/merge", methods=["POST"])
@roles(*OFFICE)
def merge(ticket_id: int):
    def work(ticket: RepairTicket) -> None:
        tickets.merge(db.session, ticket, queries.ticket_by_number(db.session, current_user, _form("into")),
                      current_user)

    return _act(ticket_id, work, _("Merged."))


@bp.route("/<int:ticket_id>/split", methods=["POST"])
@roles(*OFFICE)
def split(ticket_id: int):
    created = []

    def work(ticket: RepairTicket) -> None:
        finding = queries.finding_on_ticket(db.session, ticket, _form("finding"))
        created.append(tickets.split(db.session, finding, current_user))

    answer = _act(ticket_id, work, _("Split out into a ticket of its own."))
    return redirect(url_for("tickets.detail", ticket_id=created[0].id)) if created else answer


@bp.route("/<int:ticket_id>/print")
@roles(*TICKET_WORKERS)
def print_ticket(ticket_id: int):
    size = request.args.get("size", "a5")
    if size not in ("a5", "a4"):
        abort(400)
    return render_template("tickets/print.html", ticket=_ticket(ticket_id), size=size,
                           show_contacts=may_read_contacts(current_user), grades=GRADE)


def _day(name: str) -> date | None:
    return parse_day(request.args.get(name))


@bp.route("/export.csv")
@roles(*OFFICE)
def export():
    """Tickets opened in a date range (at most a year), for Excel: UTF-8 with a BOM."""
    first, last = _day("from"), _day("to")
    errors = _export_errors(first, last) if request.args else {}
    if not request.args or errors:  # the form: empty at first, then with what was typed and what is wrong
        return render_template("tickets/export.html", first=request.args.get("from", ""),
                               last=request.args.get("to", ""), errors=errors,
                               max_days=EXPORT_MAX_DAYS), 400 if errors else 200
    rows = ticket_csv.rows(db.session, current_user, first, last, estate_id=request.args.get("estate", type=record_id),
                           show_contacts=may_read_contacts(current_user))
    return csv_response(f"tickets-{first}-{last}.csv", ticket_csv.header(), rows)


def _export_errors(first: date | None, last: date | None) -> dict[str, str]:
    """What is wrong with the dates typed, per field (empty when the range can be exported)."""
    errors = {}
    for name, day in (("from", first), ("to", last)):
        raw = request.args.get(name, "").strip()
        if day is None:
            errors[name] = (_("Not a date: use YYYY-MM-DD.") if raw else
                            _("Choose the first day.") if name == "from" else _("Choose the last day."))
    if not errors:
        if last < first:
            errors["to"] = _("The last day is before the first.")
        elif (last - first).days >= EXPORT_MAX_DAYS:
            errors["to"] = _("More than %(days)d days: choose a shorter range.", days=EXPORT_MAX_DAYS)
    return errors


@bp.route("/clocks", methods=["GET", "POST"])
@roles(Role.SUPERVISOR)
def clocks():
    """The estate's target times per urgency (defaults from the manual), changed by the supervisor."""
    estates = whole_estates_of(db.session, current_user)
    estate = chosen_estate(estates)
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


@bp.app_template_global("ticket_is_overdue")
def _ticket_is_overdue(ticket, now):  # noqa: ANN001, ANN202 - the one rule, tickets.is_overdue
    return tickets.is_overdue(ticket, now)
