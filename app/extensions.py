"""Extensions, created unbound and bound to an app in `create_app`."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from marshmallow import Schema, fields
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


class _Limiter(Limiter):
    """Flask-Limiter; with Redis, short socket timeouts so that a hung Redis fails a sign-in in
    seconds instead of holding a worker. The client address is `request.remote_addr`, which
    ProxyFix (PROXY_FIX_X_FOR, app/__init__.py) takes from nginx's X-Forwarded-For.

    Flask-Limiter keeps its storage on this object, not per app: two apps built in one process
    share the last one's (tests/platform/test_rate_limit_shared.py runs separate processes)."""

    def init_app(self, app) -> None:  # noqa: ANN001
        if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis://", "rediss://", "redis+unix://")):
            app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 2})
        super().init_app(app)


limiter = _Limiter(key_func=get_remote_address, default_limits=[])


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
