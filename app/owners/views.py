"""The owners' public pages (blueprint "owner", /o/…: no account; per code and per address limits)
and the desk's QR code sheet and owner-report intake (blueprint "owners", /owners)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import refusals
from ..access import OFFICE, public, roles, whole_estates_of
from ..complaints.labels import CATEGORY
from ..extensions import db, limiter
from ..i18n import current_language
from ..models import ComplaintCategory, OwnerCode, OwnerReportKind, Photo
from ..models.base import utcnow
from ..photos.storage import get_storage
from ..web import chosen_estate
from . import codes, reports

bp = Blueprint("owner", __name__, url_prefix="/o")
desk = Blueprint("owners", __name__, url_prefix="/owners")


def _code_key() -> str:
    return "owner-code:" + str((request.view_args or {}).get("token", ""))


def _limit(name: str, default: str):  # noqa: ANN202
    return lambda: current_app.config.get(name, default)


def _code(token: str) -> OwnerCode:
    """404 that tells nothing for a guessed, mistyped or retired code."""
    code = codes.code_by_token(db.session, token)
    if code is None:
        abort(404)
    return code


@bp.route("/<string:token>", methods=["GET", "POST"])
@public
@limiter.limit(_limit("OWNER_REPORT_LIMIT_PER_CODE", "20 per hour"), key_func=_code_key, methods=["POST"])
@limiter.limit(_limit("OWNER_REPORT_LIMIT_PER_ADDRESS", "10 per hour"), methods=["POST"])
def report(token: str):
    """The page a code opens: the place filled in; a repair or a complaint, photos, a phone number."""
    code = _code(token)
    errors: dict = {}
    if request.method == "POST":
        try:
            sent = reports.Sent(
                kind=_kind(), item=request.form.get("item", ""), description=request.form.get("description", ""),
                phone=request.form.get("phone", ""), floor=_floor(),
                photos=tuple(f.read() for f in request.files.getlist("photos") if f and f.filename),
                language=current_language())
            made = reports.submit(db.session, code, sent,
                                  max_bytes=current_app.config.get("OWNER_PHOTO_MAX_BYTES", 8 * 1024 * 1024),
                                  max_pixels=current_app.config.get("OWNER_PHOTO_MAX_PIXELS", 24_000_000))
        except refusals.Refusal as exc:
            db.session.rollback()
            errors = {k: [str(m) for m in v] for k, v in exc.errors.items()} or {"form": [str(exc.message)]}
            code = _code(token)
        else:
            db.session.commit()
            return redirect(url_for("owner.status", token=made.status_token, new=1), 303)
    return render_template("owners/report.html", code=code, items=reports.repair_items(code), categories=CATEGORY,
                           errors=errors, form=request.form), 422 if errors else 200


def _kind() -> OwnerReportKind:
    try:
        return OwnerReportKind(request.form.get("kind", ""))
    except ValueError:
        raise reports.ReportRefused(_("Choose a repair or a complaint."), {"kind": [_("Choose a repair or a complaint.")]}) from None


def _floor() -> int | None:
    raw = request.form.get("floor", "").strip()
    if not raw:
        return None
    try:
        if not (raw.isascii() and len(raw) <= 4):  # a floor number, not one beyond the database's integer
            raise ValueError(raw)
        return int(raw)
    except ValueError:
        raise reports.ReportRefused(_("There is no such floor here."), {"floor": [_("There is no such floor here.")]}) from None


def _report(token: str):  # noqa: ANN202
    found = reports.report_by_status_token(db.session, token)
    if found is None:
        abort(404)
    return found


@bp.route("/s/<string:token>")
@public
def status(token: str):
    """The owner's private status link: progress in plain words, photos, and the rating when done."""
    found = _report(token)
    before, after = reports.public_photos(db.session, found)
    return render_template("owners/status.html", report=found, progress=reports.progress(db.session, found),
                           before=before, after=after, item_label=_item_label(found), new=request.args.get("new"),
                           error=None)


def _item_label(found) -> str:  # noqa: ANN001
    if found.kind is OwnerReportKind.REPAIR:
        item = reports.REPAIR_ITEMS.get(found.item)
        return str(item.label) if item else ""
    try:
        return str(CATEGORY[ComplaintCategory(found.item)])
    except ValueError:
        return ""


@bp.route("/s/<string:token>/rating", methods=["POST"])
@public
@limiter.limit(_limit("OWNER_REPORT_LIMIT_PER_ADDRESS", "10 per hour"), methods=["POST"])
def rate(token: str):
    found = _report(token)
    try:
        reports.rate(db.session, found, grade=request.form.get("grade", ""), words=request.form.get("words", ""))
    except refusals.Refusal as exc:
        db.session.rollback()
        found = _report(token)
        before, after = reports.public_photos(db.session, found)
        return render_template("owners/status.html", report=found, progress=reports.progress(db.session, found),
                               before=before, after=after, item_label=_item_label(found), new=None,
                               error=str(exc.message)), 422
    db.session.commit()
    flash(_("Thank you for your rating."), "info")
    return redirect(url_for("owner.status", token=token), 303)


@bp.route("/s/<string:token>/photos/<string:photo_uuid>/<any(display, thumb):variant>")
@public
def photo(token: str, photo_uuid: str, variant: str):
    """A photo of this report only (the owner's own, a public repair's "after" photos)."""
    found = _report(token)
    stored = db.session.scalars(sa.select(Photo).where(Photo.uuid == photo_uuid)).first()
    if stored is None or not reports.may_see_photo(found, stored):
        abort(404)
    key = stored.display_key if variant == "display" else stored.thumb_key
    response = send_file(get_storage().open(key), mimetype="image/jpeg", max_age=3600, conditional=False)
    response.cache_control.private = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# The desk's side.


def _estate():  # noqa: ANN202
    estates = whole_estates_of(db.session, current_user)
    estate = chosen_estate(estates)
    return estates, estate


@desk.route("/sheet")
@roles(*OFFICE)
def sheet():
    """The printable sheet: one QR code per stairwell, public area or unit door notice."""
    estates, estate = _estate()
    kind = request.args.get("kind", "entrance")
    if kind not in codes.KINDS:
        kind = "entrance"
    rows = [(c, codes.qr_svg(url_for("owner.report", token=c.token, _external=True)))
            for c in codes.codes_of(db.session, estate, kind)]
    return render_template("owners/sheet.html", estates=estates, estate=estate, kind=kind, rows=rows)


@desk.route("/codes", methods=["POST"])
@roles(*OFFICE)
def make_codes():
    _estates, estate = _estate()
    kind = request.form.get("kind", "entrance")
    if kind not in codes.KINDS:
        abort(400)
    made = codes.ensure_codes(db.session, estate, kind)
    db.session.commit()
    flash(_("%(num)d new codes.", num=made), "info")
    return redirect(url_for("owners.sheet", estate=estate.id, kind=kind))


@desk.route("/codes/<int:code_id>/retire", methods=["POST"])
@roles(*OFFICE)
def retire_code(code_id: int):
    code = db.session.get(OwnerCode, code_id)
    if code is None or code.estate_id not in current_user.whole_estate_ids:
        abort(404)
    codes.retire(code)
    db.session.commit()
    flash(_("The code is retired: scanning it finds nothing now."), "info")
    return redirect(url_for("owners.sheet", estate=code.estate_id, kind=code.kind))


@desk.route("/reports")
@roles(*OFFICE)
def intake():
    """Owner reports by QR code, newest first, with what became of each."""
    rows = reports.recent_reports(db.session, current_user)
    return render_template("owners/intake.html", reports=rows, now=utcnow(), items=reports.REPAIR_ITEMS,
                           photos=reports.photos_of(db.session, rows))
