"""Unit tests: resume planning, shards, the GPU device pool."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest
from pathlib import Path

from course import gpus, planning
from course.batch import Job
from course.paths import CourseError


def _job(tmp_path, student, text='{"cells": []}'):
    notebook = tmp_path / "submitted" / student / "a.ipynb"
    notebook.parent.mkdir(parents=True, exist_ok=True)
    notebook.write_text(text)
    return Job(student, notebook, tmp_path / "out" / student / "a")


def _graded(job, status="graded", sha=None):
    job.out.mkdir(parents=True, exist_ok=True)
    document = {"score": 1.0, "max_score": 2.0, "execution_time": 0.5,
                "extra_data": {"status": status, "notebook_sha256": sha or planning.sha256_of(job.notebook)}}
    (job.out / "results.json").write_text(json.dumps(document))


def test_unchanged_submissions_are_kept_and_the_rest_graded(tmp_path):
    fresh, unchanged, resubmitted, errored = (_job(tmp_path, s) for s in ("fresh", "same", "resub", "err"))
    _graded(unchanged)
    _graded(resubmitted)
    resubmitted.notebook.write_text('{"cells": [], "x": 1}')
    _graded(errored, status="error")
    plan = planning.plan([fresh, unchanged, resubmitted, errored], force=False, settle=0)
    assert plan.todo == [0, 2, 3]
    assert plan.kept == {1: {"status": "graded", "score": 1.0, "max_score": 2.0, "execution_time": 0.5, "kept": True}}
    assert planning.plan([fresh, unchanged], force=True, settle=0).todo == [0, 1]


def test_leftover_temporary_files_of_a_killed_write_are_removed(tmp_path):
    job = _job(tmp_path, "amy")
    job.out.mkdir(parents=True)
    (job.out / ".results.json.abc123").write_text('{"score": 3')
    planning.plan([job], force=False, settle=0)
    assert list(job.out.iterdir()) == []


def test_a_notebook_still_being_written_waits_but_an_old_broken_one_is_graded(tmp_path):
    young = _job(tmp_path, "young", '{"cells": [')
    old = _job(tmp_path, "old", '{"cells": [')
    past = time.time() - 60
    os.utime(old.notebook, (past, past))
    plan = planning.plan([young, old], force=False, settle=30)
    assert list(plan.incomplete) == [0] and "still being written" in plan.incomplete[0]["note"]
    assert plan.todo == [1]
    assert planning.plan([young], force=False, settle=0).todo == [0]


def test_shards_partition_a_class_deterministically():
    students = [f"s{i:03d}" for i in range(300)]
    owners = Counter()
    for student in students:
        shards = [i for i in range(1, 5) if planning.in_shard(student, i, 4)]
        assert len(shards) == 1
        owners[shards[0]] += 1
    assert set(owners) == {1, 2, 3, 4} and min(owners.values()) > 40  # roughly balanced
    # Fixed expectations: a student's shard is the same in every process and on every machine.
    expected = {("s007", 4): 4, ("amy", 4): 1, ("bo", 4): 4, ("s123", 4): 3, ("zed", 4): 3,
                ("s007", 7): 6, ("amy", 7): 5, ("bo", 7): 3, ("s123", 7): 5, ("zed", 7): 4}
    for (student, count), shard in expected.items():
        assert [i for i in range(1, count + 1) if planning.in_shard(student, i, count)] == [shard]


# Shard of each id with N = 4, fixed once: a change here moves students between machines of a
# sharded run in progress, so it must be deliberate.
FIXED_SHARDS = {"s000": 1, "s007": 4, "alice": 4, "bob": 3, "kim01": 2, "park_j": 2}


def _shards_in_a_fresh_process(hash_seed: str) -> dict[str, int]:
    script = ("import json, sys; from course import planning; "
              "print(json.dumps({s: [i for i in range(1, 5) if planning.in_shard(s, i, 4)] for s in sys.argv[1:]}))")
    run = subprocess.run([sys.executable, "-c", script, *FIXED_SHARDS], capture_output=True, text=True,
                         env={**os.environ, "PYTHONHASHSEED": hash_seed}, timeout=60, check=True)
    return {student: shards[0] for student, shards in json.loads(run.stdout).items() if len(shards) == 1}


def test_a_students_shard_is_the_same_in_every_process():
    assert {s: [i for i in range(1, 5) if planning.in_shard(s, i, 4)] for s in FIXED_SHARDS} == {
        s: [shard] for s, shard in FIXED_SHARDS.items()}
    for hash_seed in ("1", "2", "random"):  # str hashing differs per process unless fixed
        assert _shards_in_a_fresh_process(hash_seed) == FIXED_SHARDS


@pytest.mark.parametrize("text", ["3", "0/2", "3/2", "a/b"])
def test_bad_shard_spec_is_explained(text):
    with pytest.raises(CourseError, match="--shard"):
        planning.parse_shard(text)


def test_gpu_pool_pins_one_sandbox_per_device():
    pool = gpus.DevicePool(True, ["0", "1"])
    assert pool.slots(8) == 2
    first, second = pool.acquire(), pool.acquire()
    assert {first, second} == {"0", "1"}
    with pytest.raises(RuntimeError):
        pool.acquire()
    assert pool.env(first) == {"CUDA_VISIBLE_DEVICES": first}
    pool.release(first)
    assert pool.acquire() == first
    assert pool.describe("1") == {"device": "cuda:1"}


def test_gpu_assignment_without_gpu_falls_back_to_cpu_and_says_so():
    pool = gpus.DevicePool(True, [])
    assert pool.slots(2) == 2 and pool.acquire() is None
    assert pool.env(None) == {"CUDA_VISIBLE_DEVICES": ""}
    assert pool.describe(None) == {"device": "cpu", "device_note": gpus.NO_GPU_NOTE}


def test_cpu_assignments_never_see_a_gpu():
    pool = gpus.DevicePool(False, ["0", "1"])
    assert pool.slots(4) == 4 and pool.acquire() is None
    assert pool.env(None) == {"CUDA_VISIBLE_DEVICES": ""} and pool.describe(None) == {"device": "cpu"}


def test_detect_honours_the_override(monkeypatch):
    monkeypatch.setenv("COURSE_GPUS", "0, 2")
    assert gpus.detect() == ["0", "2"]
    monkeypatch.setenv("COURSE_GPUS", "")
    assert gpus.detect() == []


def test_a_changed_hidden_suite_regrades_everyone(tmp_path):
    job = _job(tmp_path, "amy")
    _graded(job)
    document = json.loads((job.out / "results.json").read_text())
    document["extra_data"]["suite_sha256"] = "old-suite"
    (job.out / "results.json").write_text(json.dumps(document))
    assert planning.plan([job], force=False, settle=0, suite="old-suite").todo == []
    assert planning.plan([job], force=False, settle=0, suite="new-suite").todo == [0]


def test_suite_hash_follows_the_suite_and_notebooks():
    import shutil
    import tempfile

    from conftest import ASSIGNMENT, FIXTURE_COURSE
    from course.paths import Course

    root = tempfile.mkdtemp()
    try:
        shutil.copytree(FIXTURE_COURSE, root, dirs_exist_ok=True)
        course = Course(Path(root))
        suite = course.autograder / ASSIGNMENT
        seen = {planning.suite_hash(course, ASSIGNMENT)}
        assert planning.suite_hash(course, ASSIGNMENT) in seen  # stable while nothing changes
        # Each input that decides a grade moves the hash, each to a value not seen before.
        for path in (next(suite.glob("test_*.py")), suite / "judge.toml", suite / "probes.py",
                     course.source_notebook(ASSIGNMENT), course.release_notebook(ASSIGNMENT)):
            assert path.exists(), path
            path.write_bytes(path.read_bytes() + b"\n")
            changed = planning.suite_hash(course, ASSIGNMENT)
            assert changed not in seen, f"editing {path.name} does not change the suite hash"
            seen.add(changed)
        import course as platform
        real = platform.__version__
        try:
            platform.__version__ = real + ".post1"
            assert planning.suite_hash(course, ASSIGNMENT) not in seen, "a new platform version does not regrade"
        finally:
            platform.__version__ = real
    finally:
        shutil.rmtree(root)


def test_a_future_mtime_counts_as_settled(tmp_path):
    broken = _job(tmp_path, "future", '{"cells": [')
    future = time.time() + 10 * 365 * 86400
    os.utime(broken.notebook, (future, future))
    assert planning.plan([broken], force=False, settle=30).todo == [0]


def test_planning_survives_any_submission_and_never_blocks(tmp_path):
    deep = _job(tmp_path, "deep", "[" * 50_000)         # RecursionError in json, young
    old_deep = _job(tmp_path, "olddeep", "[" * 50_000)
    past = time.time() - 60
    os.utime(old_deep.notebook, (past, past))
    fifo = _job(tmp_path, "fifo")
    fifo.notebook.unlink()
    os.mkfifo(fifo.notebook)                            # reading it would block the batch forever
    folder = _job(tmp_path, "folder")
    folder.notebook.unlink()
    folder.notebook.mkdir()
    sparse = _job(tmp_path, "sparse")
    with open(sparse.notebook, "wb") as stream:
        stream.truncate(2 * 2**30)                      # 2 GB that must not be read to be hashed
    link = _job(tmp_path, "link")
    link.notebook.unlink()
    link.notebook.symlink_to(deep.notebook)
    _graded(link, sha=planning.sha256_of(deep.notebook) or "x")
    started = time.monotonic()
    plan = planning.plan([deep, old_deep, fifo, folder, sparse, link], force=False, settle=30)
    assert time.monotonic() - started < 5
    assert list(plan.incomplete) == [0]
    assert plan.todo == [1, 2, 3, 4, 5]   # the judge or the batch reports each one's verdict
    assert planning.sha256_of(link.notebook) is None and planning.sha256_of(sparse.notebook) is None


def test_refused_jobs_are_planned_as_refused_and_never_touched(tmp_path):
    refused = Job("'=1+1'", tmp_path / "x.ipynb", None, refused="submitted/=1+1: not a student id")
    plan = planning.plan([refused], force=False, settle=30)
    assert plan.refused == {0: {"status": "refused", "note": "submitted/=1+1: not a student id"}}
    assert plan.todo == [] and list(tmp_path.iterdir()) == []
