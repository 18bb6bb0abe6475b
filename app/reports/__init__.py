"""Reports for the desk and supervisors: the summaries (總結分析) of an estate's week or month."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from . import views  # noqa: E402,F401
