"""Complaints (投訴) and return visits (回訪), the manual's sections 五 and 六.

operations  register, investigate on site, answer the owner, close with a cause, reopen; target times
queries     the desk's list, the late ones, the records of the same place, the steward's investigations
visits      the return-visit plan: every complaint, a share of unit repairs; grades A/B/C
investigations  the steward's investigation on site, from the phone (stored once by UUID)
violations  resident violations traced to a unit, from the desk or a round's marked finding
tasks       what the steward's today page shows (answers `steward_tasks`) and whose photos are whose
views       the office's and the steward's pages (blueprint "complaints", /complaints)
"""

# Connect this domain's hooks whenever the package is loaded (the signals are sent by lower domains).
from . import tasks, violations  # noqa: E402,F401
