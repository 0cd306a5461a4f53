"""Real nbgrader on a temporary course: release, grade, gradebook, export, validate."""
from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ASSIGNMENT, build_notebook, submit
from course import release, validate

pytestmark = pytest.mark.slow
COURSE_CMD = [sys.executable, "-m", "course.cli"]


def run(course, *args, check=True):
    result = subprocess.run([*COURSE_CMD, *args], cwd=course.root, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"course {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def test_release_is_reproducible_and_staleness_is_detected(course):
    before = (course.release_notebook(ASSIGNMENT)).read_bytes()
    run(course, "release", ASSIGNMENT)
    assert course.release_notebook(ASSIGNMENT).read_bytes() == before, "same source, same bytes"
    released = json.loads(before)
    stubs = [c for c in released["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    assert all("raise NotImplementedError()" in "".join(c["source"]) for c in stubs)
    assert all("BEGIN SOLUTION" not in "".join(c["source"]) for c in released["cells"])
    solution = (course.solutions / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert "np.sqrt" in solution and "BEGIN SOLUTION" not in solution
    assert release.stale(course, ASSIGNMENT) == []
    source = course.source_notebook(ASSIGNMENT)
    source.write_text(source.read_text().replace("Euclidean norm of x.", "Euclidean (L2) norm of x."))
    assert release.stale(course, ASSIGNMENT) == [
        f"release/{ASSIGNMENT}/{ASSIGNMENT}.ipynb: differs from a fresh nbgrader generation",
        f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb: differs from a fresh nbgrader generation",
    ]
    run(course, "release", ASSIGNMENT)
    assert release.stale(course, ASSIGNMENT) == []


def test_grade_json_prints_gradescope_results(course):
    path = submit(course, "alice", build_notebook(course))
    result = run(course, "grade", ASSIGNMENT, str(path), "--json", "--no-gradebook")
    document = json.loads(result.stdout)
    assert document["score"] == 3 and document["max_score"] == 3
    assert {"name", "score", "max_score", "output", "visibility"} <= set(document["tests"][0])
    assert sum(t["max_score"] for t in document["tests"]) == pytest.approx(3)
    written = course.root / "autograded" / "alice" / ASSIGNMENT
    assert json.loads((written / "results.json").read_text()) == document
    assert "alice" in (written / "feedback.html").read_text()


def test_partial_credit_follows_test_weights(course):
    # Breaks only the broadcasting check (weight 2 of 3 in part `add`: test_add_arrays is one check
    # of weight 1, however many cases it has): add scores 2 * 1/3.
    path = submit(course, "bob", build_notebook(course, replace={"add_impl": (
        "def add(a, b):\n    a, b = np.asarray(a), np.asarray(b)\n"
        "    if a.shape != b.shape:\n        raise ValueError('shapes differ')\n    return a + b\n")}))
    document = json.loads(run(course, "grade", ASSIGNMENT, str(path), "--json", "--no-gradebook").stdout)
    parts = {p["grade_id"]: p["score"] for p in document["extra_data"]["parts"]}
    assert parts == {"add": 0.6667, "norm": 1.0}
    failed = [t for t in document["tests"] if t["status"] == "failed"]
    assert [t["name"] for t in failed] == ["add: test_add_broadcasts"]
    assert "ValueError: shapes differ (cell 3, line 4)" in failed[0]["output"]
    assert "probe" not in failed[0]["output"] and "student.add" not in failed[0]["output"]


def test_class_grading_fills_the_gradebook_that_nbgrader_exports(course):
    submit(course, "carol", build_notebook(course))
    submit(course, "dave", build_notebook(course, replace={"norm_impl": "def norm(x):\n    return 0.0\n"}))
    result = run(course, "grade", ASSIGNMENT, str(course.root / "submitted"), "-j", "2")
    assert "carol" in result.stdout and "3 / 3" in result.stdout and "2 / 3" in result.stdout
    export = course.root / "grades.csv"
    subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "export", "--to", str(export)],
                   cwd=course.root, check=True, capture_output=True)
    rows = {row["student_id"]: row for row in csv.DictReader(export.open())}
    assert float(rows["carol"]["score"]) == 3 and float(rows["dave"]["score"]) == 2
    assert float(rows["carol"]["max_score"]) == 3
    # formgrader's pages are served from NbGraderAPI: it must see the same submissions.
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(course.root)
    config.CourseDirectory.course_id = "fixture"
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    submissions = {s["student"]: s for s in api.get_submissions(ASSIGNMENT)}
    assert submissions["dave"]["score"] == 2 and submissions["dave"]["autograded"]
    notebooks = {s["student"]: s for s in api.get_notebook_submissions(ASSIGNMENT, ASSIGNMENT)}
    assert notebooks["carol"]["score"] == 3 and not notebooks["carol"]["needs_manual_grade"]


def test_validate_passes_the_fixture_and_catches_a_useless_mutant(course, capsys):
    assert validate.validate(course, [ASSIGNMENT], parallel=2)
    useless = course.autograder / ASSIGNMENT / "mutants" / "useless.py"
    useless.write_text("# mutant: claims to break add but is correct\n# replaces: add_impl\n# breaks: add\n"
                       "# replace:\n    return np.asarray(a) + np.asarray(b)\n# with:\n    return np.add(a, b)\n")
    try:
        assert not validate.validate(course, [ASSIGNMENT], parallel=2)
        report = capsys.readouterr().out
        assert re.search(r"FAIL  mutant-useless +must lose at least 50% of add; lost add 0%: 3/3 \[add 2/2, norm 1/1\]",
                         report)
    finally:
        useless.unlink()
    # an assignment must show at least two correct alternatives
    spare = course.autograder / ASSIGNMENT / "alternatives" / "norm_with_linalg.py"
    kept = spare.read_text()
    spare.unlink()
    try:
        assert not validate.validate(course, [ASSIGNMENT], parallel=2)
        assert re.search(r"FAIL  at least 2 alternatives +1 in ", capsys.readouterr().out)
    finally:
        spare.write_text(kept)


def test_lint_command_exits_nonzero_on_a_broken_source(course):
    broken = course.source / "00_broken"
    shutil.copytree(course.source / ASSIGNMENT, broken)
    (broken / f"{ASSIGNMENT}.ipynb").rename(broken / "00_broken.ipynb")
    text = (broken / "00_broken.ipynb").read_text().replace('"grade_id": "norm"', '"grade_id": "add"')
    (broken / "00_broken.ipynb").write_text(text)
    try:
        result = run(course, "lint", "00_broken", check=False)
        assert result.returncode == 1
        assert "source/00_broken/00_broken.ipynb: cell 6 ('add'): duplicate grade_id (first used in cell 4)" in result.stderr
    finally:
        shutil.rmtree(broken)
