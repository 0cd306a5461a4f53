"""The course roster: who may log in to the hub, as what.

`course roster add roster.csv` reads rows `id,name,email,role` (role: student, instructor or
ta), checks every row before changing anything, then creates a system user with a private home
for each new member (LocalProcessSpawner runs each person's server as that user, so one student
cannot read another's files) and records the roster in the hub's state directory. If the hub is
running, the new members and their groups are added through its REST API at once; otherwise the
hub reads the roster when it starts. A failure part-way removes the system users this call
created and leaves the recorded roster as it was.

Every member without a password yet gets a one-time enrolment code (course.hub.enrolment): its
hash is their hub password, the code goes to <state>/enrolment-codes.csv (root's alone) for the
instructor to hand out. Members who have a password keep it; `reset_code` replaces a lost one.
"""
from __future__ import annotations

import csv
import io
import json
import os
import pwd
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from course.hub import enrolment
from course.paths import CourseError

ROLES = ("student", "instructor", "ta")
# A POSIX login name that is also a valid nbgrader student id (no '+', '*', '/', spaces).
ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+$")
COLUMNS = ("id", "name", "email", "role")
# System accounts below this uid are never taken over by a roster row.
FIRST_REGULAR_UID = 1000


class RosterError(CourseError):
    """A roster file that cannot be applied; the message names each bad line."""


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    email: str
    role: str

    @property
    def grades(self) -> bool:
        """Instructors and TAs reach formgrader; students do not."""
        return self.role in ("instructor", "ta")


def parse(path: Path, reserved: set[str] = frozenset()) -> list[Member]:
    """Every row of a roster CSV, or RosterError listing every bad line (nothing is applied)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"{path}: cannot read the roster ({exc})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))  # a quoted newline stays in its field
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RosterError(f"{path} line 1: the header must name the columns {', '.join(COLUMNS)}; "
                          f"missing {', '.join(missing)}")
    reader.fieldnames = header
    members: list[Member] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        values = {k: (row.get(k) or "").strip() for k in COLUMNS}
        if not any(values.values()):
            continue
        member_id, role = values["id"], values["role"].lower()
        where = f"{path} line {line}"
        if not ID.match(member_id):
            problems.append(f"{where}: bad id {member_id!r} (lower-case letters, digits, '-' and '_', "
                            f"starting with a letter, at most 32 characters)")
        elif member_id in reserved:
            problems.append(f"{where}: id {member_id!r} is reserved for the platform")
        elif member_id in seen:
            problems.append(f"{where}: id {member_id!r} repeats line {seen[member_id]}")
        else:
            problems.extend(f"{where}: {p}" for p in _system_account_problems(member_id))
        if role not in ROLES:
            problems.append(f"{where}: bad role {values['role']!r} (one of {', '.join(ROLES)})")
        if values["email"] and not EMAIL.match(values["email"]):
            problems.append(f"{where}: bad email {values['email']!r}")
        if any(c in values["name"] for c in ":\n"):
            problems.append(f"{where}: the name may not contain ':'")
        seen.setdefault(member_id, line)
        members.append(Member(member_id, values["name"], values["email"], role))
    if problems:
        raise RosterError("the roster was not applied:\n  " + "\n  ".join(problems))
    if not members:
        raise RosterError(f"{path}: no rows")
    return members


def _system_account_problems(member_id: str) -> list[str]:
    try:
        entry = pwd.getpwnam(member_id)
    except KeyError:
        return []
    if entry.pw_uid < FIRST_REGULAR_UID:
        return [f"id {member_id!r} is a system account (uid {entry.pw_uid})"]
    return []


# ---------------------------------------------------------------------------------------------
# the recorded roster (state/roster.json)

def roster_file(state: Path) -> Path:
    return Path(state) / "roster.json"


def load(state: Path) -> dict[str, Member]:
    path = roster_file(state)
    if not path.exists():
        return {}
    return {m["id"]: Member(**m) for m in json.loads(path.read_text())["members"]}


def save(state: Path, members: dict[str, Member]) -> None:
    path = roster_file(state)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"members": [asdict(m) for m in members.values()]}, indent=1) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# system users

def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def create_system_user(name: str, home_base: Path, comment: str = "") -> None:
    """A login-less system user with a private home (0700) under home_base."""
    home = Path(home_base) / name
    cmd = ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash",
           "--user-group", "--comment", comment.replace(":", " ")[:60], name]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RosterError(f"useradd {name} failed: {done.stderr.strip() or done.returncode}")
    os.chmod(home, 0o700)


def remove_system_user(name: str, keep_home: bool = False) -> None:
    """Delete a user created by the platform, with its home and mail spool (unless keep_home)."""
    subprocess.run(["userdel", *([] if keep_home else ["--remove"]), name], capture_output=True)
    subprocess.run(["groupdel", name], capture_output=True)


# System users this platform created (`course roster add`, the grader account): the only ones
# `course roster remove` and `course hub teardown` ever delete. An account that existed before
# (an instructor's own login, say) is used as it is and never removed.
def created_file(state: Path) -> Path:
    return Path(state) / "created_users.json"


def created_users(state: Path) -> set[str]:
    path = created_file(state)
    return set(json.loads(path.read_text())) if path.exists() else set()


def record_created(state: Path, names, *, add: bool = True) -> None:
    names = set(names)
    current = created_users(state)
    current = current | names if add else current - names
    path = created_file(state)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(sorted(current)) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def remove(state: Path, ids: list[str], *, delete_homes: bool) -> tuple[list[Member], list[str]]:
    """Take members off the roster (they can no longer log in) and delete the system users the
    platform created for them; homes are kept unless delete_homes. Returns (removed, deleted
    system users). Unknown ids: RosterError naming them, nothing changed."""
    require_root("course roster remove")
    recorded = load(state)
    unknown = [i for i in ids if i not in recorded]
    if unknown:
        raise RosterError(f"not on the roster in {roster_file(state)}: {', '.join(unknown)}")
    removed = [recorded.pop(i) for i in ids]
    save(state, recorded)
    enrolment.withdraw(state, ids)      # their password and enrolment code go with them
    ours = created_users(state)
    deleted = [m.id for m in removed if m.id in ours and user_exists(m.id)]
    for name in deleted:
        remove_system_user(name, keep_home=not delete_homes)
    record_created(state, deleted, add=False)
    return removed, deleted


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise CourseError(f"{what} creates system users and runs servers as them: run it as root "
                          f"(for example `sudo make hub`)")


def add(state: Path, csv_path: Path, home_base: Path, reserved: set[str] = frozenset(),
        on_applied=None, issued: dict[str, str] | None = None) -> list[Member]:
    """Apply a roster file: all rows or none. Returns the members it added or updated; the
    enrolment codes it issued (members with no password yet) are put in `issued` ({id: code}).

    on_applied(members, all_members) runs after the roster is recorded and the codes issued (hub
    sync); its failure does not undo the roster (the hub reads it again when it starts).
    """
    require_root("course roster add")
    rows = parse(csv_path, reserved)
    recorded = load(state)
    created: list[str] = []
    try:
        for member in rows:
            if not user_exists(member.id):
                create_system_user(member.id, home_base, member.name)
                created.append(member.id)
        merged = dict(recorded)
        for member in rows:
            merged[member.id] = member
        save(state, merged)
        record_created(state, created)
    except BaseException:
        for name in created:
            remove_system_user(name)
        raise
    # after the roster is recorded: a failure here leaves members without a password, and the
    # next `course roster add` of the same file issues their codes
    codes = enrolment.issue(state, rows)
    if issued is not None:
        issued.update(codes)
    if on_applied:
        on_applied(rows, merged)
    return rows


def reset_code(state: Path, member_id: str) -> str:
    """A new enrolment code for a member who lost theirs: it replaces their password (the old
    one no longer logs in) and their row in the codes file. Returns the code."""
    require_root("course roster reset-code")
    member = load(state).get(member_id)
    if member is None:
        raise RosterError(f"not on the roster in {roster_file(state)}: {member_id}")
    return enrolment.issue(state, [member], replace=True)[member_id]
