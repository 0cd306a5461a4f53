"""Scores into nbgrader's gradebook, so `nbgrader formgrader` and `nbgrader export` show them.

Only the batch process writes here (one writer; workers never open the database). Each
submission's part scores are committed in one transaction.
"""
from __future__ import annotations

import warnings

from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning
from nbgrader.utils import compute_checksum

from course import notebook as nb
from course.paths import ensure_scripts_on_path


def ensure_assignment(gb: Gradebook, assignment: str, source_notebook) -> None:
    """Mirror the assignment's cells into the gradebook (what generate_assignment would record)."""
    gb.update_or_create_assignment(assignment)
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


def record(db_url: str, course_id: str, assignment: str, source_notebook, result: dict,
           timestamp: str | None = None) -> None:
    student = result["extra_data"]["student"]
    ensure_scripts_on_path()
    with warnings.catch_warnings(), Gradebook(db_url, course_id=course_id) as gb:
        # nbgrader's own add_submission trips SQLAlchemy's autoflush warnings; they are noise.
        warnings.simplefilter("ignore", SAWarning)
        ensure_assignment(gb, assignment, source_notebook)
        gb.update_or_create_student(student)
        kwargs = {"timestamp": timestamp} if timestamp else {}
        gb.update_or_create_submission(assignment, student, **kwargs)
        for part in result["extra_data"]["parts"]:
            grade = gb.find_grade(part["grade_id"], assignment, assignment, student)
            grade.auto_score = float(part["score"])
            grade.needs_manual_grade = False
        gb.db.commit()


def scores(db_url: str, course_id: str, assignment: str) -> dict[str, float]:
    """student id -> total score, as the gradebook has it (used by tests and the demo)."""
    with Gradebook(db_url, course_id=course_id) as gb:
        return {s.student.id: s.score for s in gb.find_assignment(assignment).submissions}
