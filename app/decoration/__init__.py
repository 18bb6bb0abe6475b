"""Decoration (二次裝修): a unit's renovation from registration to acceptance.

base         scope, lookups, the unit's process log and numbering, shared by every step
permits      registration, stop and resume of work, working hours, acceptance, the units decorating
violations   what the daily check finds (listens to `round_completed`), notices, calls, re-checks
flood_tests  flood tests held 48 hours, their neighbours' checks
materials    material entry asked at the gate, decided by the steward, settled by the desk
records      decoration records' photos and who sees them (answers the photos' signals)
tasks        what the steward's today page shows of decoration (answers `steward_tasks`)
lists        the office's and the gate's lists
views        the office's pages (blueprint "decoration", /decoration)
gate         the gate's pages (blueprint "gate", /gate)
"""

# Connect this domain's hooks whenever the package is loaded (the signals are sent by lower domains).
from . import records, tasks, violations  # noqa: E402,F401
