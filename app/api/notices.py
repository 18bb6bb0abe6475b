"""Notices on the phone: the bell's unread count (polled cheaply, with an ETag) and the browser's
Web Push subscription."""
from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView
from flask_babel import get_locale
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, post_load, validate

from ..access import ALL_ROLES, roles
from ..extensions import db
from ..notices import messages, operations, queries
from .schemas import READ_ERRORS, WRITE_ERRORS, InSchema, documented_errors

blp = Blueprint("api_notices", __name__, url_prefix="/api/v1", description="Notices and Web Push")

B64URL = validate.Regexp(r"^[A-Za-z0-9_-]+={0,2}$", error="Not base64url.")


class NoticeSchema(Schema):
    id = fields.Integer()
    kind = fields.String(attribute="kind.value")
    title = fields.Function(messages.title)
    body = fields.Function(messages.body)
    link = fields.String()
    created_at = fields.AwareDateTime()


class UnreadSchema(Schema):
    unread = fields.Integer(metadata={"description": "the person's unread notices"})
    newest_id = fields.Integer(metadata={"description": "the newest unread notice's id (0: none)"})
    newest = fields.Nested(NoticeSchema, allow_none=True, metadata={"description": "the newest unread notice"})


class PushKeysSchema(InSchema):
    p256dh = fields.String(required=True, validate=[B64URL, validate.Length(min=86, max=88)],
                           metadata={"description": "the browser's P-256 public key, uncompressed, base64url"})
    auth = fields.String(required=True, validate=[B64URL, validate.Length(min=22, max=24)],
                         metadata={"description": "the 16-byte auth secret, base64url"})


class PushSubscriptionInSchema(InSchema):
    """What the browser's PushSubscription.toJSON() gives."""

    endpoint = fields.Url(required=True, schemes={"https", "http"}, require_tld=False,
                          validate=validate.Length(max=1000))
    keys = fields.Nested(PushKeysSchema, required=True)
    expirationTime = fields.Float(load_default=None, allow_none=True)  # noqa: N815 - the browser's own name

    @post_load
    def _subscription(self, data, **kwargs):  # noqa: ANN001, ANN003, ANN202
        return operations.Subscription(endpoint=data["endpoint"], p256dh=data["keys"]["p256dh"],
                                       auth=data["keys"]["auth"],
                                       user_agent=request.headers.get("User-Agent", "")[:200])


class PushEndpointSchema(InSchema):
    endpoint = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class PushStateSchema(Schema):
    devices = fields.Integer(metadata={"description": "this person's phones that take pushes"})


@blp.route("/notices/unread")
@roles(*ALL_ROLES)
class UnreadNotices(MethodView):
    @blp.response(200, UnreadSchema)
    @blp.alt_response(304, description="Not modified: the same count and newest notice as the ETag sent")
    @documented_errors(blp, *READ_ERRORS)
    def get(self):
        """The bell: how many unread notices, and the newest. Cheap to poll: send If-None-Match."""
        unread, newest_id = queries.unread_state(db.session, current_user)
        etag = f"{unread}.{newest_id}.{get_locale()}"
        headers = {"ETag": f'"{etag}"', "Cache-Control": "no-cache, private"}
        if etag in request.if_none_match:
            return Response(status=304, headers=headers)
        newest = queries.newest_unread(db.session, current_user) if unread else None
        return {"unread": unread, "newest_id": newest_id, "newest": newest}, 200, headers


@blp.route("/push-subscriptions")
@roles(*ALL_ROLES)
class PushSubscriptions(MethodView):
    @blp.arguments(PushSubscriptionInSchema)
    @blp.response(201, PushStateSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def post(self, subscription):
        """Keep this browser's push subscription for the signed-in person (again: updated)."""
        operations.subscribe(db.session, current_user, subscription,
                             push_hosts=current_app.config["PUSH_SERVICE_HOSTS"])
        db.session.commit()
        return {"devices": operations.device_count(db.session, current_user)}

    @blp.arguments(PushEndpointSchema)
    @blp.response(200, PushStateSchema)
    @documented_errors(blp, *WRITE_ERRORS)
    def delete(self, data):
        """Forget this browser's subscription (the person's own only)."""
        operations.unsubscribe(db.session, current_user, data["endpoint"])
        db.session.commit()
        return {"devices": operations.device_count(db.session, current_user)}
