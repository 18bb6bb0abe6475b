from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..models import ComplaintCategory, ComplaintChannel
from .labels import CATEGORY, CHANNEL


def _too_long(n: int):  # noqa: ANN202
    return Length(max=n, message=_l("At most %(max)d characters."))


class ComplaintForm(FlaskForm):
    """A complaint as the desk takes it down (投訴登記)."""

    estate = SelectField(_l("Estate"), coerce=int)
    channel = SelectField(_l("How it was reached"), choices=[
        SelectChoice(c.value, CHANNEL[c]) for c in ComplaintChannel if c is not ComplaintChannel.APP])
    category = SelectField(_l("Category"), choices=[SelectChoice(c.value, CATEGORY[c]) for c in ComplaintCategory])
    complainant_name = StringField(_l("Who complains"), validators=[
        DataRequired(_l("Write down who complains.")), _too_long(120)])
    complainant_phone = StringField(_l("Their phone"), validators=[Optional(), _too_long(32)])
    building = SelectField(_l("Building"), coerce=int)
    room = StringField(_l("Room (e.g. 1-101)"), validators=[Optional(), _too_long(32)])
    public_area = SelectField(_l("Or a public place"), coerce=int)
    place_text = StringField(_l("Where exactly"), validators=[Optional(), _too_long(200)])
    description = TextAreaField(_l("What the complaint is about"), validators=[
        DataRequired(_l("Describe the complaint.")), _too_long(1000)])
    expectation = StringField(_l("What the owner expects"), validators=[Optional(), _too_long(500)])
