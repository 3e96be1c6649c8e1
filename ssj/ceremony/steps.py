"""Where the ceremony stands, for the pages (SPEC §3).

Part of the ceremony's service (see ceremony/service.py); split out of it along its sections (issue #15).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..models import DrawAttempt
from .witnesses import entropy_problems


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
