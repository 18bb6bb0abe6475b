"""A checkpoint sticker found missing or damaged on a round becomes a ticket to replace it, in the
completion's transaction (like a defect: app/repairs/tickets.py), or is seen again on the open one."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import (
    CheckpointScan,
    DefectRoute,
    Entrance,
    Estate,
    RepairTicket,
    Round,
    ScanOutcome,
    TicketChannel,
    TicketStatus,
    Unit,
    Urgency,
)
from ..rounds.checkpoints import place_of_key
from ..rounds.intake import round_completed
from .tickets import PLACE_COLUMNS, _log, clock_for, next_number

#: The tickets' item code (stable, like a checklist item's): "replace a checkpoint sticker".
STICKER_ITEM = "checkpoint_sticker"
DESCRIPTION = "巡查點貼紙遺失或損壞，請補貼"


def _building_id(session: Session, rnd: Round, place: dict) -> int | None:
    if rnd.building_id is not None:
        return rnd.building_id
    if place["entrance_id"] is not None:
        entrance = session.get(Entrance, place["entrance_id"])
        return entrance.building_id if entrance else None
    if place["unit_id"] is not None:
        unit = session.get(Unit, place["unit_id"])
        return unit.building_id if unit else None
    return None


def ticket_for_sticker(session: Session, rnd: Round, scan: CheckpointScan, now: datetime) -> RepairTicket:
    place = place_of_key(scan.checkpoint_key or "")
    session.execute(sa.select(Estate.id).where(Estate.id == rnd.estate_id).with_for_update(key_share=True))
    building_id = _building_id(session, rnd, place)
    query = sa.select(RepairTicket).where(
        RepairTicket.estate_id == rnd.estate_id, RepairTicket.item_code == STICKER_ITEM,
        RepairTicket.status.not_in([TicketStatus.CLOSED, TicketStatus.CANCELLED]))
    for column in PLACE_COLUMNS:
        attr = getattr(RepairTicket, column)
        query = query.where(attr.is_(None) if place[column] is None else attr == place[column])
    ticket = session.scalars(query.order_by(RepairTicket.id).limit(1)).first()
    if ticket is not None:
        ticket.recurrences += 1
        scan.ticket = ticket
        _log(ticket, "seen_again", rnd.steward, ticket.status, scan.reason, scan_uuid=scan.uuid, round_uuid=rnd.uuid)
        return ticket
    clock = clock_for(session, rnd.estate_id, Urgency.PLANNED)
    ticket = RepairTicket(
        number=next_number(session, rnd.estate, now), estate_id=rnd.estate_id, building_id=building_id,
        item_code=STICKER_ITEM, channel=TicketChannel.ROUND, route=DefectRoute.ENGINEERING, urgency=Urgency.PLANNED,
        status=TicketStatus.NEW, is_unit_repair=False,
        description=" · ".join(x for x in (DESCRIPTION, scan.code.label if scan.code else "", scan.reason) if x)[:1000],
        created_at=now, due_at=now + timedelta(minutes=clock.done_minutes),
        on_site_due_at=now + timedelta(minutes=clock.on_site_minutes) if clock.on_site_minutes else None,
        created_by_id=rnd.steward_id, **place,
    )
    session.add(ticket)
    scan.ticket = ticket
    _log(ticket, "opened", rnd.steward, None, scan_uuid=scan.uuid, round_uuid=rnd.uuid)
    return ticket


@round_completed.connect
def _tickets_for_damaged_stickers(session: Session, *, round: Round, findings: list, now: datetime) -> None:  # noqa: A002, ARG001
    """Each sticker recorded missing or damaged on the round: a ticket to replace it."""
    damaged = session.scalars(sa.select(CheckpointScan).where(
        CheckpointScan.round_id == round.id, CheckpointScan.outcome == ScanOutcome.STICKER_DAMAGED)
        .order_by(CheckpointScan.id))
    for scan in damaged:
        ticket_for_sticker(session, round, scan, now)
