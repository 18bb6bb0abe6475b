from __future__ import annotations

import json

from flask import current_app, render_template, request
from flask_login import current_user

from .. import overview
from ..access import ALL_ROLES, estates_of, may_read_contacts, require_unit_visible, roles
from ..extensions import db
from ..import_work import ImportRefused, import_unsynced
from ..models import Role, Unit
from . import bp


@bp.route("/")
@roles(Role.DESK, Role.SUPERVISOR)
def index():
    estates = [
        (e, overview.building_summaries(db.session, e), overview.rounds_board(db.session, e)) for e in estates_of(db.session, current_user)
    ]
    q = request.args.get("q", "")
    units = overview.unit_search(db.session, current_user, q)
    return render_template("desk/index.html", estates=estates, q=q, units=units)


@bp.route("/supervisor")
@roles(Role.SUPERVISOR)
def supervisor():
    boards = [(e, overview.rounds_board(db.session, e)) for e in estates_of(db.session, current_user)]
    return render_template("desk/supervisor.html", boards=boards)


@bp.route("/units")
@roles(*ALL_ROLES)
def units():
    q = request.args.get("q", "")
    return render_template("desk/units.html", q=q, units=overview.unit_search(db.session, current_user, q))


@bp.route("/units/<int:unit_id>")
@roles(*ALL_ROLES)
def unit(unit_id: int):
    unit = require_unit_visible(current_user, db.session.get(Unit, unit_id))
    return render_template("desk/unit.html", unit=unit, show_contacts=may_read_contacts(current_user))


FINDINGS_PAGE = 50


@bp.route("/findings")
@roles(Role.DESK, Role.SUPERVISOR)
def findings():
    """What stewards recorded on completed rounds, newest first; defects only unless asked."""
    show_all = request.args.get("all") == "1"
    rows = overview.recent_findings(db.session, current_user, defects_only=not show_all, limit=FINDINGS_PAGE)
    return render_template("desk/findings.html", findings=rows, show_all=show_all)


IMPORT_MAX_BYTES = 200 * 1024 * 1024  # a day's photos, base64-encoded


def allow_large_imports() -> None:
    """before_request, ahead of the CSRF check (which reads the form): an export carries its photos."""
    if request.endpoint == "desk.import_work":
        request.max_content_length = IMPORT_MAX_BYTES


@bp.route("/import", methods=["GET", "POST"])
@roles(Role.DESK, Role.SUPERVISOR)
def import_work():
    """Import a steward's exported unsynced work (when their phone cannot sync)."""
    report, error = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            document = json.load(upload.stream) if upload else None
        except (ValueError, UnicodeDecodeError):
            document = None
        try:
            report = import_unsynced(db.session, current_user, document,
                                     max_bytes=current_app.config["PHOTO_MAX_BYTES"],
                                     max_pixels=current_app.config["PHOTO_MAX_PIXELS"])
        except ImportRefused as exc:
            error = str(exc.message)
    status = 422 if error else 200
    return render_template("desk/import.html", report=report, error=error), status
