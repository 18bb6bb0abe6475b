from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, render_template
from flask_login import current_user

from ..access import estates_of, roles
from ..extensions import db
from ..models import Role
from ..rounds import overview
from . import tickets

bp = Blueprint("engineering", __name__, url_prefix="/engineering")


@bp.route("/")
@roles(Role.ENGINEERING)
def index():
    """The team's queue on a phone: its open tickets, urgent first, then by due time."""
    return render_template("engineering/index.html", queue=tickets.engineering_queue(db.session, current_user),
                           now=datetime.now(timezone.utc))


@bp.route("/meters")
@roles(Role.ENGINEERING)
def meters():
    estates = estates_of(db.session, current_user)
    return render_template(
        "engineering/meters.html", meters=[(e, overview.meter_standing(db.session, e, current_user)) for e in estates]
    )
