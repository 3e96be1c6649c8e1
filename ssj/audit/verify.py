"""Placeholder: verifying the stored log; replaced by the audit work."""
from dataclasses import dataclass
from typing import Optional

from . import chain
from .service import keyring, stored_entries


@dataclass
class Report:
    ok: bool
    problem: Optional[chain.Problem]
    checked: int
    head: str

    def text(self) -> str:
        if self.ok:
            return f"OK: {self.checked} entries, head {self.head}"
        return f"BROKEN: {self.problem}"


def verify_log() -> Report:
    problem, checked, head = chain.verify_entries(stored_entries(), keyring().entry_mac_key)
    return Report(problem is None, problem, checked, head)
