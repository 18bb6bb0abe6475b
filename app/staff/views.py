"""The administrator's staff pages (blueprint "staff", /admin/staff): the list, a user's page (name,
role and assignment; password reset; deactivate or reactivate), a new user, covers for leave."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..access import roles
from ..extensions import db
from ..models import Estate, Role, User
from ..refusals import Conflict, Refusal
from ..web import refused
from . import accounts, covers
from .forms import AssignmentChoice, read_assignments, read_cover, read_role

bp = Blueprint("staff", __name__, url_prefix="/admin/staff")


def _estates_for(user: User | None) -> list[Estate]:
    """The estates (with their buildings) an assignment may name: those in service, and any retired
    one the user still holds, so it can be taken away."""
    held = set() if user is None else {e.id for e in user.estates} | {b.estate_id for b in user.buildings}
    return [e for e in db.session.scalars(sa.select(Estate).order_by(Estate.code))
            if not e.retired or e.id in held]


def _no_store(response):  # noqa: ANN001, ANN202
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@roles(Role.ADMIN)
def index():
    q = (request.args.get("q") or "").strip()[:64]
    role = next((r for r in Role if r.value == request.args.get("role")), None)
    inactive = request.args.get("inactive") == "1"
    people = accounts.staff_list(db.session, q, role, inactive)
    return render_template("staff/index.html", people=people, q=q, role=role, inactive=inactive)


def _user_page(user: User | None, *, values: dict | None = None, choice: AssignmentChoice | None = None,
               errors: dict | None = None, message: str | None = None, status: int = 200):
    """The new-user or user page, with what was posted (and its problems) or the user as stored."""
    values = values or ({"username": user.username, "display_name": user.display_name, "role": user.role.value}
                        if user else {"role": Role.STEWARD.value})
    return render_template(
        "staff/user.html", user=user, values=values, choice=choice or AssignmentChoice.of(user),
        estates=_estates_for(user), errors=errors or {}, message=message,
        seen=accounts.fingerprint(user) if user else "",
        covers=accounts.open_covers(db.session, user, _now()) if user else [],
    ), status


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _read_user_form(user: User | None):  # noqa: ANN202
    errors: dict = {}
    role = read_role(request.form, errors)
    choice, assignments, problems = read_assignments(request.form, _estates_for(user))
    errors.update(problems)
    values = {"username": request.form.get("username", "").strip(),
              "display_name": request.form.get("display_name", "").strip(), "role": request.form.get("role", "")}
    return role, choice, assignments, values, errors


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def new():
    if request.method == "GET":
        return _user_page(None)
    role, choice, assignments, values, errors = _read_user_form(None)
    if errors:
        return _user_page(None, values=values, choice=choice, errors=errors,
                          message=_("Nothing was saved: see the notes below."), status=422)
    try:
        user, temporary = accounts.create_user(db.session, current_user, username=values["username"],
                                               display_name=values["display_name"], role=role,
                                               assignments=assignments)
    except Refusal as exc:
        db.session.rollback()
        return _user_page(None, values=values, choice=choice, errors=exc.errors, message=str(exc.message),
                          status=exc.status)
    db.session.commit()
    return _no_store(make_response(render_template("staff/password.html", user=user, temporary=temporary,
                                                   created=True)))


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def user(user_id: int):
    person = accounts.user_for(db.session, user_id)
    if request.method == "GET":
        return _user_page(person)
    role, choice, assignments, values, errors = _read_user_form(person)
    values["username"] = person.username
    if errors:
        return _user_page(person, values=values, choice=choice, errors=errors,
                          message=_("Nothing was saved: see the notes below."), status=422)
    try:
        accounts.update_user(db.session, current_user, user_id, seen=request.form.get("seen"),
                             display_name=values["display_name"], role=role, assignments=assignments)
    except Conflict as exc:
        # Changed meanwhile (or a rule of the company refuses it): show the user as they are now.
        db.session.rollback()
        db.session.expire_all()
        return _user_page(accounts.user_for(db.session, user_id), message=str(exc.message), status=409)
    except Refusal as exc:
        db.session.rollback()
        return _user_page(person, values=values, choice=choice, errors=exc.errors, message=str(exc.message),
                          status=exc.status)
    db.session.commit()
    flash(_("Saved."), "info")
    return redirect(url_for("staff.user", user_id=user_id))


@bp.route("/<int:user_id>/password", methods=["POST"])
@roles(Role.ADMIN)
def reset_password(user_id: int):
    try:
        person, temporary = accounts.reset_password(db.session, current_user, user_id, seen=request.form.get("seen"))
    except Refusal as exc:
        return refused(exc, url_for("staff.user", user_id=user_id))
    db.session.commit()
    return _no_store(make_response(render_template("staff/password.html", user=person, temporary=temporary,
                                                   created=False)))


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
@roles(Role.ADMIN)
def deactivate(user_id: int):
    try:
        person = accounts.deactivate(db.session, current_user, user_id, seen=request.form.get("seen"))
    except Refusal as exc:
        return refused(exc, url_for("staff.user", user_id=user_id))
    db.session.commit()
    flash(_("%(name)s is deactivated and signed out on every device.", name=person.display_name), "info")
    return redirect(url_for("staff.user", user_id=user_id))


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
@roles(Role.ADMIN)
def reactivate(user_id: int):
    try:
        person = accounts.reactivate(db.session, current_user, user_id, seen=request.form.get("seen"))
    except Refusal as exc:
        return refused(exc, url_for("staff.user", user_id=user_id))
    db.session.commit()
    flash(_("%(name)s can sign in again.", name=person.display_name), "info")
    return redirect(url_for("staff.user", user_id=user_id))


def _stewards() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role == Role.STEWARD, User.active.is_(True))
                                   .order_by(User.display_name, User.username)))


@bp.route("/covers", methods=["GET", "POST"])
@roles(Role.ADMIN)
def covers_page():
    errors: dict = {}
    message = None
    status = 200
    values = {"covered": request.args.get("covered", ""), "cover": "", "first_day": "", "last_day": ""}
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in ("covered", "cover", "first_day", "last_day")}
        try:
            row = covers.add_cover(db.session, current_user, read_cover(request.form))
        except Refusal as exc:
            db.session.rollback()
            errors, message, status = exc.errors, str(exc.message), exc.status
        else:
            db.session.commit()
            flash(_("%(cover)s covers %(covered)s from %(first)s to %(last)s.", cover=row.cover.display_name,
                    covered=row.covered.display_name, first=row.first_day.isoformat(),
                    last=row.last_day.isoformat()), "info")
            return redirect(url_for("staff.covers_page"))
    now = _now()
    return render_template("staff/covers.html", covers=covers.covers(db.session, now), stewards=_stewards(),
                           values=values, errors=errors, message=message, is_open=covers.is_open, now=now), status


@bp.route("/covers/<int:cover_id>/end", methods=["POST"])
@roles(Role.ADMIN)
def end_cover(cover_id: int):
    try:
        row = covers.end_cover(db.session, current_user, cover_id)
    except Refusal as exc:
        return refused(exc, url_for("staff.covers_page"))
    db.session.commit()
    flash(_("The cover ended: %(covered)s's places are theirs alone again.", covered=row.covered.display_name), "info")
    return redirect(url_for("staff.covers_page"))
