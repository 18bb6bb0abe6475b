from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional


def _too_long(n: int):  # noqa: ANN202
    return Length(max=n, message=_l("At most %(max)d characters."))


class RegistrationForm(FlaskForm):
    """A decoration registration (裝修登記). The service judges the rules (dates, hours, overlap)."""

    # The service judges scope and overlap: a unit posted from another tab gets its real reason.
    unit = SelectField(_l("Unit"), coerce=int, validate_choice=False,
                       validators=[InputRequired(_l("Choose the unit."))])
    owner_name = StringField(_l("Owner"), validators=[DataRequired(_l("This field is required.")), _too_long(120)])
    owner_phone = StringField(_l("Owner's phone"), validators=[DataRequired(_l("This field is required.")), _too_long(32)])
    contractor_name = StringField(_l("Contractor"),
                                  validators=[DataRequired(_l("This field is required.")), _too_long(120)])
    contractor_phone = StringField(_l("Contractor's phone"),
                                   validators=[DataRequired(_l("This field is required.")), _too_long(32)])
    workers = IntegerField(_l("Number of workers"), default=1,
                           validators=[InputRequired(_l("Give the number of workers."))])
    worker_names = StringField(_l("Workers' names"), validators=[Optional(), _too_long(500)])
    planned_start = DateField(_l("Planned start"), validators=[InputRequired(_l("Give the planned start."))])
    planned_end = DateField(_l("Planned end"), validators=[InputRequired(_l("Give the planned end."))])
    scope = TextAreaField(_l("Approved scope of work"),
                          validators=[DataRequired(_l("This field is required.")), _too_long(2000)])
    working_hours = StringField(_l("Working hours (e.g. 08:00-12:00, 14:00-18:00)"),
                                validators=[Optional(), _too_long(64)])
    quiet_rest_days = BooleanField(_l("No noisy work on rest days"))
    deposit = DecimalField(_l("Deposit (¥)"), places=2, default=0,
                           validators=[InputRequired(_l("Give the deposit (0 if none)."))])
