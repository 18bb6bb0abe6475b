"""Each person's notices (/notices): the list, marking read, quiet hours and the phone's push switch."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import guard
from ..access import ALL_ROLES, roles
from ..extensions import db
from ..models import NoticeKind, PushOutcome, PushSubscription
from ..refusals import Rejected
from ..web import QueryArgs
from . import messages, operations, push, queries
from .forms import QuietHoursForm

bp = Blueprint("notices", __name__, url_prefix="/notices")

OUTCOME = {
    PushOutcome.SENT: "",
    PushOutcome.QUIET: _l("Not pushed: quiet hours"),
    PushOutcome.NO_DEVICE: "",
    PushOutcome.INACTIVE: _l("Not delivered: account deactivated"),
    PushOutcome.EXPIRED: _l("Not pushed: the phone's subscription had expired"),
    PushOutcome.FAILED: _l("Push failed"),
    PushOutcome.OFF: "",
}


@bp.route("/")
@roles(*ALL_ROLES)
def index():
    args = QueryArgs(request.args)
    before = args.number("before", _("Not a page of notices."))
    kind = next((k for k in NoticeKind if k.value == args.text("kind")), None)
    notices, more = queries.notices_of(db.session, current_user, before=before, kind=kind)
    unread = queries.unread_count(db.session, current_user)
    return render_template("notices/index.html", notices=notices, more=more, unread=unread, kind=kind,
                           title=messages.title, body=messages.body, outcome=OUTCOME,
                           kinds=messages.KIND_NAMES)


@bp.route("/<int:notice_id>/read", methods=["POST"])
@roles(*ALL_ROLES)
def read(notice_id: int):
    notice = operations.mark_read(db.session, current_user, notice_id)
    db.session.commit()
    if request.form.get("open"):
        return redirect(guard.safe_redirect_target(notice.link) or url_for("notices.index"))
    return redirect(url_for("notices.index"))


@bp.route("/read-all", methods=["POST"])
@roles(*ALL_ROLES)
def read_all():
    operations.mark_all_read(db.session, current_user)
    db.session.commit()
    return redirect(url_for("notices.index"))


@bp.route("/settings", methods=["GET", "POST"])
@roles(*ALL_ROLES)
def settings():
    saved = operations.settings_of(db.session, current_user)
    form = QuietHoursForm(obj=saved)
    status = 200
    if form.validate_on_submit():
        try:
            operations.set_quiet_hours(db.session, current_user,
                                       operations.QuietHours(form.quiet_from.data, form.quiet_until.data))
        except Rejected as exc:
            db.session.rollback()
            for name, errors in exc.errors.items():
                getattr(form, name).errors = list(getattr(form, name).errors) + [str(e) for e in errors]
            status = 422
        else:
            db.session.commit()
            flash(_("Your quiet hours are saved."), "info")
            return redirect(url_for("notices.settings"))
    elif request.method == "POST":
        status = 422
    phones = db.session.query(PushSubscription).filter_by(user_id=current_user.id).count()
    return render_template("notices/settings.html", form=form, phones=phones,
                           vapid_key=push.public_key()), status
