"""The four importable directories of SPEC §2 (Art 4, 5, 6, 19), by the `kind` in their URLs."""
from .base import Column, Counts, Directory, Scope
from .conflicts import Conflicts
from .inspectors import Inspectors
from .matters import Matters
from .targets import Targets

KINDS: dict[str, type[Directory]] = {k.name: k for k in (Matters, Inspectors, Targets, Conflicts)}

__all__ = ["KINDS", "Column", "Counts", "Directory", "Scope"]
