"""Rounds (巡查): what a steward walks and records.

schedule   which rounds are due, per estate, kind and window, in the estate's time zone
plan       a round's checkpoints and the checklist items asked at each
checklists the manual's checklists, kept as data files and loaded into versions
intake     a phone's round stored exactly once (start, completion, amendments); sends `round_completed`
overview   the office's boards: buildings, stewards and their rounds, meter standing
today      the steward's today page: due rounds and the tasks other domains add (`steward_tasks`)
views      the steward's today page, the round walk and its summary (blueprint "rounds", /rounds)
"""

# Connect this domain's hooks whenever the package is loaded (the signals are sent by lower domains).
from . import intake  # noqa: E402,F401
