"""All database models, in one place a newcomer can find them."""
from .accounts import AccessGrant, Department, Section, User, UserRole, UserSession
from .audit import AccessLogEntry, AuditChainHead, AuditCheckpoint, Investigation
from .calendar import Holiday, HolidayYear
from .draws import (
    AnnualPlan,
    Assignment,
    DrawAttempt,
    DrawWitness,
    PlanItem,
    Stratum,
    Task,
    TaskKey,
    TaskMatter,
    TaskPartner,
)
from .inspections import (
    EvidenceFile,
    FinalReport,
    FollowUp,
    InspectionNotice,
    InspectionRecord,
    InspectionRecordVersion,
)
from .directories import Conflict, Inspector, Matter, MatterVersion, Target, Township
from .instance import InstanceIdentity
from .jobs import ExportJob, ImportJob, ImportRowError
from .publication import PublicationRequest, PublishedResult, PublishedTask
from .training import TrainingAttendance, TrainingSession

__all__ = [
    "AccessGrant",
    "AnnualPlan",
    "Assignment",
    "DrawAttempt",
    "DrawWitness",
    "PlanItem",
    "Stratum",
    "Task",
    "TaskKey",
    "TaskMatter",
    "TaskPartner",
    "AccessLogEntry",
    "AuditChainHead",
    "AuditCheckpoint",
    "Conflict",
    "Department",
    "Holiday",
    "HolidayYear",
    "ExportJob",
    "ImportJob",
    "ImportRowError",
    "InstanceIdentity",
    "Inspector",
    "Investigation",
    "InspectionNotice",
    "InspectionRecord",
    "InspectionRecordVersion",
    "EvidenceFile",
    "FollowUp",
    "FinalReport",
    "Matter",
    "PublicationRequest",
    "PublishedResult",
    "PublishedTask",
    "MatterVersion",
    "Section",
    "Target",
    "Township",
    "TrainingAttendance",
    "TrainingSession",
    "User",
    "UserRole",
    "UserSession",
]
