"""Validation of what people type during the ceremony: witnesses' dice and identity, reasons (Art 5, 9).

A rejected form comes back with every value as typed and a Chinese
message beside the field to fix (bad input loses nothing). No Flask here:
the routes hand in `request.form`, the service receives `values()`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

NAME_LIMIT = 64  # a username
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
class DigitsForm:
    """A witness's own dice digits, typed in their own session."""

    digits: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, form) -> "DigitsForm":
        return cls(digits=form.get("digits", "").strip())

    def validate(self, digits_so_far: int) -> bool:
        self.errors = {}
        digits = digits_of(self.digits)
        if not digits:
            self.errors["digits"] = "请录入您掷骰得到的数字，例如“3 5 1 6 2 4”（空格可有可无）。"
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

    @property
    def clean(self) -> str:
        return digits_of(self.digits)


@dataclass
class WitnessForm(DigitsForm):
    """A witness at the ceremony screen: their own username and password, then their digits.

    The password is never echoed back into a re-shown form.
    """

    username: str = ""
    password: str = ""

    @classmethod
    def from_request(cls, form) -> "WitnessForm":
        return cls(
            digits=form.get("digits", "").strip(),
            username=_text(form, "username"),
            password=form.get("password", ""),
        )

    def validate(self, digits_so_far: int) -> bool:
        super().validate(digits_so_far)
        if not self.username:
            self.errors["username"] = "请见证人本人输入自己的用户名。"
        elif len(self.username) > NAME_LIMIT:
            self.errors["username"] = f"用户名最多 {NAME_LIMIT} 个字符。"
        if not self.password:
            self.errors["password"] = "请见证人本人输入自己的登录密码，以确认是本人录入。"
        return not self.errors


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
