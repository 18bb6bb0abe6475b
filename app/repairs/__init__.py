"""Repair tickets on the web: the desk's list, intake, a ticket's page with its actions, printing,
export, and the supervisor's overdue list. Domain rules live in app/tickets.py."""
from flask import Blueprint

bp = Blueprint("tickets", __name__, url_prefix="/tickets")


@bp.app_template_global("ticket_is_overdue")
def _ticket_is_overdue(ticket, now):  # noqa: ANN001, ANN202 - the one rule, app/tickets.py
    from ..tickets import is_overdue

    return is_overdue(ticket, now)

from . import views  # noqa: E402,F401
