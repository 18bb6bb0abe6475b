"""GET /audit: supervisors read and filter the audit log of their estates. No route writes it."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import refusals
from ..access import roles
from ..extensions import db
from ..labels import ROLE
from ..models import Role, User
from . import ACTIONS, ENTITIES, reading, sentences

bp = Blueprint("audit", __name__, url_prefix="/audit")


ACTION_LABELS = {
    "created": _l("Created"), "updated": _l("Changed"), "deleted": _l("Deleted"),
    "completed": _l("Completed"), "revealed": _l("ID number shown"),
    "imported": _l("Unsynced work imported"),
}
ENTITY_LABELS = {
    "round": _l("Round"), "finding": _l("Finding"), "finding_amendment": _l("Finding correction"),
    "finding_comment": _l("Finding comment"), "photo": _l("Photo"), "repair_ticket": _l("Repair ticket"),
    "ticket_verification": _l("Repair check"), "ticket_clock": _l("Ticket target times"),
    "decoration_permit": _l("Decoration registration"), "violation": _l("Decoration violation"),
    "violation_recheck": _l("Violation re-check"), "flood_test": _l("Flood test"),
    "material_request": _l("Material request"), "schedule_rule": _l("Schedule rule"), "estate": _l("Estate settings"),
    "unit": _l("Unit"), "owner_contact": _l("Owner contact"), "user": _l("User"),
    "leave_cover": _l("Cover for leave"), "team": _l("Team"),
}


@bp.route("")
@roles(Role.SUPERVISOR)
def index():
    """Who changed what, when, newest first, 50 at a time."""
    errors: list = []
    flt = entries = None
    status = 200
    try:
        flt = reading.AuditFilter.from_args(request.args)
        before = reading.parse_cursor(request.args.get("before"))
        entries = reading.page(db.session, current_user, flt, before=before)
    except refusals.NotVisible:
        abort(404)
    except reading.FilterError as exc:
        errors, status = [str(m) for m in exc.messages], 400
    next_url = None
    if entries is not None and entries.next_before is not None:
        next_url = url_for("audit.index", **flt.to_args(), before=entries.next_before)
    estates = reading.estates_for(db.session, current_user, reading.AuditFilter())
    default_tz = estates[0].timezone if estates else "Asia/Shanghai"
    describe = None
    if entries is not None:
        ids = sentences.people_named(entries.entries) - set(entries.people)
        named = {**entries.people, **({u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
                                      if ids else {})}
        names = {i: u.display_name for i, u in named.items()}

        def describe(entry):  # noqa: ANN001, ANN202
            person = entries.people.get(entry.user_id)
            who = person.display_name if person else (f"#{entry.user_id}" if entry.user_id else
                                                     _("The system"))
            estate = entries.estates.get(entry.estate_id)
            return sentences.describe(entry, who, str(ENTITY_LABELS.get(entry.entity, entry.entity)),
                                      estate.timezone if estate else default_tz, names)
    return render_template(
        "audit/index.html", page=entries, errors=errors, args=request.args, next_url=next_url, estates=estates,
        people=reading.people_choices(db.session, current_user), actions=ACTIONS, entities=ENTITIES,
        action_labels=ACTION_LABELS, entity_labels=ENTITY_LABELS,
        role_labels={role.value: label for role, label in ROLE.items()},
        default_tz=default_tz, describe=describe,
    ), status
