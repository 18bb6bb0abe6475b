from __future__ import annotations

from urllib.parse import urlsplit

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

from ..access import ALL_ROLES, public, roles
from ..extensions import db, limiter, login_manager
from ..i18n import LANGUAGES
from ..models import Language, Role, User
from .forms import LoginForm
from .service import authenticate

bp = Blueprint("auth", __name__)


LANDING = {
    Role.ADMIN: "places.index",
    Role.STEWARD: "rounds.today",
    Role.DESK: "dashboard.index",
    Role.SUPERVISOR: "dashboard.supervisor",
    Role.ENGINEERING: "engineering.index",
    Role.GATE: "gate.index",
}


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session id (User.get_id): unknown, disabled, or signed out since this
    cookie was issued all count as signed out."""
    user_id, _, version = session_id.partition("-")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() and version.isdigit() else None
    return user if user is not None and user.active and user.session_version == int(version) else None


def landing_url(user: User) -> str:
    return url_for(LANDING[user.role])


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


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
        session.permanent = True
        return redirect(safe_next(request.args.get("next")) or landing_url(user))
    return render_template("auth/login.html", form=form)


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
