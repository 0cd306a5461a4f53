"""Replacing a whole directory in one step: a reader, or a crash, sees the old tree or the new one."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from pathlib import Path

from course.paths import CourseError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def replace_dir(target: Path, staged: Path) -> None:
    """Move the complete tree `staged` (a sibling of `target`) to `target`; the old tree is removed."""
    if not target.exists():
        staged.rename(target)
        return
    # renameat2(RENAME_EXCHANGE) swaps two names atomically (Linux >= 3.15); `staged` then holds the old tree.
    if _libc.renameat2(_AT_FDCWD, os.fsencode(staged), _AT_FDCWD, os.fsencode(target), _RENAME_EXCHANGE) != 0:
        errno = ctypes.get_errno()
        raise CourseError(f"could not swap {staged} into {target}: {os.strerror(errno)}")
    shutil.rmtree(staged, ignore_errors=True)
