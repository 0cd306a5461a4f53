"""Feedback through nbgrader's exchange: `course feedback NN_slug`.

`course grade` writes <autograded>/<student>/<NN>/feedback.html. nbgrader's release_feedback
publishes <course>/feedback/<student>/<NN>/<notebook>.html under a name hashed from the
submission's secret (submission_secret.txt, written by `nbgrader submit` and kept by
`nbgrader collect`), which only that student's fetch_feedback can compute. This module lays the
judge's pages out that way and then runs nbgrader's own ExchangeReleaseFeedback, so the
student's `nbgrader fetch_feedback` and the Assignments tab find them.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from course.atomic_dir import replace_dir
from course.batch import find_notebook
from course.faults import crash_point
from course.notebook import printable
from course.paths import CourseError


def stage(course_dir: Path, assignment: str, autograded: Path | None = None) -> list[str]:
    """Copy each graded student's feedback.html into nbgrader's feedback/ layout."""
    course_dir = Path(course_dir)
    autograded = Path(autograded or course_dir / "autograded")
    staged = []
    for page in sorted(autograded.glob(f"*/{assignment}/feedback.html")):
        student = page.parent.parent.name
        submission = course_dir / "submitted" / student / assignment
        secret = submission / "submission_secret.txt"
        timestamp = submission / "timestamp.txt"
        if not (secret.exists() and timestamp.exists()):
            print(f"{student}: no collected submission with a secret in {submission}; "
                  f"feedback not released", file=sys.stderr)
            continue
        linked = [p for p in (page.parent.parent, page.parent, page, submission.parent, submission, secret, timestamp)
                  if p.is_symlink() or (p.exists() and not (p.is_dir() or p.is_file()))]
        if linked:  # copying would follow the link: another student's or the grader's file
            print(f"{printable(student)}: {printable(str(linked[0]))} is a link or not a regular file; "
                  f"feedback not released", file=sys.stderr)
            continue
        notebook_id = find_notebook(submission, assignment).stem
        dest = course_dir / "feedback" / student / assignment
        # A student's folder appears whole or not at all: nbgrader releases whatever it finds.
        partial = dest.with_name(f".{assignment}.staging")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        shutil.copyfile(page, partial / f"{notebook_id}.html")
        shutil.copyfile(secret, partial / "submission_secret.txt")
        shutil.copyfile(timestamp, partial / "timestamp.txt")
        replace_dir(dest, partial)
        staged.append(student)
        crash_point("feedback.mid_stage")
    return staged


def release(course_dir: Path, assignment: str, course_id: str, exchange_root: Path,
            autograded: Path | None = None) -> list[str]:
    """Stage and release every graded student's feedback; returns the students released."""
    staged = stage(course_dir, assignment, autograded)
    if not staged:
        raise CourseError(f"no graded, collected submissions of {assignment} under {course_dir}")
    from course.hub.embedded import exchange

    exchange("ReleaseFeedback", course_dir, course_id, exchange_root, assignment)
    return staged
