"""The four directories of SPEC §2: matters (Art 4), inspectors (Art 5),
targets (Art 6, 19) and conflicts of interest (Art 5)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, delete, event, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, with_loader_criteria

from ..concurrency import Versioned
from ..extensions import db
from ._types import UTCDateTime, utcnow
from .accounts import Department, Section, User
from .jobs import ImportJob

MATTER_METHODS = {"onsite": "现场检查", "written": "书面检查", "both": "现场检查、书面检查"}
MATTER_STATUSES = {"active": "有效", "suspended": "暂停", "abolished": "已废止"}
INSPECTOR_STATUSES = {"active": "在岗", "leave": "休假/借调", "left": "已调离"}
TARGET_STATUSES = {"operating": "存续", "cancelled": "注销", "revoked": "吊销", "moved": "迁出"}
CREDIT_GRADES = {"A": "A级（诚信）", "B": "B级（较好）", "C": "C级（较差）", "D": "D级（失信）"}
CONFLICT_KINDS = {"relative": "近亲属关系", "former_employer": "曾在该单位任职", "other": "其他利害关系"}


class Matter(Versioned, db.Model):
    """An entry of the public 随机抽查事项清单. Every change is kept in MatterVersion."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)  # one checked item per line
    # 需备查的材料, one per line: what the inspection notice asks the unit to prepare (Art 8).
    documents: Mapped[str] = mapped_column(Text, default="")
    ratio_percent: Mapped[str] = mapped_column(String(16))  # decimal text: no floats
    frequency: Mapped[int] = mapped_column()  # rounds a year
    method: Mapped[str] = mapped_column(String(16))
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    section: Mapped[Section] = relationship()
    versions: Mapped[list["MatterVersion"]] = relationship(
        back_populates="matter", order_by="MatterVersion.version.desc()"
    )

    @property
    def content_items(self) -> list[str]:
        return [line.strip() for line in self.content.splitlines() if line.strip()]

    @property
    def document_items(self) -> list[str]:
        return [line.strip() for line in (self.documents or "").splitlines() if line.strip()]


class MatterVersion(db.Model):
    __table_args__ = (UniqueConstraint("matter_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id"))
    version: Mapped[int] = mapped_column()
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    change_kind: Mapped[str] = mapped_column(String(16))  # create / update / import
    snapshot_json: Mapped[str] = mapped_column(Text)
    changes_json: Mapped[str] = mapped_column(Text)  # {"field": [old, new]}

    matter: Mapped[Matter] = relationship(back_populates="versions")
    changed_by: Mapped[Optional[User]] = relationship()


class Inspector(Versioned, db.Model):
    """An entry of the 执法检查人员名录库, shared by the department."""

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"))
    cert_no: Mapped[str] = mapped_column(String(64))
    cert_expiry: Mapped[date] = mapped_column(Date)
    specialties: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department: Mapped[Department] = relationship()
    section: Mapped[Section] = relationship()
    user: Mapped[Optional[User]] = relationship()

    def eligible_on(self, day: date) -> bool:
        """Only active inspectors with a valid certificate may be drawn (SPEC §2)."""
        return self.status == "active" and self.cert_expiry >= day


class Township(db.Model):
    """A township or area (乡镇/街道) of the county, for scope filters and coverage (Art 19)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Target(Versioned, db.Model):
    """An entry of the 检查对象名录库, shared by the department, keyed by credit code."""

    __table_args__ = (
        UniqueConstraint("department_id", "credit_code"),
        # The target list (SPEC §2: fast over 100,000 targets). Name order with
        # id as tie-break, then every filterable column: a search or filter is
        # answered from this index alone, without reading table rows.
        # import_job_id last: every reader's visibility test (below) is answered here too.
        Index(
            "ix_target_search",
            "department_id", "name", "id", "status", "township_id", "industry",
            "is_small_micro", "complaint_count", "serious_violation", "credit_grade", "import_job_id",
        ),
        # The industry filter menu: DISTINCT can skip through this index.
        Index("ix_target_department_industry", "department_id", "industry", "import_job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    credit_code: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    industry: Mapped[str] = mapped_column(String(64), default="")
    is_small_micro: Mapped[bool] = mapped_column(default=False)
    township_id: Mapped[Optional[int]] = mapped_column(ForeignKey("township.id"), index=True)
    address: Mapped[str] = mapped_column(String(255), default="")
    legal_rep: Mapped[str] = mapped_column(String(64), default="")
    contact: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="operating")
    complaint_count: Mapped[int] = mapped_column(default=0)
    serious_violation: Mapped[bool] = mapped_column(default=False)
    credit_grade: Mapped[str] = mapped_column(String(1), default="A")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set on a row a running import added (issue #13): the import writes its new rows in short
    # transactions, and they stay invisible to every reader until its job is done, when the
    # whole import appears at once (see `visible_targets` below); then the stamp is cleared.
    import_job_id: Mapped[Optional[int]] = mapped_column(index=True)

    township: Mapped[Optional[Township]] = relationship()

    # Art 7: targets with many complaints, serious violations or a poor credit
    # grade are "special supervision" targets, drawn at a higher ratio.
    SPECIAL_COMPLAINTS = 3

    @property
    def is_special(self) -> bool:
        return (
            self.complaint_count >= self.SPECIAL_COMPLAINTS
            or self.serious_violation
            or self.credit_grade in ("C", "D")
        )

    @classmethod
    def special_clause(cls):
        """The same rule as `is_special`, as a SQL condition for filters and strata."""
        return or_(
            cls.complaint_count >= cls.SPECIAL_COMPLAINTS,
            cls.serious_violation.is_(True),
            cls.credit_grade.in_(("C", "D")),
        )


class Conflict(Versioned, db.Model):
    """A declared 回避关系: this inspector is never drawn for this target."""

    __table_args__ = (UniqueConstraint("inspector_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    inspector: Mapped[Inspector] = relationship()
    target: Mapped[Target] = relationship()
    declared_by: Mapped[Optional[User]] = relationship()


def target_visible(table=None):
    """The SQL condition "this target row is part of the directory": not a row of an import
    that is still writing, failed or was cut off. Core statements over Target.__table__ add it
    themselves; every ORM select gets it from `visible_targets`."""
    c = (table if table is not None else Target.__table__).c
    done = select(ImportJob.__table__.c.id).where(ImportJob.__table__.c.state == "done")
    return or_(c.import_job_id.is_(None), c.import_job_id.in_(done.scalar_subquery()))


def staged_code(department_id: int, credit_code: str) -> Optional[str]:
    """Is this credit code held by an invisible row of an import? "writing": a running (or not
    yet settled) import has staged it; it appears when that import is done. A failed import's
    leftover row is deleted here (it was never part of the directory): the code is free again."""
    t, j = Target.__table__, ImportJob.__table__
    row = db.session.execute(
        select(t.c.id, j.c.state).join(j, j.c.id == t.c.import_job_id, isouter=True)
        .where(t.c.department_id == department_id, t.c.credit_code == credit_code, ~target_visible(t))
    ).first()
    if row is None:
        return None
    if row.state == "failed":
        db.session.execute(delete(t).where(t.c.id == row.id))  # failed is final: it never becomes visible
        return None
    return "writing"


_criteria: list = []


@event.listens_for(Session, "do_orm_execute")
def visible_targets(state) -> None:
    """Every ORM select that touches Target sees only visible rows (fail closed: a row stamped
    by a job that is not done, or by an unknown job, is left out), wherever it is queried."""
    if state.is_select and not state.is_column_load and not state.is_relationship_load:
        if not _criteria:
            _criteria.append(with_loader_criteria(Target, target_visible()))
        state.statement = state.statement.options(_criteria[0])
