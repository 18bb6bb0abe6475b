"""The office's landing pages: the desk's day (what waits, buildings, rounds board, unit search)
and the supervisor's board (rounds missed this month and overdue today, per steward)."""
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
    whole_estates_of,
)
from ..extensions import db
from ..models import Role
from ..rounds import overview
from ..units.search import unit_search
from . import desk_waiting, missed_this_month

bp = Blueprint("dashboard", __name__, url_prefix="/desk")


@bp.route("/")
@roles(Role.DESK, Role.SUPERVISOR)
def index():
    estates = [(e, overview.building_summaries(db.session, e, current_user),
                overview.rounds_board(db.session, e, current_user)) for e in estates_of(db.session, current_user)]
    q = request.args.get("q", "")
    units = unit_search(db.session, current_user, q)
    return render_template("dashboard/index.html", estates=estates, q=q, units=units,
                           waiting=desk_waiting(db.session, current_user))


@bp.route("/supervisor")
@roles(Role.SUPERVISOR)
def supervisor():
    # Missed rounds as the summaries count them: only for estates the supervisor has as a whole
    # (a summary covers every building and steward of its estate).
    whole = {e.id for e in whole_estates_of(db.session, current_user)}
    boards = [(e, overview.rounds_board(db.session, e, current_user),
               missed_this_month(db.session, e) if e.id in whole else None)
              for e in estates_of(db.session, current_user)]
    return render_template("dashboard/supervisor.html", boards=boards,
                           waiting=desk_waiting(db.session, current_user))
