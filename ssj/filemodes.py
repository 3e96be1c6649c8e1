"""Files the service account alone may read (SPEC §4 "Files": 0700 directories, 0600 files).

The database, its WAL, the keys, evidence uploads, export files and
backups are all written by this process; a copy of any of them by another
local user must not be possible. Two parts:

- `restrict_process()` sets the umask to 0o077 when the app is created, so
  every file and directory the process creates afterwards — SQLite's own
  files, an export, an evidence file, a temp file, a backup — is born
  0600/0700 whichever code (ours, SQLite, a library) creates it.
- `secure_tree()` tightens what already exists, run by `flask init` over the
  instance directory and the key directory: an instance made before this
  change, or unpacked from an archive with 0644 files, is put right.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def restrict_process() -> None:
    os.umask(UMASK)


def secure_tree(root: Path) -> list[Path]:
    """chmod `root` and everything under it to 0700/0600; returns what was changed (symlinks left alone)."""
    changed: list[Path] = []
    if not root.exists():
        return changed

    def fix(path: Path, mode: int) -> None:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            return
        if stat.S_IMODE(st.st_mode) != mode:
            os.chmod(path, mode)
            changed.append(path)

    fix(root, DIR_MODE if root.is_dir() else FILE_MODE)
    if root.is_dir():
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames:
                fix(Path(dirpath) / name, DIR_MODE)
            for name in filenames:
                fix(Path(dirpath) / name, FILE_MODE)
    return changed
