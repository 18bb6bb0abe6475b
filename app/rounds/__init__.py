from flask import Blueprint

bp = Blueprint("rounds", __name__, url_prefix="/rounds")

from . import views  # noqa: E402,F401
from .strings import app_strings  # noqa: E402


@bp.app_context_processor
def _offline_strings() -> dict:
    return {"app_strings": app_strings}
