"""The desk's review of synced findings: the filtered list, CSV export, marking reviewed,
comments and route corrections (the rules and queries are in app/review/__init__.py)."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import Session

from .. import refusals, review
from ..access import (
    roles,
)
from ..extensions import db
from ..i18n import current_language, format_at, format_day
from ..labels import FINDING_RESULT, ROUND_KIND, ROUTE, TICKET_STATUS
from ..models import Role, RoundKind
from ..models.base import utcnow
from ..web import csv_response, refused

bp = Blueprint("review", __name__, url_prefix="/desk")


def _findings_page(flt: review.ReviewFilter | None, before: int | None = None, errors: list | None = None,
                   status: int = 200):
    """The review page; `flt` None when the filter itself was refused (the form shows what was typed)."""
    errors = [str(e) for e in errors or []]
    page = counts = None
    if flt is not None:
        try:
            selection = review.select_findings(db.session, current_user, flt)
            page = review.review_page(db.session, current_user, flt, before=before, selection=selection)
            counts = review.review_counts(db.session, current_user, flt, selection=selection)
        except refusals.NotVisible:
            abort(404)
        except review.FilterError as exc:
            errors += [str(m) for m in exc.messages]
            status = 400
    estate_arg = request.args.get("estate_id", "")
    estate_id = int(estate_arg) if estate_arg.isascii() and estate_arg.isdigit() and len(estate_arg) < 10 else None
    choices = review.filter_choices(db.session, current_user, estate_id)
    here = request.full_path if request.query_string else request.path
    return render_template(
        "review/findings.html", flt=flt, page=page, counts=counts, errors=errors, choices=choices,
        args=request.args, here=here, kinds=list(RoundKind), routes=review.ROUTE_CHOICES,
        csv_args=flt.to_args() if flt else {}, next_args=review.with_cursor(flt, page.next_before) if page else {},
        previous_args=review.with_cursor(flt, page.previous_before) if page and page.has_previous else None,
        undo=session.pop("review_undo", None),
        first_args=flt.to_args() if flt else {}, max_days=review.MAX_RANGE_DAYS,
        comment_max=review.COMMENT_MAX, review_place=review.place_of,
        # Labels translated once for the page, not once per finding.
        result_names=_names(FINDING_RESULT), kind_names=_names(ROUND_KIND), status_names=_names(TICKET_STATUS),
        route_names=_names(ROUTE), day_of=_memo(format_day), at_of=_memo(format_at),
    ), status


def _memo(format_):  # noqa: ANN001, ANN202
    """A date format remembered for the page: many findings share a day or a review's minute."""
    seen: dict = {}

    def cached(value, *args):  # noqa: ANN001, ANN202
        key = (value.replace(second=0, microsecond=0) if isinstance(value, datetime) else value, *args)
        if key not in seen:
            seen[key] = format_(value, *args)
        return seen[key]

    return cached


def _names(labels: dict) -> dict:
    return {key: str(label) for key, label in labels.items()}


# What the page opens on: what needs a person, the defects nobody has reviewed yet (newest first).
OPENING_FILTER = review.ReviewFilter(defects_only=True, unreviewed_only=True)


@bp.route("/findings")
@roles(Role.DESK, Role.SUPERVISOR)
def findings():
    """Synced findings of completed rounds, filtered, newest round first, a page at a time; without
    any filter, the defects not yet reviewed."""
    if not request.args:
        return _findings_page(OPENING_FILTER)
    try:
        flt = review.ReviewFilter.from_args(request.args)
        before = review.parse_cursor(request.args.get("before"))
    except review.FilterError as exc:
        return _findings_page(None, errors=exc.messages, status=400)
    return _findings_page(flt, before)


@bp.route("/findings.csv")
@roles(Role.DESK, Role.SUPERVISOR)
def findings_csv():
    """The filtered findings as a CSV file for Excel (UTF-8 with BOM), over at most 366 days."""
    try:
        flt = review.ReviewFilter.from_args(request.args)
        flt.check_exportable()
        selection = review.select_findings(db.session, current_user, flt)
    except refusals.NotVisible:
        abort(404)
    except review.FilterError as exc:
        try:
            shown = review.ReviewFilter.from_args(request.args)
        except review.FilterError:
            shown = None
        return _findings_page(shown, errors=exc.messages, status=400)
    language = current_language()

    def rows():
        with Session(db.engine) as session:  # its own session: emptied after every batch
            yield from review.export_rows(session, selection, language)

    return csv_response(review.export_filename(flt), review.csv_header(), rows())


def _back() -> str:
    """Where a form on the review page came from: that page with its filters, never elsewhere."""
    target = request.form.get("next", "")
    base = url_for("review.findings")
    parts = urlsplit(target)
    if (not parts.scheme and not parts.netloc and parts.path == base and target.startswith(base)
        and "\\" not in target and not any(ord(c) < 32 for c in target)):
        return urlunsplit(("", "", parts.path, parts.query, ""))
    return base


def _done(message, anchor: str | None = None):  # noqa: ANN001, ANN202
    db.session.commit()
    flash(message, "info")
    return redirect(_back() + (f"#f-{anchor}" if anchor else ""), code=303)


def _wants_json() -> bool:
    """The page's script marks in place (no reload, no jump); a plain form gets a redirect."""
    return request.accept_mimetypes.best == "application/json"


def _anchor(raw: str | None) -> str | None:
    """A card to come back to (the one after the marked one): an id of letters, digits and dashes."""
    raw = (raw or "").strip()
    return raw if raw and len(raw) <= 64 and all(c.isalnum() or c == "-" for c in raw) and raw.isascii() else None


def _marked(uuids: list[str], marked: int, at: datetime, message: str, anchor: str | None = None):  # noqa: ANN202
    """After a mark: the script hears what to undo; a plain form goes back to the page, where an
    undo button waits (kept in the session, shown once)."""
    db.session.commit()
    undo = {"uuids": uuids, "at": at.isoformat()}
    if _wants_json():
        return jsonify(marked=marked, message=message, undo=undo)
    session["review_undo"] = undo
    flash(message, "info")
    return redirect(_back() + (f"#f-{anchor}" if anchor else ""), code=303)


def _refused(exc: review.ReviewError):  # noqa: ANN202
    return refused(exc, _back(), code=303)


@bp.route("/findings/<uuid:finding_uuid>/review", methods=["POST"])
@roles(Role.DESK, Role.SUPERVISOR)
def review_finding(finding_uuid: str):
    at = utcnow()
    try:
        marked = review.mark_reviewed(db.session, current_user, [finding_uuid], now=at)
    except refusals.NotVisible:
        abort(404)
    except review.ReviewError as exc:
        return _refused_or_json(exc)
    # Back to where the desk was: the next card (this one may have left a "not yet reviewed" list).
    return _marked([finding_uuid], marked, at, _("Marked reviewed."), _anchor(request.form.get("then")) or finding_uuid)


@bp.route("/findings/review", methods=["POST"])
@roles(Role.DESK, Role.SUPERVISOR)
def review_findings():
    uuids = request.form.getlist("uuid")
    at = utcnow()
    try:
        marked = review.mark_reviewed(db.session, current_user, uuids, now=at)
    except refusals.NotVisible:
        db.session.rollback()
        message = _("Some of these findings are not yours to review; none was marked.")
        if _wants_json():
            return jsonify(message=message), 404
        flash(message, "error")
        return redirect(_back(), code=303)
    except review.ReviewError as exc:
        return _refused_or_json(exc)
    return _marked(uuids, marked, at,
                   ngettext("%(num)d finding marked reviewed.", "%(num)d findings marked reviewed.", marked),
                   _anchor(request.form.get("then")))


@bp.route("/findings/unreview", methods=["POST"])
@roles(Role.DESK, Role.SUPERVISOR)
def unreview_findings():
    """Undo a mark: the desk's own marks of that moment only."""
    uuids = request.form.getlist("uuid")
    try:
        at = datetime.fromisoformat(request.form.get("at", ""))
        if at.tzinfo is None:
            raise ValueError
        undone = review.unmark_reviewed(db.session, current_user, uuids, at)
    except ValueError:
        return _refused_or_json(review.ReviewError(_("This undo is not valid any more.")))
    except refusals.NotVisible:
        abort(404)
    except review.ReviewError as exc:
        return _refused_or_json(exc)
    db.session.commit()
    message = ngettext("%(num)d finding is not reviewed again.", "%(num)d findings are not reviewed again.", undone)
    if _wants_json():
        return jsonify(unmarked=undone, message=message)
    session.pop("review_undo", None)
    flash(message, "info")
    return redirect(_back(), code=303)


def _refused_or_json(exc: review.ReviewError):  # noqa: ANN202
    db.session.rollback()
    if _wants_json():
        return jsonify(message=str(exc.message)), exc.status
    return _refused(exc)


@bp.route("/findings/<uuid:finding_uuid>/comments", methods=["POST"])
@roles(Role.DESK, Role.SUPERVISOR)
def comment_finding(finding_uuid: str):
    try:
        review.add_comment(db.session, current_user, finding_uuid, request.form.get("text", ""))
    except refusals.NotVisible:
        abort(404)
    except review.ReviewError as exc:
        return _refused(exc)
    return _done(_("Comment added."), finding_uuid)


@bp.route("/findings/<uuid:finding_uuid>/route", methods=["POST"])
@roles(Role.DESK, Role.SUPERVISOR)
def finding_route(finding_uuid: str):
    try:
        changed = review.correct_route(db.session, current_user, finding_uuid, request.form.get("route", ""),
                                       request.form.get("note", ""))
    except refusals.NotVisible:
        abort(404)
    except review.ReviewError as exc:
        return _refused(exc)
    if not changed:
        return _done(_("The ticket already goes there; nothing changed."), finding_uuid)
    return _done(_("The ticket now goes to the team you chose."), finding_uuid)
