from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..access import public
from ..auth.views import safe_next, landing_url
from ..extensions import csrf, db
from ..i18n import LANGUAGES
from ..models import Language
from . import bp


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/healthz")
@public
@csrf.exempt
def healthz():
    """For load balancers and monitors: the app answers and the database is reachable."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        database = "unreachable"
    status = 200 if database == "ok" else 503
    return jsonify(status="ok" if status == 200 else "degraded", database=database), status


@bp.route("/language", methods=["POST"])
@public
def set_language():
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.language = Language(lang)
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))
