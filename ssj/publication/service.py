"""The two-person unseal and publication of a task's results (SPEC §4 "Publication"; Art 9, 13).

After the publish date the task's organizer or the head of its section
asks for publication; a supervisor of the task's department — another
person — re-enters their password and approves. Approval, in the one
transaction of its request: decrypt the sealed result (a logged read),
check it against the commitment printed at the ceremony, build the
verification bundle (which reveals the nonce), copy the notice into the
public tables and mark the task published. Any refusal is logged with its
reason; a commitment that does not hold stops everything and is logged as
an error for the discipline office.

Results per inspected unit come from `results_for`, the one place that
knows where inspection records live.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Optional

from flask import current_app, g
from sqlalchemy import select, update

from .. import audit
from ..auth.passwords import verify_password
from ..auth.service import reserve_check
from ..auth.roles import SECTION_HEAD
from ..ceremony import policy as ceremony_policy
from ..ceremony import service as ceremony
from ..extensions import db
from ..inspections import evidence, reports as final_reports
from ..inspections import followup as followups
from ..inspections import printables
from ..inspections import service as inspections
from ..models import EvidenceFile, FollowUp, InspectionNotice, PublicationRequest, PublishedResult, PublishedTask, Task, User
from .. import clock
from ..draws import algorithm as alg
from ..sealing.service import open_json, seal_json

# A task may be put forward for publication once its draw is sealed; the
# inspection stages in between are the inspection area's business.
REQUESTABLE = ("sealed", "inspecting", "reported")
NOT_ENTERED = "未录入"
NOTE_LIMIT = 1000


class PublicationError(ValueError):
    """A publication step is refused; str() is a Chinese sentence saying what to do instead."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def _now() -> datetime:
    return clock.now()


def _refuse(task: Task, reason: str, message: str, status: int = 409, outcome: str = "denied") -> PublicationError:
    """Log the refusal and keep the entry even though the response is an error (Art 9 全程留痕)."""
    audit.record("publication_refused", outcome=outcome, reason=reason, task_id=task.id, objects={"task": task.id})
    g.keep_changes = True
    return PublicationError(message, status)


# --- who may do what -----------------------------------------------------------------------


def may_request(user, task: Task) -> bool:
    """The task's organizer or the head of its section (SPEC §4)."""
    if user.has_role(*ceremony_policy.VETO):
        return False
    organizer = user.id == task.organizer_id and ceremony_policy.in_section(user, task)
    head = user.has_role(SECTION_HEAD) and user.section_id == task.section_id
    return organizer or head


def may_approve(user, task: Task) -> bool:
    """A supervisor of the task's department; that it is another person is checked at approval."""
    return ceremony_policy.is_supervisor_of(user, task) and not user.has_role(*ceremony_policy.VETO)


def pending_request(task: Task) -> Optional[PublicationRequest]:
    return db.session.execute(
        select(PublicationRequest)
        .where(PublicationRequest.task_id == task.id, PublicationRequest.state == "pending")
        .order_by(PublicationRequest.id.desc())
    ).scalars().first()


def published(task_id: int) -> Optional[PublishedTask]:
    return db.session.get(PublishedTask, task_id)


@dataclass
class Readiness:
    """How far the inspections are (SPEC §4 "Publication"): shown to the approver, checked at request and approval.

    A position counts once its record is submitted; a unit that could not be
    inspected (已注销, 无法联系, …) is a submitted record with that result
    category, which is the recorded reason.
    """

    positions: list[int]
    submitted: list[int]
    report_state: Optional[str]  # None: no final report drafted yet

    @property
    def missing(self) -> list[int]:
        done = set(self.submitted)
        return [p for p in self.positions if p not in done]

    @property
    def report_approved(self) -> bool:
        return self.report_state == "approved"

    @property
    def ready(self) -> bool:
        return bool(self.positions) and not self.missing and self.report_approved

    def problem(self) -> Optional[tuple[str, str]]:
        """(reason, Chinese sentence) of the first thing missing, or None."""
        if self.missing:
            shown = "、".join(str(p) for p in self.missing[:20]) + ("等" if len(self.missing) > 20 else "")
            return ("records_missing",
                    f"还有 {len(self.missing)} 个检查对象（第 {shown} 号）没有提交检查记录。每个被抽中的对象都须提交检查记录"
                    "（无法检查的，如已注销或无法联系，在检查结果中选择相应类别并提交），才能申请公开（细则第九条、第十三条）。")
        if not self.report_approved:
            return ("final_report_not_approved",
                    "本科室的总结报告还没有经科室负责人审核。请先起草总结报告并由起草人以外的科室负责人审核，再申请公开（细则第九条）。")
        return None


def readiness(task: Task) -> Readiness:
    """Progress from plaintext columns only (record states, report state): nothing sealed is opened."""
    if ceremony.sealed_attempt(task) is None:
        return Readiness([], [], None)
    positions = inspections.positions_of(task)
    submitted = [r.position for r in inspections.records_of(task) if r.state == "submitted"]
    report = final_reports.get(task)
    return Readiness(positions, submitted, report.state if report else None)


def date_problem(task: Task, today: date) -> Optional[str]:
    if task.publish_date is None:
        return "任务还没有设定结果公开日期，请先在任务设置中填写结果公开日期，再申请公开。"
    if today < task.publish_date:
        return (
            f"本任务的结果公开日期是 {task.publish_date:%Y年%m月%d日}，今天（{today:%Y年%m月%d日}）还不能公开结果。"
            "请在结果公开日期当天或之后再申请（细则第十三条）。"
        )
    return None


# --- step 1: the request -----------------------------------------------------------------------


def request_publication(task: Task, user: User, note: str) -> PublicationRequest:
    """The organizer or section head asks for publication; refused before the publish date."""
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise PublicationError(f"申请说明最多 {NOTE_LIMIT} 字，现在有 {len(note)} 字，请删减后再提交。", 422)
    if published(task.id) is not None or task.status == "published":
        raise PublicationError("本任务的结果已经公开，无需再申请。")
    if pending_request(task) is not None:
        raise PublicationError("本任务已有一份等待局领导审批的公开申请，请等待审批。")
    if task.status not in REQUESTABLE or ceremony.sealed_attempt(task) is None:
        raise PublicationError(f"任务当前为“{task.status_label}”，只有已完成摇号并封存结果的任务才能申请公开。")
    problem = date_problem(task, clock.today())
    if problem:
        raise _refuse(task, "before_publish_date", problem)
    missing = readiness(task).problem()
    if missing:
        raise _refuse(task, *missing)
    req = PublicationRequest(task_id=task.id, state="pending", note=note, requested_by_id=user.id, requested_at=_now())
    db.session.add(req)
    db.session.flush()
    task.status = "publishing"
    audit.record(
        "publication_requested",
        task_id=task.id,
        objects={"task": task.id, "request": req.id, "publish_date": task.publish_date.isoformat()},
    )
    return req


# --- step 2: approval, unseal and publish ----------------------------------------------------------


def _password_refused(task: Task, user: User) -> PublicationError:
    """A wrong password counts towards the account's lockout, as at login (the check was reserved already)."""
    now = _now()
    db.session.refresh(user)  # the count the reserving UPDATE left
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    message = "密码不正确，未批准公开。请重新输入您本人的登录密码。"
    if user.failed_logins >= limit:
        user.locked_until = now + current_app.config["LOGIN_LOCKOUT"]
        user.failed_logins = 0
        audit.record(
            "account_locked", outcome="denied", reason=f"{limit} failed password checks", objects={"user": user.id}
        )
        minutes = int(current_app.config["LOGIN_LOCKOUT"].total_seconds() // 60)
        message = f"连续 {limit} 次密码错误，账号已被锁定 {minutes} 分钟，未批准公开。"
    return _refuse(task, "wrong_password", message, 422)


def approve(task: Task, user: User, password: str) -> PublishedTask:
    """Unseal, check the commitment, publish the notice and the bundle; all or nothing."""
    if published(task.id) is not None:
        raise PublicationError("本任务的结果已经公开。")
    req = pending_request(task)
    if req is None:
        raise PublicationError("本任务没有等待审批的公开申请。请先由组织人或科室负责人提出申请。")
    problem = date_problem(task, clock.today())
    if problem:
        raise _refuse(task, "before_publish_date", problem)
    missing = readiness(task).problem()  # a record corrected back to draft since the request
    if missing:
        raise _refuse(task, *missing)
    if req.requested_by_id == user.id:
        raise _refuse(
            task, "same_person",
            "公开须由两个人办理：申请人不能自己批准。请由本部门的另一位局领导审批（细则第十三条）。", 403,
        )
    # The same atomic reservation as the sign-in: parallel approvals cannot try more passwords than it allows.
    if not reserve_check(user.id, _now(), current_app.config["LOGIN_MAX_FAILURES"]):
        raise _refuse(task, "locked", "您的账号因多次密码错误已被暂时锁定，请稍后再试或联系系统管理员。", 403)
    if not verify_password(user.password_hash, password):
        raise _password_refused(task, user)
    user.failed_logins = 0

    listed = ceremony.read_list(task, purpose="publication")
    if listed is None:
        raise _refuse(task, "nothing_sealed", "本任务没有已封存的抽取结果，无法公开。")
    attempt = listed.attempt
    if not ceremony.commitment_holds(attempt):
        # The sealed result is not what the ceremony committed to: it was
        # altered after the draw. Publish nothing and leave a flag.
        raise _refuse(
            task, "commitment_mismatch",
            "封存的抽取结果与摇号时公示的结果承诺值不一致，系统已拒绝公开并记录。请立即报告纪检监察室核查。",
            409, outcome="error",
        )
    # Claimed by a conditional UPDATE so that two supervisors approving at
    # once cannot both publish.
    claimed = db.session.execute(
        update(PublicationRequest)
        .where(PublicationRequest.id == req.id, PublicationRequest.state == "pending")
        .values(state="approved", approved_by_id=user.id, approved_at=_now())
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if claimed != 1:
        raise PublicationError("这份申请刚刚已由他人审批，请刷新页面。")
    bundle = ceremony.bundle_for(task)
    bundle_text = json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"
    bundle_sha256 = hashlib.sha256(bundle_text.encode("utf-8")).hexdigest()
    waits_for = sorted(alg.skipped_by_tasks(bundle) - {task.id})
    outcomes = results_for(task, [t.position for t in listed.targets])
    notice = PublishedTask(
        task_id=task.id,
        name=task.name,
        year=task.year,
        department=task.section.department.name,
        section=task.section.name,
        matters_json=json.dumps(
            [
                {"code": tm.matter.code, "name": tm.matter.name, "legal_basis": tm.matter.legal_basis,
                 "content": tm.matter.content}
                for tm in task.matters
            ],
            ensure_ascii=False,
        ),
        planned_start=task.planned_start,
        planned_end=task.planned_end,
        publish_date=task.publish_date,
        published_at=_now(),
        attempt_number=attempt.number,
        bundle_json="" if waits_for else bundle_text,
        bundle_sealed=(
            seal_json(task.id, "bundle", task.id, {"text": bundle_text, "waits_for": waits_for}) if waits_for else None
        ),
        bundle_sha256=bundle_sha256,
        request_id=req.id,
    )
    for t in listed.targets:
        outcome = outcomes.get(t.position, Outcome())
        notice.results.append(
            PublishedResult(
                position=t.position,
                stratum=t.stratum,
                credit_code=t.credit_code,
                unit_name=t.name,
                inspectors="、".join(m.name for m in t.team),
                inspection_date=outcome.inspection_date,
                result=outcome.result,
                handling=outcome.handling,
            )
        )
    db.session.add(notice)
    task.status = "published"
    db.session.flush()
    audit.record(
        "publication_approved",
        task_id=task.id,
        objects={
            "task": task.id,
            "attempt": attempt.number,
            "request": req.id,
            "requested_by": req.requested_by.username,
            "units": len(listed.targets),
            "result_commitment": attempt.result_commitment,
            "nonce_sha256": attempt.nonce_sha256,
            "nonce_revealed": True,
            "bundle_sha256": bundle_sha256,
            "bundle_withheld": bool(unpublished(waits_for)),
        },
    )
    return notice


# --- results per inspected unit ----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the notice says about one inspected unit."""

    result: str = NOT_ENTERED
    handling: str = ""
    inspection_date: Optional[date] = None


def _day(raw) -> Optional[date]:
    return clock.parse_date(raw or "")


def handling_text(value: dict) -> str:
    """The handling as the notice states it: the measure, and its deadline or decision number (Art 10).

    The inspector's free-text detail stays in the archive: it may name
    people, and the notice only has to say what was done.
    """
    kind = value.get("handling") or "none"
    text = inspections.HANDLINGS.get(kind, kind)
    if kind == "rectify" and value.get("rectify_deadline"):
        text += f"（改正期限 {value['rectify_deadline']}）"
    if kind == "penalty" and value.get("decision_no"):
        text += f"（处罚决定书文号 {value['decision_no']}）"
    return text


def results_for(task: Task, positions: list[int]) -> dict[int, Outcome]:
    """Result category, handling and date per position, from the submitted inspection records.

    The one place that reads them, each read logged (the approver is about
    to make them public). A position without a submitted record is
    published as "未录入", so a missing record is visible on the notice
    rather than silently dropped.
    """
    wanted = set(positions)
    out: dict[int, Outcome] = {}
    for row in inspections.records_of(task):
        if row.position not in wanted or row.state != "submitted":
            continue
        value = inspections.read_record(row, purpose="publication")
        out[row.position] = Outcome(
            result=value.get("result") or NOT_ENTERED,
            handling=handling_text(value),
            inspection_date=_day(value.get("ended")) or _day(value.get("started")),
        )
    return out


# --- the archive package (Art 9) -------------------------------------------------------------------


def _json_bytes(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")


def inspection_files(task: Task, notice: PublishedTask) -> dict[str, bytes]:
    """Records (with past versions), notices, follow-ups, the final report and decrypted evidence, by file name.

    Each sealed read is logged as the inspection area logs it: the archive
    is a copy of everything, and the discipline office should see that.
    """
    codes = {r.position: r.credit_code for r in notice.results}
    files: dict[str, bytes] = {}
    names: dict[int, list[dict]] = {}
    for row in inspections.records_of(task):
        value = inspections.read_record(row, purpose="archive")
        history = [
            {"version": v.version, "replaced_at": v.replaced_at, "value": v.value}
            for v in inspections.read_history(row)
        ]
        files[f"inspections/{row.position:03d}/record.json"] = _json_bytes(
            {"position": row.position, "state": row.state, "version": row.version, "record": value,
             "earlier_versions": history}
        )
    # One query per kind for the whole task, not one per position: a task
    # of a few hundred units would otherwise spend most of the download here.
    for f in db.session.execute(
        select(FollowUp).where(FollowUp.task_id == task.id).order_by(FollowUp.position, FollowUp.id)
    ).scalars():
        code = codes.get(f.position)
        files[f"inspections/{f.position:03d}/followup-{f.id}.json"] = _json_bytes(followups.read(f, code))
    for n in db.session.execute(
        select(InspectionNotice).where(InspectionNotice.task_id == task.id).order_by(InspectionNotice.position)
    ).scalars():
        files[f"inspections/{n.position:03d}/notice.json"] = _json_bytes(
            {"position": n.position, "version": n.version, "notice": printables.read(n, purpose="archive")}
        )
    for e in db.session.execute(
        select(EvidenceFile).where(EvidenceFile.task_id == task.id).order_by(EvidenceFile.position, EvidenceFile.uploaded_at)
    ).scalars():
        meta, body = evidence.read_file(e, codes.get(e.position))
        # The entry name is generated and its extension is the detected type:
        # a typed name (NUL, quotes, CR/LF, "z.html\x00.jpg") never reaches the
        # zip. The cleaned original name is listed beside it.
        entry = f"inspections/{e.position:03d}/evidence/{e.id[:8]}.{evidence.ext_of(meta)}"
        files[entry] = body
        names.setdefault(e.position, []).append(
            {"file": entry.rsplit("/", 1)[1], "original_name": evidence.shown_name(meta), "sha256": meta.get("sha256"),
             "note": meta.get("note", "")})
    for position, listed in names.items():
        files[f"inspections/{position:03d}/evidence.json"] = _json_bytes(listed)
    report = final_reports.get(task)
    if report is not None:
        files["reports/final_report.json"] = _json_bytes(
            {"state": report.state, "report": final_reports.read(report, purpose="archive")}
        )
    return files


# --- the release rule of the verification bundle (SPEC §3) ------------------------------------------


def unpublished(task_ids) -> list[int]:
    """Those of the task ids that have no results notice yet."""
    ids = sorted(set(task_ids))
    if not ids:
        return []
    done = set(db.session.execute(select(PublishedTask.task_id).where(PublishedTask.task_id.in_(ids))).scalars())
    return [i for i in ids if i not in done]


def bundle_text(notice: PublishedTask) -> Optional[str]:
    """The bundle as published, or None while the release rule withholds it.

    A bundle whose Art 16 skips name a task that is not published yet would
    reveal that task's still-secret list; it is kept sealed under this
    task's key and served, decrypted here, from the moment the last such
    task is published. Decided at read time, so nobody has to act and no
    job has to run. Once released the content is public: no read entry.
    """
    if notice.bundle_sealed is None:
        return notice.bundle_json
    held = open_json(notice.task_id, "bundle", notice.task_id, notice.bundle_sealed)
    if unpublished(held["waits_for"]):
        return None
    return held["text"]


def bundle_withheld(notice: PublishedTask) -> bool:
    return bundle_text(notice) is None


# --- what the public pages read --------------------------------------------------------------------


def public_tasks() -> list[PublishedTask]:
    return list(
        db.session.execute(
            select(PublishedTask).order_by(PublishedTask.published_at.desc(), PublishedTask.task_id.desc())
        ).scalars()
    )


def matters_of(notice: PublishedTask) -> list[dict]:
    return json.loads(notice.matters_json)
