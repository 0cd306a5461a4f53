"""The exchange's inbound entries that may be collected, by `course hub grade` and by formgrader.

nbgrader names a submission `inbound/<student>+<assignment>+<timestamp>+<random>` and only warns
when its owner is not that student, so a classmate (or a sandbox that reached the exchange) could
forge one that a collect with update puts in place of the victim's. Its collect also follows
links (shutil.copytree), as root or as the grader account: a link in an entry would have it copy
whatever it points to (solutions/, the gradebook, another home), a FIFO would hang it, and an
entry name whose timestamp does not parse stops the whole collect. So every entry of the
assignment is screened first: kept only when it is a real folder owned by the system user of
the student it names, holding only folders and regular files of theirs.

Standard library only: `course hub` copies this file next to formgrader's configuration, whose
Python may not reach the platform's package (a repository under /root).
"""
from __future__ import annotations

import datetime
import os
import pwd
import re
import shutil
import stat
from pathlib import Path

# nbgrader's timestamps ("2026-11-20 10:00:00.123456 UTC"), in entry names and timestamp.txt
NBGRADER_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?( ?([A-Za-z]{1,6}|[+-]\d{2}:?\d{2}))?$")
_FILES = 10_000  # an entry with more files than this is not a submission


def is_timestamp(text: str) -> bool:
    """A plain nbgrader timestamp of a real date (no month 13)."""
    if not NBGRADER_TIMESTAMP.match(text):
        return False
    try:
        datetime.datetime.fromisoformat(text[:10] + " " + text[11:19])
    except ValueError:
        return False
    return True


def _shown(text: str) -> str:
    """A name a student chose, with control characters escaped (course.notebook.printable)."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in str(text))[:300]


def _student_id_rule():
    from course.hub.roster import ID

    return ID


def problem(entry: Path, assignment: str, id_rule=None) -> str | None:
    """Why this inbound entry must not be collected, or None. Names are split as nbgrader does."""
    id_rule = id_rule or _student_id_rule()
    fields = entry.name.rsplit("+", 3)
    if len(fields) != 4 or fields[1] != assignment:
        return "not named <student>+<assignment>+<timestamp>+<random>"
    student, timestamp = fields[0], fields[2]
    if not id_rule.match(student):
        return f"{_shown(repr(student))} is not a student id"
    if not is_timestamp(timestamp):
        return f"{_shown(repr(timestamp))} is not an nbgrader timestamp"
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
            shown = _shown(os.path.relpath(path, entry))
            if not (stat.S_ISDIR(inner.st_mode) or stat.S_ISREG(inner.st_mode)):
                return f"{shown} is not a regular file (a link, a pipe or a device)"
            if inner.st_uid != uid:
                return f"{shown} is owned by uid {inner.st_uid}, not by {student}"
        if count > _FILES:
            return f"more than {_FILES} files"
    return None


# nbgrader's submit takes a moment between writing timestamp.txt and its last file.
RECEIVED_SLACK = datetime.timedelta(minutes=2)


def received_at(entry: Path) -> datetime.datetime:
    """When the exchange last received anything of this entry: the newest change time (ctime) of
    the entry and everything in it. The kernel sets a ctime on every change and no user can set
    one back (unlike mtimes, the entry's name and timestamp.txt, which the student's own clock or
    hand writes), so this is the trusted bound on when the submission was made."""
    newest = os.lstat(entry).st_ctime
    for root, dirs, files in os.walk(entry):
        for name in dirs + files:
            newest = max(newest, os.lstat(os.path.join(root, name)).st_ctime)
    return datetime.datetime.fromtimestamp(newest, datetime.timezone.utc)


def _claimed(text: str) -> datetime.datetime | None:
    text = text.strip()
    if not is_timestamp(text) or not (text.endswith("UTC") or text[19:].strip(" .0123456789") == ""):
        return None
    return datetime.datetime.fromisoformat(text[:10] + " " + text[11:19]).replace(tzinfo=datetime.timezone.utc)


def trust_timestamp(entry: Path, copy: Path) -> str | None:
    """After `entry` was copied to `copy` (submitted/<student>/<assignment>): a timestamp.txt that
    claims a time before the exchange received the entry (less the slack of nbgrader's own copy)
    is replaced by the time it was received, so a backdated submission cannot dodge the late
    policy. Returns a line saying so, or None when the claim holds."""
    stamp = copy / "timestamp.txt"
    try:
        claimed = _claimed(stamp.read_text(encoding="utf-8", errors="replace")[:100])
    except OSError:
        claimed = None
    received = received_at(entry)
    if claimed is not None and claimed >= received - RECEIVED_SLACK:
        return None
    stamp.write_text(received.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    return (f"{_shown(entry.name)}: timestamp.txt claimed {claimed.isoformat() if claimed else 'no valid time'}, "
            f"but the exchange received it at {received.isoformat()}; that time is recorded")


def _candidates(inbound: Path, assignment: str) -> list[Path]:
    """The entries nbgrader's collect considers (its glob `*+<assignment>+*`)."""
    if not inbound.is_dir():
        return []
    return sorted(p for p in inbound.iterdir() if f"+{assignment}+" in p.name)


def screen_inbound(inbound: Path, assignment: str, quarantine: Path, id_rule=None) -> list[str]:
    """Move every entry of `assignment` that its student did not submit to `quarantine`
    (private); returns one line per entry moved, names escaped."""
    refused = []
    for entry in _candidates(inbound, assignment):
        why = problem(entry, assignment, id_rule)
        if why is None:
            continue
        quarantine.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.move(str(entry), str(quarantine / entry.name))
        refused.append(f"{_shown(entry.name)}: {why}; moved to {quarantine}")
    return refused


_COPY_BYTES = 1 << 30   # an entry larger than this is not a submission


class Changed(OSError):
    """An entry changed between its screening and its copy (or holds what screening refuses)."""


def copy_entry(entry: Path, dest: Path, uid: int) -> None:
    """Copy a screened entry to `dest` (a new folder) without following anything: every folder
    and file is opened relative to its parent's open folder with O_NOFOLLOW, and what was opened
    is checked (a folder, or a regular file with one link; owned by `uid`) before it is read. A
    student who swaps a link in after the screening (the collect used to follow it, as root:
    the solution graded as theirs, /etc/shadow in their submission) gets Changed, and nothing of
    the entry is kept."""
    folder_flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    file_flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    budget = {"files": _FILES, "bytes": _COPY_BYTES}

    def opened(fd: int, shown: str, folder: bool) -> None:
        info = os.fstat(fd)
        kind_ok = stat.S_ISDIR(info.st_mode) if folder else (stat.S_ISREG(info.st_mode) and info.st_nlink == 1)
        if not kind_ok or info.st_uid != uid:
            raise Changed(f"{shown} is not a {'folder' if folder else 'regular file'} of the student's "
                          f"(it changed after it was screened)")

    def copy_folder(fd: int, target: Path, shown: str) -> None:
        target.mkdir(mode=0o700)
        for name in sorted(os.listdir(fd)):
            budget["files"] -= 1
            if budget["files"] < 0:
                raise Changed(f"more than {_FILES} files")
            inner = f"{shown}/{_shown(name)}"
            try:
                is_folder = stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)
                child = os.open(name, folder_flags if is_folder else file_flags, dir_fd=fd)
            except OSError as exc:
                raise Changed(f"{inner} cannot be opened without following a link ({exc.strerror})") from None
            try:
                opened(child, inner, is_folder)
                if is_folder:
                    copy_folder(child, target / name, inner)
                    continue
                with open(target / name, "xb") as out:
                    os.fchmod(out.fileno(), 0o600)
                    while chunk := os.read(child, 1 << 20):
                        budget["bytes"] -= len(chunk)
                        if budget["bytes"] < 0:
                            raise Changed(f"more than {_COPY_BYTES >> 20} MiB")
                        out.write(chunk)
            finally:
                os.close(child)

    try:
        top = os.open(entry, folder_flags)
    except OSError as exc:
        raise Changed(f"{_shown(entry.name)} cannot be opened without following a link ({exc.strerror})") from None
    try:
        opened(top, _shown(entry.name), folder=True)
        copy_folder(top, Path(dest), _shown(entry.name))
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    finally:
        os.close(top)


def screened_collect(id_pattern: str):
    """nbgrader's ExchangeCollect that skips (and logs) every entry `problem` refuses: what
    formgrader's Collect button runs (`c.ExchangeFactory.collect`). The grader account cannot
    move entries, so they stay in inbound/, never collected."""
    from nbgrader.exchange.default.collect import ExchangeCollect

    id_rule = re.compile(id_pattern)

    class ScreenedCollect(ExchangeCollect):
        def _path_to_record(self, path):
            why = problem(Path(path), self.coursedir.assignment_id, id_rule)
            if why is not None:
                self.log.warning("not collected: %s: %s", _shown(os.path.basename(path)), why)
                return {"username": None, "filename": os.path.basename(path), "timestamp": datetime.datetime.min}
            return super()._path_to_record(path)

        def init_src(self):
            super().init_src()
            self.src_records = [r for r in self.src_records if r["username"] is not None]

        def do_copy(self, src, dest):
            # nbgrader's copy (shutil.copytree) follows links, as root or the grader account: it
            # copies from a private snapshot taken without following anything, never from the
            # entry, which its student can still change; one entry that cannot be copied is
            # skipped with its reason, and the collect goes on with the others.
            entry = Path(src)
            student = entry.name.rsplit("+", 3)[0]
            snapshot = Path(f"{dest}.snapshot")
            try:
                shutil.rmtree(snapshot, ignore_errors=True)
                copy_entry(entry, snapshot, pwd.getpwnam(student).pw_uid)
                super().do_copy(str(snapshot), dest)
            except (OSError, KeyError, RuntimeError) as exc:
                shutil.rmtree(dest, ignore_errors=True)
                self.log.warning("not collected: %s: %s", _shown(entry.name), _shown(str(exc)))
                return
            finally:
                shutil.rmtree(snapshot, ignore_errors=True)
            corrected = trust_timestamp(entry, Path(dest))
            if corrected:
                self.log.warning("%s", corrected)

    return ScreenedCollect
