"""Extensions, created unbound and bound to an app in `create_app`."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from marshmallow import Schema, fields
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints so Alembic can alter them later (also on SQLite in batch mode).
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class _Api(Api):
    """flask-smorest's Api, with errors left to app/errors.py (one shape for the whole app)."""

    class _ErrorSchema(Schema):
        code = fields.Integer(required=True)
        message = fields.String(required=True)
        errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)

    ERROR_SCHEMA = _ErrorSchema

    def _register_error_handlers(self) -> None:
        pass


api = _Api()
