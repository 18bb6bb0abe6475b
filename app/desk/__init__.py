from flask import Blueprint

bp = Blueprint("desk", __name__, url_prefix="/desk")

from . import views  # noqa: E402,F401
