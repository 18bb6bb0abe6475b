"""Where a finding was, in words, and the CSV export of a selection."""
from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, aliased

from ..labels import FINDING_RESULT, ROUND_KIND
from ..models import (
    Asset,
    Building,
    ChecklistItem,
    Entrance,
    Estate,
    Finding,
    FindingAmendment,
    FindingResult,
    Meter,
    PublicArea,
    RepairTicket,
    Round,
    Unit,
    User,
    place_words,
)
from .queries import EXPORT_BATCH, ReviewFilter, Selection, page_ids


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
