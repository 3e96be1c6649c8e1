"""Step 1 of the draw ceremony: freeze the pools (SPEC §3; Art 5, 6, 16).

Part of the ceremony's service (see ceremony/service.py); split out of it along its sections (issue #15).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..draws import algorithm as alg
from ..extensions import db
from ..models import Conflict, DrawAttempt, InspectionRecord, Inspector, Target, Task, User
from .. import clock
from ..plans.service import eligible_pools
from ..sealing.service import open_json, seal_json
from .attempts import CeremonyError, _now, _ref, canonical_json, current_attempt


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
