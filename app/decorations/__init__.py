"""Decoration management pages (二次裝修): registrations, violations and notices, acceptance."""
from flask import Blueprint

bp = Blueprint("decoration", __name__, url_prefix="/decoration")

from . import views  # noqa: E402,F401
