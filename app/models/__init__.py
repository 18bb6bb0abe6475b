"""All models, one module per aggregate; importing this registers every table."""
from .audit import AuditEntry
from .base import UTCDateTime, utcnow
from .complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintCounter,
    ComplaintEvent,
    ComplaintInvestigation,
    ComplaintStatus,
    ComplaintTarget,
    ReturnVisit,
    VisitPlan,
)
from .checkpoints import (
    CheckpointCode,
    CheckpointScan,
    ScanMethod,
    ScanOutcome,
    ScanRefusal,
    ScanRule,
    ScanTally,
)
from .checklists import (
    ChecklistItem,
    ChecklistPublication,
    ChecklistVersion,
    DefectRoute,
    EstateChecklist,
    ItemType,
    RoundKind,
    Urgency,
)
from .decoration import (
    FLOOD_TEST_HOURS,
    OPEN_VIOLATION,
    DecorationCounter,
    DecorationEvent,
    DecorationPermit,
    FloodTest,
    FloodTestStatus,
    MaterialRequest,
    MaterialStatus,
    PermitStatus,
    RecheckResult,
    Violation,
    ViolationRecheck,
    ViolationStatus,
    WetArea,
)
from .notices import Notice, NoticeKind, NoticeSettings, PushOutcome, PushSubscription
from .owners import OwnerCode, OwnerReport, OwnerReportKind
from .people import (
    Assignment,
    AssignmentPeriod,
    ContactRelation,
    Language,
    LeaveCover,
    OwnerContact,
    Role,
    User,
    user_building,
    user_estate,
)
from .places import (
    Asset,
    AssetKind,
    Building,
    Entrance,
    Estate,
    Meter,
    MeterKind,
    PublicArea,
    PublicAreaKind,
    Unit,
    UnitState,
    VacancyReason,
    place_words,
)
from .rounds import (
    Finding,
    FindingAmendment,
    FindingComment,
    FindingResult,
    Photo,
    PhotoStatus,
    Round,
    RoundStatus,
    VisitOutcome,
)
from .schedule import Period, ScheduleRule
from .tickets import (
    ROUTE_OF_TEAM,
    RepairTicket,
    Team,
    TeamKind,
    TicketChannel,
    TicketClock,
    TicketCounter,
    TicketEvent,
    TicketStatus,
    TicketVerification,
)

__all__ = [
    "Complaint", "ComplaintCategory", "ComplaintChannel", "ComplaintCounter", "ComplaintEvent", "ComplaintInvestigation", "ComplaintStatus",
    "ComplaintTarget", "ReturnVisit", "VisitPlan", "OwnerCode", "OwnerReport", "OwnerReportKind",
    "AuditEntry",
    "CheckpointCode", "CheckpointScan", "ScanMethod", "ScanOutcome", "ScanRefusal", "ScanRule", "ScanTally",
    "Notice", "NoticeKind", "NoticeSettings", "PushOutcome", "PushSubscription",
    "FLOOD_TEST_HOURS", "OPEN_VIOLATION", "DecorationCounter", "DecorationEvent", "DecorationPermit", "FloodTest", "FloodTestStatus",
    "MaterialRequest", "MaterialStatus", "PermitStatus", "RecheckResult", "Violation", "ViolationRecheck",
    "ViolationStatus", "VisitOutcome", "WetArea",
    "ROUTE_OF_TEAM", "RepairTicket", "Team", "TeamKind", "TicketChannel", "TicketClock", "TicketCounter", "TicketEvent", "TicketStatus", "TicketVerification",
    "Finding", "FindingAmendment", "FindingComment", "FindingResult", "Photo", "PhotoStatus",
    "Assignment", "AssignmentPeriod", "LeaveCover",
    "Asset", "AssetKind", "Building", "ChecklistItem", "ChecklistPublication", "ChecklistVersion", "ContactRelation",
    "EstateChecklist",
    "DefectRoute", "Entrance", "Estate", "ItemType", "Language", "Meter", "MeterKind",
    "OwnerContact", "Period", "PublicArea", "PublicAreaKind", "Role", "Round", "RoundKind",
    "RoundStatus", "ScheduleRule", "Unit", "UnitState", "Urgency", "User", "UTCDateTime",
    "VacancyReason", "place_words", "user_building", "user_estate", "utcnow",
]
