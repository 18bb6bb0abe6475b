from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username.")), Length(max=64, message=_l("At most %(max)d characters."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=256, message=_l("At most %(max)d characters."))])


class PasswordForm(FlaskForm):
    """A new password of one's own: after an administrator's reset, before anything else."""

    current = PasswordField(_l("Current password (the temporary one after a reset)"), validators=[
        DataRequired(_l("Enter your current password.")), Length(max=256, message=_l("At most %(max)d characters."))])
    new = PasswordField(_l("New password (at least 8 characters)"), validators=[
        DataRequired(_l("Choose a new password.")), Length(max=256, message=_l("At most %(max)d characters."))])
    repeat = PasswordField(_l("The new password again"), validators=[
        DataRequired(_l("Type the new password again.")), Length(max=256, message=_l("At most %(max)d characters."))])
