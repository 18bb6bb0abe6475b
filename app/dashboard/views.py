"""The office's landing pages: the desk's day (buildings, rounds board, unit search) and the
supervisor's board."""
from __future__ import annotations

from flask import (
    Blueprint,
    render_template,
    request,
)
from flask_login import current_user

from ..access import (
    estates_of,
    roles,
)
from ..extensions import db
from ..models import Role
from ..rounds import overview
from ..units.search import unit_search

bp = Blueprint("dashboard", __name__, url_prefix="/desk")


@bp.route("/")
@roles(Role.DESK, Role.SUPERVISOR)
def index():
    estates = [(e, overview.building_summaries(db.session, e, current_user),
                overview.rounds_board(db.session, e, current_user)) for e in estates_of(db.session, current_user)]
    q = request.args.get("q", "")
    units = unit_search(db.session, current_user, q)
    return render_template("dashboard/index.html", estates=estates, q=q, units=units)


@bp.route("/supervisor")
@roles(Role.SUPERVISOR)
def supervisor():
    boards = [(e, overview.rounds_board(db.session, e, current_user)) for e in estates_of(db.session, current_user)]
    return render_template("dashboard/supervisor.html", boards=boards)
