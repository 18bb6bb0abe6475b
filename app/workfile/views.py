"""The desk imports a phone's unsynced-work file (the phone's last resort when it cannot sync)."""
from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    render_template,
    request,
)
from flask_login import current_user

from ..access import (
    roles,
)
from .. import guard
from ..extensions import db
from ..models import Role
from ..security import export_key
from ..workfile import ImportRefused, import_unsynced, open_signed

bp = Blueprint("workfile", __name__, url_prefix="/desk")


IMPORT_MAX_BYTES = 200 * 1024 * 1024  # a day's photos, base64-encoded


def allow_large_imports() -> None:
    """before_request, ahead of the CSRF check (which reads the form): an export carries its photos."""
    if request.endpoint == "workfile.import_work":
        request.max_content_length = IMPORT_MAX_BYTES


@bp.route("/import", methods=["GET", "POST"])
@roles(Role.DESK, Role.SUPERVISOR)
def import_work():
    """Import a steward's exported unsynced work (when their phone cannot sync)."""
    report, error = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            envelope = guard.loads(upload.read()) if upload else None
        except guard.MalformedJSON:  # not JSON, or beyond the guard's bounds (depth, numbers, text)
            envelope = None
        try:
            document = open_signed(envelope, export_key)  # signed by the steward's phone, unchanged
            report = import_unsynced(db.session, current_user, document,
                                     max_bytes=current_app.config["PHOTO_MAX_BYTES"],
                                     max_pixels=current_app.config["PHOTO_MAX_PIXELS"])
        except ImportRefused as exc:
            error = str(exc.message)
    status = 422 if error else 200
    return render_template("workfile/import.html", report=report, error=error), status
