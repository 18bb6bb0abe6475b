"""Teams in the browser (blueprint "teams", /admin/teams): an estate's teams and their phone
numbers, added and changed by the administrator (every estate) or a supervisor of the whole estate."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import roles, whole_estates_of
from ..extensions import db
from ..models import Estate, Role, Team, TeamKind
from . import teams, tickets

bp = Blueprint("teams", __name__, url_prefix="/admin/teams")
WHO = (Role.ADMIN, Role.SUPERVISOR)


def _estates() -> list[Estate]:
    if current_user.role is Role.ADMIN:
        return [e for e in db.session.scalars(sa.select(Estate).order_by(Estate.code)) if not e.retired]
    return whole_estates_of(db.session, current_user)


def _form() -> teams.TeamInput:
    return teams.TeamInput(name=request.form.get("name", ""), kind=request.form.get("kind", ""),
                           phone=request.form.get("phone", ""), active=request.form.get("active") == "1")


def _page(estates: list[Estate], error: teams.TeamError | None = None, failed: str | None = None, status: int = 200):
    return render_template(
        "teams/index.html", estates=[(e, tickets.teams_of(db.session, e.id, active_only=False)) for e in estates],
        kinds=list(TeamKind), error=error, failed=failed, form=request.form if error else {},
    ), status


@bp.route("/")
@roles(*WHO)
def index():
    return _page(_estates())


@bp.route("/<int:estate_id>/new", methods=["POST"])
@roles(*WHO)
def new(estate_id: int):
    estates = _estates()
    estate = next((e for e in estates if e.id == estate_id), None)
    if estate is None:
        abort(404)
    try:
        team = teams.add_team(db.session, estate, _form())
    except teams.TeamError as exc:
        db.session.rollback()
        return _page(estates, exc, f"new-{estate_id}", 422)
    db.session.commit()
    flash(_("Team %(name)s added.", name=team.name), "info")
    return redirect(url_for("teams.index") + f"#team-{team.id}")


@bp.route("/<int:team_id>", methods=["POST"])
@roles(*WHO)
def update(team_id: int):
    estates = _estates()
    team = db.session.get(Team, team_id)
    if team is None or team.estate_id not in {e.id for e in estates}:
        abort(404)
    try:
        teams.update_team(db.session, team, _form())
    except teams.TeamError as exc:
        db.session.rollback()
        return _page(estates, exc, f"team-{team_id}", 422)
    db.session.commit()
    flash(_("Team %(name)s saved.", name=team.name), "info")
    return redirect(url_for("teams.index") + f"#team-{team.id}")
