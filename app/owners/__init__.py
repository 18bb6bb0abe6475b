"""Owners' own reports by QR code (業主掃碼報事), with no app and no account.

codes     the printed codes (one per stairwell, public area, unit door notice), drawn as SVG by segno
reports   what an owner sends: a repair (a ticket, or "seen again" on the one already open) or a
          complaint; the private status link and the owner's rating (the return visit)
views     the public pages (blueprint "owner", /o/…) and the desk's sheet and intake ("owners", /owners)

A higher domain: it uses repairs, complaints and photos; none of them imports it.
"""
from . import reports  # noqa: E402,F401  (connects the photo hook)
