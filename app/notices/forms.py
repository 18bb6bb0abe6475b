from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TimeField
from wtforms.validators import Optional


class QuietHoursForm(FlaskForm):
    """No push from one time to the other (across midnight when the end is the earlier); both empty: none."""

    quiet_from = TimeField(_l("Quiet from"), validators=[Optional()])
    quiet_until = TimeField(_l("Quiet until"), validators=[Optional()])
