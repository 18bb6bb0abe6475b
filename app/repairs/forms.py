from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..labels import ROUTE, TICKET_CHANNEL, URGENCY
from ..models import TicketChannel, Urgency
from .tickets import INTAKE_CHANNELS, TICKET_ROUTES


def _too_long(n: int):  # noqa: ANN202
    return Length(max=n, message=_l("At most %(max)d characters."))


class IntakeForm(FlaskForm):
    """A phone or walk-in repair report (報修登記)."""

    estate = SelectField(_l("Estate"), coerce=int)
    channel = SelectField(_l("How it was reported"),
                          choices=[SelectChoice(c.value, TICKET_CHANNEL[c]) for c in TicketChannel if c in INTAKE_CHANNELS])
    reporter_name = StringField(_l("Reporter"), validators=[DataRequired(_l("Write down who reported it.")), _too_long(120)])
    reporter_phone = StringField(_l("Reporter's phone"), validators=[Optional(), _too_long(32)])
    building = SelectField(_l("Building"), coerce=int)
    room = StringField(_l("Room (e.g. 1-101), for a repair in a home"), validators=[Optional(), _too_long(32)])
    public_area = SelectField(_l("Or a public place"), coerce=int)
    place_text = StringField(_l("Where exactly"), validators=[Optional(), _too_long(200)])
    description = TextAreaField(_l("What needs repairing"),
                                validators=[DataRequired(_l("Describe what needs repairing.")), _too_long(1000)])
    expectation = StringField(_l("What the reporter expects (e.g. a time to come)"), validators=[Optional(), _too_long(500)])
    route = SelectField(_l("Goes to"), choices=[SelectChoice(r.value, ROUTE[r]) for r in ROUTE if r in TICKET_ROUTES])
    urgency = SelectField(_l("Urgency"), choices=[SelectChoice(u.value, URGENCY[u]) for u in Urgency], default=Urgency.NORMAL.value)


def choices(pairs) -> list[SelectChoice]:  # noqa: ANN001
    return [SelectChoice(value, label) for value, label in pairs]
