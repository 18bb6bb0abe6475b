"""The administrator's pages for places: estates and what they hold, the workbook import."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template

from ..access import roles
from ..extensions import db
from ..models import Estate, Role

bp = Blueprint("places", __name__, url_prefix="/admin/places")


@bp.route("/")
@roles(Role.ADMIN)
def index():
    estates = db.session.scalars(sa.select(Estate).order_by(Estate.retired_at.is_not(None), Estate.code)).all()
    return render_template("places/index.html", estates=estates)
