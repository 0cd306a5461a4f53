"""The judge's restart, replay and budget logic, on the fixture assignment (00_demo)."""
from __future__ import annotations

import pytest

from conftest import ASSIGNMENT, build_notebook, submit
from course.judge.run import grade_notebook

pytestmark = pytest.mark.slow


def grade(course, student, **changes):
    path = submit(course, student, build_notebook(course, **changes))
    return grade_notebook(course, ASSIGNMENT, path, student=student)


def parts(result):
    return {p["grade_id"]: p["score"] for p in result["extra_data"]["parts"]}


def test_a_probe_that_kills_the_sandbox_fails_alone_and_the_next_probe_gets_a_fresh_one(course):
    result = grade(course, "crashy", replace={"add_impl": (
        "def add(a, b):\n"
        "    if np.shape(a) == (3,):\n"
        "        import os; os._exit(1)\n"
        "    return np.asarray(a) + np.asarray(b)\n")})
    assert parts(result) == {"add": 1.3333, "norm": 1.0}   # test_add_arrays, one check of weight 1 of 3
    failed = [t for t in result["tests"] if t["status"] == "failed"]
    assert [t["name"] for t in failed] == ["add: test_add_arrays"]
    assert [c["case"] for c in failed[0]["failed_cases"]] == ["test_add_arrays[shape0]"]
    assert "exited with status 1" in failed[0]["output"]
    assert result["extra_data"]["sandbox_starts"] == 2


def test_replayed_cells_do_not_repeat_their_output(course):
    result = grade(course, "echo", insert_after={"imports": "print('hello-once')",
                                                 "add_impl": "import os\nos._exit(0)"})
    assert result["score"] == 3
    assert result["extra_data"]["notebook_output"].count("hello-once") == 1


def test_a_spent_time_budget_stops_the_notebook_but_still_grades_it(course):
    judge_toml = course.autograder / ASSIGNMENT / "judge.toml"
    original = judge_toml.read_text()
    judge_toml.write_text(original.replace("total_timeout = 60", "total_timeout = 5"))
    try:
        result = grade(course, "slow", insert_after={"imports": "while True:\n    pass",
                                                     "add_impl": "while True:\n    pass"})
    finally:
        judge_toml.write_text(original)
    assert result["extra_data"]["status"] == "graded" and result["score"] == 0
    messages = [e["message"] for e in result["extra_data"]["cell_errors"]]
    assert any("total time budget" in m and "did not run" in m for m in messages), messages


def test_feedback_tells_an_error_in_the_students_code_from_one_in_checking_its_result(course):
    raised = grade(course, "raises", replace={"norm_impl": (
        "def norm(x):\n"
        "    raise ValueError('norm is not done')\n")})
    returned = grade(course, "returns_text", replace={"norm_impl": (
        "def norm(x):\n"
        "    return 'five'\n")})

    def norm_outputs(result):
        return [t["output"] for t in result["tests"] if t["name"].startswith("norm") and t["status"] == "failed"]

    assert norm_outputs(raised) and all("your code raised ValueError: norm is not done" in o
                                        for o in norm_outputs(raised))
    assert norm_outputs(returned) and all("checking what it returned raised ValueError" in o
                                          and "your code raised" not in o for o in norm_outputs(returned))
    assert parts(raised)["norm"] == parts(returned)["norm"] == 0
