"""The draw ceremony's steps, the sealed lists and recusals (SPEC §3, §4; Art 5, 6, 9, 12, 16).

Order is the point of a ceremony: the pools are frozen, then the server
commits to its secret nonce, then witnesses throw dice, then the public
algorithm runs. Each step refuses unless the one before it is done, and a
state change is claimed by a conditional UPDATE so that two clicks (or two
workers) cannot both run it: an attempt is drawn at most once, ever.

What is written where:
- plaintext, shown on the record: pool sizes and SHA-256 hashes, sample
  sizes, the nonce commitment, the witnesses and their digits, the result
  commitment, failures, redraw reasons and who approved them;
- sealed (AES-256-GCM under the task's data key, `ssj.sealing.service`):
  the pools themselves, the nonce, the result, each assignment's target,
  each recusal.
A person sees sealed content only through `_reveal`, which goes through
`sealing.service.read_sealed` (log first, fail closed). Server-side work
that shows nothing to anyone (a draw, a recusal) uses `open_json` and
needs no read entry; the Art 16 set E, which reads other tasks' sealed
results, is logged as a system read naming no target.

Changes join the request's unit of work; the after_request hook commits
them with the access-log entries written here (ssj.audit.hooks).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable, Optional

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..draws import algorithm as alg
from ..extensions import db
from ..models import (
    Assignment, Conflict, DrawAttempt, DrawWitness, InspectionRecord, Inspector, Target, Task, TaskKey, Township, User,
)
from ..models.draws import Recusal
from .. import clock
from ..plans.service import eligible_pools
from ..sealing.service import open_json, read_sealed, seal_json
from . import policy

# Tasks whose settings the ceremony has frozen and whose draw may be redone
# with approval; once inspection starts (later statuses) a redraw is refused.
REDRAWABLE = ("drawing", "sealed")
_CREDIT_CODE_LIKE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}", re.IGNORECASE)
_CHUNK = 500  # ids per IN (...) list: well inside every backend's parameter limit


class CeremonyError(ValueError):
    """A step cannot be taken now; str() is a Chinese sentence saying what to do instead.

    `status` is the HTTP status the page is returned with: 409 when the
    ceremony is not at this step, 422 when what was typed must be fixed.
    """

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def _now() -> datetime:
    return clock.now()


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 characters as themselves: the text the commitment hashes."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def result_commitment(nonce_hex: str, result: dict) -> str:
    """SHA-256 of nonce_hex + "|" + canonical JSON of the sealed result.

    Public from the moment of the draw; with the nonce secret, nobody can
    test guesses of the result against it. At publication the nonce is
    revealed and anyone can check that the published result is the one
    sealed at the ceremony.
    """
    return alg.sha256_hex(nonce_hex + "|" + canonical_json(result))


def _chunks(items: list, size: int = _CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- attempts -------------------------------------------------------------------


def attempts_view(task: Task) -> list[dict[str, Any]]:
    """Each attempt with its summary and sample counts, as the ceremony record shows them (page and archive)."""
    return [
        {
            "attempt": a,
            "summary": summary(a),
            "samples": json.loads(a.sample_summary_json) if a.sample_summary_json else None,
        }
        for a in attempts_of(task)
    ]


def attempts_of(task: Task) -> list[DrawAttempt]:
    return list(
        db.session.execute(
            select(DrawAttempt).where(DrawAttempt.task_id == task.id).order_by(DrawAttempt.number)
        ).scalars()
    )


def current_attempt(task: Task) -> Optional[DrawAttempt]:
    """The attempt that is not void, if any (there is at most one)."""
    live = [a for a in attempts_of(task) if a.state != "void"]
    return live[-1] if live else None


def sealed_attempt(task: Task) -> Optional[DrawAttempt]:
    a = current_attempt(task)
    return a if a is not None and a.state == "sealed" else None


def summary(attempt: DrawAttempt) -> dict:
    return json.loads(attempt.pool_summary_json)


def _claim(attempt: DrawAttempt, expect_state: str, **values) -> None:
    """Move the attempt on only if it is still where this request found it.

    The UPDATE's WHERE is the guard: a second request (double click, another
    worker) matches no row and is refused, on SQLite and PostgreSQL alike.
    """
    conditions = [DrawAttempt.id == attempt.id, DrawAttempt.state == expect_state]
    if "entropy" in values:
        conditions.append(DrawAttempt.entropy.is_(None))
    done = db.session.execute(
        update(DrawAttempt).where(*conditions).values(**values).execution_options(synchronize_session="fetch")
    ).rowcount
    if done != 1:
        db.session.refresh(attempt)
        raise CeremonyError("这一步刚刚已经由他人完成，请刷新页面查看最新进度。")
    db.session.refresh(attempt)


def _ref(task: Task, attempt: DrawAttempt) -> dict[str, Any]:
    return {"task": task.id, "attempt": attempt.number}


# --- step 1: freeze the pools (Art 5, 6, 16) -----------------------------------------


def art16_exclusion(task: Task, attempt: DrawAttempt, pooled: set[str], on_date: date) -> dict[str, int]:
    """E: pooled targets another task drew and inspects within this task's window (Art 16), → by_task.

    Computed by the server inside the sealed draw step (SPEC §3), never at
    freezing, so that pool sizes and hashes follow from the directory alone.
    Another task counts through its final attempt (the sealed one): a target
    it drew is in E when that task's inspection of it ended — the inspection
    record's actual end date, or while there is none the task's planned end
    (its draw date if it has no plan) — on or after this task's planned start
    (the draw date if unset) minus `exclusion_days`.

    The result is decrypted here and shown to nobody; the read is logged as
    a system read naming the tasks read and no target. When several tasks
    drew the same target, `by_task` prefers one already published (its
    bundle then is not withheld for it), else the lowest task id.
    """
    if not task.exclusion_days:
        return {}
    since = (task.planned_start or on_date) - timedelta(days=task.exclusion_days)
    rows = db.session.execute(
        select(DrawAttempt, Task.planned_end, Task.status)
        .join(Task, DrawAttempt.task_id == Task.id)
        .where(DrawAttempt.state == "sealed", DrawAttempt.task_id != task.id)
        .order_by(DrawAttempt.task_id)
    ).all()
    tasks_read = []
    causes: dict[str, list[tuple[bool, int]]] = {}
    for other, planned_end, status in rows:
        tasks_read.append(other.task_id)
        ended = dict(
            db.session.execute(
                select(InspectionRecord.position, InspectionRecord.ended_on).where(
                    InspectionRecord.task_id == other.task_id, InspectionRecord.ended_on.is_not(None)
                )
            ).all()
        )
        planned = planned_end or (other.drawn_at.date() if other.drawn_at else None)
        result = open_json(other.task_id, "result", other.id, other.result_sealed)
        for position, team in enumerate(result["teams"], 1):
            code = team["target"]
            if code not in pooled:
                continue
            last_day = ended.get(position) or planned
            if last_day is not None and last_day >= since:
                causes.setdefault(code, []).append((status != "published", other.task_id))
    audit.record(
        "draw_art16_read",
        task_id=task.id,
        objects={**_ref(task, attempt), "by": "system", "window_from": since.isoformat(), "tasks_read": tasks_read},
    )
    return {code: min(c)[1] for code, c in causes.items()}


def frozen_conflicts(codes: set[str], staff_nos: set[str]) -> list[list[str]]:
    """Declared conflicts between pooled targets and pooled inspectors, as [credit code, staff number]."""
    rows = db.session.execute(
        select(Target.credit_code, Inspector.staff_no)
        .join(Conflict, Conflict.target_id == Target.id)
        .join(Inspector, Conflict.inspector_id == Inspector.id)
    ).all()
    return [list(pair) for pair in sorted({(c, s) for c, s in rows if c in codes and s in staff_nos})]


def freeze(task: Task, user: User) -> DrawAttempt:
    """Step 1: a new numbered attempt with the pools frozen, sealed, and their hashes public."""
    if current_attempt(task) is not None:
        raise CeremonyError("本任务已有一次进行中的抽取，不能再冻结名单。如需重新抽取，请在本页下方申请并经局领导批准。")
    if task.status != "planned":
        raise CeremonyError(f"任务当前为“{task.status_label}”，只有“已计划”的任务可以开始摇号。")
    if not task.strata:
        raise CeremonyError("任务还没有设置分层和抽取比例，请先在任务页“修改设置”中填写。")
    on_date = clock.today()
    # The whole scope: Art 16 skips happen inside the sealed draw (run), so
    # what is frozen and shown here follows from the directory alone.
    pools, inspectors = eligible_pools(task, on_date)
    strata_public, strata_sealed = [], []
    for stratum, codes in pools:
        try:
            alg.check_pool(codes, f"“{stratum.name}”层的候选对象名单")
            k = alg.sample_size(len(codes), stratum.ratio_percent, stratum.fixed_count)
        except alg.DrawError as exc:
            raise CeremonyError(str(exc), 422) from None
        strata_public.append(
            {
                "name": stratum.name,
                "kind": stratum.kind,
                "rule": stratum.rule_label,
                "size": len(codes),
                "sha256": alg.pool_sha256(codes),
                "sample_size": k,
            }
        )
        strata_sealed.append(
            {
                "name": stratum.name,
                "kind": stratum.kind,
                "ratio": stratum.ratio_percent,
                "count": stratum.fixed_count,
                "pool": codes,
            }
        )
    total = sum(s["sample_size"] for s in strata_public)
    if total == 0:
        raise CeremonyError(
            "按任务的抽查范围，现在没有可抽取的检查对象。"
            "请核对任务的行业、乡镇和规模筛选，或先在检查对象名录库中录入对象。",
            422,
        )
    if len(inspectors) < task.team_size:
        raise CeremonyError(
            f"目前只有 {len(inspectors)} 名执法检查人员可以参加抽取，少于每组 {task.team_size} 人（细则第五条）。"
            "请在执法人员名录中核对在岗状态和执法证有效期后再冻结名单。",
            422,
        )
    cap = task.cap_per_inspector
    if cap is not None and total * task.team_size > len(inspectors) * cap:
        raise CeremonyError(
            f"本次需 {total * task.team_size} 人次检查，而 {len(inspectors)} 名人员每人最多 {cap} 户，"
            f"最多只能承担 {len(inspectors) * cap} 人次。请提高每人上限、减小每组人数或增加执法检查人员后再冻结名单。",
            422,
        )
    number = (db.session.scalar(select(func.max(DrawAttempt.number)).where(DrawAttempt.task_id == task.id)) or 0) + 1
    public = {
        "on_date": on_date.isoformat(),
        "strata": strata_public,
        "inspectors": {"size": len(inspectors), "sha256": alg.pool_sha256(inspectors)},
        "team_size": task.team_size,
        "cap": cap,
        "exclusion_days": task.exclusion_days,
        "partners": [p.department.name for p in task.partners],
    }
    attempt = DrawAttempt(
        task_id=task.id,
        number=number,
        state="frozen",
        operator_id=user.id,
        frozen_at=_now(),
        pools_sealed=b"",  # sealed below, once the row has the id its associated data names
        pool_summary_json=canonical_json(public),
    )
    db.session.add(attempt)
    try:
        db.session.flush()
    except IntegrityError:
        # Two freezes at once: the (task, number) unique key lets one win.
        db.session.rollback()
        raise CeremonyError("刚刚已有人冻结了名单，请刷新页面查看最新进度。") from None
    attempt.pools_sealed = seal_json(
        task.id,
        "pools",
        attempt.id,
        {
            "on_date": on_date.isoformat(),
            "strata": strata_sealed,
            "inspectors": inspectors,
            "conflicts": frozen_conflicts({c for _, codes in pools for c in codes}, set(inspectors)),
            "team_size": task.team_size,
            "cap": cap,
        },
    )
    task.status = "drawing"
    audit.record(
        "draw_pools_frozen",
        task_id=task.id,
        objects={
            **_ref(task, attempt),
            "strata": [{k: s[k] for k in ("name", "size", "sha256", "sample_size")} for s in strata_public],
            "inspectors": public["inspectors"],
        },
    )
    return attempt


# --- step 2: commit to the nonce, before any entropy exists (Art 5, 9) ------------------


def commit(attempt: DrawAttempt) -> None:
    """Step 2: a fresh secret nonce, sealed; its SHA-256 public before the first die is thrown."""
    task = attempt.task
    _refuse_if_pending(attempt)
    if attempt.state != "frozen":
        raise CeremonyError(f"本次抽取当前为“{attempt.state_label}”，随机数承诺只能在冻结名单之后、见证人掷骰之前生成一次。")
    nonce = alg.new_nonce()
    _claim(
        attempt,
        "frozen",
        state="committed",
        nonce_sealed=seal_json(task.id, "nonce", attempt.id, nonce.hex()),
        nonce_sha256=alg.nonce_commitment(nonce),
        committed_at=_now(),
    )
    audit.record("draw_committed", task_id=task.id, objects={**_ref(task, attempt), "nonce_sha256": attempt.nonce_sha256})


# --- step 3: witnesses' dice (Art 5, 6, 9) --------------------------------------------


def digits_entered(attempt: DrawAttempt) -> int:
    return sum(len(w.digits) for w in attempt.witnesses)


def has_external_witness(attempt: DrawAttempt) -> bool:
    return any(w.external for w in attempt.witnesses)


def witness_step_problem(attempt: DrawAttempt) -> Optional[str]:
    """Why no witness may enter digits now, in Chinese; None at step 3."""
    if attempt.redraw_pending:
        return "本次抽取已申请作废并重新抽取，正在等待局领导审批，审批前不能继续操作。"
    if attempt.state == "frozen":
        return "请先生成并公示随机数承诺（第 2 步），再由见证人掷骰：承诺必须在任何公开随机数出现之前公示。"
    if attempt.state != "committed" or attempt.entropy is not None:
        return "本次抽取已经运行，不能再录入见证人的点数。"
    return None


def refuse_witness(attempt: DrawAttempt, reason: str, *, tried: Optional[str] = None) -> None:
    """Log a refused witness entry (who tried, for whom, why), never the password or the digits."""
    task = attempt.task
    audit.record(
        "draw_witness_refused",
        outcome="denied",
        reason=reason,
        task_id=task.id,
        objects={**_ref(task, attempt), "witness_username": tried},
    )


def confirm_witness(attempt: DrawAttempt, username: str, password: str) -> User:
    """The witness named on the ceremony screen, if the password is theirs.

    Checked by `auth.service.authenticate`, the sign-in's own rule: the same
    argon2 check, failures counted towards the same lockout and logged. A
    refusal is logged here too, naming the attempt, and raises.
    """
    from ..auth.service import authenticate

    result = authenticate(username, password)
    if result.user is None:
        refuse_witness(attempt, "witness_password", tried=username)
        raise CeremonyError(
            "见证人身份确认失败：" + (result.message or "用户名或密码错误。")
            + "请见证人本人重新输入自己的用户名和密码；组织人不能代为录入。",
            403,
        )
    return result.user


def add_witness(
    attempt: DrawAttempt, witness: User, digits: str, *, entered_by: User, identified_by: str
) -> DrawWitness:
    """Step 3: `witness` enters their own digits; who they are comes from their account.

    `identified_by` is "session" (typed in their own signed-in session,
    `entered_by` is the witness) or "password" (typed on the ceremony
    screen after re-entering their password, `entered_by` is the screen's
    user). The organiser is never a witness (policy.witness_problem).
    Digits must already be validated (forms.DigitsForm).
    """
    task = attempt.task
    problem = witness_step_problem(attempt)
    if problem:
        raise CeremonyError(problem)
    problem = policy.witness_problem(witness, task, attempt)
    if problem:
        refuse_witness(attempt, "organiser" if witness.id in (task.organizer_id, attempt.operator_id) else "not_witness",
                       tried=witness.username)
        raise CeremonyError(problem, 403)
    if identified_by == "session" and entered_by.id != witness.id:
        raise ValueError("a witness's own session enters only their own digits")
    section = witness.section.name if witness.section else witness.department.name
    row = DrawWitness(
        attempt_id=attempt.id,
        name=witness.display_name,
        affiliation=section,
        external=policy.is_external_witness(witness, task),
        digits=digits,
        user_id=witness.id,
        identified_by=identified_by,
        entered_by_id=entered_by.id,
        entered_at=_now(),
    )
    db.session.add(row)
    db.session.flush()
    db.session.refresh(attempt)
    audit.record(
        "draw_witness_added",
        task_id=task.id,
        objects={
            **_ref(task, attempt),
            "witness": row.name,
            "witness_username": witness.username,
            "affiliation": row.affiliation,
            "external": row.external,
            "identified_by": identified_by,
            "digits": row.digits,
        },
    )
    return row


def entropy_problems(attempt: DrawAttempt) -> list[str]:
    """What still stops the draw from running, in words for the page (empty when ready)."""
    problems = []
    digits = digits_entered(attempt)
    if digits < alg.MIN_ENTROPY_DIGITS:
        problems.append(
            f"见证人合计已录入 {digits} 位数字，至少需要 {alg.MIN_ENTROPY_DIGITS} 位，还差 {alg.MIN_ENTROPY_DIGITS - digits} 位。"
        )
    if not has_external_witness(attempt):
        problems.append("还没有来自组织科室以外的见证人（例如纪检监察室）：至少需要一名，请其本人掷骰并录入。")
    return problems


# --- step 4: the draw, sealed (Art 5, 6, 12) -------------------------------------------


def _target_details(department_id: int, codes: list[str]) -> dict[str, dict[str, str]]:
    """Directory facts of the drawn targets, read without loading ORM objects (nothing can be written back)."""
    out: dict[str, dict[str, str]] = {}
    for chunk in _chunks(codes):
        rows = db.session.execute(
            select(
                Target.credit_code, Target.name, Target.address, Target.legal_rep, Target.contact,
                Target.industry, Township.name,
            )
            .outerjoin(Township, Target.township_id == Township.id)
            .where(Target.department_id == department_id, Target.credit_code.in_(chunk))
        ).all()
        for code, name, address, legal_rep, contact, industry, township in rows:
            out[code] = {
                "credit_code": code,
                "name": name,
                "address": address or "",
                "legal_rep": legal_rep or "",
                "contact": contact or "",
                "industry": industry or "",
                "township": township or "",
            }
    return out


def _inspectors_by_staff_no(staff_nos: Iterable[str]) -> dict[str, Inspector]:
    wanted = sorted(set(staff_nos))
    found: dict[str, Inspector] = {}
    for chunk in _chunks(wanted):
        for i in db.session.execute(select(Inspector).where(Inspector.staff_no.in_(chunk))).scalars():
            found[i.staff_no] = i
    missing = set(wanted) - set(found)
    if missing:
        # The pool was frozen from this table; a row deleted since cannot be assigned.
        raise CeremonyError(
            f"执法人员名录中已找不到 {len(missing)} 名冻结时在册的人员（工号 {'、'.join(sorted(missing))}），"
            "无法生成检查任务。请恢复这些人员的记录，或申请重新抽取。"
        )
    return found


def run(attempt: DrawAttempt, user: User) -> None:
    """Step 4: run ssj-draw-v2 once; seal E, the result and the assignments, or record why it stopped.

    Raises CeremonyError on a failure to draw; the caller keeps the
    attempt's changes (entropy and failure), which are then on the record.
    """
    task = attempt.task
    _refuse_if_pending(attempt)
    if attempt.state == "frozen":
        raise CeremonyError("请先生成并公示随机数承诺（第 2 步），再由见证人掷骰，最后才能抽取。")
    if attempt.state != "committed" or attempt.entropy is not None:
        raise CeremonyError("本次抽取已经运行过，不能再次抽取（每次抽取只能运行一次）。如需重新抽取，请按本页下方的规定申请。")
    problems = entropy_problems(attempt)
    if problems:
        raise CeremonyError("还不能开始抽取：" + "".join(problems), 422)
    try:
        entropy = alg.normalize_entropy("".join(w.digits for w in attempt.witnesses))
    except alg.EntropyError as exc:
        raise CeremonyError(str(exc), 422) from None
    _claim(attempt, "committed", entropy=entropy)

    pools = open_json(task.id, "pools", attempt.id, attempt.pools_sealed)
    nonce_hex = open_json(task.id, "nonce", attempt.id, attempt.nonce_sealed)
    strata = [alg.Stratum(s["name"], s["pool"], s["ratio"], s["count"]) for s in pools["strata"]]
    # Art 16 inside the sealed step; sealed now, before the draw can stop,
    # so that what a failed (and later void) attempt drew stays recomputable.
    excluded = art16_exclusion(task, attempt, {c for s in strata for c in s.pool}, clock.today())
    attempt.exclusion_sealed = seal_json(task.id, "exclusion", attempt.id, excluded)
    try:
        seed = alg.make_seed(nonce_hex, entropy)
        result = alg.run_draw(
            strata, pools["inspectors"], seed, pools["team_size"], pools["cap"], pools["conflicts"], excluded
        )
        people = _inspectors_by_staff_no(i for t in result.teams for i in t.inspectors)
    except (alg.DrawError, CeremonyError) as exc:
        # The entropy is spent either way: record why nothing was sealed, so
        # the attempt reads as failed rather than as drawn with no result.
        attempt.failure = str(exc)
        attempt.failed_at = _now()
        audit.record(
            "draw_failed", outcome="error", reason=str(exc), task_id=task.id, objects=_ref(task, attempt)
        )
        raise CeremonyError(str(exc), 422) from None

    sealed = {
        "seed": result.seed,
        "strata": [
            {
                "name": r.stratum.name,
                "sample_size": r.sample_size,
                "selected": [{"id": s.id, "ticket": s.ticket} for s in r.selected],
                "skipped": [{"id": s.id, "ticket": s.ticket, "by_task": s.by_task} for s in r.skipped],
            }
            for r in result.strata
        ],
        "teams": [{"target": t.target, "inspectors": list(t.inspectors)} for t in result.teams],
    }
    codes = [t.target for t in result.teams]
    key_row = _hold_data_key(task.id)  # noqa: F841  (kept alive for the seals below)
    details = _target_details(task.section.department_id, codes)
    stratum_of = {s.id: r.stratum.name for r in result.strata for s in r.selected}
    for position, team in enumerate(result.teams, 1):
        facts = details.get(team.target) or {"credit_code": team.target, "name": "（名录中未找到该对象）"}
        value = {
            **facts,
            "position": position,
            "stratum": stratum_of[team.target],
            "team": [people[s].name for s in team.inspectors],
        }
        for staff_no in team.inspectors:
            a = Assignment(task_id=task.id, attempt_id=attempt.id, position=position, inspector_id=people[staff_no].id)
            a.target_sealed = seal_json(task.id, "assignment", a_record_id(attempt.id, position, a.inspector_id), value)
            db.session.add(a)
    attempt.result_sealed = seal_json(task.id, "result", attempt.id, sealed)
    attempt.result_commitment = result_commitment(nonce_hex, sealed)
    # A stratum whose pool ran out because of Art 16 skips drew fewer than k;
    # the record says so (SPEC §3), and only then: nothing else about skips.
    attempt.sample_summary_json = canonical_json(
        [
            {"name": r.stratum.name, "sample_size": r.sample_size}
            | ({"drawn": len(r.selected)} if len(r.selected) < r.sample_size else {})
            for r in result.strata
        ]
    )
    attempt.drawn_at = _now()
    attempt.state = "sealed"
    task.status = "sealed"
    db.session.flush()
    audit.record(
        "draw_sealed",
        task_id=task.id,
        objects={
            **_ref(task, attempt),
            "entropy": entropy,
            "result_commitment": attempt.result_commitment,
            "sample_sizes": [r.sample_size for r in result.strata],
            "assignments": sum(len(t.inspectors) for t in result.teams),
        },
    )


def _hold_data_key(task_id: int) -> Optional[TaskKey]:
    """Keep the task's key row referenced while sealing many records.

    seal_json looks the row up with session.get each time; the session's
    identity map holds rows only weakly, so without a reference each of
    thousands of seals would query (and autoflush) again.
    """
    return db.session.get(TaskKey, task_id)


def a_record_id(attempt_id: int, position: int, inspector_id: int) -> str:
    """Same text as Assignment.record_id, for a row not flushed yet."""
    return f"{attempt_id}:{position}:{inspector_id}"


# --- redraw: a written reason and a supervisor's approval (Art 9) ------------------------


def _refuse_if_pending(attempt: DrawAttempt) -> None:
    if attempt.redraw_pending:
        raise CeremonyError("本次抽取已申请作废并重新抽取，正在等待局领导审批，审批前不能继续操作。")


def reason_problem(task: Task, text: str) -> Optional[str]:
    """Refuse a public reason that names a candidate target, so the record cannot leak one.

    Checked against every code and name in the task's scope, drawn or not:
    refusing only drawn names would tell the writer which ones were drawn.
    """
    if _CREDIT_CODE_LIKE.search(text):
        return "原因将写入公开的抽取记录，不能包含统一社会信用代码或类似的 18 位编码，请改用文字说明。"
    from ..plans.service import Scope

    names = db.session.execute(select(Target.name).where(*Scope.of_task(task).conditions())).scalars()
    for name in names:
        if len(name) >= 4 and name in text:
            return "原因将写入公开的抽取记录，不能出现检查对象的名称（公开前名单保密，细则第十二条），请改用不指明单位的说法。"
    return None


def request_redraw(attempt: DrawAttempt, user: User, reason: str) -> None:
    task = attempt.task
    if attempt.state == "void":
        raise CeremonyError("这次抽取已经作废。")
    if attempt.redraw_pending:
        raise CeremonyError("已经有一份重新抽取的申请在等待局领导审批。")
    if task.status not in REDRAWABLE:
        raise CeremonyError(f"任务已进入“{task.status_label}”阶段，不能再重新抽取。")
    problem = reason_problem(task, reason)
    if problem:
        raise CeremonyError(problem, 422)
    attempt.void_reason = reason
    attempt.void_requested_by_id = user.id
    attempt.void_requested_at = _now()
    audit.record("redraw_requested", reason=reason, task_id=task.id, objects={**_ref(task, attempt), "state": attempt.state})


def decide_redraw(attempt: DrawAttempt, user: User, approve: bool, note: str) -> None:
    """A supervisor voids the attempt (a new one may then start from step 1) or turns the request down."""
    task = attempt.task
    if not attempt.redraw_pending:
        raise CeremonyError("没有等待审批的重新抽取申请。")
    if note:
        problem = reason_problem(task, note)
        if problem:
            raise CeremonyError(problem, 422)
    if not approve:
        audit.record(
            "redraw_declined",
            reason=note,
            task_id=task.id,
            objects={**_ref(task, attempt), "requested_by": attempt.void_requested_by.username, "request": attempt.void_reason},
        )
        attempt.void_reason = None
        attempt.void_requested_by_id = None
        attempt.void_requested_at = None
        return
    previous = attempt.state
    _claim(attempt, previous, state="void", void_approved_by_id=user.id, void_approved_at=_now())
    db.session.execute(
        update(Assignment).where(Assignment.attempt_id == attempt.id).values(active=False)
    )
    # Settings may be corrected before the next attempt freezes them again;
    # every attempt's frozen hashes stay on the record for comparison.
    task.status = "planned"
    audit.record(
        "redraw_approved",
        reason=note or None,
        task_id=task.id,
        objects={
            **_ref(task, attempt),
            "state_before": previous,
            "requested_by": attempt.void_requested_by.username,
            "request": attempt.void_reason,
        },
    )


# --- need-to-know reads (SPEC §4) ---------------------------------------------------------


def _reveal(
    task_id: int,
    kind: str,
    record_id: str | int,
    blob: bytes,
    *,
    purpose: str,
    codes: Callable[[Any], list[str]],
    positions: Callable[[Any], list[int]],
) -> Any:
    """Sealed content for a person to see: through read_sealed, decrypted once and logged before it is served."""
    return read_sealed(task_id, kind, record_id, blob, purpose=purpose, credit_codes=codes, positions=positions)


def _recusals(attempt: DrawAttempt) -> list[Recusal]:
    return list(
        db.session.execute(
            select(Recusal).where(Recusal.attempt_id == attempt.id).order_by(Recusal.number)
        ).scalars()
    )


def _replacement(value: dict) -> alg.Replacement:
    return alg.Replacement(value["target"], value["out"], value["in"], value["reason"])


@dataclass
class Member:
    staff_no: str
    name: str
    section: str
    inspector_id: int


@dataclass
class ListedTarget:
    position: int
    stratum: str
    index_in_stratum: int
    ticket: str
    credit_code: str
    name: str
    township: str
    address: str
    legal_rep: str
    contact: str
    industry: str
    team: list[Member]


@dataclass
class ListedRecusal:
    number: int
    position: int
    out: Member
    in_: Member
    reason: str
    declared_by: str
    declared_at: datetime


@dataclass
class SealedList:
    task: Task
    attempt: DrawAttempt
    targets: list[ListedTarget]
    recusals: list[ListedRecusal] = field(default_factory=list)


def _member(i: Inspector) -> Member:
    return Member(i.staff_no, i.name, i.section.name if i.section else "", i.id)


def read_list(task: Task, purpose: str) -> Optional[SealedList]:
    """The task's drawn targets and current teams, for the organizer, head or a supervisor.

    One logged read of the result (every position and code), one per
    recusal; directory facts (name, address, …) come from the target
    directory by code, which is not sealed.
    """
    attempt = sealed_attempt(task)
    if attempt is None:
        return None
    key_row = _hold_data_key(task.id)  # noqa: F841
    result = _reveal(
        task.id, "result", attempt.id, attempt.result_sealed,
        purpose=purpose,
        codes=lambda r: [t["target"] for t in r["teams"]],
        positions=lambda r: list(range(1, len(r["teams"]) + 1)),
    )
    recusal_rows = _recusals(attempt)
    replacements = []
    for row in recusal_rows:
        replacements.append(
            _reveal(
                task.id, "replacement", row.record_id, row.sealed,
                purpose=purpose, codes=lambda v: [v["target"]], positions=lambda v, p=row.position: [p],
            )
        )
    drawn = [alg.Team(t["target"], tuple(t["inspectors"])) for t in result["teams"]]
    teams = alg.apply_replacements(drawn, [_replacement(v) for v in replacements])
    people = _inspectors_by_staff_no(s for t in teams for s in t.inspectors)
    details = _target_details(task.section.department_id, [t.target for t in teams])
    placed = [(s["name"], n, sel) for s in result["strata"] for n, sel in enumerate(s["selected"], 1)]
    targets = []
    for position, (team, (stratum, index, sel)) in enumerate(zip(teams, placed), 1):
        facts = details.get(team.target, {})
        targets.append(
            ListedTarget(
                position=position,
                stratum=stratum,
                index_in_stratum=index,
                ticket=sel["ticket"],
                credit_code=team.target,
                name=facts.get("name", "（名录中已无此对象）"),
                township=facts.get("township", ""),
                address=facts.get("address", ""),
                legal_rep=facts.get("legal_rep", ""),
                contact=facts.get("contact", ""),
                industry=facts.get("industry", ""),
                team=[_member(people[s]) for s in team.inspectors],
            )
        )
    listed_recusals = [
        ListedRecusal(
            number=row.number,
            position=row.position,
            out=_member(row.out_inspector),
            in_=_member(row.in_inspector),
            reason=value["reason"],
            declared_by=row.declared_by.display_name,
            declared_at=row.declared_at,
        )
        for row, value in zip(recusal_rows, replacements)
    ]
    return SealedList(task, attempt, targets, listed_recusals)


@dataclass
class MyAssignment:
    task: Task
    position: int
    facts: dict
    inspector_id: int


def my_assignments(inspector: Inspector) -> list[MyAssignment]:
    """An inspector's own active assignments in sealed draws, each read logged (SPEC §4)."""
    rows = db.session.execute(
        select(Assignment)
        .join(DrawAttempt, Assignment.attempt_id == DrawAttempt.id)
        .where(Assignment.inspector_id == inspector.id, Assignment.active.is_(True), DrawAttempt.state == "sealed")
        .order_by(Assignment.task_id.desc(), Assignment.position)
    ).scalars().all()
    held = [_hold_data_key(task_id) for task_id in {a.task_id for a in rows}]  # noqa: F841
    out = []
    for a in rows:
        facts = _reveal(
            a.task_id, "assignment", a.record_id, a.target_sealed,
            purpose="own_assignment",
            codes=lambda v: [v["credit_code"]],
            positions=lambda v, p=a.position: [p],
        )
        out.append(MyAssignment(db.session.get(Task, a.task_id), a.position, facts, inspector.id))
    return out


def active_assignment(task: Task, position: int, inspector_id: int) -> Optional[Assignment]:
    attempt = sealed_attempt(task)
    if attempt is None:
        return None
    return db.session.execute(
        select(Assignment).where(
            Assignment.attempt_id == attempt.id,
            Assignment.position == position,
            Assignment.inspector_id == inspector_id,
            Assignment.active.is_(True),
        )
    ).scalar_one_or_none()


# --- recusal after the draw (Art 5 回避) ------------------------------------------------


def recuse(task: Task, assignment: Assignment, reason: str, user: User) -> Recusal:
    """Replace the assignment's inspector with the next eligible one in the frozen ranking.

    The new member comes from `algorithm.replace_inspector` over the pools,
    conflicts and cap frozen at the draw, so the published bundle replays
    it. The recusal is sealed (it names the target and the reason may
    too); the access log gets the position, both staff numbers and the
    HMAC of the target's code, never the reason's text.
    """
    attempt = sealed_attempt(task)
    if attempt is None or assignment.attempt_id != attempt.id or not assignment.active:
        raise CeremonyError("这项检查任务已不在当前有效的抽取结果中。")
    if task.status not in ("sealed", "inspecting"):
        raise CeremonyError(f"任务已进入“{task.status_label}”阶段，不能再办理回避替换。")
    key_row = _hold_data_key(task.id)  # noqa: F841
    pools = open_json(task.id, "pools", attempt.id, attempt.pools_sealed)
    result = open_json(task.id, "result", attempt.id, attempt.result_sealed)
    earlier = _recusals(attempt)
    done = [_replacement(open_json(task.id, "replacement", r.record_id, r.sealed)) for r in earlier]
    drawn = [alg.Team(t["target"], tuple(t["inspectors"])) for t in result["teams"]]
    target = drawn[assignment.position - 1].target
    leaving = assignment.inspector
    try:
        rep = alg.replace_inspector(
            drawn, done, target, leaving.staff_no, reason,
            inspectors=pools["inspectors"], seed=result["seed"], cap=pools["cap"], conflicts=pools["conflicts"],
        )
    except alg.DrawError as exc:
        raise CeremonyError(str(exc), 422) from None
    team_now = alg.apply_replacements(drawn, [*done, rep])[assignment.position - 1].inspectors
    people = _inspectors_by_staff_no(team_now)
    joining = people[rep.in_]
    recusal = Recusal(
        task_id=task.id,
        attempt_id=attempt.id,
        number=len(earlier) + 1,
        position=assignment.position,
        out_inspector_id=leaving.id,
        in_inspector_id=joining.id,
        sealed=b"",  # sealed below, once the row has its number in the associated data
        declared_by_id=user.id,
        declared_at=_now(),
    )
    db.session.add(recusal)
    db.session.flush()
    recusal.sealed = seal_json(
        task.id, "replacement", recusal.record_id,
        {"target": rep.target, "out": rep.out, "in": rep.in_, "reason": rep.reason},
    )
    names = [people[s].name for s in team_now]
    facts = open_json(task.id, "assignment", assignment.record_id, assignment.target_sealed)
    facts["team"] = names
    assignment.active = False
    db.session.add(
        Assignment(
            task_id=task.id,
            attempt_id=attempt.id,
            position=assignment.position,
            inspector_id=joining.id,
            target_sealed=seal_json(
                task.id, "assignment", a_record_id(attempt.id, assignment.position, joining.id), facts
            ),
        )
    )
    # The rest of the team's copies name the new member too.
    for other in db.session.execute(
        select(Assignment).where(
            Assignment.attempt_id == attempt.id,
            Assignment.position == assignment.position,
            Assignment.active.is_(True),
            Assignment.id != assignment.id,
        )
    ).scalars():
        value = open_json(task.id, "assignment", other.record_id, other.target_sealed)
        value["team"] = names
        other.target_sealed = seal_json(task.id, "assignment", other.record_id, value)
    db.session.flush()
    audit.record(
        "recusal",
        task_id=task.id,
        objects={
            **_ref(task, attempt),
            "number": recusal.number,
            "positions": [assignment.position],
            "out": leaving.staff_no,
            "in": joining.staff_no,
            "target_refs": [audit.sealed_ref(target, task_id=task.id)],
            "self": leaving.user_id == user.id,
        },
    )
    return recusal


# --- verification (Art 13, used at publication) -----------------------------------------------


def commitment_holds(attempt: DrawAttempt) -> bool:
    """Whether the sealed result is the one committed to at the ceremony."""
    task_id = attempt.task_id
    nonce_hex = open_json(task_id, "nonce", attempt.id, attempt.nonce_sealed)
    result = open_json(task_id, "result", attempt.id, attempt.result_sealed)
    return result_commitment(nonce_hex, result) == attempt.result_commitment


def _attempt_record(task: Task, attempt: DrawAttempt) -> alg.AttemptRecord:
    """One attempt as far as it got, decrypted on the server for the bundle (nothing shown here)."""
    pools = open_json(task.id, "pools", attempt.id, attempt.pools_sealed)
    strata = [alg.Stratum(s["name"], s["pool"], s["ratio"], s["count"]) for s in pools["strata"]]
    nonce = bytes.fromhex(open_json(task.id, "nonce", attempt.id, attempt.nonce_sealed)) if attempt.nonce_sealed else None
    witnesses = [alg.WitnessEntry(w.name, w.affiliation, w.digits) for w in attempt.witnesses]
    selection = teams = seed = None
    replacements: list[alg.Replacement] = []
    if attempt.result_sealed is not None:
        result = open_json(task.id, "result", attempt.id, attempt.result_sealed)
        seed = result["seed"]
        by_name = {s.name: s for s in strata}
        selection = [
            alg.StratumResult(
                by_name[r["name"]],
                r["sample_size"],
                tuple(alg.Selected(x["id"], x["ticket"]) for x in r["selected"]),
                tuple(alg.Skipped(x["id"], x["ticket"], x["by_task"]) for x in r.get("skipped", [])),
            )
            for r in result["strata"]
        ]
        teams = [alg.Team(t["target"], tuple(t["inspectors"])) for t in result["teams"]]
        replacements = [
            _replacement(open_json(task.id, "replacement", r.record_id, r.sealed)) for r in _recusals(attempt)
        ]
    elif attempt.entropy is not None and nonce is not None:
        # The draw ran and stopped before sealing (e.g. a team could not be
        # filled): the targets it drew follow from the sealed pools, E and the seed.
        excluded = (
            open_json(task.id, "exclusion", attempt.id, attempt.exclusion_sealed) if attempt.exclusion_sealed else {}
        )
        seed = alg.make_seed(nonce.hex(), attempt.entropy)
        selection = list(alg.draw_targets(strata, seed, excluded))
    return alg.AttemptRecord(
        number=attempt.number,
        strata=strata,
        inspectors=pools["inspectors"],
        team_size=pools["team_size"],
        cap=pools["cap"],
        conflicts=pools["conflicts"],
        nonce=nonce,
        witnesses=witnesses,
        entropy=attempt.entropy,
        seed=seed,
        selection=selection,
        teams=teams,
        replacements=replacements,
        void_reason=attempt.void_reason if attempt.state == "void" else None,
        approved_by=(attempt.void_approved_by.display_name if attempt.void_approved_by else None),
    )


def _bundle_v1(task: Task, rec: alg.AttemptRecord) -> dict:
    """A draw sealed under ssj-draw-v1 before the upgrade is published in the format it was drawn in."""
    assert rec.nonce is not None and rec.entropy is not None and rec.seed is not None
    assert rec.selection is not None and rec.teams is not None
    return alg.build_bundle_v1(
        task=task.id,
        attempt=rec.number,
        nonce=rec.nonce,
        entropy=rec.entropy,
        result=alg.DrawResult(rec.seed, tuple(rec.selection), tuple(rec.teams)),
        inspectors=rec.inspectors,
        team_size=rec.team_size,
        cap=rec.cap,
        conflicts=rec.conflicts,
        replacements=rec.replacements,
    )


def bundle_for(task: Task) -> dict:
    """The ssj-draw-v2 verification bundle: the sealed attempt, its recusals, every void attempt (SPEC §3).

    It reveals the nonces, every selected id and every Art 16 skip:
    publication calls it once the supervisor has approved (Art 13), and
    the release rule (publication.service) withholds it while a task named
    in a `skipped[].by_task` is unpublished.
    """
    attempt = sealed_attempt(task)
    if attempt is None:
        raise CeremonyError("本任务还没有已封存的抽取结果，无法生成核验包。")
    _hold_data_key(task.id)
    final = _attempt_record(task, attempt)
    if final.seed is not None and final.seed.startswith(alg.FORMAT_V1 + "|"):
        return _bundle_v1(task, final)
    earlier = [a for a in attempts_of(task) if a.number < attempt.number]
    return alg.build_bundle(
        task=task.id,
        final=final,
        void=[_attempt_record(task, a) for a in earlier],
    )


# --- where the ceremony stands, for the pages -----------------------------------------------


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    purpose: str  # one sentence: what it is for and which article asks for it


STEPS = (
    Step(1, "冻结名单", "锁定本次可抽取的检查对象和执法检查人员，公示每份名单的数量和 SHA-256 摘要，此后名录的变动不影响本次抽取（细则第五条、第六条、第十六条）。"),
    Step(2, "公示随机数承诺", "系统生成保密的服务器随机数，先公示并打印它的 SHA-256 承诺值，再由见证人掷骰，这样谁都无法在看到骰子点数后改变随机数（细则第五条、第九条）。"),
    Step(3, "见证人掷骰", "见证人当场掷骰，由本人录入点数（本人登录后录入，或在本页输入本人密码确认），合计至少 20 位；组织人不能代录，也不能当见证人；至少一名见证人来自组织科室以外，使结果不由组织者一方决定（细则第五条、第六条、第九条）。"),
    Step(4, "抽取并封存", "系统按公开算法 ssj-draw-v2 抽取检查对象和检查组（近期已被其他任务抽中检查的对象在加密的抽取步骤中跳过，细则第十六条），结果立即加密封存，公开前只有组织人、科室负责人、局领导和被分配的检查人员能看到（细则第五条、第六条、第十二条）。"),
    Step(5, "打印抽取记录", "打印抽取记录，由组织人和见证人签字存档；记录上有全部公开信息和对结果的哈希承诺，但没有被抽中单位的名称（细则第九条、第十二条）。"),
)


def current_step(attempt: Optional[DrawAttempt]) -> int:
    """1–5: the step the ceremony is waiting for (5 once sealed)."""
    if attempt is None or attempt.state == "void":
        return 1
    if attempt.state == "frozen":
        return 2
    if attempt.state == "committed":
        if attempt.entropy is not None or not entropy_problems(attempt):
            return 4
        return 3
    return 5
