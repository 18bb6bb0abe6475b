from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import overview, tickets
from ..access import estates_of, roles
from ..extensions import db
from ..models import RepairTicket, Role, TicketStatus, Urgency
from . import bp

QUEUE_LIMIT = 200


@bp.route("/")
@roles(Role.ENGINEERING)
def index():
    """The team's queue on a phone: its open tickets, urgent first, then by due time."""
    urgency_order = sa.case((RepairTicket.urgency == Urgency.URGENT, 0), (RepairTicket.urgency == Urgency.NORMAL, 1), else_=2)
    queue = list(db.session.scalars(
        tickets.visible_tickets(current_user)
        .where(RepairTicket.status.in_([TicketStatus.NEW, TicketStatus.DISPATCHED, TicketStatus.IN_PROGRESS]))
        .order_by(urgency_order, RepairTicket.due_at).limit(QUEUE_LIMIT)
        .options(selectinload(RepairTicket.estate), selectinload(RepairTicket.building),
                 selectinload(RepairTicket.unit), selectinload(RepairTicket.public_area),
                 selectinload(RepairTicket.entrance), selectinload(RepairTicket.asset),
                 selectinload(RepairTicket.meter))))
    return render_template("engineering/index.html", queue=queue, now=datetime.now(timezone.utc))


@bp.route("/meters")
@roles(Role.ENGINEERING)
def meters():
    estates = estates_of(db.session, current_user)
    return render_template(
        "engineering/meters.html", meters=[(e, overview.meter_standing(db.session, e)) for e in estates]
    )
