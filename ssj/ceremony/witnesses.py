"""Steps 2 and 3 of the draw ceremony: commit to the nonce, then the witnesses' dice (SPEC §3; Art 5, 6, 9).

Part of the ceremony's service (see ceremony/service.py); split out of it along its sections (issue #15).
"""
from __future__ import annotations

from typing import Optional

from .. import audit
from ..auth.service import authenticate
from ..draws import algorithm as alg
from ..extensions import db
from ..models import DrawAttempt, DrawWitness, User
from ..sealing.service import seal_json
from . import policy
from .attempts import CeremonyError, _claim, _now, _ref, _refuse_if_pending


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
