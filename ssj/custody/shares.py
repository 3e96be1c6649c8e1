"""k-of-n shares of the custody key, written for paper (SPEC §4: no one person opens the sealed data).

The secret sharing is pycryptodome's `Crypto.Protocol.SecretSharing.Shamir`
(GF(2^128), the most widely used and maintained Python crypto library that
has it) rather than our own field arithmetic. It shares 16-byte secrets, so
the 32-byte custody key is shared as two halves with the same share
indices; a custodian's share is the two halves side by side (32 bytes).

On paper a share is 8 lines of 8 hex digits. Each line carries a 4-character
check code over the share set, the share number, the line number and the
digits, so a mistyped line is named at once ("第 3 行"), and a line typed
under the wrong share number or from another set never passes. No Flask here.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from Crypto.Protocol.SecretSharing import Shamir

SECRET_BYTES = 32
SHARE_BYTES = 32
LINES = 8
DIGITS_PER_LINE = 8
# Crockford's base-32 alphabet: no I, L, O, U, so a handwritten code reads one way.
CHECK_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_SHARES = 16


class ShareError(ValueError):
    """A share as typed cannot be used; the message (Chinese) says which line and what to do."""


@dataclass(frozen=True)
class Share:
    set_id: str
    index: int  # 1..n
    data: bytes  # SHARE_BYTES


def split(secret: bytes, threshold: int, count: int, set_id: str) -> list[Share]:
    if len(secret) != SECRET_BYTES:
        raise ValueError("custody key must be 32 bytes")
    if not (2 <= threshold <= count <= MAX_SHARES):
        raise ValueError("need 2 <= threshold <= shares <= 16")
    low = Shamir.split(threshold, count, secret[:16])
    high = Shamir.split(threshold, count, secret[16:])
    return [Share(set_id, i, a + b) for (i, a), (j, b) in zip(low, high) if i == j]


def combine(shares: list[Share]) -> bytes:
    """The secret from `threshold` distinct shares (fewer give a wrong value: check it afterwards)."""
    low = Shamir.combine([(s.index, s.data[:16]) for s in shares])
    high = Shamir.combine([(s.index, s.data[16:]) for s in shares])
    return low + high


def commitment(share: Share) -> str:
    """Stored beside the set, so a well-typed but wrong share is refused on entry, not after K."""
    return hashlib.sha256(f"ssj/custody-share/v1|{share.set_id}|{share.index}|".encode() + share.data).hexdigest()


def check_code(set_id: str, index: int, line_no: int, digits: str) -> str:
    digest = hashlib.sha256(f"ssj/share-line/v1|{set_id}|{index}|{line_no}|{digits.lower()}".encode()).digest()
    value = int.from_bytes(digest[:4], "big")
    return "".join(CHECK_ALPHABET[(value >> (5 * k)) & 31] for k in range(3, -1, -1))


def sheet_lines(share: Share) -> list[tuple[int, str, str]]:
    """(line number, digits grouped in fours, check code) for printing."""
    hexed = share.data.hex()
    out = []
    for n in range(LINES):
        digits = hexed[n * DIGITS_PER_LINE:(n + 1) * DIGITS_PER_LINE]
        out.append((n + 1, f"{digits[:4]} {digits[4:]}", check_code(share.set_id, share.index, n + 1, digits)))
    return out


_LINE = re.compile(r"^\s*(\d{1,2})\s*[:：.、]?\s*((?:[0-9a-fA-F]\s*){8})\s*[-—·/|]?\s*([0-9A-Za-z]{4})\s*$")


def parse(set_id: str, index: int, text: str) -> Share:
    """A share from the 8 lines as typed ("3: 91bc 0d4e  K7Q2"); every line's code is checked."""
    rows = [line for line in text.replace("\r", "").split("\n") if line.strip()]
    if len(rows) != LINES:
        raise ShareError(f"份额应有 {LINES} 行，收到 {len(rows)} 行。请按份额单逐行输入：行号、8 位数字字母、4 位校验码。")
    digits_by_line: dict[int, str] = {}
    for row in rows:
        m = _LINE.match(row)
        if m is None:
            raise ShareError(f"这一行的格式不对：“{row.strip()[:40]}”。每行应为：行号、8 位十六进制数字（0-9、a-f）、4 位校验码。")
        line_no, digits, code = int(m.group(1)), re.sub(r"\s", "", m.group(2)).lower(), m.group(3).upper()
        if not 1 <= line_no <= LINES or line_no in digits_by_line:
            raise ShareError(f"行号 {line_no} 不对或重复：行号应为 1 到 {LINES}，各出现一次。")
        code = code.replace("O", "0").replace("I", "1").replace("L", "1")  # Crockford's read-alikes
        if not hmac.compare_digest(code, check_code(set_id, index, line_no, digits)):
            raise ShareError(f"第 {line_no} 行的校验码不符：请核对这一行的数字和校验码，并确认份额编号是 {index}。")
        digits_by_line[line_no] = digits
    return Share(set_id, index, bytes.fromhex("".join(digits_by_line[n] for n in range(1, LINES + 1))))
