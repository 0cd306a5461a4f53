"""The course schedule: `course.toml` at the course root names when each assignment opens, when
it is due, the late policy and per-student extensions.

    [course]
    language = "ko"                       # feedback language (ko, en)

    [late]                                # the default policy; an assignment may override it
    per_day = 0.10                        # share of the score lost per started day late
    max_days = 3                          # later than this: the score is 0

    [assignments.01_tensors]
    open = 2027-03-02T09:00:00+09:00      # released to students from then on
    due = 2027-03-09T23:59:00+09:00
    late = { per_day = 0.2, max_days = 1 }

    [extensions.01_tensors]
    kim01 = 2027-03-11T23:59:00+09:00     # this student's own due date

Dates must carry their UTC offset: a schedule read on a server in another time zone means the
same instants. An assignment the file does not name is open now and has no due date.
"""
from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from course.paths import CourseError

FILE = "course.toml"
LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "en"
_DAY = 86400.0
# `language` may also stand at the top level (feedback's language: course.judge.messages)
_TOP_KEYS = {"course", "language", "late", "assignments", "extensions"}
_ASSIGNMENT_KEYS = {"open", "due", "late"}


@dataclass(frozen=True)
class LatePolicy:
    per_day: float = 0.0     # share of the score lost per started day late
    max_days: int = 0        # later than this many days: the whole score is lost

    def penalty_share(self, seconds_late: float) -> float:
        """The share of the score lost for a submission `seconds_late` after its due date."""
        if seconds_late <= 0:
            return 0.0
        days = math.ceil(seconds_late / _DAY)
        if days > self.max_days:
            return 1.0
        return min(1.0, round(self.per_day * days, 6))


@dataclass(frozen=True)
class AssignmentSchedule:
    name: str
    open: dt.datetime | None = None
    due: dt.datetime | None = None
    late: LatePolicy = LatePolicy()
    extensions: dict[str, dt.datetime] = field(default_factory=dict)

    def is_open(self, now: dt.datetime) -> bool:
        return self.open is None or now >= self.open

    def due_for(self, student: str) -> dt.datetime | None:
        return self.extensions.get(student, self.due)

    def lateness(self, student: str, submitted: dt.datetime | None) -> dict | None:
        """What results.json and the gradebook record about lateness; None without a due date
        or a submission time."""
        due = self.due_for(student)
        if due is None or submitted is None:
            return None
        seconds = max(0.0, (submitted - due).total_seconds())
        return {"due": due.isoformat(), "submitted": submitted.isoformat(),
                "extension": student in self.extensions, "seconds_late": round(seconds, 3),
                "days_late": math.ceil(seconds / _DAY) if seconds else 0,
                "penalty_share": self.late.penalty_share(seconds)}


@dataclass(frozen=True)
class Schedule:
    language: str = DEFAULT_LANGUAGE
    assignments: dict[str, AssignmentSchedule] = field(default_factory=dict)

    def of(self, assignment: str) -> AssignmentSchedule:
        return self.assignments.get(assignment, AssignmentSchedule(assignment))

    def open_now(self, names: list[str], now: dt.datetime | None = None) -> list[str]:
        now = now or dt.datetime.now(dt.timezone.utc)
        return [name for name in names if self.of(name).is_open(now)]


def load(course_root: Path, known: list[str] | None = None) -> Schedule:
    """The course's schedule; an empty one when there is no course.toml. CourseError names the
    file and the key for anything wrong, and nothing half-read is used."""
    path = Path(course_root) / FILE
    if not path.exists():
        return Schedule()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CourseError(f"{path}: cannot read the course settings ({exc})") from None
    return parse(data, path, known)


def parse(data: dict, path: Path | str = FILE, known: list[str] | None = None) -> Schedule:
    problems: list[str] = []
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(f"unknown table [{key}] (known: {', '.join(sorted(_TOP_KEYS - {'language'}))})")
    course = data.get("course", {})
    language = data.get("language", course.get("language", DEFAULT_LANGUAGE))
    if language not in LANGUAGES:
        problems.append(f"language = {language!r}; known: {', '.join(LANGUAGES)}")
    default_late = _late(data.get("late", {}), "[late]", problems)
    assignments: dict[str, AssignmentSchedule] = {}
    for name, table in data.get("assignments", {}).items():
        where = f"[assignments.{name}]"
        if known is not None and name not in known:
            problems.append(f"{where}: no such assignment (known: {', '.join(known)})")
        if not isinstance(table, dict):
            problems.append(f"{where}: expected a table")
            continue
        for key in sorted(set(table) - _ASSIGNMENT_KEYS):
            problems.append(f"{where}: unknown key {key!r} (known: {', '.join(sorted(_ASSIGNMENT_KEYS))})")
        opens = _instant(table.get("open"), f"{where} open", problems)
        due = _instant(table.get("due"), f"{where} due", problems)
        if opens and due and due <= opens:
            problems.append(f"{where}: due ({due.isoformat()}) is not after open ({opens.isoformat()})")
        late = _late(table["late"], f"{where} late", problems) if "late" in table else default_late
        extensions = {}
        for student, when in data.get("extensions", {}).get(name, {}).items():
            moved = _instant(when, f"[extensions.{name}] {student}", problems)
            if moved and due and moved <= due:
                problems.append(f"[extensions.{name}] {student}: {moved.isoformat()} is not after the due date")
            if moved:
                extensions[student] = moved
        if extensions and due is None:
            problems.append(f"[extensions.{name}]: the assignment has no due date to extend")
        assignments[name] = AssignmentSchedule(name, opens, due, late, extensions)
    for name in sorted(set(data.get("extensions", {})) - set(assignments)):
        problems.append(f"[extensions.{name}]: no [assignments.{name}] with a due date")
    if problems:
        raise CourseError(f"{path}: " + "; ".join(problems))
    return Schedule(language, assignments)


def _instant(value, where: str, problems: list[str]) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        problems.append(f"{where}: expected a date and time such as 2027-03-09T23:59:00+09:00, got {value!r}")
        return None
    if value.tzinfo is None:
        problems.append(f"{where}: {value.isoformat()} has no UTC offset (write e.g. {value.isoformat()}+09:00)")
        return None
    return value


def _late(table, where: str, problems: list[str]) -> LatePolicy:
    if not isinstance(table, dict):
        problems.append(f"{where}: expected a table such as {{ per_day = 0.1, max_days = 3 }}")
        return LatePolicy()
    unknown = set(table) - {"per_day", "max_days"}
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: per_day, max_days)")
    per_day, max_days = table.get("per_day", 0.0), table.get("max_days", 0)
    if isinstance(per_day, bool) or not isinstance(per_day, (int, float)) or not 0 <= per_day <= 1:
        problems.append(f"{where}: per_day = {per_day!r}: a share between 0 and 1")
        per_day = 0.0
    if isinstance(max_days, bool) or not isinstance(max_days, int) or max_days < 0:
        problems.append(f"{where}: max_days = {max_days!r}: a whole number of days, 0 or more")
        max_days = 0
    return LatePolicy(float(per_day), max_days)


def parse_nbgrader_timestamp(text: str | None) -> dt.datetime | None:
    """nbgrader's timestamp.txt ("2026-11-20 10:00:00.123456 UTC") as an aware datetime."""
    if not text:
        return None
    body = text.strip().removesuffix(" UTC")
    for layout in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(body, layout).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
    return None
