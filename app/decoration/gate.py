"""The gate's page (materials in, units stopped) and the desk's handling of refused material requests.

The gate's page never shows owner details, whoever looks at it: it is the gate's page. The desk's
list of refused requests does, for the desk and supervisors only.
"""
from __future__ import annotations

import uuid as uuidlib

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import refusals
from ..access import GATE_PAGES, OFFICE, may_read_contacts, roles
from ..extensions import db
from ..models import DecorationPermit, MaterialRequest, Role
from ..models.base import utcnow
from ..photos import uploads
from ..photos.storage import get_storage
from ..repairs.forms import choices
from ..rounds import schedule
from ..web import refused
from . import base, lists, materials, permits
from .gate_forms import DecideForm, MaterialRequestForm, SettleForm

bp = Blueprint("gate", __name__, url_prefix="/gate")


def _discard(photo) -> None:  # noqa: ANN001
    """The files of a photo whose row was rolled back: nothing refers to them."""
    if photo is None:
        return
    storage = get_storage()
    for key in (photo.display_key, photo.thumb_key):
        try:
            storage.delete(key)
        except OSError:  # pragma: no cover - best effort; an orphan file harms nobody
            current_app.logger.warning("could not delete orphan photo file %s", key)


def _raise(form: MaterialRequestForm, permits: list[DecorationPermit]) -> MaterialRequest | None:
    """Store the photo and the request in one transaction; None (with the message flashed) if refused."""
    uuid = form.uuid.data
    existing = materials.material_request_by_uuid(db.session, uuid)
    photo = None
    try:
        if existing is not None:  # the same form sent again: the request is already stored, keep its photo
            return materials.raise_material_request(db.session, current_user, uuid=uuid, unit_id=existing.unit_id,
                                                    materials=existing.materials, photo_uuid=existing.photo_uuid)
        permit = next((p for p in permits if p.unit_id == form.unit.data), None)
        if permit is None:
            raise refusals.Conflict(_("This unit has no active decoration registration: materials cannot come in."))
        photo = uploads.store_form_photo(
            db.session, current_user, record_uuid=uuid, data=form.photo.data.read(),
            max_bytes=current_app.config["PHOTO_MAX_BYTES"], max_pixels=current_app.config["PHOTO_MAX_PIXELS"],
            timezone_name=permit.unit.building.estate.timezone)
        stored = materials.raise_material_request(db.session, current_user, uuid=uuid, unit_id=permit.unit_id,
                                                  materials=form.materials.data, photo_uuid=photo.uuid)
        if stored.photo_uuid != photo.uuid:  # a double tap stored the same request first, with its own photo
            _discard(photo)
        return stored
    except refusals.Refusal as exc:
        db.session.rollback()
        _discard(photo)
        flash(str(exc.message), "error")
        return None


@bp.route("/", methods=["GET", "POST"])
@roles(*GATE_PAGES)
def index():
    """The gate's page: ask to let materials in, see today's answers and the units where work is stopped."""
    destinations = lists.material_destinations(db.session, current_user)
    form = MaterialRequestForm()
    form.unit.choices = choices((p.unit_id, f"{p.unit.label} · {p.contractor_name}") for p in destinations)
    if form.validate_on_submit():
        request_ = _raise(form, destinations)
        if request_ is not None:
            db.session.commit()
            flash(_("Sent to the steward: %(unit)s, %(materials)s. Wait for the answer below.",
                    unit=request_.unit.label, materials=request_.materials), "info")
            return redirect(url_for("gate.index"))
    status = 422 if form.is_submitted() else 200
    # A new request per page shown (nothing was stored under the last one if we got here); sending
    # the same page twice sends the same request.
    form.uuid.data = str(uuidlib.uuid4())
    now = utcnow()
    requests = lists.gate_requests(db.session, current_user, now)
    # "Today's requests" are today's: one from an earlier day still waiting is listed apart, with its date.
    today = [r for r in requests if schedule.local_date(r.estate, r.raised_at) == schedule.local_date(r.estate, now)]
    return render_template("gate/index.html", form=form, has_units=bool(destinations),
                           requests=today, earlier=[r for r in requests if r not in today],
                           stopped=permits.stopped_units(db.session, current_user), now=now), status


# The desk: refused requests wait for the owner to be contacted.


def _request(request_id: int) -> MaterialRequest:
    request_ = db.session.get(MaterialRequest, request_id)
    if request_ is None or not base.in_scope(current_user, request_.unit):
        abort(404)
    return request_


@bp.route("/requests")
@roles(*OFFICE)
def requests():
    """Refused requests waiting for the desk to contact the owner, then those with the supervisor."""
    waiting = lists.requests_to_settle(db.session, current_user)
    return render_template("gate/requests.html", refused=waiting.refused, escalated=waiting.escalated,
                           form=SettleForm(), show_contacts=may_read_contacts(current_user), now=utcnow(),
                           settle_hours=base.MATERIAL_SETTLE_HOURS)


@bp.route("/requests/<int:request_id>/settle", methods=["POST"])
@roles(*OFFICE)
def settle(request_id: int):
    request_ = _request(request_id)
    form = SettleForm()
    if not form.validate_on_submit():
        return _refused(form, "gate.requests")
    escalate = form.escalate.data == "1"
    try:
        materials.settle_material(db.session, current_user, request_, escalate=escalate, note=form.note.data)
    except refusals.Refusal as exc:
        return refused(exc, url_for("gate.requests"))
    db.session.commit()
    flash(_("%(unit)s: escalated to the supervisor.", unit=request_.unit.label) if escalate
          else _("%(unit)s: settled with the owner.", unit=request_.unit.label), "info")
    return redirect(url_for("gate.requests"))


def _refused(form, back: str):  # noqa: ANN001, ANN202
    """A form that did not validate: every message flashed, back to the page it came from."""
    for errors in form.errors.values():
        for message in errors:
            flash(str(message), "error")
    return redirect(url_for(back))


# The steward's decision from a web page (the phone sends it through the API).


@bp.route("/requests/<int:request_id>/decide", methods=["POST"])
@roles(Role.STEWARD)
def decide(request_id: int):
    form = DecideForm()
    if form.approved.data not in ("0", "1"):
        abort(400)
    if not form.validate_on_submit():
        return _refused(form, "rounds.today")
    approved = form.approved.data == "1"
    try:
        request_ = materials.decide_material(db.session, current_user, uuid=form.uuid.data, request_id=request_id,
                                             approved=approved, reason=form.reason.data)
    except refusals.NotFound:
        db.session.rollback()
        abort(404)
    except refusals.Refusal as exc:
        return refused(exc, url_for("rounds.today"))
    db.session.commit()
    flash(_("%(unit)s: materials may come in.", unit=request_.unit.label) if approved
          else _("%(unit)s: materials refused. The desk will contact the owner.", unit=request_.unit.label), "info")
    return redirect(url_for("rounds.today"))
