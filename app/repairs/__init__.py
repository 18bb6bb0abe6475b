"""Repairs (工程維修單): repair tickets from a defect or a call to the closed ticket.

stickers      a checkpoint sticker found missing or damaged on a round: a ticket to replace it
tickets       the lifecycle and its clocks, intake of reports, merge and split, who sees which ticket;
              opens a ticket for each defect of a completed round (listens to `round_completed`)
verification  the steward's check of a public repair on site (a step sent by the phone)
export        the ticket CSV
views         the desk's ticket pages (blueprint "tickets", /tickets)
engineering   the engineering queue and meter standing (blueprint "engineering", /engineering)
"""

# Connect this domain's hooks whenever the package is loaded (the signals are sent by lower domains).
from . import stickers, tickets, verification  # noqa: E402,F401
