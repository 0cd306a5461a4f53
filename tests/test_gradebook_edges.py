"""The gradebook rows the batch writes, read back through nbgrader's own API: the assignment's
cells and due date, a submission's part scores, the late penalty and extension, what counts as
already recorded, and a failed submission leaving no row at all."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from conftest import ASSIGNMENT, FIXTURE_COURSE
from course import gradebook
from course import notebook as nb
from course.paths import Course

COURSE_ID = "dl101"
DUE = dt.datetime(2027, 3, 9, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def _source():
    return nb.load(Course(FIXTURE_COURSE).source_notebook(ASSIGNMENT))


@pytest.fixture(scope="module")
def empty_gradebook() -> Path:
    # nbgrader creates a new database's schema through an alembic subprocess (seconds): once per
    # nbgrader version and user, kept in the temporary directory (mutation runs start many sessions)
    import nbgrader

    path = Path(tempfile.gettempdir()) / f"course-test-empty-gradebook-{nbgrader.__version__}-{os.getuid()}.db"
    if not path.exists():
        fresh = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        Gradebook(f"sqlite:///{fresh}", course_id=COURSE_ID).close()
        os.replace(fresh, path)
    return path


@pytest.fixture
def db(tmp_path, empty_gradebook) -> str:
    shutil.copyfile(empty_gradebook, tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


def _result(student: str, add: float, norm: float, late: dict | None = None) -> dict:
    extra = {"student": student, "parts": [{"grade_id": "add", "score": add}, {"grade_id": "norm", "score": norm}]}
    if late:
        extra["late"] = late
    return {"extra_data": extra}


def _writer(db, due=DUE) -> gradebook.Writer:
    return gradebook.Writer(db, COURSE_ID, ASSIGNMENT, _source(), due)


def test_the_assignment_mirrors_the_source_cells_and_the_due_date_in_utc(db):
    _writer(db).close()
    with Gradebook(db, course_id=COURSE_ID) as gb:
        assignment = gb.find_assignment(ASSIGNMENT)
        assert assignment.duedate == dt.datetime(2027, 3, 9, 14, 59)  # nbgrader keeps naive UTC
        notebook = gb.find_notebook(ASSIGNMENT, ASSIGNMENT)
        assert {c.name: c.max_score for c in notebook.grade_cells} == {"add": 2.0, "norm": 1.0}
        assert {c.name for c in notebook.solution_cells} == {"add_impl", "norm_impl"}
        sources = {c.name: c for c in notebook.source_cells}
        assert set(sources) == {"intro", "imports", "add_impl", "add", "norm_impl", "norm"}
        assert sources["add"].locked and not sources["add_impl"].locked
        assert sources["intro"].cell_type == "markdown" and sources["add"].cell_type == "code"
        assert sources["add"].source == next(c.source for c in _source().cells if nb.grade_id(c) == "add")
        assert sources["add"].checksum


def test_without_a_due_date_the_assignment_has_none(db):
    _writer(db, due=None).close()
    with Gradebook(db, course_id=COURSE_ID) as gb:
        assert gb.find_assignment(ASSIGNMENT).duedate is None


def test_a_submission_records_each_part_score_and_needs_no_manual_grade(db):
    writer = _writer(db)
    writer.record(_result("ann", 1.5, 1.0), timestamp="2027-03-09 10:00:00")
    writer.record(_result("bob", 0.0, 0.25))
    writer.close()
    assert gradebook.scores(db, COURSE_ID, ASSIGNMENT) == {"ann": 2.5, "bob": 0.25}
    with Gradebook(db, course_id=COURSE_ID) as gb:
        grade = gb.find_grade("add", ASSIGNMENT, ASSIGNMENT, "ann")
        assert grade.auto_score == 1.5 and grade.needs_manual_grade is False
        assert gb.find_submission(ASSIGNMENT, "ann").timestamp == dt.datetime(2027, 3, 9, 10, 0)
        assert gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "ann").late_submission_penalty is None


def test_has_is_true_only_for_exactly_the_recorded_scores(db):
    writer = _writer(db)
    assert not writer.has(_result("ann", 1.0, 1.0))  # no such student yet
    writer.record(_result("ann", 1.0, 1.0))
    assert writer.has(_result("ann", 1.0, 1.0))
    assert not writer.has(_result("ann", 1.0, 0.5))
    assert not writer.has(_result("ann", 2.0, 1.0))
    late = {"due": DUE.isoformat(), "penalty_share": 0.0, "extension": False}
    assert not writer.has(_result("ann", 1.0, 1.0, late))  # a late result is always written again
    writer.close()


def test_the_late_penalty_is_the_share_of_the_raw_score(db):
    writer = _writer(db)
    writer.record(_result("ann", 2.0, 1.0, {"due": DUE.isoformat(), "penalty_share": 0.25, "extension": False}))
    writer.record(_result("bob", 0.0, 0.0, {"due": DUE.isoformat(), "penalty_share": 0.5, "extension": False}))
    writer.record(_result("cy", 2.0, 1.0, {"due": DUE.isoformat(), "penalty_share": 1 / 3, "extension": False}))
    writer.close()
    with Gradebook(db, course_id=COURSE_ID) as gb:
        penalty = {s: gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, s).late_submission_penalty
                   for s in ("ann", "bob", "cy")}
        assert penalty == {"ann": 0.75, "bob": None, "cy": 1.0}
        assert gb.find_submission(ASSIGNMENT, "ann").extension is None


def test_an_extension_moves_the_students_due_date_by_the_difference(db):
    writer = _writer(db)
    moved = DUE + dt.timedelta(days=2, hours=3)
    writer.record(_result("ann", 2.0, 1.0, {"due": moved.isoformat(), "penalty_share": 0.0, "extension": True}))
    writer.close()
    with Gradebook(db, course_id=COURSE_ID) as gb:
        assert gb.find_submission(ASSIGNMENT, "ann").extension == dt.timedelta(days=2, hours=3)


def test_a_penalty_taken_back_is_cleared(db):
    writer = _writer(db)
    writer.record(_result("ann", 2.0, 1.0, {"due": DUE.isoformat(), "penalty_share": 0.5, "extension": False}))
    writer.record(_result("ann", 2.0, 1.0))
    writer.close()
    assert gradebook.scores(db, COURSE_ID, ASSIGNMENT) == {"ann": 3.0}


def test_a_submission_that_fails_half_way_leaves_no_row(db):
    writer = _writer(db)
    broken = _result("ann", 2.0, 1.0)
    broken["extra_data"]["parts"].append({"grade_id": "add", "score": "not a number"})
    with pytest.raises(ValueError):
        writer.record(broken)
    writer.record(_result("bob", 1.0, 1.0))  # the connection is usable again
    writer.close()
    with Gradebook(db, course_id=COURSE_ID) as gb:
        assert [s.id for s in gb.students] == ["bob"]
    assert gradebook.scores(db, COURSE_ID, ASSIGNMENT) == {"bob": 2.0}


def test_one_transaction_restores_commit_and_rolls_back_on_error(db):
    writer = _writer(db)
    real = writer.gb.db.commit
    with pytest.raises(KeyError):
        with gradebook.one_transaction(writer.gb):
            writer.gb.update_or_create_student("ghost")
            raise KeyError("boom")
    assert writer.gb.db.commit == real
    with gradebook.one_transaction(writer.gb):
        writer.gb.update_or_create_student("real")
    writer.close()
    with Gradebook(db, course_id=COURSE_ID) as gb:
        assert [s.id for s in gb.students] == ["real"]


class _Job:
    def __init__(self, timestamp):
        self.timestamp = timestamp


def test_record_missing_writes_only_absent_or_stale_rows(db):
    writer = _writer(db)
    writer.record(_result("ann", 1.0, 1.0), timestamp="2027-03-01 09:00:00")
    writer.record(_result("bob", 1.0, 1.0), timestamp="2027-03-01 09:00:00")
    writer.record_missing([_Job("2027-03-02 09:00:00"), _Job("2027-03-02 09:00:00"), _Job(None)],
                          [_result("ann", 1.0, 1.0), _result("bob", 0.0, 1.0), _result("cy", 2.0, 0.0)])
    writer.close()
    assert gradebook.scores(db, COURSE_ID, ASSIGNMENT) == {"ann": 2.0, "bob": 1.0, "cy": 2.0}
    with Gradebook(db, course_id=COURSE_ID) as gb:
        stamps = {s: gb.find_submission(ASSIGNMENT, s).timestamp for s in ("ann", "bob")}
    assert stamps == {"ann": dt.datetime(2027, 3, 1, 9), "bob": dt.datetime(2027, 3, 2, 9)}


def test_naive_utc_converts_any_offset():
    moment = dt.datetime(2027, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert gradebook._naive_utc(moment) == dt.datetime(2027, 1, 1, 5, 30)


def test_naive_utc_does_not_depend_on_the_servers_time_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Seoul")
    time.tzset()
    try:
        moment = dt.datetime(2027, 1, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
        assert gradebook._naive_utc(moment) == dt.datetime(2027, 1, 1, 0, 0)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_plain_cell_before_the_graded_ones_does_not_hide_them(db):
    import nbformat

    source = _source()
    source.cells.insert(0, nbformat.v4.new_markdown_cell("an author's note, no nbgrader metadata"))
    gradebook.Writer(db, COURSE_ID, ASSIGNMENT, source, DUE).close()
    with Gradebook(db, course_id=COURSE_ID) as gb:
        assert {c.name for c in gb.find_notebook(ASSIGNMENT, ASSIGNMENT).grade_cells} == {"add", "norm"}
