"""Deterministic fault injection: a process killed at a named point leaves the exact old or new state.

Each test arms one crash point of `course.faults` through COURSE_CRASH_AT, runs the real command
(which SIGKILLs itself there), checks what is on disk, then runs the command again unarmed and
checks that it converges.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ASSIGNMENT, FIXTURE_COURSE, build_notebook, submit
from course import faults
from course.paths import Course, course_id

pytestmark = pytest.mark.slow
COURSE_CMD = [sys.executable, "-m", "course.cli"]
KILLED = -signal.SIGKILL


@pytest.fixture
def course(own_course) -> Course:
    return own_course


def _run(course, tmp_path, *args, crash=None):
    env = dict(os.environ)
    env.pop("COURSE_CRASH_AT", None)
    if crash:
        env["COURSE_CRASH_AT"] = crash
    return subprocess.run([*COURSE_CMD, *args], cwd=course.root, env=env, capture_output=True, text=True,
                          timeout=600)


def _grade(course, tmp_path, crash=None):
    # -j 1: the first submission to finish is the one the crash point catches.
    return _run(course, tmp_path, "grade", ASSIGNMENT, "submitted", "-j", "1", "--settle", "0", crash=crash)


def _class(course) -> None:
    submit(course, "s00", build_notebook(course))
    submit(course, "s01", build_notebook(course, replace={"add_impl": "def add(a, b):\n    return a - b\n"}))


def _results(course) -> dict[str, dict]:
    return {p.parent.parent.name: json.loads(p.read_text())
            for p in (course.root / "autograded").glob(f"*/{ASSIGNMENT}/results.json")}


def _rows(course) -> dict[str, dict]:
    with Gradebook(course.gradebook_url, course_id=course_id(course.root)) as gb:
        try:
            assignment = gb.find_assignment(ASSIGNMENT)
        except Exception:
            return {}
        return {s.student.id: {g.name: g.auto_score for g in s.notebooks[0].grades} for s in assignment.submissions}


def _leftovers(course) -> list[str]:
    return [str(p) for p in (course.root / "autograded").rglob(".results.json.*")]


def _converges(course, tmp_path):
    run = _grade(course, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    documents, rows = _results(course), _rows(course)
    assert set(documents) == set(rows) == {"s00", "s01"}
    for student, document in documents.items():
        assert rows[student] == {p["grade_id"]: p["score"] for p in document["extra_data"]["parts"]}
    assert documents["s00"]["score"] == 3.0 and documents["s01"]["score"] == 1.0
    assert not _leftovers(course)


def test_every_crash_point_is_known_and_an_unknown_armed_name_is_ignored_by_code_that_never_reaches_it():
    assert set(faults.POINTS) == {"gradebook.before_commit", "results.before_rename", "feedback.mid_stage",
                                  "release.between_trees"}
    # placed: named in the code outside course/faults.py (crash_point("...") or crash_at="...")
    source = "\n".join(p.read_text() for p in Path(faults.__file__).parent.rglob("*.py")
                       if p.resolve() != Path(faults.__file__).resolve())
    for name in faults.POINTS:
        assert f'crash_point("{name}")' in source or f'crash_at="{name}"' in source, \
            f"crash point {name} is listed but never placed"


def test_killed_after_the_gradebook_flush_before_commit_leaves_no_row_and_no_results(course, tmp_path):
    _class(course)
    run = _grade(course, tmp_path, crash="gradebook.before_commit")
    assert run.returncode == KILLED, run.stdout + run.stderr
    assert _rows(course) == {}           # the flushed rows were never committed
    assert _results(course) == {}        # results.json (the commit marker) comes after the commit
    _converges(course, tmp_path)


def test_killed_between_the_temporary_write_and_the_rename_leaves_no_results_json(course, tmp_path):
    _class(course)
    run = _grade(course, tmp_path, crash="results.before_rename")
    assert run.returncode == KILLED, run.stdout + run.stderr
    assert _results(course) == {}        # never a partial results.json under the real name
    [student] = _rows(course)            # the gradebook row committed just before is whole
    assert None not in _rows(course)[student].values()
    _converges(course, tmp_path)         # that student is graded again; the row is updated, not doubled


def test_killed_mid_release_leaves_each_tree_wholly_old_or_wholly_new(course, tmp_path):
    def tree(folder: Path) -> dict[str, str]:
        return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*")) if p.is_file()}

    assert _run(course, tmp_path, "release", ASSIGNMENT).returncode == 0
    old_release, old_solutions = tree(course.release / ASSIGNMENT), tree(course.solutions / ASSIGNMENT)
    source = course.source_notebook(ASSIGNMENT)
    notebook = nbformat.read(source, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell("A new first paragraph."))
    nbformat.write(notebook, source)

    run = _run(course, tmp_path, "release", ASSIGNMENT, crash="release.between_trees")
    assert run.returncode == KILLED, run.stdout + run.stderr
    new_release = tree(course.release / ASSIGNMENT)
    assert new_release != old_release and "A new first paragraph." in (course.release / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert tree(course.solutions / ASSIGNMENT) == old_solutions
    assert not list(course.release.glob(".*")) and not list(course.solutions.glob(".*"))  # no staging left

    assert _run(course, tmp_path, "release", ASSIGNMENT).returncode == 0
    assert tree(course.release / ASSIGNMENT) == new_release
    assert "A new first paragraph." in (course.solutions / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()


def test_killed_mid_feedback_staging_leaves_whole_folders_only(tmp_path):
    course_dir = tmp_path / "grader"
    for student in ("ann", "bob"):
        submitted = course_dir / "submitted" / student / ASSIGNMENT
        submitted.mkdir(parents=True)
        (submitted / f"{ASSIGNMENT}.ipynb").write_text("{}")
        (submitted / "submission_secret.txt").write_text(f"secret-{student}")
        (submitted / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
        graded = course_dir / "autograded" / student / ASSIGNMENT
        graded.mkdir(parents=True)
        (graded / "feedback.html").write_text(f"<p>feedback for {student}</p>")
    script = ("import sys; from course.hub import feedback_release as f; "
              "print(f.stage(sys.argv[1], sys.argv[2]))")
    env = {**os.environ, "COURSE_CRASH_AT": "feedback.mid_stage"}
    run = subprocess.run([sys.executable, "-c", script, str(course_dir), ASSIGNMENT], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == KILLED, run.stdout + run.stderr
    feedback = course_dir / "feedback"
    staged = sorted(p.name for p in feedback.iterdir())
    assert staged == ["ann"]  # the first student whole, the second not started
    assert sorted(p.name for p in (feedback / "ann" / ASSIGNMENT).iterdir()) == [
        f"{ASSIGNMENT}.html", "submission_secret.txt", "timestamp.txt"]
    assert not list(feedback.rglob(".*staging"))

    env.pop("COURSE_CRASH_AT")
    run = subprocess.run([sys.executable, "-c", script, str(course_dir), ASSIGNMENT], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "['ann', 'bob']" in run.stdout, run.stdout + run.stderr
    assert (feedback / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text() == "<p>feedback for bob</p>"


def test_feedback_staging_never_follows_a_link(tmp_path):
    from course.hub import feedback_release

    course_dir = tmp_path / "grader"
    secret_elsewhere = tmp_path / "someone-elses-secret.txt"
    secret_elsewhere.write_text("not yours")
    for student in ("ann", "bob"):
        submitted = course_dir / "submitted" / student / ASSIGNMENT
        submitted.mkdir(parents=True)
        (submitted / f"{ASSIGNMENT}.ipynb").write_text("{}")
        (submitted / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
        graded = course_dir / "autograded" / student / ASSIGNMENT
        graded.mkdir(parents=True)
        (graded / "feedback.html").write_text(f"<p>{student}</p>")
    (course_dir / "submitted" / "ann" / ASSIGNMENT / "submission_secret.txt").write_text("ann's")
    (course_dir / "submitted" / "bob" / ASSIGNMENT / "submission_secret.txt").symlink_to(secret_elsewhere)
    assert feedback_release.stage(course_dir, ASSIGNMENT) == ["ann"]
    assert not (course_dir / "feedback" / "bob").exists()
