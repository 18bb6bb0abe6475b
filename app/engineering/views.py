from __future__ import annotations

from flask import render_template
from flask_login import current_user

from .. import overview
from ..access import estates_of, roles
from ..extensions import db
from ..models import Role
from . import bp


@bp.route("/")
@roles(Role.ENGINEERING)
def index():
    estates = estates_of(db.session, current_user)
    return render_template(
        "engineering/index.html", meters=[(e, overview.meter_standing(db.session, e)) for e in estates]
    )
