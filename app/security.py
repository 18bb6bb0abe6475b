"""Security headers on every response: pages, API, static files, the service worker and errors.

The Content-Security-Policy allows scripts and styles from our own origin only: the
templates carry no inline script (only `<script type="application/json">` data blocks,
which never run), no inline event handler and no style attribute. Photos the phone keeps
in IndexedDB are shown through `blob:` URLs; the service worker is our own `/sw.js`.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import Flask, Response, current_app

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # The camera is used through <input capture>; nothing else of the device is needed.
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=(), usb=()",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",
}

# Browsers remember it for this long: production is served over HTTPS only.
HSTS = "max-age=31536000"


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("ENV") == "production":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


# The key a steward's phone signs its unsynced-work file with (static/js/app.js: exportWork). Made at
# sign-in from the app's secret, the user and a random key id kept in the session; handed to that
# session's phone by /api/v1/session and kept only there. The server stores no key: the desk's import
# makes it again from the id the file names, so a file altered, or written by anyone without that
# phone's key (desk staff included), is refused.
EXPORT_KEY_ID = re.compile(r"[0-9a-f]{32}")


def new_export_key_id() -> str:
    return secrets.token_hex(16)


def export_key(user_id: int, key_id: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    message = f"xuncha-export-key/1|{user_id}|{key_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def export_signature(key_hex: str, payload: str) -> str:
    """HMAC-SHA256 of the payload's UTF-8 bytes, in hex (what WebCrypto computes on the phone)."""
    return hmac.new(bytes.fromhex(key_hex), payload.encode("utf-8"), hashlib.sha256).hexdigest()


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
