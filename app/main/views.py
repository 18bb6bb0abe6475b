from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, redirect, request, send_file, session, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from .. import sync
from ..access import ALL_ROLES, public, roles
from ..auth.views import safe_next, landing_url
from ..extensions import csrf, db
from ..i18n import LANGUAGES
from ..models import Language
from ..storage import get_storage
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


@bp.route("/photos/<string:photo_uuid>/<any(display, thumb):variant>")
@roles(*ALL_ROLES)
def photo(photo_uuid: str, variant: str):
    """A photo for someone allowed to see its round: never from static/, never guessable."""
    stored = sync.photo_for(db.session, current_user, photo_uuid)
    key = stored.display_key if variant == "display" else stored.thumb_key
    response = send_file(get_storage().open(key), mimetype="image/jpeg", max_age=31536000, conditional=False,
                         etag=f"{stored.sha256}-{variant}")
    response.cache_control.private = True  # behind a login: no shared caches
    response.cache_control.public = False
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
