"""Refusals: what a domain operation answers when it will not do what was asked.

One base for all of them, so the API and the pages translate them in one place
(app/errors.py: JSON `{"code", "message", "errors"}` under /api/, a page elsewhere).
A refusal changes nothing: the caller's transaction is rolled back.
"""
from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A refused request, with a message for the person who sent it and, per field, what was wrong."""

    status = 400

    def __init__(self, message: Any, errors: dict[str, list[Any]] | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.errors = errors or {}


class NotFound(Refusal):
    """Missing, or not the user's to see: the two are answered alike, so nothing is told."""

    status = 404


class NotVisible(NotFound):
    """An estate, building or record outside the user's scope (or none at all)."""

    def __init__(self, what: Any = None) -> None:
        super().__init__("This record does not exist or is not yours to see.")
        self.what = what


class Conflict(Refusal):
    """The request contradicts what is stored (a UUID reused for other content, a state moved on)."""

    status = 409


class Rejected(Refusal):
    """The request is understood but its content cannot be accepted."""

    status = 422


class TooLarge(Rejected):
    status = 413
