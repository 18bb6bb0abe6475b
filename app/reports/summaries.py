"""Summaries (總結分析): what a week or a month of rounds and repairs says about one estate.

The manual asks the desk and the supervisor to analyse repairs (七 7.3), return visits (六 6.3)
and patrols (八 8.3) periodically, to find the root causes and the patterns (找出問題的根源和規律).
`estate_summary` gives the figures for one estate and one period:

* defects found on completed rounds, by category, by building and by checklist item, and the
  places found defective again and again;
* repair tickets opened, closed and cancelled, per route; the median time to repair and the
  share repaired within the target time, per route;
* return-visit grades (回訪: A 滿意, B 較滿意, C 不滿意);
* round completion: occurrences done against due per round kind, and missed per steward.

Everything is counted on the estate's own calendar: a period runs from local midnight of its
first day to local midnight after its last day. Rounds are counted by their `local_date`
(the estate-local day they were started on, as the schedule counts them); tickets and return
visits by their UTC instants, compared with the period's local bounds.

Counting is done in SQL, restricted to the estate and the period through indexed columns
(rounds through ix_round_estate_kind_date, then their findings by round; tickets through their
estate). Only small results come back: the period's defects grouped by round, place and item
(about one row per defect, summed here into every defect figure in one pass over the findings),
the tickets opened, closed or repaired in the period (for the medians), the return-visit grades,
and the period's completed rounds (to match them with the occurrences the schedule makes due).
Nothing here needs a request: labels that depend on the language are resolved by the page.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..models import (
    Asset,
    Building,
    ChecklistItem,
    DefectRoute,
    Entrance,
    Estate,
    Finding,
    FindingAmendment,
    FindingResult,
    Meter,
    PublicArea,
    RepairTicket,
    Round,
    RoundKind,
    RoundStatus,
    TicketEvent,
    TicketStatus,
    Unit,
    place_words,
)
from ..repairs.tickets import TICKET_ROUTES
from ..rounds import schedule
from .completion import (  # noqa: F401  (re-exported: the summaries' own names)
    KIND_ORDER,
    Completion,
    KindCompletion,
    MissedRound,
    StewardCompletion,
    _round_completion,
    round_completion,
)
from .periods import PERIOD_KINDS, Period, PeriodError, parse_period  # noqa: F401  (re-exported)

TOP_ITEMS = 10  # the checklist items with the most defects
TOP_PLACES = 10  # the places found defective most often
GRADES = ("A", "B", "C")
ROUTE_ORDER = [r for r in DefectRoute if r in TICKET_ROUTES]


# ---------------------------------------------------------------------------------------------
# The figures


@dataclass(frozen=True)
class KindCount:
    kind: RoundKind
    count: int


@dataclass(frozen=True)
class BuildingCount:
    building_id: int | None  # None: the estate's own places (public areas, estate-wide checks)
    name: str | None
    count: int


@dataclass(frozen=True)
class ItemCount:
    code: str  # stable across checklist versions
    kind: RoundKind
    labels: dict[str, str]  # zh_Hant, zh_Hans, en
    count: int

    def label(self, lang: str) -> str:
        return self.labels.get(lang) or self.labels["zh_Hant"]


@dataclass(frozen=True)
class RecurringPlace:
    label: str  # e.g. "2棟 1梯 5F", "1棟 301", "兒童遊樂場" (names as entered, not translated)
    rounds: int  # on how many rounds of the period it was found defective
    defects: int  # how many defects were recorded there


@dataclass(frozen=True)
class RouteFigures:
    route: DefectRoute
    opened: int
    closed: int
    repaired: int  # tickets repaired in the period
    within_target: int  # of those, repaired by their due time
    median_hours: float | None  # created → repaired, of the tickets repaired in the period

    @property
    def share_within_target(self) -> float | None:
        return self.within_target / self.repaired if self.repaired else None


@dataclass(frozen=True)
class EstateSummary:
    estate: Estate
    period: Period
    today: date  # the estate-local date the summary was made on: what "so far" means
    rounds_completed: int
    defects: int
    by_category: list[KindCount]
    by_building: list[BuildingCount]
    by_item: list[ItemCount]  # top TOP_ITEMS
    recurring_places: list[RecurringPlace]  # top TOP_PLACES found defective on 2 rounds or more
    tickets_opened: int
    tickets_closed: int
    tickets_cancelled: int
    routes: list[RouteFigures]
    tickets_repaired: int
    repaired_within_target: int
    median_hours: float | None
    grades: dict[str, int]
    completion: list[KindCompletion]
    completion_total: Completion
    stewards: list[StewardCompletion]  # most missed first
    items_shown: int = TOP_ITEMS
    places_shown: int = TOP_PLACES
    notes: list[str] = field(default_factory=list)

    @property
    def share_within_target(self) -> float | None:
        return self.repaired_within_target / self.tickets_repaired if self.tickets_repaired else None

    @property
    def return_visits(self) -> int:
        return sum(self.grades.values())


def estate_summary(session: Session, estate: Estate, period: Period, now: datetime | None = None) -> EstateSummary:
    """Every figure of the summary of `estate` over `period`, as things stand at `now`."""
    now = now or datetime.now(timezone.utc)
    today = schedule.local_date(estate, now)
    start_utc, end_utc = period.bounds(estate.timezone)

    by_category, by_building, by_item, recurring_places, defects = _defects(session, estate, period)
    routes, cancelled = _ticket_figures(session, estate, start_utc, end_utc)
    everything = routes.pop(None)
    completion, stewards, rounds_completed = _round_completion(session, estate, period, today)
    return EstateSummary(
        estate=estate, period=period, today=today, rounds_completed=rounds_completed,
        defects=defects, by_category=by_category, by_building=by_building, by_item=by_item,
        recurring_places=recurring_places,
        tickets_opened=everything.opened, tickets_closed=everything.closed,
        tickets_cancelled=cancelled,
        routes=[routes[r] for r in ROUTE_ORDER] + [f for r, f in routes.items() if r not in ROUTE_ORDER],
        tickets_repaired=everything.repaired, repaired_within_target=everything.within_target,
        median_hours=everything.median_hours,
        grades=_grades(session, estate, start_utc, end_utc),
        completion=completion, completion_total=sum((c.completion for c in completion), Completion()),
        stewards=stewards,
    )


# --- Defects ---------------------------------------------------------------------------------
#
# "Category" (分類) is the round the defect was found on, i.e. the checklist it belongs to: the
# manual sorts the steward's checks that way (二(二): corridor lighting and hygiene, public
# facilities and greenery, vacant units, decoration, meters), and each checklist item belongs to
# exactly one of them. `applies_to` (floor, entrance, road…) says where an item is asked, not what
# kind of problem it is, so it is not used; the finer "what" is the item itself (by_item).


def _current_result():
    """The answer as it stands: the latest correction (FindingAmendment), else the finding."""
    latest = (
        sa.select(FindingAmendment.result)
        .where(FindingAmendment.finding_id == Finding.id)
        .order_by(FindingAmendment.id.desc())
        .limit(1)
        .correlate(Finding)
        .scalar_subquery()
    )
    return sa.func.coalesce(latest, Finding.result)


PLACE_COLUMNS = (Finding.entrance_id, Finding.floor, Finding.public_area_id, Finding.asset_id,
                 Finding.unit_id, Finding.meter_id)


def _defect_groups(session: Session, estate: Estate, period: Period):  # noqa: ANN202
    """Defects (as currently answered) of the estate's rounds completed with a local date in the
    period, grouped by round, checkpoint and item: (kind, building, item code, *place, round id,
    count, *names of the place). `building` is the building of the place: the round's, else that
    of the stairwell, the unit or the elevator's stairwell; NULL for the estate's own places
    (roads, greenery, garage…)."""
    entrance = aliased(Entrance)
    unit = aliased(Unit)
    asset_entrance = aliased(Entrance)
    building = sa.func.coalesce(Round.building_id, entrance.building_id, unit.building_id,
                                asset_entrance.building_id).label("building")
    query = (
        sa.select(Round.kind, building, ChecklistItem.code, *PLACE_COLUMNS, Round.id, sa.func.count(),
                  sa.func.min(entrance.name), sa.func.min(unit.room_number), sa.func.min(PublicArea.name),
                  sa.func.min(Asset.name), sa.func.min(Meter.serial))
        .select_from(Round)
        .join(Finding, Finding.round_id == Round.id)
        .join(ChecklistItem, Finding.checklist_item_id == ChecklistItem.id)
        .outerjoin(entrance, Finding.entrance_id == entrance.id)
        .outerjoin(unit, Finding.unit_id == unit.id)
        .outerjoin(Asset, Finding.asset_id == Asset.id)
        .outerjoin(asset_entrance, Asset.entrance_id == asset_entrance.id)
        .outerjoin(PublicArea, Finding.public_area_id == PublicArea.id)
        .outerjoin(Meter, Finding.meter_id == Meter.id)
        .where(
            Round.estate_id == estate.id,
            # Every kind named, so the (estate_id, kind, local_date) index bounds the dates too.
            Round.kind.in_(list(RoundKind)),
            Round.local_date >= period.start,
            Round.local_date < period.end,
            Round.status == RoundStatus.COMPLETED,
            _current_result() == FindingResult.DEFECT.value,
        )
        .group_by(Round.kind, building, ChecklistItem.code, *PLACE_COLUMNS, Round.id)
    )
    return session.execute(query)


def _defects(session: Session, estate: Estate, period: Period):  # noqa: ANN202
    """All the defect figures from one pass over the period's findings.

    SQL groups the defects by round, checkpoint and item (about one row per defect: a few hundred
    for an estate's month), and the counts by category, building, item and place are summed from
    those rows, so the findings are read once instead of once per figure.

    Recurring places: the places found defective on two rounds or more in the period, most rounds
    first. A place is a checkpoint (a floor of a stairwell, a stairwell, a public area, an elevator,
    a unit, a meter, or the estate itself): three defects on one round at one floor are one
    sighting, the same floor defective on three rounds is three."""
    kinds: dict[RoundKind, int] = defaultdict(int)
    buildings: dict[int | None, int] = defaultdict(int)
    items: dict[tuple[str, RoundKind], int] = defaultdict(int)
    places: dict[tuple, list] = {}  # (building, *place) → [round ids, defects, names]
    total = 0
    for kind, building_id, code, *place, round_id, n, entrance, room, area, asset, meter in _defect_groups(
            session, estate, period):
        kinds[kind] += n
        buildings[building_id] += n
        items[(code, kind)] += n
        seen = places.setdefault((building_id, *place), [set(), 0, (entrance, room, area, asset, meter)])
        seen[0].add(round_id)
        seen[1] += n
        total += n

    by_category = sorted((KindCount(k, n) for k, n in kinds.items()),
                         key=lambda c: (-c.count, KIND_ORDER.index(c.kind)))

    ordered = session.execute(
        sa.select(Building.id, Building.name).where(Building.estate_id == estate.id)
        .order_by(Building.position, Building.id)
    ).all() if buildings else []
    names = {bid: name for bid, name in ordered}
    positions = {bid: i for i, (bid, _name) in enumerate(ordered)}
    by_building = sorted(
        (BuildingCount(bid, names.get(bid) if bid is not None else None, n) for bid, n in buildings.items()),
        key=lambda c: (-c.count, c.building_id is None, positions.get(c.building_id, 0)),
    )

    top = sorted(items.items(), key=lambda kv: (-kv[1], KIND_ORDER.index(kv[0][1]), kv[0][0]))[:TOP_ITEMS]
    labels = _item_labels(session, [code for (code, _), _ in top])
    by_item = [ItemCount(code, kind, labels.get(code, {"zh_Hant": code}), n) for (code, kind), n in top]

    recurring = sorted(
        ((key, len(rounds), n, words) for key, (rounds, n, words) in places.items() if len(rounds) >= 2),
        key=lambda p: (-p[1], -p[2], tuple(-1 if x is None else x for x in p[0])),
    )[:TOP_PLACES]
    recurring_places = [RecurringPlace(_place_label(estate, names.get(key[0]), key[2], *words), r, n)
                        for key, r, n, words in recurring]
    return by_category, by_building, by_item, recurring_places, total


def _place_label(estate: Estate, building: str | None, floor: int | None, entrance: str | None,
                 room: str | None, area: str | None, asset: str | None, meter: str | None) -> str:
    return place_words(building=building, room=room, area=area, asset=asset, entrance=entrance, floor=floor,
                       meter=meter, fallback=estate.name)


def _item_labels(session: Session, codes: list[str]) -> dict[str, dict[str, str]]:
    """Each code's labels as its latest checklist version words them."""
    if not codes:
        return {}
    rows = session.execute(
        sa.select(ChecklistItem.code, ChecklistItem.label_zh_hant, ChecklistItem.label_zh_hans, ChecklistItem.label_en)
        .where(ChecklistItem.code.in_(codes))
        .order_by(ChecklistItem.version_id)
    )
    return {code: {"zh_Hant": hant, "zh_Hans": hans, "en": en} for code, hant, hans, en in rows}


# --- Tickets ---------------------------------------------------------------------------------


def _between(column, start_utc: datetime, end_utc: datetime):  # noqa: ANN001, ANN202
    return sa.and_(column >= start_utc, column < end_utc)


def _ticket_figures(session: Session, estate: Estate, start_utc: datetime, end_utc: datetime):  # noqa: ANN202
    """Per route: opened, closed; and from the tickets repaired in the period, the median hours to
    repair and how many were repaired by their due time. Key None holds all routes together.

    Opened: created in the period, except duplicates merged into another ticket.
    Closed: closed in the period and still closed (checked on site, or a return visit A/B); a
    ticket reopened by a C is not closed. Repaired: repaired in the period (its latest repair, if
    a failed check or a C sent it back), not cancelled since; time to repair = created → repaired;
    within target = repaired no later than its due time (due_at, from the urgency's clock)."""
    T = RepairTicket
    counts: dict[DefectRoute, list[int]] = defaultdict(lambda: [0, 0])  # opened, closed
    hours: dict[DefectRoute, list[float]] = defaultdict(list)
    in_time: dict[DefectRoute, int] = defaultdict(int)
    n_cancelled = 0

    def within(moment: datetime | None) -> bool:
        return moment is not None and start_utc <= moment < end_utc

    # One pass over the estate's tickets: those that were opened, closed or repaired in the period
    # (a few hundred rows for a month), counted here.
    for route, status, merged_into, created_at, closed_at, repaired_at, due_at in session.execute(
        sa.select(T.route, T.status, T.merged_into_id, T.created_at, T.closed_at, T.repaired_at, T.due_at)
        .where(T.estate_id == estate.id, sa.or_(_between(T.created_at, start_utc, end_utc),
                                                _between(T.closed_at, start_utc, end_utc),
                                                _between(T.repaired_at, start_utc, end_utc)))
    ):
        if within(created_at) and merged_into is None:
            counts[route][0] += 1
        if within(closed_at) and status is TicketStatus.CLOSED:
            counts[route][1] += 1
        if within(closed_at) and status is TicketStatus.CANCELLED and merged_into is None:
            n_cancelled += 1
        if within(repaired_at) and status is not TicketStatus.CANCELLED:
            hours[route].append((repaired_at - created_at).total_seconds() / 3600)
            in_time[route] += repaired_at <= due_at

    def figures(route: DefectRoute | None, routes: list[DefectRoute]) -> RouteFigures:
        h = [x for r in routes for x in hours.get(r, [])]
        return RouteFigures(
            route=route, opened=sum(counts[r][0] for r in routes if r in counts),
            closed=sum(counts[r][1] for r in routes if r in counts), repaired=len(h),
            within_target=sum(in_time.get(r, 0) for r in routes),
            median_hours=statistics.median(h) if h else None,
        )

    # Every route a ticket can have had: TICKET_ROUTES, and any other found (older data).
    seen = set(counts) | set(hours)
    result: dict[DefectRoute | None, RouteFigures] = {r: figures(r, [r]) for r in ROUTE_ORDER}
    for route in seen - set(ROUTE_ORDER):
        result[route] = figures(route, [route])
    result[None] = figures(None, list(set(ROUTE_ORDER) | seen))
    return result, n_cancelled


def _grades(session: Session, estate: Estate, start_utc: datetime, end_utc: datetime) -> dict[str, int]:
    """Return visits (回訪) made in the period, by grade: A 滿意, B 較滿意, C 不滿意."""
    grade = TicketEvent.data["grade"].as_string()
    rows = session.execute(
        sa.select(grade, sa.func.count())
        .select_from(TicketEvent)
        .join(RepairTicket, TicketEvent.ticket_id == RepairTicket.id)
        .where(RepairTicket.estate_id == estate.id, RepairTicket.is_unit_repair.is_(True),
               # A ticket visited in the period was open then: it was opened before the period's
               # end, and it is still open or was closed (by that visit or later) after its start.
               # This spares reading the events of the tickets closed long before.
               RepairTicket.created_at < end_utc,
               sa.or_(RepairTicket.closed_at.is_(None), RepairTicket.closed_at >= start_utc),
               TicketEvent.kind == "return_visit", _between(TicketEvent.at, start_utc, end_utc))
        .group_by(grade)
    )
    counts = dict.fromkeys(GRADES, 0)
    for g, n in rows:
        if g in counts:
            counts[g] = n
    return counts
