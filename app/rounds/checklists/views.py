"""The administrator's checklist pages (blueprint "checklists", /admin/checklists): the company's
version of each checklist and the estates' own, an editor with a phone-sized preview, publishing,
and each estate's choice between the company's version and its own."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ...access import roles
from ...extensions import db
from ...models import (
    ChecklistPublication,
    ChecklistVersion,
    DefectRoute,
    Estate,
    EstateChecklist,
    Role,
    RoundKind,
    Urgency,
)
from ...refusals import Conflict, Refusal
from ...web import refused
from . import APPLIES_TO, company_version, editor, estate_version, uses_own

bp = Blueprint("checklists", __name__, url_prefix="/admin/checklists")
KINDS = [RoundKind.CORRIDOR, RoundKind.FACILITY, RoundKind.VACANT_UNIT, RoundKind.DECORATION, RoundKind.METER]
PLACES = {
    "floor": _l("Each floor"), "entrance": _l("Each stairwell"), "road": _l("Roads"), "greenery": _l("Greenery"),
    "playground": _l("Playground"), "shopfront": _l("Shopfronts"), "garage": _l("Garage"),
    "elevator": _l("Elevators"), "estate": _l("The estate as a whole"), "unit": _l("The unit"),
    "meter": _l("Each meter"),
}
TYPE_NAMES = {"check": _l("A check (fine / defect / not applicable)"), "water": _l("A water meter reading"),
              "electricity": _l("An electricity meter reading")}


def _kind(name: str) -> RoundKind:
    try:
        return RoundKind(name)
    except ValueError:
        abort(404)


def _estate_arg() -> Estate | None:
    raw = request.values.get("estate", "")
    if not raw:
        return None
    estate = db.session.get(Estate, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    if estate is None:
        abort(404)
    return estate


@bp.route("/")
@roles(Role.ADMIN)
def index():
    estates = [e for e in db.session.scalars(sa.select(Estate).order_by(Estate.code)) if not e.retired]
    own = {(c.estate_id, c.kind): c.own for c in db.session.scalars(sa.select(EstateChecklist))}
    published = {(p.estate_id, v.kind): v for v, p in db.session.execute(
        sa.select(ChecklistVersion, ChecklistPublication).join(ChecklistPublication)
        .where(ChecklistPublication.estate_id.is_not(None)).order_by(ChecklistVersion.version))}
    return render_template("checklists/index.html", kinds=KINDS,
                           company={k: company_version(db.session, k) for k in KINDS},
                           estates=estates, own=own, published=published)


def _page(kind: RoundKind, estate: Estate | None, edited: editor.Edited, *, base: str, errors: dict | None = None,
          message: str | None = None, preview: dict | None = None, status: int = 200):
    rows = list(edited.items)
    if not rows or not rows[-1].blank:
        rows.append(editor.EditedItem(applies_to=sorted(APPLIES_TO[kind])[0]))  # a row for a new item
    current = editor.current_of(db.session, kind, estate)
    return render_template(
        "checklists/edit.html", kind=kind, estate=estate, edited=edited, rows=rows, base=base, errors=errors or {},
        message=message, preview=preview, current=current, company=company_version(db.session, kind),
        uses_own=uses_own(db.session, estate.id, kind) if estate else False, places=PLACES,
        applies_to=sorted(APPLIES_TO[kind], key=list(PLACES).index), types=TYPE_NAMES, routes=list(DefectRoute),
        urgencies=list(Urgency)), status


@bp.route("/<kind>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def edit(kind: str):
    round_kind, estate = _kind(kind), _estate_arg()
    if request.method == "GET":
        start = editor.current_of(db.session, round_kind, estate) or company_version(db.session, round_kind)
        edited = editor.Edited.of(editor.document_of(start)) if start else editor.Edited(
            {"zh_Hant": "", "zh_Hans": "", "en": ""}, [])
        return _page(round_kind, estate, edited, base=editor.base_of(db.session, round_kind, estate))

    edited = editor.read_form(request.form)
    base = request.form.get("base", "")
    action = request.form.get("action")
    if action == "add":
        edited.items.append(editor.EditedItem(applies_to=sorted(APPLIES_TO[round_kind])[0]))
        return _page(round_kind, estate, edited, base=base)
    if action == "publish":
        try:
            version = editor.publish(db.session, current_user, round_kind, estate, edited, base=base)
        except Conflict as exc:
            db.session.rollback()
            return _page(round_kind, estate, edited, base=base, message=str(exc.message), status=409)
        except Refusal as exc:
            db.session.rollback()
            return _page(round_kind, estate, edited, base=base, errors=exc.errors, message=str(exc.message),
                         status=exc.status)
        db.session.commit()
        flash(_("Version %(version)d is published: rounds started from now walk it, and phones take it with their "
                "next offline pack.", version=version.version), "info")
        return redirect(url_for("checklists.edit", kind=round_kind.value, estate=estate.id if estate else None))
    document, errors = editor.check(db.session, round_kind, edited)
    if errors:
        return _page(round_kind, estate, edited, base=base, errors=errors,
                     message=_("The preview needs these put right first."), status=422)
    return _page(round_kind, estate, edited, base=base, preview=document)


@bp.route("/<kind>/choice", methods=["POST"])
@roles(Role.ADMIN)
def choice(kind: str):
    round_kind, estate = _kind(kind), _estate_arg()
    if estate is None:
        abort(404)
    back = url_for("checklists.edit", kind=round_kind.value, estate=estate.id)
    try:
        editor.choose(db.session, current_user, estate, round_kind, own=request.form.get("own") == "1")
    except Refusal as exc:
        return refused(exc, back)
    db.session.commit()
    own = estate_version(db.session, round_kind, estate.id) if uses_own(db.session, estate.id, round_kind) else None
    flash(_("%(estate)s walks its own version %(version)d from now.", estate=estate.name, version=own.version)
          if own else _("%(estate)s walks the company's version from now.", estate=estate.name), "info")
    return redirect(back)
