"""Repair tickets on the web: the desk's list, intake, a ticket's page with its actions, printing,
export, and the supervisor's overdue list. Domain rules live in app/tickets.py."""
from flask import Blueprint

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

from . import views  # noqa: E402,F401
