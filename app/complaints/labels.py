"""Display names of the complaint and return-visit values, translated."""
from flask_babel import lazy_gettext as _l

from ..models import ComplaintCategory, ComplaintChannel, ComplaintStatus

CATEGORY = {
    ComplaintCategory.NOISE: _l("Noise"),
    ComplaintCategory.HYGIENE: _l("Hygiene"),
    ComplaintCategory.STAFF_CONDUCT: _l("Staff conduct"),
    ComplaintCategory.NEIGHBOUR_DISPUTE: _l("Neighbour dispute"),
    ComplaintCategory.PARKING: _l("Parking"),
    ComplaintCategory.SECURITY: _l("Security"),
    ComplaintCategory.FACILITIES: _l("Facilities"),
    ComplaintCategory.OTHER: _l("Other"),
}

CHANNEL = {
    ComplaintChannel.PHONE: _l("Phone"),
    ComplaintChannel.WALK_IN: _l("Walk-in"),
    ComplaintChannel.APP: _l("Owner report"),
}

STATUS = {
    ComplaintStatus.OPEN: _l("Waiting for the investigation"),
    ComplaintStatus.INVESTIGATED: _l("Investigated"),
    ComplaintStatus.REPLIED: _l("Owner answered"),
    ComplaintStatus.CLOSED: _l("Closed"),
}

EVENT = {
    "registered": _l("Registered"),
    "investigated": _l("Investigated on site"),
    "late_investigation": _l("Investigated on site after the complaint had moved on"),
    "replied": _l("Owner answered"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
    "return_visit": _l("Return visit"),
}
