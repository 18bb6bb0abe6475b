"""Repair tickets: a defect opens one (or is seen again on an open one), and the lifecycle
register → dispatch → in progress → repaired → checked on site / return visit → closed,
with every step in the ticket's event log and target times per urgency (manual 一, 二, 七)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from ..labels import TICKET_STATUS
from ..models import (
    Building,
    DefectRoute,
    Estate,
    Finding,
    FindingResult,
    Photo,
    PublicArea,
    RepairTicket,
    Role,
    Round,
    TicketChannel,
    TicketClock,
    TicketCounter,
    TicketEvent,
    Team,
    TeamKind,
    TicketStatus,
    Unit,
    Urgency,
    User,
)
from ..photos import uploads
from ..photos.uploads import photo_visible
from ..refusals import Conflict
from ..rounds import schedule
from ..rounds.intake import round_completed
from . import alerts
from .visibility import (  # noqa: F401  (re-exported: callers ask tickets who sees which ticket)
    PLACE_LOADS,
    engineering_queue,
    escalations,
    may_see_ticket,
    overdue_tickets,
    visible_tickets,
)

_signals = Namespace()

#: `report_photos.send(session, ticket=…)`: a higher domain that takes reports with photos (the owners'
#: QR code pages) answers the photos sent with the reports of this ticket, or [].
report_photos = _signals.signal("ticket-report-photos")


def photos_reported(session: Session, ticket: RepairTicket) -> list[Photo]:
    """The photos sent with reports of the ticket (an owner's), shown beside the defect's."""
    return [p for _, photos in report_photos.send(session, ticket=ticket) for p in (photos or [])]


# Routes that become repair tickets; decoration breaches follow the violation flow instead.
TICKET_ROUTES = {DefectRoute.ENGINEERING, DefectRoute.CLEANING, DefectRoute.OUTSIDE_PARTY}


@dataclass(frozen=True)
class Clock:
    on_site_minutes: int | None
    done_minutes: int


# The training manual's time standards (維修時限): urgent on site in 30 min and done in 24 h; normal done in 24 h;
# planned in 7 days.
DEFAULT_CLOCKS = {
    Urgency.URGENT: Clock(30, 24 * 60),
    Urgency.NORMAL: Clock(None, 24 * 60),
    Urgency.PLANNED: Clock(None, 7 * 24 * 60),
}


class TicketError(Conflict):
    """A refused ticket action (a move its status does not allow, a value out of bounds)."""


def clock_for(session: Session, estate_id: int, urgency: Urgency) -> Clock:
    row = session.get(TicketClock, (estate_id, urgency))
    return Clock(row.on_site_minutes, row.done_minutes) if row else DEFAULT_CLOCKS[urgency]


def next_number(session: Session, estate: Estate, now: datetime) -> str:
    """WX-YYYYMMDD-NNNN, numbered per local day; safe with concurrent writers (row lock / IMMEDIATE)."""
    day = schedule.local_date(estate, now)
    counter = session.scalars(sa.select(TicketCounter).where(TicketCounter.day == day).with_for_update()).first()
    if counter is None:
        try:
            with session.begin_nested():
                counter = TicketCounter(day=day, last=0)
                session.add(counter)
        except IntegrityError:  # another request made today's counter first
            counter = session.scalars(sa.select(TicketCounter).where(TicketCounter.day == day).with_for_update()).one()
    counter.last += 1
    return f"WX-{day:%Y%m%d}-{counter.last:04d}"


def _log(ticket: RepairTicket, kind: str, by: User | None, before: TicketStatus | None, note: str = "",
         **data) -> None:
    # Set from the event's side: the backref queues it without loading the ticket's past events
    # (a defect seen again on every round must not cost more as its ticket's history grows).
    event = TicketEvent(kind=kind, by_id=by.id if by else None, from_status=before, to_status=ticket.status,
                        note=note, data=data)
    event.ticket = ticket
    session = object_session(ticket)
    if session is not None:
        session.add(event)


PLACE_COLUMNS = ("entrance_id", "floor", "public_area_id", "asset_id", "unit_id", "meter_id")  # Finding.place


def _same_place(query, finding: Finding, building_id: int | None):  # noqa: ANN001
    # The building too: a building without stairwells has checkpoints by floor alone.
    query = query.where(RepairTicket.building_id.is_(None) if building_id is None
                        else RepairTicket.building_id == building_id)
    for column, value in zip(PLACE_COLUMNS, finding.place, strict=True):
        attr = getattr(RepairTicket, column)
        query = query.where(attr.is_(None) if value is None else attr == value)
    return query


def ticket_for_defect(session: Session, finding: Finding, now: datetime | None = None) -> RepairTicket | None:
    """Open a ticket for a defect, or attach it to the open ticket of the same place and item."""
    now = now or datetime.now(timezone.utc)
    if finding.result is not FindingResult.DEFECT:
        return None
    item = finding.item
    if item.route not in TICKET_ROUTES:
        return None
    if finding.resident_violation:  # marked on site as a resident violation: the owner's to put right
        return None
    rnd = finding.round
    # Two completions with a defect at one place at the same moment must not both open a ticket,
    # nor lose a recurrence: they queue on the estate's row (PostgreSQL; FOR NO KEY UPDATE does not
    # block inserts that refer to the estate). SQLite's BEGIN IMMEDIATE already serialises writers.
    session.execute(sa.select(Estate.id).where(Estate.id == rnd.estate_id).with_for_update(key_share=True))
    building = finding.building  # the facility round's defects belong to a stairwell's building too
    building_id = building.id if building is not None else None
    open_here = _same_place(
        sa.select(RepairTicket).where(
            RepairTicket.estate_id == rnd.estate_id, RepairTicket.item_code == item.code,
            RepairTicket.status.not_in([TicketStatus.CLOSED, TicketStatus.CANCELLED]),
        ), finding, building_id,
    ).order_by(RepairTicket.id).limit(1)
    ticket = session.scalars(open_here).first()
    if ticket is not None:
        ticket.recurrences += 1
        finding.ticket = ticket
        _log(ticket, "seen_again", rnd.steward, ticket.status, finding.reason_text or finding.reason_code or "",
             finding_uuid=finding.uuid, round_uuid=rnd.uuid)
        return ticket

    estate = rnd.estate
    clock = clock_for(session, estate.id, item.urgency)
    reason = next((r["label"]["zh_Hant"] for r in item.reasons if r["code"] == finding.reason_code), "")
    description = " · ".join(x for x in (item.label_zh_hant, reason, finding.reason_text, finding.note) if x)
    ticket = RepairTicket(
        number=next_number(session, estate, now), estate_id=estate.id, building_id=building_id,
        entrance_id=finding.entrance_id, floor=finding.floor, public_area_id=finding.public_area_id,
        asset_id=finding.asset_id, unit_id=finding.unit_id, meter_id=finding.meter_id, item_code=item.code,
        channel=TicketChannel.ROUND, route=item.route, urgency=item.urgency, status=TicketStatus.NEW,
        is_unit_repair=False,  # found on a round in common parts or an empty unit: checked on site
        description=description[:1000], created_at=now, due_at=now + timedelta(minutes=clock.done_minutes),
        on_site_due_at=now + timedelta(minutes=clock.on_site_minutes) if clock.on_site_minutes else None,
        created_by_id=rnd.steward_id,
    )
    session.add(ticket)
    finding.ticket = ticket
    _log(ticket, "opened", rnd.steward, None, finding_uuid=finding.uuid, round_uuid=rnd.uuid)
    return ticket


# The lifecycle: which action may move a ticket from which status to which.
TRANSITIONS = {
    "dispatch": ({TicketStatus.NEW, TicketStatus.DISPATCHED}, TicketStatus.DISPATCHED),
    "start": ({TicketStatus.DISPATCHED}, TicketStatus.IN_PROGRESS),
    "repair": ({TicketStatus.DISPATCHED, TicketStatus.IN_PROGRESS}, TicketStatus.REPAIRED),
    "cancel": ({TicketStatus.NEW, TicketStatus.DISPATCHED, TicketStatus.IN_PROGRESS}, TicketStatus.CANCELLED),
}


def _move(ticket: RepairTicket, action: str, by: User, note: str = "", **data) -> None:
    allowed, target = TRANSITIONS[action]
    if ticket.status not in allowed:
        raise TicketError(_l("This step is not possible while the ticket is “%(status)s”.",
                             status=TICKET_STATUS[ticket.status]))
    before = ticket.status
    ticket.status = target
    _log(ticket, action, by, before, note, **data)


def dispatch(ticket: RepairTicket, by: User, *, to: str = "", team: Team | None = None, note: str = "",
             now: datetime | None = None) -> None:
    """Send the ticket to one of the estate's teams (and, optionally, a person of it: `to`); the
    ticket goes that team's way (the elevator company's ticket leaves engineering's queue). Without a
    team, `to` names who it went to in words (tickets of an estate without teams, older data)."""
    who = " ".join(to.split())
    if team is not None:
        if team.estate_id != ticket.estate_id or not team.active:
            raise TicketError(_l("Choose one of this estate's teams."))
        label = who if who.startswith(team.name) else f"{team.name} {who}".strip()
    elif not who:
        raise TicketError(_l("Say which team or person the ticket goes to."))
    else:
        label = who
    _move(ticket, "dispatch", by, note, to=label, **({"team_id": team.id} if team is not None else {}))
    ticket.dispatched_to = label[:120]
    ticket.dispatched_at = now or datetime.now(timezone.utc)
    if team is not None:
        ticket.team = team
        change_route(ticket, by, team.route, note)
    alerts.dispatched(ticket, now)


def teams_of(session: Session, estate_id: int, *, active_only: bool = True) -> list[Team]:
    """An estate's teams, engineering first, then cleaning, greening and the outside parties."""
    order = sa.case(*((Team.kind == kind, n) for n, kind in enumerate(TeamKind)), else_=len(TeamKind))
    query = sa.select(Team).where(Team.estate_id == estate_id)
    if active_only:
        query = query.where(Team.active.is_(True))
    return list(session.scalars(query.order_by(order, Team.name)))


def team_for_route(teams: list[Team], route: DefectRoute) -> Team | None:
    """The team a ticket of `route` goes to unless the desk chooses another: "保潔" is the cleaning team."""
    return next((t for t in teams if t.route is route and t.kind is not TeamKind.GREENING), None)


def start(ticket: RepairTicket, by: User, now: datetime | None = None) -> None:
    _move(ticket, "start", by)
    ticket.on_site_at = ticket.on_site_at or now or datetime.now(timezone.utc)


def repair(ticket: RepairTicket, by: User, *, work_done: str, parts: str = "", chargeable: bool = False,
           amount: str | None = None, now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    if not work_done.strip():
        raise TicketError(_l("Describe the work done."))
    if chargeable and not amount:
        raise TicketError(_l("A chargeable repair needs its amount."))
    _move(ticket, "repair", by, work_done.strip(), parts=parts, chargeable=chargeable, amount=amount)
    ticket.repaired_at = now
    ticket.on_site_at = ticket.on_site_at or now
    if ticket.is_unit_repair:
        ticket.visit_due_at = now + timedelta(hours=ticket.estate.return_visit_hours)
    alerts.check_due(ticket, now)


MAX_AMOUNT = 1_000_000


def parse_amount(raw: str) -> str | None:
    """A chargeable repair's amount as typed ("120", "35.5") → "120.00"; empty → None."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = round(float(raw), 2)
    except ValueError:
        raise TicketError(_l("The amount is a number, e.g. 120 or 35.50.")) from None
    if not 0 < value < MAX_AMOUNT:
        raise TicketError(_l("The amount is a number, e.g. 120 or 35.50."))
    return f"{value:.2f}"


def verify(ticket: RepairTicket, by: User, *, passed: bool, note: str = "", now: datetime | None = None) -> None:
    """The check on site of a public repair: a pass closes it, a fail sends it back to the team."""
    now = now or datetime.now(timezone.utc)
    if ticket.is_unit_repair:
        raise TicketError(_l("A unit repair gets a return visit, not a check on site."))
    if ticket.status is not TicketStatus.REPAIRED:
        raise TicketError(_l("Only a repaired ticket can be checked."))
    if not passed and not (note or "").strip():
        raise TicketError(_l("Say what is still wrong."))
    before = ticket.status
    ticket.status = TicketStatus.CLOSED if passed else TicketStatus.DISPATCHED
    ticket.closed_at = now if passed else None
    _log(ticket, "verified" if passed else "verification_failed", by, before, note)


GRADES = {"A", "B", "C"}  # 滿意 / 較滿意 / 不滿意


def return_visit(ticket: RepairTicket, by: User | None, *, grade: str, comment: str = "",
                 now: datetime | None = None, later: bool = False) -> None:
    """The return visit (回訪) of a unit repair: A or B closes it; C reopens it and alerts the supervisor.

    `later`: a visit planned after the ticket closed (the return-visit plan draws closed unit repairs):
    A or B leave it closed, C reopens it the same way. `by` None: the owner's own rating."""
    now = now or datetime.now(timezone.utc)
    if not ticket.is_unit_repair:
        raise TicketError(_l("A public repair is checked on site, not by a return visit."))
    if ticket.status is not TicketStatus.REPAIRED and not (later and ticket.status is TicketStatus.CLOSED):
        raise TicketError(_l("Only a repaired ticket gets a return visit."))
    if grade not in GRADES:
        raise TicketError(_l("The grade is A, B or C."))
    before = ticket.status
    ticket.status = TicketStatus.DISPATCHED if grade == "C" else TicketStatus.CLOSED
    ticket.closed_at = None if grade == "C" else (ticket.closed_at if before is TicketStatus.CLOSED else now)
    _log(ticket, "return_visit", by, before, comment, grade=grade, escalated=grade == "C", later=later)
    if grade == "C":
        alerts.graded_c(ticket, now)


def owner_rating(ticket: RepairTicket, *, grade: str, comment: str = "") -> None:
    """An owner's rating of a public repair (on their status link): logged as a return visit, so a C
    reaches the supervisor with the others (escalations); the steward's check on site still decides."""
    if grade not in GRADES:
        raise TicketError(_l("The grade is A, B or C."))
    _log(ticket, "return_visit", None, ticket.status, comment, grade=grade, escalated=grade == "C", owner=True)
    if grade == "C":
        alerts.graded_c(ticket)


def cancel(ticket: RepairTicket, by: User, *, reason: str) -> None:
    if not reason.strip():
        raise TicketError(_l("Say why the ticket is cancelled."))
    _move(ticket, "cancel", by, reason.strip())
    ticket.closed_at = datetime.now(timezone.utc)


def is_overdue(ticket: RepairTicket, now: datetime) -> bool:
    if not ticket.is_open:
        return False
    if ticket.status is TicketStatus.REPAIRED:
        return ticket.visit_due_at is not None and now > ticket.visit_due_at
    return now > ticket.due_at or late_on_site(ticket, now)


def late_on_site(ticket: RepairTicket, now: datetime) -> bool:
    """An urgent ticket nobody has reached within its on-site time (30 min by default)."""
    return (ticket.is_open and ticket.on_site_due_at is not None and ticket.on_site_at is None
            and ticket.repaired_at is None and now > ticket.on_site_due_at)


def change_route(ticket: RepairTicket, by: User, route: DefectRoute, note: str = "") -> None:
    """The desk corrects where a ticket goes (the checklist item's route was wrong for this defect)."""
    if route not in TICKET_ROUTES:
        raise TicketError(_l("A repair ticket goes to engineering, cleaning or an outside party."))
    if not ticket.is_open:
        raise TicketError(_l("A closed ticket cannot be rerouted."))
    if route is ticket.route:
        return
    before_route = ticket.route
    ticket.route = route
    _log(ticket, "rerouted", by, ticket.status, note, route_from=before_route.value, route_to=route.value)


def change_urgency(session: Session, ticket: RepairTicket, by: User, urgency: Urgency, note: str = "") -> None:
    """The desk changes the urgency; the target times follow from the ticket's creation."""
    if not ticket.is_open:
        raise TicketError(_l("A closed ticket cannot change its urgency."))
    if urgency is ticket.urgency:
        return
    before = ticket.urgency
    clock = clock_for(session, ticket.estate_id, urgency)
    ticket.urgency = urgency
    ticket.due_at = ticket.created_at + timedelta(minutes=clock.done_minutes)
    ticket.on_site_due_at = ticket.created_at + timedelta(minutes=clock.on_site_minutes) if clock.on_site_minutes else None
    _log(ticket, "urgency_changed", by, ticket.status, note, urgency_from=before.value, urgency_to=urgency.value)


# Desk intake: phone calls and walk-ins become tickets too.
INTAKE_CHANNELS = {TicketChannel.PHONE, TicketChannel.WALK_IN}


@dataclass(frozen=True)
class Report:
    """A repair reported to the desk (報修): who, where, what, and what they expect."""

    channel: TicketChannel
    reporter_name: str
    reporter_phone: str
    description: str
    expectation: str = ""
    unit: Unit | None = None
    building: Building | None = None
    public_area: PublicArea | None = None
    place_text: str = ""
    route: DefectRoute = DefectRoute.ENGINEERING
    urgency: Urgency = Urgency.NORMAL


def register_report(session: Session, by: User, estate: Estate, report: Report,
                    now: datetime | None = None) -> RepairTicket:
    """Register a phone or walk-in report at once and give it its number (told to the reporter)."""
    now = now or datetime.now(timezone.utc)
    if report.channel not in INTAKE_CHANNELS:
        raise TicketError(_l("A report comes by phone or in person."))
    if not report.reporter_name.strip():
        raise TicketError(_l("Write down who reported it."))
    if not report.description.strip():
        raise TicketError(_l("Describe what needs repairing."))
    if report.route not in TICKET_ROUTES:
        raise TicketError(_l("A repair ticket goes to engineering, cleaning or an outside party."))
    places = [p for p in (report.unit, report.public_area) if p is not None]
    if len(places) > 1:
        raise TicketError(_l("Give a unit or a public place, not both."))
    building = report.unit.building if report.unit else report.building
    if building is not None and building.estate_id != estate.id or (
            report.public_area is not None and report.public_area.estate_id != estate.id):
        raise TicketError(_l("This place is not in the estate."))
    if not places and building is None and not report.place_text.strip():
        raise TicketError(_l("Say where: a unit, a public place or a few words."))
    if not by.covers_place(estate.id, building):  # the ticket would be out of its own author's sight
        raise TicketError(_l("You register repairs only for the buildings you are assigned to."))
    clock = clock_for(session, estate.id, report.urgency)
    ticket = RepairTicket(
        number=next_number(session, estate, now), estate=estate, estate_id=estate.id,
        building_id=building.id if building else None,
        unit_id=report.unit.id if report.unit else None,
        entrance_id=report.unit.entrance_id if report.unit else None,
        floor=report.unit.floor if report.unit else None,
        public_area_id=report.public_area.id if report.public_area else None,
        channel=report.channel, route=report.route, urgency=report.urgency, status=TicketStatus.NEW,
        is_unit_repair=report.unit is not None,  # a unit repair gets a return visit (回訪)
        description=report.description.strip()[:1000], reporter_name=report.reporter_name.strip()[:120],
        reporter_phone=report.reporter_phone.strip()[:32], place_text=report.place_text.strip()[:200],
        expectation=report.expectation.strip()[:500], created_at=now,
        due_at=now + timedelta(minutes=clock.done_minutes),
        on_site_due_at=now + timedelta(minutes=clock.on_site_minutes) if clock.on_site_minutes else None,
        created_by_id=by.id,
    )
    session.add(ticket)
    _log(ticket, "opened", by, None, channel=report.channel.value)
    return ticket


def open_ticket_for(session: Session, estate_id: int, item_code: str, *, entrance_id: int | None = None,
                    public_area_id: int | None = None, unit_id: int | None = None) -> RepairTicket | None:
    """The open ticket of a place and checklist item (any floor of a stairwell), oldest first: what an
    owner's report of the same thing is added to instead of opening another."""
    query = sa.select(RepairTicket).where(
        RepairTicket.estate_id == estate_id, RepairTicket.item_code == item_code,
        RepairTicket.status.not_in([TicketStatus.CLOSED, TicketStatus.CANCELLED]))
    if unit_id is not None:
        query = query.where(RepairTicket.unit_id == unit_id)
    elif entrance_id is not None:
        query = query.where(RepairTicket.entrance_id == entrance_id)
    elif public_area_id is not None:
        query = query.where(RepairTicket.public_area_id == public_area_id)
    else:
        return None
    return session.scalars(query.order_by(RepairTicket.id).limit(1)).first()


def seen_again_by_report(ticket: RepairTicket, note: str = "", **data) -> None:
    """An owner reported what is already on an open ticket: counted as seen again, not duplicated."""
    ticket.recurrences += 1
    _log(ticket, "seen_again", None, ticket.status, note, channel=TicketChannel.APP.value, **data)


def register_owner_report(session: Session, estate: Estate, *, description: str, item_code: str | None,
                          building: Building | None, entrance_id: int | None = None, floor: int | None = None,
                          unit: Unit | None = None, public_area: PublicArea | None = None, phone: str = "",
                          route: DefectRoute = DefectRoute.ENGINEERING, now: datetime | None = None) -> RepairTicket:
    """An owner's own report by QR code (TicketChannel.APP): a ticket with no author, in the desk's intake."""
    now = now or datetime.now(timezone.utc)
    if not description.strip():
        raise TicketError(_l("Describe what needs repairing."))
    clock = clock_for(session, estate.id, Urgency.NORMAL)
    ticket = RepairTicket(
        number=next_number(session, estate, now), estate=estate, estate_id=estate.id,
        building_id=building.id if building else None, entrance_id=entrance_id, floor=floor,
        unit_id=unit.id if unit else None, public_area_id=public_area.id if public_area else None,
        item_code=item_code, channel=TicketChannel.APP, route=route, urgency=Urgency.NORMAL,
        status=TicketStatus.NEW, is_unit_repair=unit is not None, description=description.strip()[:1000],
        reporter_phone=phone.strip()[:32], created_at=now, due_at=now + timedelta(minutes=clock.done_minutes),
        created_by_id=None,
    )
    session.add(ticket)
    _log(ticket, "opened", None, None, channel=TicketChannel.APP.value)
    return ticket


def merge(session: Session, source: RepairTicket, target: RepairTicket, by: User,
          now: datetime | None = None) -> None:
    """Two tickets about one defect: `source` closes as merged and its findings move to `target`."""
    if source.id == target.id:
        raise TicketError(_l("A ticket cannot be merged into itself."))
    if source.estate_id != target.estate_id:
        raise TicketError(_l("Tickets of different estates cannot be merged."))
    if not source.is_open or not target.is_open:
        raise TicketError(_l("Only open tickets can be merged."))
    moved = list(source.findings)
    for finding in moved:
        finding.ticket = target
    target.recurrences += source.recurrences + 1  # the source's first sighting and its repeats
    before = source.status
    source.status = TicketStatus.CANCELLED
    source.merged_into = target
    source.closed_at = now or datetime.now(timezone.utc)
    _log(source, "merged_into", by, before, target.number, into=target.number)
    _log(target, "merged_from", by, target.status, source.number, source=source.number,
         findings=[f.uuid for f in moved])


def split(session: Session, finding: Finding, by: User, now: datetime | None = None) -> RepairTicket:
    """A defect attached to the wrong open ticket gets a ticket of its own."""
    now = now or datetime.now(timezone.utc)
    old = finding.ticket
    if old is None:
        raise TicketError(_l("This finding has no ticket."))
    if len(old.findings) < 2:
        raise TicketError(_l("This is the ticket's only defect: there is nothing to split from."))
    if not old.is_open:
        raise TicketError(_l("Only an open ticket can be split."))
    if finding.uuid == old.findings[0].uuid:
        raise TicketError(_l("This is the defect that opened the ticket; split the later ones."))
    item, building = finding.item, finding.building
    clock = clock_for(session, old.estate_id, old.urgency)
    ticket = RepairTicket(
        number=next_number(session, old.estate, now), estate_id=old.estate_id,
        building_id=building.id if building is not None else None,
        entrance_id=finding.entrance_id, floor=finding.floor, public_area_id=finding.public_area_id,
        asset_id=finding.asset_id, unit_id=finding.unit_id, meter_id=finding.meter_id, item_code=item.code,
        channel=TicketChannel.ROUND, route=old.route, urgency=old.urgency, status=TicketStatus.NEW,
        is_unit_repair=False, description=old.description, created_at=now,
        due_at=now + timedelta(minutes=clock.done_minutes),
        on_site_due_at=now + timedelta(minutes=clock.on_site_minutes) if clock.on_site_minutes else None,
        created_by_id=by.id,
    )
    session.add(ticket)
    finding.ticket = ticket
    old.recurrences = max(0, old.recurrences - 1)
    _log(ticket, "split_from", by, None, old.number, source=old.number, finding_uuid=finding.uuid)
    _log(old, "split_out", by, old.status, ticket.number, into=ticket.number, finding_uuid=finding.uuid)
    return ticket


def add_after_photo(ticket: RepairTicket, photo: Photo) -> None:
    photo.ticket_id = ticket.id
    ticket.after_photos.append(photo)


MAX_CLOCK_MINUTES = 90 * 24 * 60


def set_clocks(session: Session, estate: Estate, by: User, clocks: dict[Urgency, Clock],
               return_visit_hours: int) -> None:
    """An estate's own target times, set by a supervisor of the whole estate; all checked before any is stored."""
    if by.role is not Role.SUPERVISOR or estate.id not in by.whole_estate_ids:
        raise TicketError(_l("This estate does not exist or is not yours."))
    for urgency, clock in clocks.items():
        for minutes in (clock.on_site_minutes, clock.done_minutes):
            if minutes is not None and not 1 <= minutes <= MAX_CLOCK_MINUTES:
                raise TicketError(_l("Target times are between 1 minute and 90 days."))
        if clock.on_site_minutes is not None and clock.on_site_minutes > clock.done_minutes:
            raise TicketError(_l("Being on site cannot come after the repair's own target time."))
    if not 1 <= return_visit_hours <= 24 * 30:
        raise TicketError(_l("The return visit is due between 1 hour and 30 days after the repair."))
    for urgency, clock in clocks.items():
        row = session.get(TicketClock, (estate.id, urgency)) or TicketClock(estate_id=estate.id, urgency=urgency)
        row.on_site_minutes, row.done_minutes = clock.on_site_minutes, clock.done_minutes
        session.add(row)
    estate.return_visit_hours = return_visit_hours


# Hooks: what repairs does when a round is completed, and which photos it shows.


@round_completed.connect
def _tickets_for_defects(session: Session, *, round: Round, findings: list[Finding], now: datetime) -> None:  # noqa: A002
    """Every defect of a completed round becomes a repair ticket, or is seen again on an open one."""
    for finding in findings:
        ticket_for_defect(session, finding, now)


@photo_visible.connect
def _ticket_photo_visible(session: Session, *, user: User, photo: Photo) -> bool:
    """A defect's photo is seen by whoever may see its ticket (engineering, the steward checking it),
    and so is a repair's "after" photo."""
    if photo.finding is not None and photo.finding.ticket is not None and may_see_ticket(user, photo.finding.ticket):
        return True
    return photo.ticket_id is not None and may_see_ticket(user, session.get(RepairTicket, photo.ticket_id))


def store_after_photo(session: Session, user: User, ticket: RepairTicket, data: bytes, *, max_bytes: int,
                      max_pixels: int, now: datetime | None = None) -> Photo:
    """An "after" photo of a repair, uploaded with the repair form: checked like any photo."""
    photo = uploads.store_form_photo(session, user, None, data, timezone_name=ticket.estate.timezone,
                                     max_bytes=max_bytes, max_pixels=max_pixels, now=now)
    add_after_photo(ticket, photo)
    return photo
