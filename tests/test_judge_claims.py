"""README claims about the judge that no other test attacks: what probes print stays hidden,
the same submission scores the same in every process, and a judge that dies is an ERROR."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ASSIGNMENT, FIXTURE_COURSE, build_notebook, submit
from course.paths import Course

pytestmark = pytest.mark.slow
COURSE_CMD = [sys.executable, "-m", "course.cli"]


@pytest.fixture
def course(own_course) -> Course:
    return own_course


def _grade(course, *args, env=None):
    return subprocess.run([*COURSE_CMD, "grade", ASSIGNMENT, *args, "--settle", "0"], cwd=course.root,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=600)


def test_what_the_students_code_prints_while_probed_never_reaches_feedback(course):
    echo = ("def add(a, b):\n"
            "    print('PROBE-ECHO', list(np.ravel(a))[:3])\n"
            "    import sys; print('PROBE-ERR', file=sys.stderr)\n"
            "    return np.asarray(a) + np.asarray(b)\n"
            "print('CELL-OUTPUT')\n")
    submit(course, "echo", build_notebook(course, replace={"add_impl": echo}))
    run = _grade(course, "submitted", "--force")
    assert run.returncode == 0, run.stdout + run.stderr
    folder = course.root / "autograded" / "echo" / ASSIGNMENT
    document = json.loads((folder / "results.json").read_text())
    assert document["score"] == 3.0
    assert "CELL-OUTPUT" in document["extra_data"]["notebook_output"]  # the notebook's own output is shown
    for text in ((folder / "results.json").read_text(), (folder / "feedback.html").read_text()):
        assert "PROBE-ECHO" not in text and "PROBE-ERR" not in text


def _comparable(document: dict) -> dict:
    """A results.json without what may differ between two runs of the same grading (times)."""
    document = json.loads(json.dumps(document))
    document.pop("execution_time", None)
    extra = document["extra_data"]
    for key in ("elapsed", "graded_at", "timing", "cell_seconds", "started", "finished", "sandbox", "timestamp"):
        extra.pop(key, None)
    return document


def test_the_same_submission_gets_the_same_results_in_every_process(course):
    # A half-right submission: the same checks must pass and fail, with the same messages.
    notebook = build_notebook(course, replace={"add_impl": (
        "def add(a, b):\n    a, b = np.asarray(a), np.asarray(b)\n"
        "    return a + b if a.shape == b.shape else a * 0\n")})
    path = submit(course, "same", notebook)
    runs = []
    for hash_seed in ("0", "1", "random"):
        run = _grade(course, str(path), "--json", "--student", "same", "--no-gradebook",
                     env={"PYTHONHASHSEED": hash_seed})
        assert run.returncode == 0, run.stdout + run.stderr
        runs.append(_comparable(json.loads(run.stdout)))
    assert 0 < runs[0]["score"] < runs[0]["max_score"]
    assert runs[0] == runs[1] == runs[2]


def test_a_judge_that_dies_is_an_error_with_exit_status_1_and_no_grade(course):
    submit(course, "victim", build_notebook(course))
    # A hidden test that kills the judge process itself (a suite bug, or a native crash in it).
    (course.autograder / ASSIGNMENT / "test_zz_dies.py").write_text(
        "import os, signal\n\n"
        "def test_dies(sub):\n    os.kill(os.getpid(), signal.SIGKILL)\n")
    run = _grade(course, "submitted")
    assert run.returncode == 1, run.stdout + run.stderr
    [row] = [line for line in run.stdout.splitlines() if line.startswith("victim")]
    assert "ERROR" in row, run.stdout
    document = json.loads((course.root / "autograded" / "victim" / ASSIGNMENT / "results.json").read_text())
    assert document["extra_data"]["status"] == "error" and document["score"] == 0.0
    from course.gradebook import scores
    try:
        recorded = scores(course.gradebook_url, "fixture", ASSIGNMENT)
    except Exception:  # no assignment row at all: nothing recorded either
        recorded = {}
    assert "victim" not in recorded
