"""Reading filter values from a page's query string: every bad value is collected with its
message, so one answer can list them all (the desk's review, the audit log)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date


class QueryArgs:
    def __init__(self, args: Mapping[str, str]) -> None:
        self.args = args
        self.errors: list = []

    def text(self, name: str) -> str:
        return (self.args.get(name) or "").strip()

    def number(self, name: str, message) -> int | None:  # noqa: ANN001
        """A record id: plain digits that fit the database's integer; else `message`."""
        raw = self.text(name)
        if not raw:
            return None
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            return int(raw)
        self.errors.append(message)
        return None

    def day(self, name: str, message) -> date | None:  # noqa: ANN001
        """A date written YYYY-MM-DD; else `message`."""
        raw = self.text(name)
        if not raw:
            return None
        try:
            if len(raw) != 10:
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            self.errors.append(message)
            return None
