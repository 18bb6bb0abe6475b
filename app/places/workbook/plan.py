"""What a checked file would change: the plan the check builds and the import applies."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .sheets import Problem


@dataclass
class Change:
    kind: str  # "estate", "building", "stairwell", "unit", "area", "asset", "meter", "contact"
    label: str  # the place, as people write it
    action: str  # "create" / "update" / "remove"
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name → (before, after)


@dataclass
class Plan:
    """What storing the file would change, checked; `apply` writes it."""

    estates: dict[str, dict] = field(default_factory=dict)  # code → values
    buildings: dict[tuple, dict] = field(default_factory=dict)  # (estate, building) → values
    stairwells: dict[tuple, dict] = field(default_factory=dict)  # (estate, building, stairwell) → values
    units: dict[tuple, dict] = field(default_factory=dict)  # (estate, building, room) → values
    areas: dict[tuple, dict] = field(default_factory=dict)  # (estate, name) → values
    assets: dict[tuple, dict] = field(default_factory=dict)  # (estate, building, stairwell, name) → values
    meters: dict[tuple, dict] = field(default_factory=dict)  # (estate, serial) → values
    contacts: dict[tuple, list[dict]] = field(default_factory=lambda: defaultdict(list))  # (estate, building, room)
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = {"estates": len(self.estates), "buildings": len(self.buildings), "stairwells": len(self.stairwells),
               "units": len(self.units), "public areas": len(self.areas), "assets": len(self.assets),
               "meters": len(self.meters), "contacts": sum(len(v) for v in self.contacts.values())}
        return out
