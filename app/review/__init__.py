"""The desk's review of synced rounds (issue 5, items 7 and 9): filters, a keyset-paged list of
findings, counts, 'reviewed' marks, comments, route corrections and the CSV export.

Everything here works without a request, on a session and a user.

Order: newest round first (the round's date, then the later round), and within a round the
findings in the order they were recorded. A page is continued with the id of its last finding
(`before`): no OFFSET, so a deep page costs what the first one does. The indexes on `round`
(ix_round_review*) hold every column a filter looks at, so a page or a count walks one index in
order and stops as soon as it has enough; counts stop at COUNT_CAP ("1000+").
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, aliased, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..access import estates_of
from ..labels import FINDING_RESULT, ROUND_KIND
from ..models import (
    Asset,
    Building,
    ChecklistItem,
    DefectRoute,
    Entrance,
    Estate,
    Finding,
    FindingAmendment,
    FindingComment,
    FindingResult,
    Meter,
    PublicArea,
    RepairTicket,
    Round,
    RoundKind,
    RoundStatus,
    Unit,
    User,
    place_words,
)
from ..refusals import NotVisible, Rejected
from ..repairs import tickets
from ..rounds.overview import stewards_seen_by
from ..guard import record_id
from ..web import MAX_RANGE_DAYS, QueryArgs

PAGE_SIZE = 50
EXPORT_BATCH = 1000
COUNT_CAP = 1000  # counts stop here and show "1000+": a count never walks a year of findings
COMMENT_MAX = 1000
MAX_MARKED_AT_ONCE = 200
# Where the desk may send a finding's repair ticket (decoration breaches follow the violation flow).
ROUTE_CHOICES = [route for route in DefectRoute if route in tickets.TICKET_ROUTES]


class ReviewError(Rejected):
    """A refused review action, with a message for the person who tried it."""


class FilterError(ReviewError):
    """Filter values that cannot be used: every problem, each with its own message."""

    status = 400

    def __init__(self, messages: list) -> None:
        super().__init__(messages[0])
        self.messages = messages


# Filters ------------------------------------------------------------------------------------

TRUE_VALUES = {"1", "on", "true", "yes", "y"}


@dataclass(frozen=True)
class ReviewFilter:
    estate_id: int | None = None
    building_id: int | None = None
    kind: RoundKind | None = None
    date_from: date | None = None
    date_to: date | None = None
    steward_id: int | None = None
    defects_only: bool = False
    unreviewed_only: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ReviewFilter:
        """Parse query arguments (the names are the field names); FilterError lists every bad value."""
        read = QueryArgs(args)
        errors, number, day = read.errors, read.number, read.day

        kind = None
        raw_kind = (args.get("kind") or "").strip()
        if raw_kind:
            try:
                kind = RoundKind(raw_kind)
            except ValueError:
                errors.append(_l("Choose a round kind from the list."))
        flt = cls(
            estate_id=number("estate_id", _l("Choose an estate from the list.")),
            building_id=number("building_id", _l("Choose a building from the list.")),
            kind=kind,
            date_from=day("date_from", _l("The start date is not a date: use YYYY-MM-DD.")),
            date_to=day("date_to", _l("The end date is not a date: use YYYY-MM-DD.")),
            steward_id=number("steward_id", _l("Choose a steward from the list.")),
            defects_only=(args.get("defects_only") or "").strip().lower() in TRUE_VALUES,
            unreviewed_only=(args.get("unreviewed_only") or "").strip().lower() in TRUE_VALUES,
        )
        if flt.date_from and flt.date_to:
            if flt.date_from > flt.date_to:
                errors.append(_l("The start date is after the end date."))
            elif flt.days > MAX_RANGE_DAYS:
                errors.append(_l("Choose at most %(days)d days.", days=MAX_RANGE_DAYS))
        if errors:
            raise FilterError(errors)
        return flt

    @property
    def days(self) -> int | None:
        """Days in the date range, both ends included; None when it is open."""
        if self.date_from is None or self.date_to is None:
            return None
        return (self.date_to - self.date_from).days + 1

    def to_args(self) -> dict[str, str]:
        """The query arguments that give this filter back (only what is set)."""
        args = {
            "estate_id": self.estate_id, "building_id": self.building_id,
            "kind": self.kind.value if self.kind else None,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "steward_id": self.steward_id,
            "defects_only": "1" if self.defects_only else None,
            "unreviewed_only": "1" if self.unreviewed_only else None,
        }
        return {k: str(v) for k, v in args.items() if v is not None}

    def check_exportable(self) -> None:
        """An export needs a bounded range: both dates, at most MAX_RANGE_DAYS days."""
        if self.date_from is None or self.date_to is None:
            raise FilterError([_l("Choose a start and an end date (at most %(days)d days) to download a CSV file.",
                                  days=MAX_RANGE_DAYS)])


def parse_cursor(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return record_id(raw)
    except ValueError:
        pass
    raise FilterError([_l("This page link is not valid: start again from the first page.")])


# Scope and the query --------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """A filter checked against the user's scope, as SQL conditions (no session needed)."""

    round_conditions: tuple
    finding_conditions: tuple
    scope: sa.ColumnElement
    # No estate chosen by a user of a few estates: a page is read estate by estate (each walks its
    # estate's index newest first and stops at a page), then merged. One walk over every estate's
    # rounds would pass over the other estates' rounds too, more of them the larger the company.
    by_estate: tuple[int, ...] = ()


def _scope(user: User) -> sa.ColumnElement:
    """The rounds a user may review: of the places they cover (as intake.may_see_round decides for a
    single round; a unit's round carries its building)."""
    return user.covered_places(Round.building_id, Round.estate_id)


def select_findings(session: Session, user: User, flt: ReviewFilter) -> Selection:
    """Check the filter against the user's scope: an estate or building that is not theirs
    (or does not exist) raises NotVisible, so nothing about it is told."""
    estate_id = flt.estate_id
    if estate_id is not None and estate_id not in user.visible_estate_ids:
        raise NotVisible(estate_id)
    if flt.building_id is not None:
        building = session.get(Building, flt.building_id)
        if building is None or not user.covers_building(building):
            raise NotVisible(flt.building_id)
        if estate_id is not None and building.estate_id != estate_id:
            raise FilterError([_l("That building is not in the chosen estate: choose the building again.")])
        estate_id = building.estate_id  # lets the estate's index answer
    conditions = [Round.status == RoundStatus.COMPLETED]
    if estate_id is not None:
        conditions.append(Round.estate_id == estate_id)
    if flt.building_id is not None:
        conditions.append(Round.building_id == flt.building_id)
    if flt.kind is not None:
        conditions.append(Round.kind == flt.kind)
    if flt.steward_id is not None:
        conditions.append(Round.steward_id == flt.steward_id)
    if flt.date_from is not None:
        conditions.append(Round.local_date >= flt.date_from)
    if flt.date_to is not None:
        conditions.append(Round.local_date <= flt.date_to)
    scope = _scope(user)
    conditions.append(scope)
    finding_conditions = []
    if flt.defects_only:
        finding_conditions.append(Finding.result == FindingResult.DEFECT)
    if flt.unreviewed_only:
        finding_conditions.append(Finding.reviewed_at.is_(None))
    visible = sorted(user.visible_estate_ids) if estate_id is None else []
    by_estate = tuple(visible) if 1 < len(visible) <= MAX_ESTATES_READ_ONE_BY_ONE else ()
    return Selection(tuple(conditions), tuple(finding_conditions), scope, by_estate)


# Orders as (column, descending): the finding's round's date and id, then the finding's id.
NEWEST_FIRST = (("local_date", True), ("round_id", True), ("id", False))
OLDEST_FIRST = (("local_date", False), ("round_id", False), ("id", True))  # NEWEST_FIRST read backwards
MAX_ESTATES_READ_ONE_BY_ONE = 60  # more (a head office's): one walk, as for any other filter


def _ordered(columns: dict, order: tuple) -> list:
    return [columns[key].desc() if descending else columns[key].asc() for key, descending in order]


def _walk(session: Session, selection: Selection, extra: tuple, order: tuple, limit: int) -> list[int]:
    """The first `limit` finding ids of the selection in `order` (NEWEST_FIRST or OLDEST_FIRST);
    with `by_estate`, each estate's first `limit`, merged."""
    columns = {"local_date": Round.local_date, "round_id": Round.id, "id": Finding.id}
    query = (sa.select(Finding.id).select_from(Round).join(Finding, Finding.round_id == Round.id)
             .where(*selection.round_conditions, *selection.finding_conditions, *extra))
    if not selection.by_estate:
        return list(session.scalars(query.order_by(*_ordered(columns, order)).limit(limit)))
    query = query.add_columns(Round.local_date, Round.id.label("round_id"))
    parts = [query.where(Round.estate_id == estate_id).order_by(*_ordered(columns, order)).limit(limit).subquery()
             for estate_id in selection.by_estate]
    merged = sa.union_all(*(sa.select(p.c.id, p.c.local_date, p.c.round_id) for p in parts)).subquery()
    return list(session.scalars(sa.select(merged.c.id).order_by(*_ordered(merged.c, order)).limit(limit)))


def _ids(session: Session, selection: Selection, *extra, limit: int) -> list[int]:
    return _walk(session, selection, extra, NEWEST_FIRST, limit)


@dataclass
class ReviewPage:
    findings: list[Finding]
    next_before: int | None  # the cursor of the next page; None on the last page
    before: int | None = None
    has_previous: bool = False  # a page comes before this one
    previous_before: int | None = None  # its cursor (None: the previous page is the first)


def page_ids(session: Session, selection: Selection, before: int | None, limit: int) -> tuple[list[int], int | None]:
    """The ids of one page and the cursor of the next (keyset: no OFFSET)."""
    if before is None:
        ids = _ids(session, selection, limit=limit + 1)
    else:
        position = session.execute(
            sa.select(Round.local_date, Round.id).join(Finding, Finding.round_id == Round.id)
            .where(Finding.id == before, selection.scope)
        ).first()
        if position is None:
            raise FilterError([_l("This page link is not valid: start again from the first page.")])
        local_date, round_id = position
        # The rest of the cursor's round, then the rounds after it.
        ids = _ids(session, selection, Round.id == round_id, Finding.id > before, limit=limit + 1)
        if len(ids) <= limit:
            ids += _ids(session, selection, sa.tuple_(Round.local_date, Round.id) < sa.tuple_(local_date, round_id),
                        limit=limit + 1 - len(ids))
    more = len(ids) > limit
    ids = ids[:limit]
    return ids, (ids[-1] if more and ids else None)


# Everything a card shows, loaded with the page in a fixed number of queries (no query per finding).
# Each object is reached by one path only: SQLAlchemy compares load paths for an object met again
# by another path on every row, which costs more than the loading itself. Buildings come from the
# round; those of an estate-wide round's places are read in one query by load_findings.
PAGE_OPTIONS = (
    joinedload(Finding.round).options(joinedload(Round.estate), joinedload(Round.building), joinedload(Round.steward)),
    joinedload(Finding.item),
    joinedload(Finding.entrance),
    joinedload(Finding.unit),
    joinedload(Finding.public_area),
    joinedload(Finding.asset).joinedload(Asset.entrance),
    joinedload(Finding.meter).joinedload(Meter.unit),
    # A ticket has some thirty columns; the list shows four.
    joinedload(Finding.ticket).load_only(RepairTicket.number, RepairTicket.status, RepairTicket.route),
    joinedload(Finding.reviewed_by),
    selectinload(Finding.amendments),
    selectinload(Finding.photos),
    selectinload(Finding.comments).joinedload(FindingComment.by),
)


def load_findings(session: Session, ids: list[int], options=PAGE_OPTIONS) -> list[Finding]:  # noqa: ANN001
    """The findings with everything a page shows, in the order of `ids` (no query per finding)."""
    if not ids:
        return []
    found = {f.id: f for f in session.scalars(sa.select(Finding).where(Finding.id.in_(ids)).options(*options)).unique()}
    findings = [found[i] for i in ids if i in found]
    # Places of rounds without a building (the facility round's stairwells and their equipment, a
    # unit's meters): their buildings in one query, so Finding.building finds them without a query each.
    places = [place for f in findings if f.round.building_id is None
              for place in (f.entrance, f.asset.entrance if f.asset else None, f.unit,
                            f.meter.unit if f.meter else None, f.meter) if place is not None]
    if places:
        buildings = {b.id: b for b in session.scalars(
            sa.select(Building).where(Building.id.in_({p.building_id for p in places})))}
        for place in places:
            set_committed_value(place, "building", buildings.get(place.building_id))
    return findings


def previous_cursor(session: Session, selection: Selection, first_id: int, limit: int) -> tuple[bool, int | None]:
    """The page before the one that starts with finding `first_id`: whether there is one, and its
    cursor (None when it is the first page). The same order read backwards: the rest of the first
    finding's round before it, then the rounds before that round; no OFFSET either."""
    position = session.execute(
        sa.select(Round.local_date, Round.id).join(Finding, Finding.round_id == Round.id).where(Finding.id == first_id)
    ).first()
    if position is None:
        return False, None
    local_date, round_id = position

    def earlier(*extra, n: int) -> list[int]:
        return _walk(session, selection, extra, OLDEST_FIRST, n)

    ids = earlier(Round.id == round_id, Finding.id < first_id, n=limit + 1)
    if len(ids) <= limit:
        ids += earlier(sa.tuple_(Round.local_date, Round.id) > sa.tuple_(local_date, round_id), n=limit + 1 - len(ids))
    if not ids:
        return False, None
    # limit + 1 found: the earliest of them is where the previous page continues from.
    return True, (ids[limit] if len(ids) > limit else None)


def review_page(session: Session, user: User, flt: ReviewFilter, before: int | None = None,
                limit: int = PAGE_SIZE, selection: Selection | None = None) -> ReviewPage:
    """One page of findings of completed rounds in the user's scope, newest round first.
    (`selection`: select_findings' answer for this user and filter, when the caller has it.)"""
    selection = selection or select_findings(session, user, flt)
    ids, next_before = page_ids(session, selection, before, limit)
    has_previous, previous_before = (previous_cursor(session, selection, ids[0], limit)
                                     if before is not None and ids else (before is not None, None))
    return ReviewPage(load_findings(session, ids), next_before, before, has_previous, previous_before)


# Counts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    value: int
    capped: bool = False  # there are more than `value`

    def __str__(self) -> str:
        return f"{self.value}+" if self.capped else str(self.value)


@dataclass(frozen=True)
class ReviewCounts:
    findings: Count
    defects: Count
    unreviewed: Count
    rounds: Count


def _limited(selection: Selection, query: sa.Select, limit: int) -> sa.Subquery:
    """At most `limit` rows of a query of rounds, as a subquery; with `by_estate`, estate by estate
    (each walk stops at `limit` in its estate's index: one walk of the estates' ids together
    would pass over every other estate's rounds too)."""
    if not selection.by_estate:
        return query.limit(limit).subquery()
    parts = [query.where(Round.estate_id == estate_id).limit(limit).subquery() for estate_id in selection.by_estate]
    merged = sa.union_all(*(sa.select(*part.c) for part in parts)).subquery()
    return sa.select(*merged.c).limit(limit).subquery()


def _capped(session: Session, selection: Selection, query: sa.Select, cap: int) -> Count:
    n = session.scalar(sa.select(sa.func.count()).select_from(_limited(selection, query, cap + 1)))
    return Count(min(n, cap), n > cap)


def review_counts(session: Session, user: User, flt: ReviewFilter, cap: int | None = None,
                  selection: Selection | None = None) -> ReviewCounts:
    """How many findings, defects, findings not yet reviewed and rounds the filter matches,
    each counted up to `cap` (then shown as "1000+")."""
    cap = COUNT_CAP if cap is None else cap
    selection = selection or select_findings(session, user, flt)
    where = (*selection.round_conditions, *selection.finding_conditions)
    # One walk over at most cap + 1 findings answers all four counts when there are no more.
    first = _limited(selection, sa.select(Finding.result, Finding.reviewed_at, Round.id.label("round_id"))
                     .select_from(Round).join(Finding, Finding.round_id == Round.id).where(*where), cap + 1)
    n, defects, unreviewed, rounds = session.execute(sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.case((first.c.result == FindingResult.DEFECT, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((first.c.reviewed_at.is_(None), 1), else_=0)), 0),
        sa.func.count(sa.distinct(first.c.round_id)),
    )).one()
    if n <= cap:
        return ReviewCounts(Count(n), Count(defects), Count(unreviewed), Count(rounds))
    # More than `cap`: each count walks on by itself, and stops at `cap` too.
    total = Count(cap, True)
    findings = sa.select(sa.literal(1)).select_from(Round).join(Finding, Finding.round_id == Round.id).where(*where)
    defects = total if flt.defects_only else _capped(session, selection,
                                                     findings.where(Finding.result == FindingResult.DEFECT), cap)
    unreviewed = total if flt.unreviewed_only else _capped(session, selection,
                                                           findings.where(Finding.reviewed_at.is_(None)), cap)
    rounds_query = sa.select(sa.literal(1)).select_from(Round).where(*selection.round_conditions)
    if selection.finding_conditions:
        rounds_query = rounds_query.where(
            sa.exists().where(Finding.round_id == Round.id, *selection.finding_conditions)
        )
    return ReviewCounts(total, defects, unreviewed, _capped(session, selection, rounds_query, cap))


# Choices for the filter form ----------------------------------------------------------------


@dataclass
class FilterChoices:
    estates: list[Estate]
    estate: Estate | None  # the estate whose buildings and stewards are offered
    buildings: list[Building] = field(default_factory=list)
    stewards: list[User] = field(default_factory=list)


def filter_choices(session: Session, user: User, estate_id: int | None) -> FilterChoices:
    """What the filter form offers: the user's estates; buildings and stewards of the chosen
    estate (or of their only estate)."""

    estates = estates_of(session, user)
    estate = next((e for e in estates if e.id == estate_id), None)
    if estate is None and len(estates) == 1:
        estate = estates[0]
    if estate is None:
        return FilterChoices(estates, None)
    return FilterChoices(estates, estate, user.building_scope(estate), stewards_seen_by(session, estate, user))


# Actions ------------------------------------------------------------------------------------


def finding_for(session: Session, user: User, finding_uuid: str) -> Finding:
    """A finding of a completed round the user may review; NotVisible otherwise."""
    finding = session.scalars(
        sa.select(Finding).join(Round, Finding.round_id == Round.id)
        .where(Finding.uuid == finding_uuid, Round.status == RoundStatus.COMPLETED, _scope(user))
    ).first()
    if finding is None:
        raise NotVisible(finding_uuid)
    return finding


def mark_reviewed(session: Session, user: User, finding_uuids: list[str], now: datetime | None = None) -> int:
    """Mark findings reviewed by `user`; all or none. Returns how many were not reviewed before
    (a finding already reviewed keeps its first reviewer)."""
    uuids = list(dict.fromkeys(u.strip() for u in finding_uuids if u and u.strip()))
    if not uuids:
        raise ReviewError(_l("Choose at least one finding to mark reviewed."))
    if len(uuids) > MAX_MARKED_AT_ONCE:
        raise ReviewError(_l("Mark at most %(n)d findings at once.", n=MAX_MARKED_AT_ONCE))
    found = list(session.scalars(
        sa.select(Finding).join(Round, Finding.round_id == Round.id)
        .where(Finding.uuid.in_(uuids), Round.status == RoundStatus.COMPLETED, _scope(user))
    ))
    if len(found) != len(uuids):
        raise NotVisible(sorted(set(uuids) - {f.uuid for f in found}))
    # One UPDATE that skips what is reviewed already: two desks marking at once keep the first mark.
    result = session.execute(
        sa.update(Finding).where(Finding.id.in_([f.id for f in found]), Finding.reviewed_at.is_(None))
        .values(reviewed_at=now or datetime.now(timezone.utc), reviewed_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    for finding in found:
        session.expire(finding, ["reviewed_at", "reviewed_by_id", "reviewed_by"])
    return result.rowcount


def unmark_reviewed(session: Session, user: User, finding_uuids: list[str], at: datetime) -> int:
    """Undo `user`'s own marks made at `at` (one click, one mark time): the findings are not reviewed
    again. A mark by someone else, or made at another moment, stays. Returns how many were undone."""
    uuids = list(dict.fromkeys(u.strip() for u in finding_uuids if u and u.strip()))
    if not uuids:
        raise ReviewError(_l("Choose at least one finding to mark reviewed."))
    if len(uuids) > MAX_MARKED_AT_ONCE:
        raise ReviewError(_l("Mark at most %(n)d findings at once.", n=MAX_MARKED_AT_ONCE))
    found = list(session.scalars(
        sa.select(Finding).join(Round, Finding.round_id == Round.id)
        .where(Finding.uuid.in_(uuids), Round.status == RoundStatus.COMPLETED, _scope(user))
    ))
    if len(found) != len(uuids):
        raise NotVisible(sorted(set(uuids) - {f.uuid for f in found}))
    result = session.execute(
        sa.update(Finding).where(Finding.id.in_([f.id for f in found]), Finding.reviewed_by_id == user.id,
                                 Finding.reviewed_at == at)
        .values(reviewed_at=None, reviewed_by_id=None)
        .execution_options(synchronize_session=False)
    )
    for finding in found:
        session.expire(finding, ["reviewed_at", "reviewed_by_id", "reviewed_by"])
    return result.rowcount


def add_comment(session: Session, user: User, finding_uuid: str, text: str,
                now: datetime | None = None) -> FindingComment:
    finding = finding_for(session, user, finding_uuid)
    text = (text or "").strip()
    if not text:
        raise ReviewError(_l("Write the comment first."))
    if len(text) > COMMENT_MAX:
        raise ReviewError(_l("A comment is at most %(n)d characters.", n=COMMENT_MAX))
    comment = FindingComment(by_id=user.id, at=now or datetime.now(timezone.utc), text=text)
    finding.comments.append(comment)
    session.flush()
    return comment


def correct_route(session: Session, user: User, finding_uuid: str, route: str, note: str = "") -> bool:
    """Send the finding's repair ticket to another team (logged on the ticket). Returns False
    when it already went there."""
    finding = finding_for(session, user, finding_uuid)
    ticket = finding.ticket
    if ticket is None:
        raise ReviewError(_l("This finding has no repair ticket to send elsewhere."))
    try:
        target = DefectRoute((route or "").strip())
    except ValueError:
        raise ReviewError(_l("Choose engineering, cleaning or an outside party.")) from None
    if len(note or "") > 1000:
        raise ReviewError(_l("A note is at most %(n)d characters.", n=1000))
    if target is ticket.route:
        return False
    try:
        tickets.change_route(ticket, user, target, (note or "").strip())
    except tickets.TicketError as exc:
        raise ReviewError(exc.message) from None
    return True


# Places and the CSV export ------------------------------------------------------------------


def place_text(*, unit: str | None = None, asset: str | None = None, area: str | None = None,
               meter_where: str | None = None, meter_serial: str | None = None, entrance: str | None = None,
               floor: int | None = None, round_unit: str | None = None) -> str:
    """Where in the building (or estate) it was found (the building has a column of its own):
    the page and the CSV file say it the same way, and as tickets and summaries do."""
    meter = " · ".join(x for x in (meter_where, meter_serial) if x) if meter_serial else None
    return place_words(room=unit or round_unit, area=area, asset=asset, entrance=entrance, floor=floor, meter=meter)


def place_of(finding: Finding) -> str:
    m = finding.meter
    return place_text(
        unit=finding.unit.room_number if finding.unit else None,
        asset=finding.asset.name if finding.asset else None,
        area=finding.public_area.name if finding.public_area else None,
        meter_where=(m.unit.room_number if m.unit else m.location) if m else None,
        meter_serial=m.serial if m else None,
        entrance=finding.entrance.name if finding.entrance else None, floor=finding.floor,
        round_unit=finding.round.unit.room_number if finding.round.unit_id is not None and finding.unit is None else None,
    )


def csv_header() -> list[str]:
    return [str(x) for x in (
        _l("Estate"), _l("Building"), _l("Place"), _l("Round"), _l("Date"), _l("Steward"), _l("Item"),
        _l("Result"), _l("Reading"), _l("Reason"), _l("Note"), _l("Ticket number"), _l("Reviewed"),
    )]


def _export_query() -> sa.Select:
    """One row per finding with every cell of the CSV file: plain columns, no ORM objects."""
    round_building, entrance_building, unit_building = aliased(Building), aliased(Building), aliased(Building)
    meter_unit, meter_unit_building, round_unit = aliased(Unit), aliased(Building), aliased(Unit)
    return (
        sa.select(
            Finding.id, Finding.checklist_item_id.label("item_id"), Finding.result, Finding.reason_code,
            Finding.reason_text, Finding.note, Finding.reading_value, Finding.reviewed_at, Finding.floor,
            Round.local_date, Round.kind, Estate.name.label("estate"), Estate.timezone,
            sa.func.coalesce(round_building.name, entrance_building.name, unit_building.name,
                             meter_unit_building.name).label("building"),
            Entrance.name.label("entrance"), Unit.room_number.label("unit"), PublicArea.name.label("area"),
            Asset.name.label("asset"), Meter.serial.label("meter_serial"),
            sa.func.coalesce(meter_unit.room_number, Meter.location).label("meter_where"),
            round_unit.room_number.label("round_unit"), User.display_name.label("steward"),
            RepairTicket.number.label("ticket"),
        )
        .select_from(Finding)
        .join(Round, Finding.round_id == Round.id)
        .join(Estate, Round.estate_id == Estate.id)
        .join(User, Round.steward_id == User.id)
        .outerjoin(round_building, Round.building_id == round_building.id)
        .outerjoin(round_unit, Round.unit_id == round_unit.id)
        .outerjoin(Entrance, Finding.entrance_id == Entrance.id)
        .outerjoin(entrance_building, Entrance.building_id == entrance_building.id)
        .outerjoin(Unit, Finding.unit_id == Unit.id)
        .outerjoin(unit_building, Unit.building_id == unit_building.id)
        .outerjoin(PublicArea, Finding.public_area_id == PublicArea.id)
        .outerjoin(Asset, Finding.asset_id == Asset.id)
        .outerjoin(Meter, Finding.meter_id == Meter.id)
        .outerjoin(meter_unit, Meter.unit_id == meter_unit.id)
        .outerjoin(meter_unit_building, meter_unit.building_id == meter_unit_building.id)
        .outerjoin(RepairTicket, Finding.ticket_id == RepairTicket.id)
    )


def export_rows(session: Session, selection: Selection, language: str, batch: int = EXPORT_BATCH) -> Iterator[list]:
    """Every finding of the selection as CSV cells, newest round first, read in keyset batches of
    plain rows (memory stays flat over a year of findings). The answer as it stands: a correction's."""

    results = {r: str(label) for r, label in FINDING_RESULT.items()}
    kinds = {k: str(label) for k, label in ROUND_KIND.items()}
    items: dict[int, tuple[str, dict]] = {}  # id -> (label, reason labels by code)
    query = _export_query()
    before = None
    while True:
        ids, before = page_ids(session, selection, before, batch)
        rows = {row.id: row for row in session.execute(query.where(Finding.id.in_(ids)))} if ids else {}
        latest = {}
        if ids:
            for a in session.execute(
                sa.select(FindingAmendment.finding_id, FindingAmendment.result, FindingAmendment.reason_code,
                          FindingAmendment.reason_text, FindingAmendment.note, FindingAmendment.reading_value)
                .where(FindingAmendment.finding_id.in_(ids)).order_by(FindingAmendment.id)
            ):
                latest[a.finding_id] = a
        missing = {r.item_id for r in rows.values()} - items.keys()
        for item in session.scalars(sa.select(ChecklistItem).where(ChecklistItem.id.in_(missing))) if missing else ():
            items[item.id] = (item.label(language), {
                c["code"]: c["label"].get(language) or c["label"]["zh_Hant"] for c in item.reasons})
        for finding_id in ids:
            row = rows[finding_id]
            now = latest.get(finding_id, row)
            label, reasons = items[row.item_id]
            reason = ""
            if now.result is FindingResult.DEFECT:
                reason = " ".join(x for x in (reasons.get(now.reason_code, ""), now.reason_text) if x)
            reviewed = ""
            if row.reviewed_at is not None:
                reviewed = f"{row.reviewed_at.astimezone(ZoneInfo(row.timezone)):%Y-%m-%d %H:%M}"
            yield [
                row.estate, row.building or "",
                place_text(unit=row.unit, asset=row.asset, area=row.area, meter_where=row.meter_where,
                           meter_serial=row.meter_serial, entrance=row.entrance, floor=row.floor,
                           round_unit=row.round_unit),
                kinds[row.kind], row.local_date.isoformat(), row.steward, label, results[now.result],
                "" if now.reading_value is None else str(now.reading_value), reason, now.note, row.ticket or "",
                reviewed,
            ]
        if before is None:
            return


def export_filename(flt: ReviewFilter) -> str:
    return f"xuncha-findings-{flt.date_from.isoformat()}-{flt.date_to.isoformat()}.csv"


def with_cursor(flt: ReviewFilter, before: int | None) -> dict[str, str]:
    args = flt.to_args()
    if before is not None:
        args["before"] = str(before)
    return args
