"""`course export`: the gradebook as one CSV row per student, assignment and part.

Each row carries the part's score and the assignment's totals with lateness: raw score, the
late penalty (points, as course.toml's policy took them), the score that counts, when it was
submitted and how many started days after the student's own due date. Cells that a spreadsheet
would run as a formula (=, +, -, @ first) are written with a leading apostrophe.
"""
from __future__ import annotations

import csv
import io
import math
import warnings
from pathlib import Path

COLUMNS = ("student_id", "assignment", "part", "part_score", "part_max", "raw_score", "late_penalty", "score",
           "max_score", "submitted", "due", "days_late")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def rows(db_url: str, course_id: str, assignments: list[str] | None = None) -> list[dict]:
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(db_url, course_id=course_id) as gb:
            for assignment in gb.assignments:
                if assignments and assignment.name not in assignments:
                    continue
                for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
                    found.extend(_submission_rows(assignment, submission))
    return found


def _submission_rows(assignment, submission) -> list[dict]:
    grades = [g for notebook in submission.notebooks for g in notebook.grades]
    raw = sum(g.score or 0.0 for g in grades)
    penalty = float(submission.late_submission_penalty or 0.0)
    due = submission.duedate
    seconds = submission.total_seconds_late if due is not None and submission.timestamp is not None else 0.0
    shared = {
        "student_id": submission.student.id, "assignment": assignment.name,
        "raw_score": _number(raw), "late_penalty": _number(penalty), "score": _number(max(raw - penalty, 0.0)),
        "max_score": _number(sum(g.max_score or 0.0 for g in grades)),
        "submitted": submission.timestamp.isoformat(sep=" ") + " UTC" if submission.timestamp else "",
        "due": due.isoformat(sep=" ") + " UTC" if due else "",
        "days_late": math.ceil(seconds / 86400) if seconds else 0,
    }
    return [{**shared, "part": grade.name, "part_score": _number(grade.score or 0.0),
             "part_max": _number(grade.max_score or 0.0)}
            for grade in sorted(grades, key=lambda g: g.name)]


def _number(value: float) -> float:
    return round(float(value), 4)


def _cell(value) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def to_csv(found: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in found:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def write(db_url: str, course_id: str, path: Path, assignments: list[str] | None = None) -> int:
    """Write the CSV atomically; returns the number of rows."""
    from course.judge.results import write_atomic

    found = rows(db_url, course_id, assignments)
    write_atomic(Path(path), to_csv(found))
    return len(found)
