"""Whole-class grading: kill -9 and resume, resubmissions, shards merged into one gradebook, GPU pinning."""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from conftest import ASSIGNMENT, FIXTURE_COURSE, build_notebook, submit
from course import batch, planning
from course.paths import Course, course_id

pytestmark = pytest.mark.slow
COURSE_CMD = [sys.executable, "-m", "course.cli"]


@pytest.fixture
def course(own_course) -> Course:
    return own_course  # these tests grade whole classes into it


def _class(course: Course, size: int) -> dict[str, str]:
    """A class of solved, half-solved and broken submissions; returns student -> sha256."""
    kinds = [
        build_notebook(course),
        build_notebook(course, replace={"add_impl": "def add(a, b):\n    return a - b\n"}),
        build_notebook(course, replace={"norm_impl": "def norm(x):\n    raise ValueError('nope')\n"}),
    ]
    hashes = {}
    for i in range(size):
        path = submit(course, f"s{i:02d}", kinds[i % len(kinds)])
        hashes[f"s{i:02d}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


@pytest.fixture
def tmp_path():
    """A private TMPDIR for the batch (its processes are found by this path), reachable by sandbox uids."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="course-test-batch-", dir="/tmp"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _grade_cli(course, tmp, *args, env_extra=None):
    env = {**os.environ, "TMPDIR": str(tmp), **(env_extra or {})}
    return subprocess.Popen([*COURSE_CMD, "grade", ASSIGNMENT, "submitted", "-j", "2", "--settle", "0", *args],
                            cwd=course.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _results(course) -> dict[str, dict]:
    found = {}
    for path in (course.root / "autograded").glob(f"*/{ASSIGNMENT}/results.json"):
        found[path.parent.parent.name] = json.loads(path.read_text())  # must parse: never partial
    return found


def _gradebook_rows(course, db_url=None) -> dict[str, dict[str, float | None]]:
    rows = {}
    with Gradebook(db_url or course.gradebook_url, course_id=course_id(course.root)) as gb:
        try:
            assignment = gb.find_assignment(ASSIGNMENT)
        except Exception:
            return rows
        for submission in assignment.submissions:
            notebook = submission.notebooks[0]
            rows[submission.student.id] = {g.name: g.auto_score for g in notebook.grades}
    return rows


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(f"{entry.name}: {cmdline[:200]}")
    return found


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_kill_9_at_any_moment_then_the_same_command_finishes_the_rest(course, tmp_path):
    hashes = _class(course, 8)
    rng = random.Random(1234)
    # Three kills: one at a random early moment, two once some results exist (mid-batch).
    for wait_for_results in (0, 1, 4):
        process = _grade_cli(course, tmp_path)
        if wait_for_results:
            assert _wait_for(lambda: len(_results(course)) >= wait_for_results, 240), process.communicate()
        else:
            time.sleep(rng.uniform(0.2, 3.0))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert _wait_for(lambda: not _processes_mentioning(str(tmp_path)), 20), _processes_mentioning(str(tmp_path))
        for student, document in _results(course).items():
            assert document["extra_data"]["notebook_sha256"] == hashes[student]
        for student, grades in _gradebook_rows(course).items():
            assert None not in grades.values(), f"half-written gradebook row for {student}: {grades}"
    graded_before = set(_results(course))
    assert len(graded_before) >= 4
    process = _grade_cli(course, tmp_path)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, out + err
    kept = {line.split()[0] for line in out.splitlines() if "kept" in line}
    assert kept == graded_before, "what a killed run finished is not graded again"
    documents = _results(course)
    assert set(documents) == set(hashes)
    rows = _gradebook_rows(course)
    for student, document in documents.items():
        parts = {p["grade_id"]: p["score"] for p in document["extra_data"]["parts"]}
        assert rows[student] == parts
    for student, sha in hashes.items():
        path = course.root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, "submissions are never modified"
    assert not list((course.root / "autograded").glob("*/*/.results.json.*"))
    assert not _processes_mentioning(str(tmp_path))


def test_a_resubmission_is_regraded_and_an_unchanged_one_is_not(course, tmp_path):
    _class(course, 8)
    first = _grade_cli(course, tmp_path)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, out + err
    submit(course, "s01", build_notebook(course))  # s01 fixes its add()
    second = _grade_cli(course, tmp_path)
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, out + err
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "kept" not in lines["s01"] and re.search(r"\b3 / 3\b", lines["s01"])
    assert all("kept" in line for student, line in lines.items() if student != "s01")
    assert _gradebook_rows(course)["s01"] == {"add": 2.0, "norm": 1.0}


def test_shards_merge_into_the_same_gradebook_as_one_run(course, tmp_path):
    _class(course, 9)
    single_db = f"sqlite:///{tmp_path / 'single.db'}"
    one = subprocess.run([*COURSE_CMD, "grade", ASSIGNMENT, "submitted", "-j", "2", "--settle", "0",
                          "--out", str(tmp_path / "single"), "--db", single_db],
                         cwd=course.root, capture_output=True, text=True)
    assert one.returncode == 0, one.stdout + one.stderr
    # The Kubernetes manifest's own commands, one process per completion index, on this course.
    import yaml

    manifest = Path(__file__).parents[1] / "hub" / "k8s" / "grade-shards-job.yaml"
    indexed, merge = yaml.safe_load_all(manifest.read_text())
    assert indexed["spec"]["completionMode"] == "Indexed"
    (container,) = indexed["spec"]["template"]["spec"]["containers"]
    script = container["args"][0].replace("/course/", f"{course.root}/")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           **{e["name"]: e["value"] for e in container["env"]}, "ASSIGNMENT": ASSIGNMENT, "SHARDS": "3"}
    shards = [subprocess.Popen([*container["command"], script], cwd=course.root,
                               env={**env, "JOB_COMPLETION_INDEX": str(index)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for index in range(3)]
    counts = []
    for shard in shards:
        out, err = shard.communicate(timeout=600)
        assert shard.returncode == 0, out + err
        counts.append(int(re.search(r"shard \d/3: (\d+) submission", err).group(1)))
    assert sum(counts) == 9
    merged_db = f"sqlite:///{tmp_path / 'merged.db'}"
    (merger,) = merge["spec"]["template"]["spec"]["containers"]
    args = [a.replace("ASSIGNMENT", ASSIGNMENT).replace("sqlite:////course/gradebook.db", merged_db)
             .replace("/course/", f"{course.root}/") for a in merger["args"]]
    record = subprocess.run([*COURSE_CMD, *args], cwd=course.root, capture_output=True, text=True)
    assert record.returncode == 0 and "9 submission(s)" in record.stdout, record.stdout + record.stderr
    single = _gradebook_rows(course, single_db)
    assert len(single) == 9 and _gradebook_rows(course, merged_db) == single


def test_gpu_assignment_runs_one_sandbox_per_device(course, tmp_path):
    judge = course.autograder / ASSIGNMENT / "judge.toml"
    original = judge.read_text()
    judge.write_text(original + "gpu = true\n")
    try:
        probe = ("import os, time\n_t0 = time.time()\ntime.sleep(0.6)\n"
                 "print('RUN', os.environ.get('CUDA_VISIBLE_DEVICES'), _t0, time.time())\n")
        jobs = []
        for i in range(6):
            path = submit(course, f"g{i}", build_notebook(course, insert_after={"add_impl": probe}))
            jobs += batch.discover(ASSIGNMENT, [path.parent.parent], tmp_path / "out")
        rows = batch.grade(course, ASSIGNMENT, jobs, parallel=4, progress=False, devices=["0", "1"])
        runs = []
        for job, summary in rows:
            assert summary["status"] == "graded" and summary["score"] == 3.0
            document = json.loads((job.out / "results.json").read_text())
            device, start, end = re.search(r"RUN (\S+) (\S+) (\S+)", document["extra_data"]["notebook_output"]).groups()
            assert document["extra_data"]["device"] == f"cuda:{device}"
            runs.append((device, float(start), float(end)))
        assert sorted({device for device, _, _ in runs}) == ["0", "1"]
        pairs = 0
        for a in runs:
            overlapping = [b for b in runs if b is not a and b[1] < a[2] and a[1] < b[2]]
            assert all(b[0] != a[0] for b in overlapping), "two sandboxes shared a GPU"
            assert len(overlapping) <= 1, "more sandboxes than GPUs at once"
            pairs += len(overlapping)
        assert pairs > 0, "no two sandboxes ever ran at once: the pool was never under contention"
        cpu_rows = batch.grade(course, ASSIGNMENT, jobs[:1], parallel=2, progress=False, devices=[], force=True)
        document = json.loads((cpu_rows[0][0].out / "results.json").read_text())
        assert document["extra_data"]["device"] == "cpu" and "no GPU on this grader" in document["output"]
        assert "RUN  " in document["extra_data"]["notebook_output"], "CPU fallback hides every GPU"
    finally:
        judge.write_text(original)


@pytest.mark.parametrize("broken, reason", [
    # Collected once in the judge server: the collection error reaches every child's result.
    ("test_broken.py", "the hidden suite does not import"),
    # pytest stops before its test loop: the server leaves pytest to each child, which reports it.
    ("conftest.py", "pytest could not run the hidden suite"),
])
def test_a_broken_hidden_suite_is_an_error_for_every_submission_never_a_score(course, tmp_path, broken, reason):
    hashes = _class(course, 2)
    (course.autograder / ASSIGNMENT / broken).write_text("raise RuntimeError('the author broke this')\n")
    run = _grade_cli(course, tmp_path)
    out, err = run.communicate(timeout=600)
    assert run.returncode == 1, out + err  # a judge error is never a clean exit
    assert [line.split()[0] for line in out.splitlines() if "ERROR" in line] == ["s00", "s01"], out
    documents = _results(course)
    assert sorted(documents) == ["s00", "s01"], out + err
    for student, document in documents.items():
        assert document["extra_data"]["status"] == "error" and document["score"] == 0.0
        assert reason in document["extra_data"]["error"], document["extra_data"]["error"]
        path = course.root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == hashes[student]
    assert _gradebook_rows(course) == {}  # no row, not even a zero
