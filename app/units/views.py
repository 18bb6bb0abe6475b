"""Units on the web: search, a unit's page with its owner contacts (confidential; a full ID number is
revealed once and logged), and its history."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import audit
from ..access import (
    ARCHIVE_ROLES,
    may_read_contacts,
    require_unit_visible,
    roles,
)
from ..decoration import base
from ..extensions import db
from ..models import OwnerContact, Role, Unit
from ..units.history import KINDS as HISTORY_KINDS
from ..units.history import unit_history as unit_history_of
from .search import unit_search

bp = Blueprint("units", __name__, url_prefix="/desk")


@bp.route("/units")
@roles(*ARCHIVE_ROLES)
def units():
    q = request.args.get("q", "")
    return render_template("units/units.html", q=q, units=unit_search(db.session, current_user, q))


@bp.route("/units/<int:unit_id>")
@roles(*ARCHIVE_ROLES)
def unit(unit_id: int):
    unit = require_unit_visible(current_user, db.session.get(Unit, unit_id))
    return render_template("units/unit.html", unit=unit, show_contacts=may_read_contacts(current_user),
                           permit=base.active_permit(db.session, unit.id))


@bp.route("/contacts/<int:contact_id>/reveal", methods=["POST"])
@roles(Role.DESK, Role.SUPERVISOR)
def reveal_contact(contact_id: int):
    """The full ID number, once, on a page of its own; who asked and when goes into the audit log."""
    contact = db.session.get(OwnerContact, contact_id)
    if contact is None:
        abort(404)
    require_unit_visible(current_user, contact.unit)
    audit.record(db.session, audit.REVEALED, contact, f"ID number of {contact.name} ({contact.unit.label})")
    db.session.commit()
    response = current_app.make_response(render_template("units/contact_revealed.html", contact=contact))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/units/<int:unit_id>/history")
@roles(Role.STEWARD, Role.DESK, Role.SUPERVISOR)
def unit_history(unit_id: int):
    """The unit's archive: every round, finding, ticket and decoration record, oldest first."""
    unit = require_unit_visible(current_user, db.session.get(Unit, unit_id))
    history = unit_history_of(db.session, current_user, unit, request.args.get("kind", "all"))
    return render_template("units/unit_history.html", unit=unit, history=history, kinds=HISTORY_KINDS,
                           notice_url=_notice_url)


def _notice_url(violation) -> str | None:  # noqa: ANN001
    """The printable rectification notice, once one was issued."""
    return url_for("decoration.notice", violation_id=violation.id) if violation.notice_number else None
