from __future__ import annotations

import uuid as uuidlib

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import refusals
from ..access import roles
from ..extensions import db
from ..models import FindingResult, Role, RoundKind, RoundStatus
from . import intake
from ..guard import is_uuid, record_id
from .checkpoints import scans_required
from .plan import build_plan, summarise
from .scans import REFUSALS, round_scans
from .strings import app_strings, decoration_strings, walk_strings
from .today import start_uuid, target_key, today_page

bp = Blueprint("rounds", __name__, url_prefix="/rounds")


@bp.route("/today")
@roles(Role.STEWARD)
def today():
    # One UUID per card and occurrence, the same on every copy of the page: pressing "start" twice,
    # resending the form or starting from the offline copy all start one round.
    estates = [*current_user.estates, *(b.estate for b in current_user.buildings)]
    return render_template("rounds/today.html", **today_page(db.session, current_user),
                           estate_tz=estates[0].timezone if estates else "Asia/Shanghai",
                           new_uuid=lambda d: start_uuid(current_user, d), target_key=target_key,
                           decoration_strings=decoration_strings)


def _optional_int(name: str) -> int | None:
    value = request.form.get(name, "")
    if value == "":
        return None
    try:
        return record_id(value)
    except ValueError:
        abort(400)


@bp.route("/start", methods=["POST"])
@roles(Role.STEWARD)
def start():
    try:
        kind = RoundKind(request.form.get("kind", ""))
        round_uuid = str(uuidlib.UUID(request.form.get("uuid", "")))
    except ValueError:
        abort(400)
    rnd = intake.start_round(
        db.session, current_user, uuid=round_uuid, kind=kind, estate_id=_optional_int("estate_id") or 0,
        building_id=_optional_int("building_id"), unit_id=_optional_int("unit_id"),
    )
    db.session.commit()
    if rnd.status is RoundStatus.COMPLETED:  # walked already (another tab, the offline copy): never again
        return redirect(url_for("rounds.summary", round_uuid=rnd.uuid))
    return redirect(url_for("rounds.walk", round=rnd.uuid))


@bp.route("/walk")
@roles(Role.STEWARD)
def walk():
    """The round page: a static shell (cacheable for offline use) that walks the round from JSON."""
    return render_template("rounds/walk.html", strings=walk_strings())


@bp.route("/<uuid:round_uuid>")
@roles(Role.STEWARD, Role.DESK, Role.SUPERVISOR)
def summary(round_uuid: str):
    rnd = intake.round_for(db.session, current_user, round_uuid)
    plan = build_plan(db.session, rnd)
    summary = summarise(plan, _("Other places"))
    may_amend = current_user.role in (Role.DESK, Role.SUPERVISOR) or rnd.steward_id == current_user.id
    scans = round_scans(db.session, plan, scans_required(db.session, rnd.estate_id, rnd.kind))
    return render_template("rounds/summary.html", round=rnd, notable=summary.notable, all_fine=summary.all_fine,
                           counts=summary.counts, may_amend=may_amend, new_uuid=lambda: str(uuidlib.uuid4()),
                           scans=scans, refusals=REFUSALS)


@bp.route("/findings/<uuid:finding_uuid>/amend", methods=["POST"])
@roles(Role.STEWARD, Role.DESK, Role.SUPERVISOR)
def amend(finding_uuid: str):
    try:
        result = FindingResult(request.form.get("result", ""))
    except ValueError:
        abort(400)
    amendment_uuid = request.form.get("uuid", "")
    if not is_uuid(amendment_uuid):
        abort(400)
    back = request.form.get("round_uuid", "")
    try:
        given = {k: request.form[k] for k in ("reason_text", "note") if request.form.get(k, "").strip()}
        amendment = intake.amend_finding(db.session, current_user, finding_uuid, uuid=amendment_uuid, result=result,
                                         why=request.form.get("why", ""), **given)
    except refusals.Rejected as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("rounds.summary", round_uuid=back) if back else url_for("auth.index"))
    db.session.commit()
    flash(_("The correction was saved; the original answer is kept."), "info")
    return redirect(url_for("rounds.summary", round_uuid=amendment.finding.round.uuid))


@bp.app_context_processor
def _offline_strings() -> dict:
    return {"app_strings": app_strings}
