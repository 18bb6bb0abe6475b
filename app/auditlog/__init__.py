"""The audit log's page for supervisors (read only: app/audit.py alone writes entries)."""
from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from . import views  # noqa: E402,F401
