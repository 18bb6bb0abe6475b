from flask import Blueprint

bp = Blueprint("engineering", __name__, url_prefix="/engineering")

from . import views  # noqa: E402,F401
