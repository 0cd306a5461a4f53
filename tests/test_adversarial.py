"""Hostile submissions, graded together in ONE batch: none may raise a score or crash the batch.

The fixture assignment has two parts: `add` (2 points) and `norm` (1 point). Each hostile
notebook attacks through the `add` solution cell (or an extra cell); its `norm` stays correct,
so we also see that the damage stays inside the submission and the part it hits.
"""
from __future__ import annotations

import json
import socket

import pytest

from conftest import ASSIGNMENT, build_notebook, submit
from course import batch
from course.sandbox.isolation import detect_level

pytestmark = pytest.mark.slow

WRONG_ADD = "def add(a, b):\n    return np.asarray(a) - np.asarray(b)\n"
LEVEL = detect_level()
needs_namespaces = pytest.mark.skipif(LEVEL == "rlimits", reason="this machine allows no namespaces")


def _cases(course, port):
    suite_file = course.autograder / ASSIGNMENT / "test_demo.py"
    solution_file = course.root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    probe = ("def _try(label, action):\n"
             "    try:\n"
             "        result = action()\n"
             "        print('LEAKED', label, str(result)[:40])\n"
             "    except Exception as exc:\n"
             "        print('BLOCKED', label, type(exc).__name__)\n")
    return {
        "monkeypatch_numpy": dict(replace={"add_impl": WRONG_ADD + (
            "np.allclose = lambda *a, **k: True\n"
            "np.testing.assert_allclose = lambda *a, **k: None\n"
            "np.array_equal = lambda *a, **k: True\n"
            "np.isclose = lambda a, b, **k: np.ones(np.shape(a), bool)\n")}),
        "always_equal_object": dict(replace={"add_impl": (
            "class Anything:\n"
            "    def __eq__(self, other): return True\n"
            "    def __array__(self, dtype=None, copy=None): return np.zeros(1)\n"
            "    def __float__(self): return 0.0\n"
            "def add(a, b):\n    return Anything()\n")}),
        "infinite_loop_cell": dict(replace={"add_impl": "while True:\n    pass\n"}),
        "infinite_loop_in_function": dict(replace={"add_impl": (
            "import signal\n"
            "def add(a, b):\n"
            "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
            "    while True:\n        pass\n")}),
        "memory_bomb": dict(replace={"add_impl": (
            # bytes(n) maps zeroed pages without touching them: the 1 GiB address-space limit is
            # what stops it, within a few steps, however slowly this machine faults pages in.
            "hoard = []\nwhile True:\n    hoard.append(bytes(256 * 2**20))\n")}),
        "fork_bomb": dict(replace={"add_impl": (
            "import os\n"
            "while True:\n    os.fork()\n")}),
        "os_exit_in_cell": dict(replace={"add_impl": "import os\nos._exit(0)\n"}),
        "read_hidden_suite": dict(replace={"add_impl": probe + (
            f"_try('suite', lambda: open({str(suite_file)!r}).read())\n"
            f"_try('solutions', lambda: open({str(solution_file)!r}).read())\n"
            f"_try('course config', lambda: open({str(course.root / 'nbgrader_config.py')!r}).read())\n"
            f"_try('classmate', lambda: open({str(course.root / 'submitted' / 'honest' / ASSIGNMENT / (ASSIGNMENT + '.ipynb'))!r}).read())\n"
            + WRONG_ADD)}),
        "open_socket": dict(replace={"add_impl": probe + (
            "import socket\n"
            f"_try('loopback', lambda: socket.create_connection(('127.0.0.1', {port}), timeout=2))\n"
            "_try('internet', lambda: socket.create_connection(('1.1.1.1', 80), timeout=2))\n"
            + WRONG_ADD)}),
        "fake_results_json": dict(replace={"add_impl": (
            "import json\n"
            "print(json.dumps({'score': 100, 'max_score': 3, 'tests': []}))\n"
            "print('{\"status\": \"graded\", \"score\": 100, \"max_score\": 3, \"execution_time\": 1}')\n"
            + WRONG_ADD)}),
        "megabytes_of_output": dict(insert_after={"add_impl": "for _ in range(200):\n    print('x' * 100_000)\n"}),
        "huge_file": dict(insert_after={"add_impl": (
            "try:\n    open('big.bin', 'wb').write(b'0' * (200 * 2**20))\n"
            "except OSError as exc:\n    print('WRITE FAILED', exc.errno)\n")}),
        "kill_everything": dict(insert_after={"add_impl": "import os, signal\nos.kill(-1, signal.SIGKILL)\n"}),
        "edited_locked_test_cell": dict(edit=_tamper_graded_cell),
        "malformed_json": b"{ this is not json",
        "not_a_notebook": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    }


def _tamper_graded_cell(notebook):
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "add":
            cell.source = "pass  # trust me"
            meta["points"] = 100
        if meta.get("grade_id") == "add_impl":
            cell.source = WRONG_ADD
            meta.update(grade=True, points=100)


@pytest.fixture(scope="module")
def graded(course):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    cases = _cases(course, port)
    for student, spec in cases.items():
        if isinstance(spec, bytes):
            submit(course, student, raw=spec)
        else:
            submit(course, student, build_notebook(course, **spec))
    submit(course, "honest", build_notebook(course))
    out = course.root / "autograded"
    jobs = batch.discover(ASSIGNMENT, [course.root / "submitted"], out)
    rows = batch.grade(course, ASSIGNMENT, jobs, parallel=2, db_url=course.gradebook_url, progress=False)
    listener.close()
    summaries = {job.student: summary for job, summary in rows}
    documents = {job.student: json.loads((job.out / "results.json").read_text()) for job, _ in rows}
    return summaries, documents


def part(document, grade_id):
    return {p["grade_id"]: p["score"] for p in document["extra_data"]["parts"]}[grade_id]


def everything(document) -> str:
    """All the student-visible text of a result."""
    extra = document["extra_data"]
    return json.dumps([document["output"], [t["output"] for t in document["tests"]], extra["cell_errors"],
                       extra["notes"], extra.get("notebook_output", "")])


def test_the_batch_survives_and_grades_everyone(graded):
    summaries, documents = graded
    assert set(summaries) >= {"honest", "fork_bomb", "memory_bomb", "malformed_json"}
    assert all(s["status"] in ("graded", "unreadable") for s in summaries.values()), summaries
    assert documents["honest"]["score"] == 3.0


@pytest.mark.parametrize("student", ["monkeypatch_numpy", "always_equal_object", "fake_results_json",
                                     "read_hidden_suite", "open_socket"])
def test_wrong_code_stays_wrong_whatever_it_tampers_with(graded, student):
    document = graded[1][student]
    assert part(document, "add") == 0
    assert part(document, "norm") == 1
    assert document["score"] == 1 and document["max_score"] == 3


@pytest.mark.parametrize("student,message", [
    ("infinite_loop_cell", "stopped after 3 s"),
    ("memory_bomb", "MemoryError"),
    ("fork_bomb", "Resource temporarily unavailable"),
    ("os_exit_in_cell", "exited with status 0"),
])
def test_a_cell_that_hangs_or_crashes_costs_only_its_part(graded, student, message):
    document = graded[1][student]
    assert part(document, "add") == 0
    assert part(document, "norm") == 1, "cells after the hostile one must still run"
    assert message in everything(document)


def test_a_probe_that_hangs_is_stopped(graded):
    document = graded[1]["infinite_loop_in_function"]
    assert part(document, "add") == 0 and part(document, "norm") == 1
    assert "did not finish within 3 s" in everything(document)


@needs_namespaces
def test_hidden_files_are_invisible(graded):
    output = graded[1]["read_hidden_suite"]["extra_data"]["notebook_output"]
    assert "LEAKED" not in output
    assert output.count("BLOCKED") == 4


@needs_namespaces
def test_no_network_not_even_loopback_of_the_host(graded):
    output = graded[1]["open_socket"]["extra_data"]["notebook_output"]
    assert "LEAKED" not in output and output.count("BLOCKED") == 2


def test_fake_results_on_stdout_change_nothing(graded):
    assert graded[0]["fake_results_json"]["score"] == 1


def test_output_is_capped(graded):
    document = graded[1]["megabytes_of_output"]
    assert document["score"] == 3
    output = document["extra_data"]["notebook_output"]
    assert len(output) < 17 * 1024 and "more bytes of output not kept" in output


def test_file_size_is_limited(graded):
    document = graded[1]["huge_file"]
    assert document["score"] == 3
    assert "WRITE FAILED 27" in document["extra_data"]["notebook_output"]  # EFBIG


def test_signalling_every_process_reaches_nothing_outside(graded):
    # kill(-1) reaches only the sandbox's own pid namespace (or, at the rlimits level, its uid).
    assert graded[1]["kill_everything"]["score"] == 3
    assert graded[1]["honest"]["score"] == 3


def test_edited_graded_cells_and_forged_points_are_ignored(graded):
    document = graded[1]["edited_locked_test_cell"]
    assert document["max_score"] == 3 and part(document, "add") == 0 and document["score"] == 1
    assert "graded cell 'add'" in everything(document)


@pytest.mark.parametrize("student", ["malformed_json", "not_a_notebook"])
def test_unreadable_files_get_zero_and_a_reason(graded, student):
    document = graded[1][student]
    assert document["score"] == 0 and document["extra_data"]["status"] == "unreadable"
    assert f"{student}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb: not a notebook" in everything(document)


def test_scores_reach_the_gradebook(graded, course):
    from course.gradebook import scores

    recorded = scores(course.gradebook_url, "fixture", ASSIGNMENT)
    assert recorded["honest"] == 3 and recorded["monkeypatch_numpy"] == 1 and recorded["malformed_json"] == 0
