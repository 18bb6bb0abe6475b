from __future__ import annotations

from datetime import datetime, timezone

from babel.dates import format_skeleton
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..access import roles, whole_estates_of
from ..extensions import db
from ..i18n import DEFAULT, current_language
from ..complaints import violations as resident_violations
from ..complaints.labels import CATEGORY as COMPLAINT_CATEGORY
from ..complaints.labels import CHANNEL
from ..labels import GRADE, ROUND_KIND, ROUTE, TICKET_CHANNEL
from ..models import Role
from ..rounds import schedule
from . import complaints as complaint_figures
from . import summaries
from .scans import scan_summary
from .charts import Bar, Series, bar_chart

bp = Blueprint("reports", __name__, url_prefix="/reports")


DONE, MISSED, OPEN = "#1b6e2f", "#b00020", "#9aa3a8"
TICKET_CHANNEL_LABEL = {c.value: label for c, label in TICKET_CHANNEL.items()}
COMPLAINT_CHANNEL = {c.value: label for c, label in CHANNEL.items()}
GRADE_COLORS = {"A": "#1b6e2f", "B": "#8a5a00", "C": "#b00020"}


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


def _hours(hours: float | None) -> str:
    return "—" if hours is None else _("%(hours)s h", hours=f"{hours:.1f}")


def period_label(period: summaries.Period) -> str:
    locale = get_locale() or DEFAULT
    if period.kind == "month":
        return format_skeleton("yMMMM", period.start, locale=locale)
    return _("%(first)s – %(last)s", first=format_skeleton("yMMMd", period.start, locale=locale),
             last=format_skeleton("MMMd", period.last, locale=locale))


def _completion_bar(label: str, c: summaries.Completion) -> Bar:
    scale = c.due or 1
    text = _("%(done)s of %(due)s done · %(missed)s missed · %(open)s open",
             done=c.done, due=c.due, missed=c.missed, open=c.open)
    return Bar(label, (c.done / scale * 100, c.missed / scale * 100, c.open / scale * 100), text)


def _charts(s: summaries.EstateSummary) -> dict:
    lang = current_language()
    plain = lambda rows: [Bar(str(label), (n,), str(n)) for label, n in rows]  # noqa: E731
    completion_series = [Series(_("Done"), DONE), Series(_("Missed"), MISSED), Series(_("Open"), OPEN)]
    total = s.completion_total
    charts = {
        "category": bar_chart("chart-category", _("Defects by category"),
                              plain((ROUND_KIND[c.kind], c.count) for c in s.by_category)),
        "building": bar_chart("chart-building", _("Defects by building"),
                              plain((c.name or _("Estate-wide and public areas"), c.count) for c in s.by_building)),
        "item": bar_chart("chart-item", _("Defects by checklist item"),
                          plain((i.label(lang), i.count) for i in s.by_item)),
        "places": bar_chart("chart-places", _("Places found defective most often"), [
            Bar(p.label, (p.rounds,), _("%(rounds)s rounds · %(defects)s defects", rounds=p.rounds, defects=p.defects))
            for p in s.recurring_places
        ]),
        "median": bar_chart("chart-median", _("Median time to repair"),
                            [Bar(str(ROUTE[r.route]), (r.median_hours or 0,), _hours(r.median_hours))
                             for r in s.routes]),
        "target": bar_chart("chart-target", _("Repaired within target time"),
                            [Bar(str(ROUTE[r.route]), ((r.share_within_target or 0) * 100,),
                                 f"{_percent(r.share_within_target)} ({r.within_target}/{r.repaired})")
                             for r in s.routes], scale_max=100),
        "grades": bar_chart("chart-grades", _("Return-visit grades"), [
            Bar(_("Return visits"), tuple(s.grades[g] for g in summaries.GRADES),
                " · ".join(f"{g} {s.grades[g]}" for g in summaries.GRADES))
        ], series=[Series(str(GRADE[g]), GRADE_COLORS[g]) for g in summaries.GRADES],
            legend=[f"{GRADE[g]}: {s.grades[g]}" for g in summaries.GRADES]) if s.return_visits else "",
        "completion": bar_chart("chart-completion", _("Rounds done against due, by kind"),
                                [_completion_bar(str(ROUND_KIND[k.kind]), k.completion) for k in s.completion],
                                series=completion_series, scale_max=100,
                                legend=[f"{_('Done')}: {total.done}", f"{_('Missed')}: {total.missed}",
                                        f"{_('Open')}: {total.open}"]) if total.due else "",
        "stewards": bar_chart("chart-stewards", _("Rounds per steward"),
                              [_completion_bar(st.steward.display_name, st.completion)
                               for st in s.stewards if st.completion.due],
                              series=completion_series, scale_max=100),
    }
    return charts


def _complaint_charts(c: complaint_figures.Summary) -> dict:
    """The complaints, return visits, channels and violations of the period (app/reports/complaints.py)."""
    plain = lambda rows: [Bar(str(label), (n,), str(n)) for label, n in rows]  # noqa: E731
    kinds = {"decoration": _("Decoration violation"), **resident_violations.KIND}
    visits = [(_("Complaints"), c.complaint_visits), (_("Unit repairs"), c.repair_visits)]
    graded = [(label, v) for label, v in visits if v.visited]
    return {
        "category": bar_chart("chart-complaint-category", _("Complaints by category"),
                              plain((COMPLAINT_CATEGORY[r.category], r.count) for r in c.by_category)),
        "place": bar_chart("chart-complaint-place", _("Places complained about most"), plain(c.by_place)),
        "hours": bar_chart("chart-complaint-hours", _("Hours to close (mean)"),
                           [Bar(str(COMPLAINT_CATEGORY[r.category]), (r.mean_hours,), _hours(r.mean_hours))
                            for r in c.by_category if r.mean_hours is not None]),
        "grades": bar_chart("chart-visit-grades", _("Return-visit grades, complaints and repairs"), [
            Bar(str(label), tuple(v.grades.get(g, 0) for g in complaint_figures.GRADES),
                " · ".join(f"{g} {v.grades.get(g, 0)}" for g in complaint_figures.GRADES)) for label, v in graded
        ], series=[Series(str(GRADE[g]), GRADE_COLORS[g]) for g in complaint_figures.GRADES]) if graded else "",
        "channels": bar_chart("chart-channels", _("How repairs and complaints came in"), plain(
            [(f"{_('Repair tickets')} · {TICKET_CHANNEL_LABEL.get(k, k)}", n) for k, n in c.tickets_by_channel.items()]
            + [(f"{_('Complaints')} · {COMPLAINT_CHANNEL.get(k, k)}", n) for k, n in c.complaints_by_channel.items()])),
        "violations": bar_chart("chart-violations", _("Violations by kind"),
                                plain((kinds.get(k, k), n) for k, n in sorted(c.violations_by_kind.items()))),
        "visits": visits,
    }


def _page(status: int = 200, **context):
    return render_template("reports/summary.html", **context), status


@bp.route("/summary")
@roles(Role.DESK, Role.SUPERVISOR)
def summary():
    """An estate's week or month: defects, tickets, return visits and rounds, as charts with numbers."""
    # A summary covers a whole estate (every building, every steward): only for those assigned
    # to the whole estate, not to some of its buildings.
    estates = whole_estates_of(db.session, current_user)
    kind = request.args.get("period") or "month"
    raw = request.args.get("estate", "").strip()
    form = {"estate": raw, "period": kind, "start": request.args.get("start", "")}
    if not estates and not raw:
        return _page(estates=[], form=form,
                     error=_("Summaries cover whole estates, and you are not assigned to one."))
    if not raw:
        estate = estates[0]
    elif not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        return _page(400, estates=estates, form=form, error=_("Choose an estate from the list."))
    else:
        estate = next((e for e in estates if e.id == int(raw)), None)
        if estate is None:  # another estate's figures are not theirs to see, nor is its existence
            abort(404)
    form["estate"] = str(estate.id)

    now = datetime.now(timezone.utc)
    today = schedule.local_date(estate, now)
    if kind not in summaries.PERIOD_KINDS:
        return _page(400, estates=estates, form=form, error=_("The period is a week or a month."))
    try:
        period = summaries.parse_period(kind, request.args.get("start"), today)
    except summaries.PeriodError:
        return _page(400, estates=estates, form=form,
                     error=_("The start date must be a date such as 2026-10-01."))
    form["start"] = period.start.isoformat()

    s = summaries.estate_summary(db.session, estate, period, now)
    c = complaint_figures.complaints_summary(db.session, estate, period, now)

    def link(p: summaries.Period) -> str:
        return url_for("reports.summary", estate=estate.id, period=p.kind, start=p.start.isoformat())

    nxt = period.next()
    return _page(
        estates=estates, form=form, estate=estate, s=s, charts=_charts(s), c=c, c_charts=_complaint_charts(c),
        scans=scan_summary(db.session, estate, period),
        period_label=period_label(period),
        previous=(link(period.previous()), period_label(period.previous())),
        next=(link(nxt), period_label(nxt)) if nxt.start <= today else None,
        current=period.start <= today < period.end,
    )
