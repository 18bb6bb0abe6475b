from __future__ import annotations

from flask import render_template
from flask_login import current_user

from .. import schedule
from ..access import roles
from ..extensions import db
from ..models import Role
from . import bp


@bp.route("/today")
@roles(Role.STEWARD)
def today():
    due = schedule.due_rounds(db.session, current_user)
    overdue = [d for d in due if d.status is schedule.DueStatus.OVERDUE]
    on_time = [d for d in due if d.status is schedule.DueStatus.DUE]
    return render_template("rounds/today.html", overdue=overdue, due=on_time)
