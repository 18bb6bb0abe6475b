"""Checkpoint stickers in the browser (blueprint "checkpoints", /checkpoints): the A4 sheet of QR
codes per estate and round kind, drawn on the server (segno SVG, the place under each), made and
retired by the office; and whether rounds of that kind are to scan them, which a supervisor of the
whole estate decides."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import OFFICE, roles, whole_estates_of
from ..extensions import db
from ..labels import ROUND_KIND
from ..models import CheckpointCode, Role, RoundKind
from ..web import chosen_estate
from . import checkpoints

bp = Blueprint("checkpoints", __name__, url_prefix="/checkpoints")


def _estate():  # noqa: ANN202
    estates = whole_estates_of(db.session, current_user)
    return estates, chosen_estate(estates)


def _kind(strict: bool = False) -> RoundKind:
    try:
        return RoundKind(request.values.get("kind", RoundKind.CORRIDOR.value))
    except ValueError:
        if strict:
            abort(400)
        return RoundKind.CORRIDOR


@bp.route("/sheet")
@roles(*OFFICE)
def sheet():
    """The printable sheet: one code per checkpoint the estate's rounds of a kind walk, A4."""
    estates, estate = _estate()
    kind = _kind()
    rows = [(key, label, code, checkpoints.qr_svg(checkpoints.code_text(code)) if code else None)
            for key, label, code in checkpoints.codes_of(db.session, estate, kind)]
    return render_template("rounds/checkpoint_sheet.html", estates=estates, estate=estate, kind=kind, kinds=ROUND_KIND,
                           rows=rows, missing=sum(1 for r in rows if r[2] is None),
                           rules=checkpoints.rules_of(db.session, estate.id),
                           may_decide=current_user.role is Role.SUPERVISOR)


@bp.route("/codes", methods=["POST"])
@roles(*OFFICE)
def make_codes():
    _estates, estate = _estate()
    kind = _kind(strict=True)
    made = checkpoints.ensure_codes(db.session, estate, kind)
    db.session.commit()
    flash(_("%(num)d new codes.", num=made), "info")
    return redirect(url_for("checkpoints.sheet", estate=estate.id, kind=kind.value))


@bp.route("/codes/<int:code_id>/retire", methods=["POST"])
@roles(*OFFICE)
def retire_code(code_id: int):
    """A damaged or copied sticker: its code is refused from now on; "make the missing codes" prints anew."""
    code = db.session.get(CheckpointCode, code_id)
    if code is None or code.estate_id not in current_user.whole_estate_ids:
        abort(404)
    checkpoints.retire(code)
    db.session.commit()
    flash(_("The code is retired: a scan of it is refused from now on."), "info")
    return redirect(url_for("checkpoints.sheet", estate=code.estate_id, kind=_kind().value))


@bp.route("/rule", methods=["POST"])
@roles(Role.SUPERVISOR)
def set_rule():
    """Whether rounds of a kind in the estate are to scan every checkpoint."""
    _estates, estate = _estate()
    kind = _kind(strict=True)
    required = request.form.get("required") == "1"
    checkpoints.set_required(db.session, estate, kind, required, current_user)
    db.session.commit()
    flash(_("Scans are now required on these rounds.") if required else _("Scans are no longer required on these rounds."),
          "info")
    return redirect(url_for("checkpoints.sheet", estate=estate.id, kind=kind.value))
