"""What an owner sends by a code: a repair becomes a ticket in the desk's intake (or is counted as
seen again on the ticket already open for that place and item), a complaint is registered. The
owner keeps a private status link; when the work is done it asks for a rating, which is the
return visit. Nothing a stranger sends changes a record other than adding a report (and, once
done, rating it)."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..complaints import operations as complaints
from ..complaints import visits
from ..models import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    DefectRoute,
    OwnerCode,
    OwnerReport,
    OwnerReportKind,
    Photo,
    PhotoStatus,
    ReturnVisit,
    Role,
    TicketStatus,
    User,
)
from ..models.base import new_uuid
from ..photos import uploads
from ..photos.uploads import photo_visible
from ..refusals import Rejected
from ..repairs import tickets

MAX_PHOTOS = 3
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")


@dataclass(frozen=True)
class Item:
    label: object
    codes: dict  # code kind → checklist item code (None: no item to match an open ticket by)
    route: DefectRoute = DefectRoute.ENGINEERING


# What an owner can report for repair, by the kind of code they scanned.
REPAIR_ITEMS = {
    "light": Item(_l("Light not working"), {"entrance": "COR-LIGHT", "public_area": "FAC-GARAGE-LIGHT"}),
    "door": Item(_l("Entrance door or intercom"), {"entrance": "FAC-ENTRANCE-DOOR"}),
    "elevator": Item(_l("Elevator"), {"entrance": "FAC-ELEVATOR-RUN"}, DefectRoute.OUTSIDE_PARTY),
    "leak": Item(_l("Water leak or seepage"), {"entrance": "COR-PIPE-LEAK", "unit": "VAC-LEAK"}),
    "damage": Item(_l("Walls, floor or fittings damaged"), {"entrance": "COR-WALL-CEILING",
                                                            "public_area": "FAC-PUBLIC-FACILITY", "unit": None}),
    "other": Item(_l("Something else"), {"entrance": None, "public_area": None, "unit": None}),
}


def repair_items(code: OwnerCode) -> dict[str, Item]:
    return {k: v for k, v in REPAIR_ITEMS.items() if code.kind in v.codes}


class ReportRefused(Rejected):
    """An owner's report that cannot be taken as sent (said on the page, nothing stored)."""


@dataclass(frozen=True)
class Sent:
    kind: OwnerReportKind
    item: str  # a REPAIR_ITEMS key, or a complaint category
    description: str
    phone: str
    floor: int | None = None
    photos: tuple[bytes, ...] = ()
    language: str = "zh_Hant"


def _check(code: OwnerCode, sent: Sent) -> None:
    errors: dict[str, list] = {}
    if sent.kind is OwnerReportKind.REPAIR and sent.item not in repair_items(code):
        errors["item"] = [_l("Choose what needs repairing.")]
    if sent.kind is OwnerReportKind.COMPLAINT and sent.item not in {c.value for c in ComplaintCategory}:
        errors["item"] = [_l("Choose what the complaint is about.")]
    if not sent.description.strip() and not (sent.kind is OwnerReportKind.REPAIR and sent.item != "other"):
        errors["description"] = [_l("Say in a few words what is wrong.")]
    if len(sent.description) > 1000:
        errors["description"] = [_l("At most %(max)d characters.", max=1000)]
    if not PHONE.match(sent.phone.strip()):
        errors["phone"] = [_l("Give a phone number the desk can call back.")]
    if len(sent.photos) > MAX_PHOTOS:
        errors["photos"] = [_l("At most three photos.")]
    entrance = code.entrance
    if sent.floor is not None and (entrance is None or not entrance.lowest_floor <= sent.floor <= entrance.highest_floor):
        errors["floor"] = [_l("There is no such floor here.")]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ReportRefused(first, errors)


def new_status_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def submit(session: Session, code: OwnerCode, sent: Sent, *, max_bytes: int, max_pixels: int,
           now: datetime | None = None) -> OwnerReport:
    """Take an owner's report: checked whole (photos included) before anything is kept."""
    now = now or datetime.now(timezone.utc)
    _check(code, sent)
    report = OwnerReport(uuid=new_uuid(), status_token=new_status_token(), code_id=code.id, estate_id=code.estate_id, kind=sent.kind,
                         item=sent.item, floor=sent.floor, description=sent.description.strip()[:1000],
                         phone=sent.phone.strip()[:32], language=sent.language[:8], created_at=now)
    for data in sent.photos:
        uploads.store_form_photo(session, None, report.uuid, data,
                                 timezone_name=code.estate.timezone, max_bytes=max_bytes, max_pixels=max_pixels, now=now)
    if sent.kind is OwnerReportKind.REPAIR:
        item = REPAIR_ITEMS[sent.item]
        item_code = item.codes.get(code.kind)
        open_one = tickets.open_ticket_for(session, code.estate_id, item_code, entrance_id=code.entrance_id,
                                           public_area_id=code.public_area_id, unit_id=code.unit_id) \
            if item_code else None
        if open_one is not None:
            tickets.seen_again_by_report(open_one, sent.description.strip(), report=report.uuid)
            report.ticket, report.seen_again = open_one, True
        else:
            text = " · ".join(x for x in (str(item.label), sent.description.strip()) if x)
            report.ticket = tickets.register_owner_report(
                session, code.estate, description=text, item_code=item_code, building=code.building,
                entrance_id=code.entrance_id, floor=sent.floor, unit=code.unit, public_area=code.public_area,
                phone=sent.phone, route=item.route, now=now)
    else:
        report.complaint = complaints.register(session, None, code.estate, complaints.Registration(
            channel=ComplaintChannel.APP, category=ComplaintCategory(sent.item), complainant_name="",
            complainant_phone=sent.phone, description=sent.description, building=code.building,
            entrance=code.entrance, unit=code.unit, public_area=code.public_area,
            place_text=f"{sent.floor}F" if sent.floor is not None else ""), now=now)
    session.add(report)
    return report


def report_by_status_token(session: Session, token: str) -> OwnerReport | None:
    if not token or len(token) > 48:
        return None
    return session.scalars(sa.select(OwnerReport).where(OwnerReport.status_token == token)).first()


# What the owner's status link says, in plain words and nothing personal.

@dataclass(frozen=True)
class Progress:
    stage: str  # received, working, done, closed
    expected_by: datetime | None
    done: bool
    public_repair: bool
    may_rate: bool
    rated: str | None


def progress(session: Session, report: OwnerReport) -> Progress:
    rated = _owner_rating(session, report)
    if report.ticket is not None:
        t = report.ticket
        stage = {TicketStatus.NEW: "received", TicketStatus.DISPATCHED: "working", TicketStatus.IN_PROGRESS: "working",
                 TicketStatus.REPAIRED: "done", TicketStatus.CLOSED: "closed",
                 TicketStatus.CANCELLED: "cancelled"}[t.status]
        done = t.status in (TicketStatus.REPAIRED, TicketStatus.CLOSED)
        return Progress(stage, t.due_at if t.is_open and not done else None, done, not t.is_unit_repair,
                        done and rated is None, rated)
    c = report.complaint
    stage = {ComplaintStatus.OPEN: "received", ComplaintStatus.INVESTIGATED: "working",
             ComplaintStatus.REPLIED: "working", ComplaintStatus.CLOSED: "closed"}[c.status]
    done = c.status is ComplaintStatus.CLOSED
    return Progress(stage, c.due_at if c.is_open else None, done, False, done and rated is None, rated)


def _owner_rating(session: Session, report: OwnerReport) -> str | None:
    query = sa.select(ReturnVisit.grade).where(ReturnVisit.by_owner.is_(True), ReturnVisit.done_at.is_not(None))
    if report.ticket_id:
        query = query.where(ReturnVisit.ticket_id == report.ticket_id)
    else:
        query = query.where(ReturnVisit.complaint_id == report.complaint_id)
    return session.scalars(query.order_by(ReturnVisit.id.desc()).limit(1)).first()


def rate(session: Session, report: OwnerReport, *, grade: str, words: str = "",
         now: datetime | None = None) -> ReturnVisit:
    """The owner's rating once the work is done: it is the return visit (the planned one if any)."""
    now = now or datetime.now(timezone.utc)
    p = progress(session, report)
    if not p.may_rate:
        raise ReportRefused(_l("There is nothing to rate yet."))
    if grade not in visits.GRADES:
        raise ReportRefused(_l("Choose how satisfied you are."), {"grade": [_l("Choose how satisfied you are.")]})
    if len(words) > 1000:
        raise ReportRefused(_l("At most %(max)d characters.", max=1000))
    query = sa.select(ReturnVisit).where(ReturnVisit.done_at.is_(None))
    query = query.where(ReturnVisit.ticket_id == report.ticket_id) if report.ticket_id else query.where(
        ReturnVisit.complaint_id == report.complaint_id)
    visit = session.scalars(query.order_by(ReturnVisit.id).limit(1)).first()
    if visit is None:
        visit = ReturnVisit(estate_id=report.estate_id, ticket=report.ticket, complaint=report.complaint,
                            round_no=_next_round(session, report), reason="owner", planned_at=now, due_at=now)
        session.add(visit)
    if grade == "C" and not words.strip():
        words = str(_l("Not satisfied (rated by the owner)"))
    visits.record(session, visit, None, grade=grade, words=words, now=now)
    return visit


def _next_round(session: Session, report: OwnerReport) -> int:
    column = ReturnVisit.ticket_id if report.ticket_id else ReturnVisit.complaint_id
    value = report.ticket_id or report.complaint_id
    return (session.scalar(sa.select(sa.func.max(ReturnVisit.round_no)).where(column == value)) or 0) + 1


def public_photos(session: Session, report: OwnerReport) -> tuple[list[Photo], list[Photo]]:
    """The photos the status link shows: the owner's own ("before"), and for a public repair the
    team's "after" photos."""
    before = list(session.scalars(sa.select(Photo).where(Photo.record_uuid == report.uuid,
                                                         Photo.status == PhotoStatus.STORED).order_by(Photo.id)))
    after = []
    if report.ticket is not None and not report.ticket.is_unit_repair:
        after = [p for p in report.ticket.after_photos if p.status is PhotoStatus.STORED]
    return before, after


def visible_reports(user: User):  # noqa: ANN201 - a Select
    """The owner reports of the places the user covers (the office)."""
    query = sa.select(OwnerReport).join(OwnerCode).where(user.covered_places(OwnerCode.building_id,
                                                                             OwnerCode.estate_id))
    if user.role not in (Role.DESK, Role.SUPERVISOR):
        query = query.where(sa.false())
    return query


@photo_visible.connect
def _owner_photo_visible(session: Session, *, user: User, photo: Photo) -> bool:
    """An owner's photo is seen by the office of its place, and by whoever may see its ticket."""
    if photo.record_uuid is None:
        return False
    report = session.scalars(sa.select(OwnerReport).where(OwnerReport.uuid == photo.record_uuid)).first()
    if report is None:
        return False
    if user.role in (Role.DESK, Role.SUPERVISOR) and user.covers_place(report.estate_id, report.code.building):
        return True
    if report.complaint is not None and complaints.may_see(user, report.complaint):
        return True  # the steward who investigates it
    return report.ticket is not None and tickets.may_see_ticket(user, report.ticket)


def recent_reports(session: Session, user: User, limit: int = 100) -> list[OwnerReport]:
    return list(session.scalars(visible_reports(user).order_by(OwnerReport.id.desc()).limit(limit)))


def may_see_photo(report: OwnerReport, photo: Photo) -> bool:
    before_ok = photo.record_uuid == report.uuid
    after_ok = (report.ticket is not None and not report.ticket.is_unit_repair and photo.ticket_id == report.ticket_id)
    return photo.status is PhotoStatus.STORED and (before_ok or after_ok)



def photos_of(session: Session, rows: list[OwnerReport]) -> dict[str, list[Photo]]:
    """The photos of these reports, by report UUID, in one query."""
    found: dict[str, list[Photo]] = {r.uuid: [] for r in rows}
    if rows:
        for p in session.scalars(sa.select(Photo).where(Photo.record_uuid.in_(list(found)),
                                                        Photo.status == PhotoStatus.STORED).order_by(Photo.id)):
            found[p.record_uuid].append(p)
    return found


@tickets.report_photos.connect
def _ticket_report_photos(session: Session, *, ticket) -> list[Photo]:  # noqa: ANN001
    """The photos owners sent with their reports of this ticket (the first and any seen again)."""
    uuids = sa.select(OwnerReport.uuid).where(OwnerReport.ticket_id == ticket.id)
    return list(session.scalars(sa.select(Photo).where(Photo.record_uuid.in_(uuids),
                                                       Photo.status == PhotoStatus.STORED).order_by(Photo.id)))
