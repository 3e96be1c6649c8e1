"""Annual plans, tasks and the draw ceremony (SPEC §3; Art 5, 6, 7, 11, 16, 18).

Nothing in these tables names a drawn target in plaintext: pools, the
nonce, the result and assignments' targets are sealed blobs (SPEC §4).
What is plaintext is what the ceremony shows publicly while it happens:
pool sizes and hashes, the nonce commitment, the witnesses' dice digits,
and a commitment to the sealed result that cannot be brute-forced without
the (sealed) nonce.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Date, ForeignKey, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import UTCDateTime, utcnow
from .accounts import Department, Section, User
from .directories import Inspector, Matter

PLAN_STATUSES = {"draft": "草稿", "submitted": "待审批", "approved": "已批准", "returned": "已退回"}
TASK_STATUSES = {
    "planned": "已计划",
    "drawing": "摇号中",
    "sealed": "已抽取（保密）",
    "inspecting": "检查中",
    "reported": "已报告",
    "publishing": "待审批公开",
    "published": "已公开",
}
STRATUM_KINDS = {"general": "一般对象", "special": "重点监管对象", "small_micro": "小微企业"}
ATTEMPT_STATES = {
    "frozen": "名单已冻结",
    "committed": "已公示随机数承诺",
    "sealed": "已抽取并封存",
    "void": "已作废",
}


class AnnualPlan(db.Model):
    """A section's 年度抽查计划, approved by a supervisor (Art 7, 18)."""

    __table_args__ = (UniqueConstraint("section_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"))
    year: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Checked by the edit form's save (ssj.concurrency.claim), not by every UPDATE:
    # approval and the tasks under the plan change it through their own rules.
    row_version: Mapped[int] = mapped_column(server_default=text("1"))
    shortfall_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(Text, default="")

    section: Mapped[Section] = relationship()
    items: Mapped[list["PlanItem"]] = relationship(back_populates="plan", cascade="all, delete-orphan")
    submitted_by: Mapped[Optional[User]] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[Optional[User]] = relationship(foreign_keys=[decided_by_id])

    @property
    def status_label(self) -> str:
        return PLAN_STATUSES.get(self.status, self.status)

    @property
    def editable(self) -> bool:
        """A plan is changed only before it is submitted or after it was sent back."""
        return self.status in ("draft", "returned")


class PlanItem(db.Model):
    __table_args__ = (UniqueConstraint("plan_id", "matter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("annual_plan.id"))
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id"))
    rounds: Mapped[int] = mapped_column()
    ratio_percent: Mapped[str] = mapped_column(String(16))
    months: Mapped[str] = mapped_column(String(64), default="")  # planned months, e.g. "3,6,9"
    reason: Mapped[str] = mapped_column(Text, default="")  # why below Art 7, if it is

    plan: Mapped[AnnualPlan] = relationship(back_populates="items")
    matter: Mapped[Matter] = relationship()

    @property
    def month_list(self) -> list[int]:
        return [int(m) for m in self.months.split(",") if m.strip().isdigit()]


class Task(db.Model):
    """One round (抽查任务) of one or more matters."""

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    plan_id: Mapped[Optional[int]] = mapped_column(ForeignKey("annual_plan.id"))
    year: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    # Checked by the edit form's save (ssj.concurrency.claim), not by every UPDATE:
    # the ceremony, inspections and publication move the status through their own locks.
    row_version: Mapped[int] = mapped_column(server_default=text("1"))
    # Scope filters; empty means "all".
    industries: Mapped[str] = mapped_column(Text, default="")  # one per line
    township_ids: Mapped[str] = mapped_column(String(255), default="")  # comma-separated ids
    size_filter: Mapped[str] = mapped_column(String(16), default="all")  # all / small_micro / not_small
    exclusion_days: Mapped[int] = mapped_column(default=180)  # Art 16: avoid repeat checks
    team_size: Mapped[int] = mapped_column(default=2)  # Art 5: two or more
    cap_per_inspector: Mapped[Optional[int]] = mapped_column()
    planned_start: Mapped[Optional[date]] = mapped_column(Date)
    planned_end: Mapped[Optional[date]] = mapped_column(Date)
    publish_date: Mapped[Optional[date]] = mapped_column(Date)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Art 18: a task whose matters are not all in the section's approved plan
    # of its year is "计划外"; it may exist only with a written reason. Kept as
    # of the last save, so the oversight dashboard counts what was decided.
    out_of_plan: Mapped[bool] = mapped_column(default=False)
    out_of_plan_reason: Mapped[str] = mapped_column(Text, default="")

    # Joined: every loader checks the task's department through its section, and every
    # task page names the section with its department (one query instead of three).
    section: Mapped[Section] = relationship(lazy="joined", innerjoin=True)
    plan: Mapped[Optional[AnnualPlan]] = relationship()
    organizer: Mapped[User] = relationship()
    matters: Mapped[list["TaskMatter"]] = relationship(cascade="all, delete-orphan")
    partners: Mapped[list["TaskPartner"]] = relationship(cascade="all, delete-orphan")
    strata: Mapped[list["Stratum"]] = relationship(
        cascade="all, delete-orphan", order_by="Stratum.position"
    )
    attempts: Mapped[list["DrawAttempt"]] = relationship(order_by="DrawAttempt.number")

    @property
    def status_label(self) -> str:
        return TASK_STATUSES.get(self.status, self.status)

    @property
    def editable(self) -> bool:
        """Settings change only before the draw: the ceremony freezes what it reads."""
        return self.status == "planned"

    @property
    def industry_list(self) -> list[str]:
        return [line.strip() for line in self.industries.splitlines() if line.strip()]

    @property
    def township_id_list(self) -> list[int]:
        return [int(t) for t in self.township_ids.split(",") if t.strip().isdigit()]


class TaskMatter(db.Model):
    __table_args__ = (UniqueConstraint("task_id", "matter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id"))

    # Joined: a task's matters are always shown by name (no query per matter).
    matter: Mapped[Matter] = relationship(lazy="joined", innerjoin=True)


class TaskPartner(db.Model):
    """A partner department of a joint task (Art 11)."""

    __table_args__ = (UniqueConstraint("task_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))

    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)


class Stratum(db.Model):
    """A layer of the target pool with its own ratio or fixed count (Art 7)."""

    __table_args__ = (UniqueConstraint("task_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    position: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # general / special / small_micro
    ratio_percent: Mapped[Optional[str]] = mapped_column(String(16))
    fixed_count: Mapped[Optional[int]] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")

    @property
    def rule_label(self) -> str:
        return f"{self.ratio_percent}%" if self.ratio_percent is not None else f"固定 {self.fixed_count} 户"


class TaskKey(db.Model):
    """The task's data key, wrapped by the key-encryption key outside the database."""

    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DrawAttempt(db.Model):
    """One numbered attempt of a task's draw ceremony; void attempts stay on the record."""

    __table_args__ = (UniqueConstraint("task_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    number: Mapped[int] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default="frozen")
    operator_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # 1. frozen pools: sealed id lists; public sizes, hashes and sample sizes
    #    (JSON: {"strata": [{name, kind, rule, size, sha256, sample_size}],
    #    "inspectors": {size, sha256}, "team_size", "cap", "on_date"}).
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pools_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    pool_summary_json: Mapped[str] = mapped_column(Text)
    # 2. commitment to the server's nonce, before any entropy exists.
    nonce_sealed: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    nonce_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    committed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # 3. witnesses' entropy (public). Set when the draw runs, successful or
    #    not: an attempt whose entropy is set never runs again.
    entropy: Mapped[Optional[str]] = mapped_column(String(255))
    # 4. the sealed result.
    drawn_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    result_sealed: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    result_commitment: Mapped[Optional[str]] = mapped_column(String(64))
    sample_summary_json: Mapped[Optional[str]] = mapped_column(Text)  # [{name, sample_size}]
    # Art 16's set E ({credit code: by_task}), computed inside the draw step
    # and sealed there, even when the draw then stops: what a void attempt
    # drew must stay recomputable for the bundle (SPEC §3).
    exclusion_sealed: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    # A draw that stopped before sealing (e.g. too few inspectors for a team):
    # the Chinese message, which names positions only, never a target.
    failure: Mapped[Optional[str]] = mapped_column(Text)
    failed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # Redraw: a new attempt voids this one, with a reason and a supervisor's approval.
    void_reason: Mapped[Optional[str]] = mapped_column(Text)
    void_requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    void_requested_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    void_approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    void_approved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    task: Mapped[Task] = relationship(back_populates="attempts")
    operator: Mapped[User] = relationship(foreign_keys=[operator_id])
    witnesses: Mapped[list["DrawWitness"]] = relationship(order_by="DrawWitness.id")
    void_requested_by: Mapped[Optional[User]] = relationship(foreign_keys=[void_requested_by_id])
    void_approved_by: Mapped[Optional[User]] = relationship(foreign_keys=[void_approved_by_id])

    @property
    def state_label(self) -> str:
        if self.state == "committed" and self.failure:
            return "抽取未完成（未封存）"
        return ATTEMPT_STATES.get(self.state, self.state)

    @property
    def redraw_pending(self) -> bool:
        return self.state != "void" and self.void_requested_at is not None


WITNESS_IDENTIFIED_BY = {"session": "本人登录后录入", "password": "在摇号现场输入本人密码确认"}


class DrawWitness(db.Model):
    """A witness of the ceremony and the dice digits they entered, in entry order (Art 9).

    Since ssj-draw-v2 every witness is a user who typed their own digits,
    identified as themselves (`user_id`, `identified_by`); `name`,
    `affiliation` (their section, the bundle's `section`) and `external`
    are copied from that user when the digits are entered, so the record
    keeps what was true on the day. Rows of v1 ceremonies have no user.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("draw_attempt.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    affiliation: Mapped[str] = mapped_column(String(100))
    external: Mapped[bool] = mapped_column(default=False)  # from outside the organising sections
    digits: Mapped[str] = mapped_column(String(100))
    # The session in which the digits were submitted: the witness's own, or
    # the ceremony screen's (then `identified_by` is "password").
    entered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    identified_by: Mapped[Optional[str]] = mapped_column(String(16))  # session / password

    user: Mapped[Optional[User]] = relationship(foreign_keys=[user_id])
    entered_by: Mapped[Optional[User]] = relationship(foreign_keys=[entered_by_id])

    @property
    def identified_label(self) -> str:
        return WITNESS_IDENTIFIED_BY.get(self.identified_by or "", "由组织人代为录入（旧版记录）")


class Assignment(db.Model):
    """One inspector's place on the team for the target at `position` of a task.

    The inspector is plaintext (they need to find their work); which target
    it is lives only in `target_sealed`.
    """

    # Per attempt: a redraw numbers its positions from 1 again. An inspector
    # replaced out of a team never returns to it, so one row per place.
    __table_args__ = (UniqueConstraint("attempt_id", "position", "inspector_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("draw_attempt.id"))
    position: Mapped[int] = mapped_column()
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"), index=True)
    target_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(default=True)  # false once replaced after a recusal

    inspector: Mapped[Inspector] = relationship()

    @property
    def record_id(self) -> str:
        """The sealed blob's record id: a blob moved to another row does not decrypt."""
        return f"{self.attempt_id}:{self.position}:{self.inspector_id}"


class Recusal(db.Model):
    """A recusal after the draw (Art 5 回避): `out` leaves the team at `position`,
    the next eligible inspector in the frozen ranking takes the place.

    Which target and why live only in `sealed` ({target, out, in, reason});
    the conflict is deliberately not added to the Conflict table, whose
    plaintext target id would name a drawn target.
    """

    __table_args__ = (UniqueConstraint("attempt_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("draw_attempt.id"))
    number: Mapped[int] = mapped_column()  # order of application, from 1
    position: Mapped[int] = mapped_column()
    out_inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))
    in_inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    declared_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    out_inspector: Mapped[Inspector] = relationship(foreign_keys=[out_inspector_id])
    in_inspector: Mapped[Inspector] = relationship(foreign_keys=[in_inspector_id])
    declared_by: Mapped[User] = relationship()

    @property
    def record_id(self) -> str:
        return f"{self.attempt_id}:{self.number}"
