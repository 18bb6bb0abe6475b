from __future__ import annotations

import uuid as uuidlib

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError


def _is_uuid(form, field) -> None:  # noqa: ANN001
    try:
        uuidlib.UUID(field.data or "")
    except ValueError:
        raise ValidationError(_l("This form is out of date. Reload the page and try again.")) from None


class MaterialRequestForm(FlaskForm):
    """The gate asks to let decoration materials in (裝修材料進場), with a photo of them."""

    uuid = HiddenField(validators=[_is_uuid])  # one request however often the form is sent
    # Choices are the units decorating now; a unit that is not one gets the service's own answer.
    unit = SelectField(_l("Unit"), coerce=int, validate_choice=False,
                       validators=[DataRequired(_l("Choose the unit."))])
    materials = StringField(_l("Materials"), validators=[
        DataRequired(_l("Say what materials are coming in.")),
        Length(max=500, message=_l("At most %(max)d characters."))])
    photo = FileField(_l("Photo of the materials"), validators=[FileRequired(_l("Take a photo of the materials."))])


class SettleForm(FlaskForm):
    """The desk contacted the owner about a refused request."""

    note = TextAreaField(_l("What was agreed with the owner"), validators=[
        DataRequired(_l("Write what was agreed with the owner.")),
        Length(max=1000, message=_l("At most %(max)d characters."))])
    escalate = HiddenField()  # the button pressed: "1" escalates to the supervisor


class DecideForm(FlaskForm):
    """The steward's decision, sent from a web page when the phone's own path is not used."""

    uuid = HiddenField(validators=[_is_uuid])
    approved = HiddenField()  # "1" or "0", from the button pressed
    reason = TextAreaField(_l("Why not"), validators=[Optional(),
                                                      Length(max=1000, message=_l("At most %(max)d characters."))])
