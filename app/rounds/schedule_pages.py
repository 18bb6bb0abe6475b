"""Schedules in the browser (blueprint "schedules", /admin/schedules): per estate and round kind, the
window a round falls due in and the estate's time zone, for the administrator (every estate) and a
supervisor of the whole estate (its own). A change is previewed (the next four weeks of due rounds
per steward) before it is saved, and applies from the next window (schedule_changes.change_rule)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..access import roles, whole_estates_of
from ..extensions import db
from ..models import Estate, Period, Role, RoundKind
from ..refusals import Conflict, Refusal
from ..steps import content_sha256
from ..web import refused
from . import schedule, schedule_changes

bp = Blueprint("schedules", __name__, url_prefix="/admin/schedules")
WHO = (Role.ADMIN, Role.SUPERVISOR)
WEEKDAYS = [_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
            _l("Sunday")]
COMMON_ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei", "Asia/Singapore",
                "Asia/Kuala_Lumpur", "Asia/Tokyo", "Europe/London", "America/Vancouver", "Australia/Sydney")


def _estates() -> list[Estate]:
    """The administrator's: every estate in service; a supervisor's: the estates they cover whole."""
    if current_user.role is Role.ADMIN:
        return [e for e in db.session.scalars(sa.select(Estate).order_by(Estate.code)) if not e.retired]
    return whole_estates_of(db.session, current_user)


def _estate(estate_id: int) -> Estate:
    estate = next((e for e in _estates() if e.id == estate_id), None)
    if estate is None:
        abort(404)
    return estate


def _kind(name: str) -> RoundKind:
    try:
        return RoundKind(name)
    except ValueError:
        abort(404)


def describe(rule) -> str:  # noqa: ANN001 - a Rule or a ScheduleRule row
    """A rule in words: "Every week, Tuesday to Wednesday", "Every month, day 1 to 10"."""
    rule = schedule.Rule(rule.period, rule.anchor, rule.window_days)
    if rule.period is Period.DAY:
        return _("Every day")
    if rule.period is Period.WEEK:
        window = schedule_changes.Window.of(rule)
        first, last = WEEKDAYS[rule.anchor], WEEKDAYS[(rule.anchor + len(window.weekdays) - 1) % 7]
        if rule.window_days is None or rule.window_days >= 7:
            return _("Every week from %(first)s, due all week", first=first)
        if rule.window_days == 1:
            return _("Every week on %(day)s", day=first)
        return _("Every week, %(first)s to %(last)s", first=first, last=last)
    if rule.window_days is None:
        return _("Every month from day %(first)d, due until the next one", first=rule.anchor)
    if rule.window_days == 1:
        return _("Every month on day %(first)d", first=rule.anchor)
    return _("Every month, day %(first)d to day %(last)d", first=rule.anchor,
             last=schedule_changes.Window.of(rule).last_day)


@dataclass
class Run:
    """Preview windows in a row: one window, or daily windows of the same places, day after day."""

    first: schedule.Occurrence
    last: schedule.Occurrence
    places: list
    new_rule: bool
    days: int = 1

    @property
    def daily(self) -> bool:
        return (self.first.end - self.first.start).days == 1


def runs(windows: list[schedule_changes.PreviewWindow]) -> list[Run]:
    """The preview's windows with every run of daily ones of the same places told once (a daily rule
    would list 28 days per steward)."""
    out: list[Run] = []
    for w in windows:
        occ = w.occurrence
        prev = out[-1] if out else None
        if prev is not None and prev.daily and (occ.end - occ.start).days == 1 and prev.new_rule == w.new_rule \
                and prev.last.end == occ.start and [t.key for t in prev.places] == [t.key for t in w.places]:
            prev.last, prev.days = occ, prev.days + 1
        else:
            out.append(Run(occ, occ, w.places, w.new_rule))
    return out


def _today(estate: Estate):  # noqa: ANN202
    return schedule.local_date(estate, datetime.now(timezone.utc))


@bp.route("/")
@roles(*WHO)
def index():
    estates = _estates()
    if len(estates) == 1:
        return redirect(url_for("schedules.estate", estate_id=estates[0].id))
    return render_template("schedules/index.html", estates=estates)


@bp.route("/<int:estate_id>")
@roles(*WHO)
def estate(estate_id: int):
    place = _estate(estate_id)
    today = _today(place)
    rules = [(kind, schedule.rule_for(db.session, place.id, kind, today),
              schedule_changes.pending_rule(db.session, place, kind, today)) for kind in schedule.KIND_ORDER]
    return render_template("schedules/estate.html", estate=place, rules=rules, today=today, describe=describe,
                           zones=COMMON_ZONES, estates=_estates())


@bp.route("/<int:estate_id>/timezone", methods=["POST"])
@roles(*WHO)
def set_timezone(estate_id: int):
    place = _estate(estate_id)
    try:
        schedule_changes.set_timezone(db.session, current_user, place, request.form.get("timezone", ""),
                              seen=request.form.get("seen"))
    except Refusal as exc:
        return refused(exc, url_for("schedules.estate", estate_id=estate_id))
    db.session.commit()
    flash(_("The time zone of %(estate)s is now %(zone)s.", estate=place.name, zone=place.timezone), "info")
    return redirect(url_for("schedules.estate", estate_id=estate_id))


def _read_window(form) -> tuple[dict, schedule_changes.Window | None, dict]:  # noqa: ANN001
    """The posted window: what to show again, the window, and what could not be read."""
    errors: dict = {}
    values = {"period": form.get("period", ""), "weekdays": form.getlist("weekday"),
              "first_day": (form.get("first_day") or "").strip(), "last_day": (form.get("last_day") or "").strip()}
    try:
        period = Period(values["period"])
    except ValueError:
        errors["period"] = [_l("Choose daily, weekly or monthly.")]
        return values, None, errors
    weekdays = []
    for raw in values["weekdays"]:
        if raw.isascii() and raw.isdigit() and len(raw) == 1:
            weekdays.append(int(raw))
        else:
            errors["weekdays"] = [_l("Weekly window: a weekday is Monday to Sunday.")]
    numbers = {}
    for field in ("first_day", "last_day"):
        raw = values[field]
        if period is Period.MONTH and raw:
            if raw.isascii() and raw.isdigit() and len(raw) <= 2:
                numbers[field] = int(raw)
            else:
                errors[field] = [_l("Monthly window: write the day of the month as a number from 1 to 28.")]
    if errors:
        return values, None, errors
    return values, schedule_changes.Window(period, tuple(sorted(set(weekdays))), numbers.get("first_day"),
                                   numbers.get("last_day")), errors


def _values_of(rule: schedule.Rule) -> dict:
    window = schedule_changes.Window.of(rule)
    return {"period": window.period.value, "weekdays": [str(d) for d in window.weekdays],
            "first_day": str(window.first_day or ""), "last_day": str(window.last_day or "")}


@bp.route("/<int:estate_id>/<kind>", methods=["GET", "POST"])
@roles(*WHO)
def rule(estate_id: int, kind: str):
    place, round_kind = _estate(estate_id), _kind(kind)
    today = _today(place)
    current = schedule.rule_for(db.session, place.id, round_kind, today)
    seen = schedule_changes.rules_fingerprint(db.session, place, round_kind)
    context = dict(estate=place, kind=round_kind, current=current, today=today, describe=describe, weekdays=WEEKDAYS,
                   runs=runs,
                   pending=schedule_changes.pending_rule(db.session, place, round_kind, today), seen=seen, errors={},
                   message=None, previews=None, effective_from=None, previewed="", new_rule=None)
    if request.method == "GET":
        return render_template("schedules/rule.html", values=_values_of(current), **context)

    values, window, errors = _read_window(request.form)
    context["seen"] = request.form.get("seen", "")
    status = 200
    new_rule = None
    if window is not None:
        try:
            new_rule = window.rule()
        except Refusal as exc:
            errors = exc.errors
    if errors:
        context.update(errors=errors, message=_("Nothing was saved: see the notes below."))
        return render_template("schedules/rule.html", values=values, **context), 422
    effective_from = schedule_changes.next_window_start(current, new_rule, today)
    fingerprint = content_sha256({"rule": [new_rule.period.value, new_rule.anchor, new_rule.window_days],
                                  "seen": context["seen"], "from": effective_from.isoformat()})
    if request.form.get("action") == "save":
        if request.form.get("previewed") != fingerprint:
            context["message"] = _("Check the preview below, then save.")
        else:
            try:
                row = schedule_changes.change_rule(db.session, current_user, place, round_kind, new_rule,
                                           seen=context["seen"], today=today)
            except Conflict as exc:
                db.session.rollback()
                context.update(message=str(exc.message), seen=schedule_changes.rules_fingerprint(db.session, place, round_kind))
                return render_template("schedules/rule.html", values=_values_of(current), **context), 409
            except Refusal as exc:
                db.session.rollback()
                context.update(message=str(exc.message))
                return render_template("schedules/rule.html", values=values, **context), exc.status
            db.session.commit()
            flash(_("Saved: from %(day)s, %(rule)s.", day=row.effective_from.isoformat(),
                    rule=describe(new_rule)), "info")
            return redirect(url_for("schedules.estate", estate_id=place.id))
    context.update(previews=schedule_changes.preview(db.session, place, round_kind, new_rule, effective_from, today),
                   effective_from=effective_from, previewed=fingerprint, new_rule=new_rule)
    return render_template("schedules/rule.html", values=values, **context), status
