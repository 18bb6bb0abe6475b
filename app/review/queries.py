"""The review list's filters, keyset pages, counts and filter choices (see the package's docstring)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..access import estates_of
from ..guard import record_id
from ..models import (
    Asset,
    Building,
    DefectRoute,
    Estate,
    Finding,
    FindingComment,
    FindingResult,
    Meter,
    RepairTicket,
    Round,
    RoundKind,
    RoundStatus,
    User,
)
from ..refusals import NotVisible, Rejected
from ..repairs import tickets
from ..rounds.overview import stewards_seen_by
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


def with_cursor(flt: ReviewFilter, before: int | None) -> dict[str, str]:
    args = flt.to_args()
    if before is not None:
        args["before"] = str(before)
    return args
