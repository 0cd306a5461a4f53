"""Scores into nbgrader's gradebook, so `nbgrader formgrader` and `nbgrader export` show them.

Only the batch process writes here (one writer; judges never open the database). Each
submission's rows are committed in one transaction (see `one_transaction`).
"""
from __future__ import annotations

import contextlib
import datetime
import warnings

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning
from nbgrader.utils import compute_checksum

from course import notebook as nb
from course.faults import crash_point
from course.paths import ensure_scripts_on_path


def ensure_assignment(gb: Gradebook, assignment: str, source_notebook, due=None) -> None:
    """Mirror the assignment's cells into the gradebook (what generate_assignment would record),
    with the due date of course.toml (formgrader shows it, nbgrader's export carries it)."""
    gb.update_or_create_assignment(assignment, **({"duedate": _naive_utc(due)} if due else {}))
    gb.update_or_create_notebook(assignment, assignment)
    for cell in source_notebook.cells:
        cid = nb.grade_id(cell)
        if not cid:
            continue
        meta = nb.nbgrader_meta(cell)
        if nb.is_graded_test(cell):
            gb.update_or_create_grade_cell(cid, assignment, assignment, max_score=float(meta.get("points", 0)),
                                           cell_type=cell.cell_type)
        if nb.is_solution(cell):
            gb.update_or_create_solution_cell(cid, assignment, assignment)
        gb.update_or_create_source_cell(cid, assignment, assignment, cell_type=cell.cell_type,
                                        locked=bool(meta.get("locked")), source=cell.source,
                                        checksum=compute_checksum(cell))


@contextlib.contextmanager
def one_transaction(gb: Gradebook):
    """nbgrader's update_or_create_* helpers commit as they go. Hold those commits back so that
    everything inside lands together or not at all: a kill -9 half-way leaves no half-written row."""
    real_commit = gb.db.commit
    gb.db.commit = gb.db.flush
    try:
        yield
        crash_point("gradebook.before_commit")
        real_commit()
    except BaseException:
        gb.db.rollback()
        raise
    finally:
        gb.db.commit = real_commit


def _naive_utc(moment: datetime.datetime) -> datetime.datetime:
    """nbgrader stores naive UTC datetimes."""
    return moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)


class Writer:
    """The batch's one connection to the gradebook; one transaction per submission."""

    def __init__(self, db_url: str, course_id: str, assignment: str, source_notebook, due=None):
        ensure_scripts_on_path()
        self.assignment = assignment
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        # nbgrader's own add_submission trips SQLAlchemy's autoflush warnings; they are noise.
        warnings.simplefilter("ignore", SAWarning)
        self.gb = Gradebook(db_url, course_id=course_id)
        with one_transaction(self.gb):
            ensure_assignment(self.gb, assignment, source_notebook, due)

    def record(self, result: dict, timestamp: str | None = None) -> None:
        student = result["extra_data"]["student"]
        with one_transaction(self.gb):
            self.gb.update_or_create_student(student)
            kwargs = {"timestamp": timestamp} if timestamp else {}
            submission = self.gb.update_or_create_submission(self.assignment, student, **kwargs)
            for part in result["extra_data"]["parts"]:
                grade = self.gb.find_grade(part["grade_id"], self.assignment, self.assignment, student)
                grade.auto_score = float(part["score"])
                grade.needs_manual_grade = False
            self._record_lateness(submission, result)

    def _record_lateness(self, submission, result: dict) -> None:
        """nbgrader's own fields: the student's extension and the points the late policy takes
        (its export and formgrader subtract them from the score)."""
        late = result["extra_data"].get("late")
        notebook = self.gb.find_submission_notebook(self.assignment, self.assignment, submission.student.id)
        if not late:
            notebook.late_submission_penalty = None
            return
        if late.get("extension") and submission.assignment.duedate is not None:
            moved = _naive_utc(datetime.datetime.fromisoformat(late["due"]))
            submission.extension = moved - submission.assignment.duedate
        raw = sum(float(p["score"]) for p in result["extra_data"]["parts"])
        notebook.late_submission_penalty = round(raw * float(late["penalty_share"]), 4) or None

    def has(self, result: dict) -> bool:
        if result["extra_data"].get("late"):
            return False  # the penalty depends on the schedule too: always written again
        """Whether the gradebook already holds exactly these part scores for this student."""
        student = result["extra_data"]["student"]
        try:
            for part in result["extra_data"]["parts"]:
                grade = self.gb.find_grade(part["grade_id"], self.assignment, self.assignment, student)
                if grade.auto_score != float(part["score"]):
                    return False
        except MissingEntry:
            return False
        return True

    def record_missing(self, jobs, documents) -> None:
        """Results a killed run wrote but whose gradebook row is missing (or stale): record them."""
        for job, document in zip(jobs, documents):
            if not self.has(document):
                self.record(document, job.timestamp)

    def close(self) -> None:
        self.gb.close()
        self._warnings.__exit__(None, None, None)


def scores(db_url: str, course_id: str, assignment: str) -> dict[str, float]:
    """student id -> total score, as the gradebook has it (used by tests and the demo)."""
    with Gradebook(db_url, course_id=course_id) as gb:
        return {s.student.id: s.score for s in gb.find_assignment(assignment).submissions}
