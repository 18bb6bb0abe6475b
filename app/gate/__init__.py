"""The security gate (保安門崗): asks for decoration materials to come in, reads which units are stopped."""
from flask import Blueprint

bp = Blueprint("gate", __name__, url_prefix="/gate")

from . import views  # noqa: E402,F401
