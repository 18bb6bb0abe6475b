"""Serving stored photos to whoever may see them: never from static/, never guessable."""
from __future__ import annotations

from flask import Blueprint, send_file
from flask_login import current_user

from ..access import ALL_ROLES, roles
from ..extensions import db
from . import uploads
from .storage import get_storage

bp = Blueprint("photos", __name__)


@bp.route("/photos/<uuid:photo_uuid>/<any(display, thumb):variant>")
@roles(*ALL_ROLES)
def photo(photo_uuid: str, variant: str):
    """A photo for someone allowed to see its round: never from static/, never guessable."""
    stored = uploads.photo_for(db.session, current_user, photo_uuid)
    key = stored.display_key if variant == "display" else stored.thumb_key
    response = send_file(get_storage().open(key), mimetype="image/jpeg", max_age=31536000, conditional=False,
                         etag=f"{stored.sha256}-{variant}")
    response.cache_control.private = True  # behind a login: no shared caches
    response.cache_control.public = False
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
