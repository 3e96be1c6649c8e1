"""Validation of what people type during the ceremony: witnesses' dice, reasons (Art 5, 9).

A rejected form comes back with every value as typed and a Chinese
message beside the field to fix (bad input loses nothing). No Flask here:
the routes hand in `request.form`, the service receives `values()`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

NAME_LIMIT = 64
AFFILIATION_LIMIT = 100
DIGITS_LIMIT = 100  # per witness; DrawWitness.digits
ENTROPY_LIMIT = 255  # all witnesses together; DrawAttempt.entropy
REASON_LIMIT = 2000


def _text(form, name: str) -> str:
    return form.get(name, "").strip()


def digits_of(raw: str) -> str:
    # Whitespace of any kind goes, as in algorithm.normalize_entropy: people
    # type dice in groups, and Chinese input methods type a full-width space.
    return "".join(raw.split())


@dataclass
class WitnessForm:
    """One witness: who they are, whether they come from outside the section, and their dice."""

    name: str = ""
    affiliation: str = ""
    external: bool = False
    digits: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, form) -> "WitnessForm":
        return cls(
            name=_text(form, "name"),
            affiliation=_text(form, "affiliation"),
            external=form.get("external") == "on",
            digits=form.get("digits", "").strip(),
        )

    def validate(self, section_name: str, digits_so_far: int) -> bool:
        self.errors = {}
        if not self.name:
            self.errors["name"] = "请填写见证人姓名。"
        elif len(self.name) > NAME_LIMIT:
            self.errors["name"] = f"姓名最多 {NAME_LIMIT} 个字。"
        if not self.affiliation:
            self.errors["affiliation"] = "请填写见证人的单位或科室，例如“纪检监察室”或“县司法局”。"
        elif len(self.affiliation) > AFFILIATION_LIMIT:
            self.errors["affiliation"] = f"单位或科室最多 {AFFILIATION_LIMIT} 个字。"
        elif self.external and section_name and section_name in self.affiliation:
            self.errors["affiliation"] = (
                f"所填单位“{self.affiliation}”是本任务的组织科室，不能算作本科室以外的见证人："
                "请取消勾选“来自本科室以外”，或改填见证人的实际单位。"
            )
        digits = digits_of(self.digits)
        if not digits:
            self.errors["digits"] = "请录入该见证人掷骰得到的数字，例如“3 5 1 6 2 4”（空格可有可无）。"
        else:
            bad = sorted({ch for ch in digits if ch not in "0123456789"})
            if bad:
                self.errors["digits"] = (
                    "只能录入半角数字 0–9（空格会被忽略），请删除：" + "、".join(f"“{ch}”" for ch in bad) + "。"
                )
            elif len(digits) > DIGITS_LIMIT:
                self.errors["digits"] = f"每位见证人最多录入 {DIGITS_LIMIT} 位数字，现在有 {len(digits)} 位。"
            elif digits_so_far + len(digits) > ENTROPY_LIMIT:
                self.errors["digits"] = (
                    f"所有见证人合计最多 {ENTROPY_LIMIT} 位数字，已录入 {digits_so_far} 位，"
                    f"本次最多还能录入 {ENTROPY_LIMIT - digits_so_far} 位。"
                )
        return not self.errors

    def values(self) -> dict:
        return {
            "name": self.name,
            "affiliation": self.affiliation,
            "external": self.external,
            "digits": digits_of(self.digits),
        }


@dataclass
class ReasonForm:
    """A written reason: for a redraw request, a supervisor's decision or a recusal."""

    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, form, name: str = "reason") -> "ReasonForm":
        return cls(reason=_text(form, name))

    def validate(self, missing: str) -> bool:
        self.errors = {}
        if not self.reason:
            self.errors["reason"] = missing
        elif len(self.reason) > REASON_LIMIT:
            self.errors["reason"] = f"最多 {REASON_LIMIT} 个字，现在有 {len(self.reason)} 个字。"
        return not self.errors
