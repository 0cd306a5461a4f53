"""Unit tests for the small modules: discovery, config, scoring, feedback, annotation, writes."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import ASSIGNMENT, FIXTURE_COURSE
from course import batch, notebook as nb
from course.judge import annotate, feedback, results
from course.judge.config import JudgeConfig
from course.judge.plugin import Outcome, describe_failure
from course.judge.check import Failure
from course.paths import Course, CourseError

PARTS = [nb.Part("add", 2.0), nb.Part("norm", 1.0)]


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


def test_discover_understands_nbgrader_layouts(tmp_path):
    root = tmp_path / "submitted"
    _touch(root / "amy" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    _touch(root / "bo" / ASSIGNMENT / "renamed.ipynb")
    (root / "bo" / ASSIGNMENT / "timestamp.txt").write_text("2026-11-20 10:00:00\n")
    _touch(root / "cy" / "other_assignment" / "x.ipynb")
    out = tmp_path / "out"
    jobs = batch.discover(ASSIGNMENT, [root], out)
    assert [(j.student, j.notebook.name, j.timestamp) for j in jobs] == [
        ("amy", f"{ASSIGNMENT}.ipynb", None), ("bo", "renamed.ipynb", "2026-11-20 10:00:00")]
    assert jobs[0].out == out / "amy" / ASSIGNMENT
    one = batch.discover(ASSIGNMENT, [root / "amy"], out)
    loose = batch.discover(ASSIGNMENT, [root / "amy" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"], out)
    assert one[0].student == loose[0].student == "amy"
    with pytest.raises(CourseError, match="amy appear more than once"):
        batch.discover(ASSIGNMENT, [root, root / "amy"], out)
    with pytest.raises(CourseError, match="no such file or folder"):
        batch.discover(ASSIGNMENT, [tmp_path / "nowhere"], out)


def test_judge_config_rejects_unknown_settings(tmp_path):
    (tmp_path / "judge.toml").write_text("cell_timeout = 5\nprobe_timout = 3\n")
    with pytest.raises(CourseError, match=r"judge.toml: unknown setting\(s\) probe_timout"):
        JudgeConfig.load(tmp_path)
    assert JudgeConfig.load(FIXTURE_COURSE / "autograder" / ASSIGNMENT).cell_timeout == 3


def test_course_resolves_short_names():
    course = Course(FIXTURE_COURSE)
    assert course.resolve(["00"]) == course.resolve([ASSIGNMENT]) == [ASSIGNMENT]
    with pytest.raises(CourseError, match="unknown assignment '99'"):
        course.resolve(["99"])


def _result(add_outcomes, norm_passed=True, output="<script>alert(1)</script>"):
    outcomes = [Outcome(f"t{i}", "add", w, ok, "" if ok else "add(a, b): shape (3,) but expected (2,)")
                for i, (w, ok) in enumerate(add_outcomes)]
    outcomes.append(Outcome("t_norm", "norm", 1.0, norm_passed, ""))
    return results.build(PARTS, outcomes, {"assignment": ASSIGNMENT, "student": "amy<b>"}, cell_errors=[],
                         notes=[], notebook_output=output, elapsed=1.5)


def test_partial_credit_is_the_weighted_share_of_passing_tests():
    document = _result([(1, True), (1, False), (2, True)])
    parts = {p["grade_id"]: p["score"] for p in document["extra_data"]["parts"]}
    assert parts == {"add": 1.5, "norm": 1.0} and document["score"] == 2.5 and document["max_score"] == 3
    assert [t["max_score"] for t in document["tests"]] == [0.5, 0.5, 1.0, 1.0]
    assert sum(t["score"] for t in document["tests"]) == pytest.approx(document["score"])


def test_feedback_escapes_everything_the_student_controls():
    page = feedback.render(_result([(1, False)]))
    assert "<script>" not in page and "&lt;script&gt;" in page and "amy&lt;b&gt;" in page
    assert "shape (3,) but expected (2,)" in page


def test_failure_messages_never_carry_test_source():
    assert describe_failure(Failure("norm(x): got 3")) == "norm(x): got 3"
    assert describe_failure(AssertionError()) == "a hidden check failed"
    assert describe_failure(KeyError("secret_key")) == "the hidden test could not use your result (KeyError)"


def test_annotated_copy_shows_part_results_in_graded_cells(tmp_path):
    source = FIXTURE_COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    path = annotate.write(source, _result([(1, False)]), tmp_path)
    cells = {nb.grade_id(c): c for c in nbformat.read(path, as_version=4).cells}
    assert "add: 0 / 2 (0 of 1 hidden checks passed)" in cells["add"].outputs[0]["text"]
    assert "FAILED t0: add(a, b): shape (3,)" in cells["add"].outputs[0]["text"]
    assert cells["add_impl"].outputs == []


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    results.write(_result([(1, True)]), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 3


def test_a_write_that_fails_midway_leaves_the_previous_results_json_whole(tmp_path, monkeypatch):
    results.write(_result([(1, True)]), tmp_path)
    before = (tmp_path / "results.json").read_bytes()

    class Full(OSError):
        pass

    real_fdopen = os.fdopen

    def half_then_full(*args, **kwargs):
        stream = real_fdopen(*args, **kwargs)
        real_write = stream.write
        stream.write = lambda text: (real_write(text[: len(text) // 2]), (_ for _ in ()).throw(Full("disk full")))
        return stream

    monkeypatch.setattr(os, "fdopen", half_then_full)
    with pytest.raises(Full):
        results.write(_result([(1, False)]), tmp_path)
    assert (tmp_path / "results.json").read_bytes() == before  # a plain write would have truncated it
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_the_judge_server_warms_up_on_what_the_suite_imports_but_never_on_sandbox_libraries(tmp_path):
    from course.judge.server import suite_imports

    (tmp_path / "test_a.py").write_text(
        "from __future__ import annotations\nimport numpy as np, torch.nn.functional as F\n"
        "from course.judge.check import expect\nfrom . import helpers\nimport tensorflow as tf\n"
        "def test_x():\n    import scipy\n")
    (tmp_path / "conftest.py").write_text("import pytest\nfrom triton import language\nimport numpy\n")
    (tmp_path / "test_broken.py").write_text("def oops(:\n")  # collection reports it, not the warm-up
    (tmp_path / "probes.py").write_text("import os\n")  # runs in the sandbox, not the judge
    assert suite_imports(tmp_path) == ["numpy", "torch.nn.functional", "course.judge.check", "pytest"]


def test_the_judge_server_warm_up_imports_torchs_lazy_modules_and_starts_no_thread():

    script = ("import os, sys, numpy, torch\n"
              "from course.judge.server import warm_up\n"
              "warm_up()\n"
              "print(len(os.listdir('/proc/self/task')), 'sympy' in sys.modules, '_pytest.skipping' in sys.modules,"
              " 'numpy.random' in sys.modules)\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["1", "True", "True", "True"]  # one thread: the server may fork


def test_the_judge_server_warms_up_explicit_gradients_only_for_suites_that_pass_one(tmp_path):
    from course.judge.server import uses_explicit_gradients

    cases = {"y.backward(G)": True, "torch.autograd.backward([y], grad_tensors=[G])": True,
             "torch.autograd.grad(y, x, grad_outputs=G)": True, "torch.autograd.grad(y, x, G)": True,
             "y.backward()": False, "y.sum().backward(retain_graph=True)": False,
             "torch.autograd.grad(y.sum(), [x])": False, "def f(:": True}  # unparsable: warm up to be safe
    for number, (line, wanted) in enumerate(cases.items()):
        suite = tmp_path / f"suite{number}"
        suite.mkdir()
        (suite / "test_a.py").write_text(f"def test_x():\n    {line}\n")
        assert uses_explicit_gradients(suite) is wanted, line
    # Without the explicit-gradient warm-up the server never imports sympy (0.4 s of its start-up).
    script = ("import sys, torch\nfrom course.judge.server import warm_up\nwarm_up(False)\n"
              "print('sympy' in sys.modules)\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["False"]


def test_course_grade_can_launch_the_judge_server_before_it_imports_numpy_nbformat_or_pytest():
    # The server's warm-up overlaps the batch's own start-up only if launching it is cheap.
    script = ("import sys\nfrom course import cli, judge_server\ncli.build_parser()\n"
              "print(sorted(m for m in ('numpy', 'nbformat', 'pytest', 'torch') if m in sys.modules))\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[]"


def _serve_collected(tmp_path, suite, children: int) -> subprocess.CompletedProcess:
    """Run CollectedSuite as the judge server does; `children` forked children each run the
    suite and print their outcomes and tmp_path as JSON lines."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    script = ("import json, os, sys\nfrom pathlib import Path\n"
              "from course.judge.collected import CollectedSuite\n"
              "out = os.fdopen(os.dup(1), 'w')\n"
              f"suite = CollectedSuite(Path({str(suite)!r}), 1, Path({str(scratch)!r}))\n"
              "def serve():\n"
              f"    for _ in range({children}):\n"
              "        pid = os.fork()\n"
              "        if pid == 0:\n"
              "            plugin = suite.run_suite(None, 'the submission', None)\n"
              "            out.write(json.dumps({o.name: [o.part, o.passed, o.message] for o in plugin.outcomes.values()}) + '\\n')\n"
              "            out.flush()\n"
              "            os._exit(0)\n"
              "        os.waitpid(pid, 0)\n"
              "    out.write('served\\n'); out.flush()\n"
              "    os._exit(0)\n"
              "code = suite.serve_inside(serve)\n"
              "print('pytest stopped', code, suite.refused, file=sys.stderr)\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env=env)


def test_the_judge_server_collects_the_suite_once_and_each_child_runs_every_test_fresh(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    counter = tmp_path / "imports.txt"
    # Each module appends its name when its body runs: collection in the server must be the only run.
    body = f"with open({str(counter)!r}, 'a') as log:\n    log.write(__name__ + '\\n')\n"
    (suite / "conftest.py").write_text(body + "import pytest\n@pytest.fixture\ndef fresh():\n    return []\n")
    (suite / "test_a.py").write_text(body + (
        "import pytest\n"
        "seen = []\n"
        "@pytest.mark.part('one')\n@pytest.mark.parametrize('n', [1, 2])\n"
        "def test_sees_the_childs_submission(sub, fresh, n):\n"
        "    fresh.append(n)\n    seen.append(n)\n"
        "    assert sub == 'the submission' and fresh == [n]\n"
        "@pytest.mark.part('one')\ndef test_state_starts_clean_in_every_child():\n"
        "    assert seen == [1, 2], seen\n"
        "@pytest.mark.part('two')\ndef test_tmp_path_is_the_childs_own(tmp_path):\n"
        "    marker = tmp_path.parent.parent / 'used'\n"
        "    assert not marker.exists(), 'another child used this folder'\n"
        "    marker.touch()\n"
        "@pytest.mark.part('two')\ndef test_fails():\n    assert False, 'wrong on purpose'\n"
        "@pytest.mark.part('two')\ndef test_skipped():\n    pytest.skip('not today')\n"
        "@pytest.mark.part('two')\n@pytest.mark.xfail(strict=True)\ndef test_xpass():\n    pass\n"))
    run = _serve_collected(tmp_path, suite, children=2)
    assert run.returncode == 0, run.stderr[-2000:]
    *children, last = run.stdout.splitlines()
    assert last == "served"
    expected = {"test_sees_the_childs_submission[1]": ["one", True, ""],
                "test_sees_the_childs_submission[2]": ["one", True, ""],
                "test_state_starts_clean_in_every_child": ["one", True, ""],
                "test_tmp_path_is_the_childs_own": ["two", True, ""],
                "test_fails": ["two", False, "wrong on purpose"],
                "test_skipped": ["two", False, "skipped"],   # a test that does not run never passes
                "test_xpass": ["two", False, "failed"]}      # strict xfail that passed: pytest's verdict
    assert [json.loads(line) for line in children] == [expected, expected]
    assert counter.read_text().split() == ["conftest", "test_a"]  # once, in the server


def test_a_test_module_that_starts_a_thread_at_import_stops_the_judge_server_with_its_name(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_threads.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
        "def test_x():\n    pass\n")
    run = _serve_collected(tmp_path, suite, children=1)
    assert "served" not in run.stdout and "{" not in run.stdout  # no child was forked
    assert f"{suite / 'test_threads.py'}: importing it started a thread" in run.stderr


def test_the_judge_server_leaves_pytest_to_each_child_when_the_suite_needs_a_sandbox_library(tmp_path):
    from course.judge.server import collects_in_server

    (tmp_path / "test_a.py").write_text("import numpy\ndef test_x():\n    pass\n")
    assert collects_in_server(tmp_path)
    (tmp_path / "test_b.py").write_text("def test_tf():\n    import tensorflow as tf\n")
    assert not collects_in_server(tmp_path)  # importing it in the server would start threads


def test_validation_turns_the_suites_self_check_on_only_while_it_runs(monkeypatch):
    from course import validate
    from course.judge import self_check

    monkeypatch.delenv("COURSE_SELF_CHECK", raising=False)
    assert not self_check()  # grading: suites skip cross-checks of their own references
    with validate._self_check():
        assert self_check() and os.environ["COURSE_SELF_CHECK"] == "1"  # inherited by the judge server
    assert not self_check() and "COURSE_SELF_CHECK" not in os.environ


def test_a_judge_server_closed_before_it_is_ready_is_stopped_at_once_and_leaves_no_spool():
    from course.judge_server import JudgeServer
    from course.paths import Course

    server = JudgeServer.launch(Course(FIXTURE_COURSE), ASSIGNMENT)  # nothing to grade, say
    server.close()
    assert server.process.returncode == -9  # killed while importing, not waited for
    assert not server.spool.exists()


def test_submission_seed_is_stable_for_the_same_code_and_moves_with_any_edit():
    from course.judge.submission import submission_seed
    from course.notebook import CodeCell

    cells = [CodeCell(0, "import numpy as np", None), CodeCell(1, "def f(x):\n    return x", "f_impl")]
    same = [CodeCell(0, "import numpy as np", None), CodeCell(1, "def f(x):\n    return x", "f_impl")]
    edited = [CodeCell(0, "import numpy as np", None), CodeCell(1, "def f(x):\n    return x ", "f_impl")]
    merged = [CodeCell(0, "import numpy as np" + "def f(x):\n    return x", None)]
    assert submission_seed(cells) == submission_seed(same)
    assert submission_seed(cells) != submission_seed(edited)
    assert submission_seed(cells) != submission_seed(merged)  # cell boundaries count
    assert 0 <= submission_seed(cells) < 2**32
    # From the file, every byte counts: a markdown cell or metadata added moves the inputs.
    file = b'{"cells": [{"cell_type": "code", "source": "def f(x):\\n    return x"}]}'
    with_table = file.replace(b'"cells": [', b'"cells": [{"cell_type": "markdown", "source": "f(0.31) = 0.31"}, ')
    assert submission_seed(cells, file) == submission_seed(cells, bytes(file))
    assert submission_seed(cells, file) != submission_seed(cells, with_table)


def test_db_option_takes_a_path_or_a_url_and_explains_anything_else(tmp_path):
    import argparse

    from course.cli import gradebook_option

    assert gradebook_option(str(tmp_path / "grades.db")) == f"sqlite:///{tmp_path / 'grades.db'}"
    assert gradebook_option("postgresql://grader@dbhost/course") == "postgresql://grader@dbhost/course"
    for bad, says in ((str(tmp_path), "is a folder"), (str(tmp_path / "no" / "such.db"), "does not exist"),
                      ("sqlite://:bad:url://x", "not a database URL"),
                      ("nodb://host/x", "not a database URL")):
        with pytest.raises(argparse.ArgumentTypeError, match=says):
            gradebook_option(bad)


def test_course_grade_with_a_db_path_in_a_missing_folder_says_so_without_a_traceback(tmp_path):
    course_root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course_root)
    bad = subprocess.run([sys.executable, "-m", "course.cli", "grade", ASSIGNMENT, "nothing", "--db", "no/such/g.db"],
                         cwd=course_root, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
