"""All database models, in one place a newcomer can find them."""
from .accounts import Department, Section, User, UserRole, UserSession
from .audit import AccessLogEntry, AuditChainHead, AuditCheckpoint
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
from .directories import Conflict, Inspector, Matter, MatterVersion, Target, Township
from .jobs import ImportJob, ImportRowError

__all__ = [
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
    "ImportJob",
    "ImportRowError",
    "Inspector",
    "Matter",
    "MatterVersion",
    "Section",
    "Target",
    "Township",
    "User",
    "UserRole",
    "UserSession",
]
