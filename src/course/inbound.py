"""The exchange's inbound entries that `course hub grade` may collect.

nbgrader names a submission `inbound/<student>+<assignment>+<timestamp>+<random>` and only warns
when its owner is not that student, so a classmate (or a sandbox that reached the exchange) could
forge one that a collect with update puts in place of the victim's. nbgrader's collect, run as
root, also follows links (shutil.copytree): a link in an entry would have root copy whatever it
points to (solutions/, another home), and a FIFO would hang it. So before collecting, every entry
of the assignment is screened, and the ones its student did not submit are set aside.
"""
from __future__ import annotations

import os
import pwd
import shutil
import stat
from pathlib import Path

from course.notebook import printable
from course.roster import ID

_INBOUND_FILES = 10_000  # an entry with more files than this is not a submission


def screen_inbound(inbound: Path, assignment: str, quarantine: Path) -> list[str]:
    """Before nbgrader collects (as root, following links), set aside every inbound entry of
    `assignment` that its named student did not submit: nbgrader names entries
    `<student>+<assignment>+<timestamp>+<random>` and only warns when the owner differs, so a
    classmate (or a sandbox that reached the exchange) could forge one, and a link inside one
    would have root copy the file it points to (solutions/, another home). Kept: a real folder
    owned by the student's system user, holding only folders and regular files of theirs.
    The others move to `quarantine` (private); returns one line per entry, names escaped."""
    refused = []
    for entry in sorted(inbound.iterdir()) if inbound.is_dir() else []:
        fields = entry.name.split("+")
        if len(fields) < 4 or fields[1] != assignment:
            continue
        problem = _inbound_problem(entry, fields[0])
        if problem is None:
            continue
        quarantine.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.move(str(entry), str(quarantine / entry.name))
        refused.append(f"{printable(entry.name)}: {problem}; moved to {quarantine}")
    return refused


def _inbound_problem(entry: Path, student: str) -> str | None:
    if not ID.match(student):
        return f"{printable(repr(student))} is not a student id"
    try:
        uid = pwd.getpwnam(student).pw_uid
    except KeyError:
        return f"no system user {student}"
    info = os.lstat(entry)
    if not stat.S_ISDIR(info.st_mode):
        return "not a folder"
    if info.st_uid != uid:
        return f"owned by uid {info.st_uid}, not by {student} (uid {uid})"
    count = 0
    for root, dirs, files in os.walk(entry):
        for name in dirs + files:
            count += 1
            path = os.path.join(root, name)
            inner = os.lstat(path)
            shown = printable(os.path.relpath(path, entry))
            if not (stat.S_ISDIR(inner.st_mode) or stat.S_ISREG(inner.st_mode)):
                return f"{shown} is not a regular file (a link, a pipe or a device)"
            if inner.st_uid != uid:
                return f"{shown} is owned by uid {inner.st_uid}, not by {student}"
        if count > _INBOUND_FILES:
            return f"more than {_INBOUND_FILES} files"
    return None
