from flask import Blueprint

bp = Blueprint("rounds", __name__, url_prefix="/rounds")

from . import views  # noqa: E402,F401
