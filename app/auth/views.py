from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import joinedload

from ..access import ALL_ROLES, PUBLIC, allowed_roles, public, roles, wants_json
from ..errors import error_response
from .. import guard
from ..security import new_export_key_id
from ..extensions import db, limiter, login_manager
from ..i18n import LANGUAGES
from ..models import Language, Role, User
from ..refusals import Rejected
from .forms import LoginForm, PasswordForm
from .service import authenticate, choose_password

bp = Blueprint("auth", __name__)


LANDING = {
    Role.ADMIN: "places.index",
    Role.STEWARD: "rounds.today",
    Role.DESK: "dashboard.index",
    Role.SUPERVISOR: "dashboard.supervisor",
    Role.ENGINEERING: "engineering.index",
    Role.GATE: "gate.index",
}


_ASSIGNMENT = (joinedload(User.estates), joinedload(User.buildings))


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session id (User.get_id): unknown, disabled, or signed out since this
    cookie was issued all count as signed out."""
    user_id, _, version = session_id.partition("-")
    # With the user's own assignment in the same statement: nearly every request asks for its scope.
    user = db.session.get(User, int(user_id), options=_ASSIGNMENT) if user_id.isdigit() and version.isdigit() \
        else None
    return user if user is not None and user.active and user.session_version == int(version) else None


def landing_url(user: User) -> str:
    return url_for(LANDING[user.role])


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: never an open redirect, never a header broken by a newline."""
    return guard.safe_redirect_target(target)


def _fresh_session() -> None:
    """Drop everything but the language this browser chose."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _login_failed(_response) -> bool:  # noqa: ANN001
    return bool(g.get("login_failed"))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURE_LIMIT"],
    methods=["POST"],
    deduct_when=_login_failed,
)
def login():
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.username.data, form.password.data)
        if user is None:
            g.login_failed = True
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 200
        _fresh_session()  # a new session (and CSRF token) for the signed-in user
        login_user(user)
        if user.role is Role.STEWARD:  # the key this phone signs its unsynced-work file with
            session["export_key_id"] = new_export_key_id()
        session.permanent = True
        if user.must_change_password:
            return redirect(url_for("auth.change_password"))
        return redirect(safe_next(request.args.get("next")) or landing_url(user))
    return render_template("auth/login.html", form=form)


# While a reset password waits to be replaced, these are the only ways on (and the public pages).
_WHILE_CHOOSING = {"auth.change_password", "auth.logout"}


@bp.before_app_request
def _choose_a_password_first():
    """After an administrator's reset, the user chooses a new password before anything else."""
    if not current_user.is_authenticated or not current_user.must_change_password or request.endpoint is None:
        return None
    if request.endpoint in _WHILE_CHOOSING or allowed_roles(current_app, request.endpoint) == PUBLIC:
        return None
    message = _("Choose a new password first.")
    if wants_json():
        return error_response(403, message)
    return redirect(url_for("auth.change_password"))


@bp.route("/password", methods=["GET", "POST"])
@roles(*ALL_ROLES)
def change_password():
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            choose_password(current_user, current=form.current.data, new=form.new.data, repeat=form.repeat.data)
        except Rejected as exc:
            db.session.rollback()
            for name, messages in exc.errors.items():
                getattr(form, name).errors = list(form[name].errors) + [str(m) for m in messages]
            status = 422
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # this session goes on under the new password
            session.permanent = True
            flash(_("Your new password is saved. Every other session of yours has ended."), "info")
            return redirect(landing_url(current_user))
    elif request.method == "POST":
        status = 422
    return render_template("auth/password.html", form=form), status


@bp.route("/logout", methods=["POST"])
@roles(*ALL_ROLES)
def logout():
    # Server-side, not only by clearing this browser's cookie: a copy of the old cookie (a
    # request still in flight, a stolen one) must not sign the user back in.
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    _fresh_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
@public
def set_language():
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.language = Language(lang)
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("auth.index"))
