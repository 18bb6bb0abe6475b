"""The administrator's pages for places: the estates, the workbook import, and each kind of place
listed, searched, added, edited and retired."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import refusals
from ..access import roles
from ..extensions import db
from ..models import Building, Estate, Meter, Role, Unit
from ..web import refused
from . import operations, workbook

bp = Blueprint("places", __name__, url_prefix="/admin/places")

KIND = "<any(estates, buildings, stairwells, units, areas, assets, meters, contacts):kind_key>"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/")
@roles(Role.ADMIN)
def index():
    estates = db.session.scalars(sa.select(Estate).order_by(Estate.retired_at.is_not(None), Estate.code)).all()
    counts = {
        "buildings": dict(db.session.execute(sa.select(Building.estate_id, sa.func.count()).group_by(Building.estate_id)).all()),
        "units": dict(db.session.execute(sa.select(Building.estate_id, sa.func.count(Unit.id)).join(Unit)
                                         .group_by(Building.estate_id)).all()),
        "meters": dict(db.session.execute(sa.select(Meter.estate_id, sa.func.count()).group_by(Meter.estate_id)).all()),
    }
    return render_template("places/index.html", estates=estates, counts=counts, kinds=operations.KINDS)


@bp.route("/import", methods=["GET", "POST"])
@roles(Role.ADMIN)
def import_workbook():
    """Upload the workbook: check it (nothing stored) or import it (all or nothing)."""
    report = problems = None
    total = 0
    status = 200
    if request.method == "POST":
        upload = request.files.get("workbook")
        dry_run = request.form.get("action") != "import"
        if upload is None or not upload.filename:
            problems, total, status = [workbook.Problem("—", None, None, _("Choose the workbook file."))], 1, 422
        else:
            try:
                report = workbook.import_workbook(db.session, upload.read(), current_user, dry_run=dry_run)
            except workbook.WorkbookRefused as exc:
                db.session.rollback()
                problems, total, status = exc.problems, exc.total, 422
            else:
                if dry_run:
                    db.session.rollback()
                else:
                    db.session.commit()
    return render_template("places/import.html", report=report, problems=problems, total=total,
                           kind_labels=workbook.KIND_LABELS,
                           max_mb=workbook.MAX_FILE_BYTES // (1024 * 1024)), status


@bp.route("/template.xlsx")
@roles(Role.ADMIN)
def template():
    response = Response(workbook.template_workbook(), mimetype=XLSX)
    response.headers["Content-Disposition"] = "attachment; filename*=UTF-8''xuncha-estate-template.xlsx"
    return response


def _kind(kind_key: str) -> operations.Kind:
    return operations.KINDS[kind_key]


def _estate_arg() -> int | None:
    raw = request.args.get("estate", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


@bp.route(f"/{KIND}/")
@roles(Role.ADMIN)
def places(kind_key: str):
    kind = _kind(kind_key)
    listing = operations.list_places(db.session, current_user, kind, estate_id=_estate_arg(),
                                     q=request.args.get("q", ""), retired=request.args.get("retired") == "1")
    estates = db.session.scalars(sa.select(Estate).order_by(Estate.code)).all()
    return render_template("places/list.html", kind=kind, listing=listing, estates=estates,
                           describe=operations.describe, args=request.args)


def _form_page(kind: operations.Kind, obj=None, errors: dict | None = None, status: int = 200,  # noqa: ANN001
               values: dict | None = None):
    choices = {f.name: operations.choices_for(db.session, f) for f in kind.fields if f.type == "parent"}
    shown = values if values is not None else ({f.name: "" if f.secret else _value(getattr(obj, f.name))
                                                for f in kind.fields} if obj is not None else {})
    return render_template("places/form.html", kind=kind, obj=obj, choices=choices, values=shown,
                           errors=errors or {}, describe=operations.describe,
                           seen=operations.fingerprint(obj, kind) if obj is not None else ""), status


def _value(value) -> str:  # noqa: ANN001
    if value is None:
        return ""
    return str(value.value if hasattr(value, "value") else value)


@bp.route(f"/{KIND}/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def new(kind_key: str):
    kind = _kind(kind_key)
    if request.method == "GET":
        return _form_page(kind, values=dict(request.args))
    try:
        obj = operations.add_place(db.session, current_user, kind, request.form)
    except refusals.Rejected as exc:
        db.session.rollback()
        return _form_page(kind, errors=exc.errors, status=422, values=dict(request.form))
    db.session.commit()
    flash(_("Added %(what)s.", what=operations.describe(obj)), "info")
    return redirect(url_for("places.places", kind_key=kind.key))


@bp.route(f"/{KIND}/<int:place_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def edit(kind_key: str, place_id: int):
    kind = _kind(kind_key)
    obj = _place(kind, place_id)
    if request.method == "GET":
        return _form_page(kind, obj)
    try:
        operations.edit_place(db.session, current_user, kind, obj, request.form)
    except refusals.Conflict as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return _form_page(kind, _place(kind, place_id), status=409)
    except refusals.Rejected as exc:
        db.session.rollback()
        return _form_page(kind, _place(kind, place_id), errors=exc.errors, status=422, values=dict(request.form))
    db.session.commit()
    flash(_("Saved."), "info")
    return redirect(url_for("places.edit", kind_key=kind.key, place_id=place_id))


@bp.route(f"/{KIND}/<int:place_id>/retire", methods=["POST"])
@roles(Role.ADMIN)
def retire(kind_key: str, place_id: int):
    kind = _kind(kind_key)
    obj = _place(kind, place_id)
    back = request.form.get("back") == "1"
    try:
        operations.retire(db.session, current_user, kind, obj, back=back)
    except refusals.Refusal as exc:
        return refused(exc, url_for("places.edit", kind_key=kind.key, place_id=place_id))
    db.session.commit()
    flash(_("Back in service.") if back else _("Retired: it stays in the history."), "info")
    return redirect(url_for("places.places", kind_key=kind.key))


@bp.route("/contacts/<int:place_id>/reveal", methods=["POST"])
@roles(Role.ADMIN)
def reveal(place_id: int):
    contact = operations.reveal(db.session, current_user, _place(operations.KINDS["contacts"], place_id))
    db.session.commit()
    response = current_app.make_response(render_template("places/revealed.html", contact=contact))
    response.headers["Cache-Control"] = "no-store"
    return response


def _place(kind: operations.Kind, place_id: int):  # noqa: ANN202
    try:
        return operations.place_for(db.session, current_user, kind, place_id)
    except refusals.NotFound:
        abort(404)

