"""The hub and course.toml: only assignments that are open are released, with their due dates,
and the hub's waiting loop releases what opens while it runs."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import textwrap

from conftest import ASSIGNMENT, FIXTURE_COURSE
from course.hub import embedded as hub
from course.paths import Course

UTC = dt.timezone.utc


def test_only_open_assignments_are_scheduled_for_release(tmp_path):
    course = Course(tmp_path / "course")
    shutil.copytree(FIXTURE_COURSE, course.root)
    (course.root / "course.toml").write_text(
        f"[assignments.{ASSIGNMENT}]\nopen = 2027-03-02T09:00:00+09:00\ndue = 2027-03-09T23:59:00+09:00\n")
    before, plan = hub.scheduled(course, dt.datetime(2027, 3, 1, 23, 59, 59, tzinfo=UTC))  # 09:00 KST is 00:00 UTC
    assert before == [] and plan.of(ASSIGNMENT).due == dt.datetime(2027, 3, 9, 14, 59, tzinfo=UTC)
    after, _ = hub.scheduled(course, dt.datetime(2027, 3, 2, 0, 0, 0, tzinfo=UTC))
    assert after == [ASSIGNMENT]
    (course.root / "course.toml").unlink()
    assert hub.scheduled(course)[0] == [ASSIGNMENT]  # no schedule: everything is open


def test_the_hubs_wait_reaps_its_children_and_runs_the_tick_whatever_it_raises(tmp_path):
    # In a process of its own: waitpid(-1) must not reap this test runner's children.
    script = textwrap.dedent("""
        import json, subprocess, sys, time
        from course.hub.embedded import wait_reaping
        ticks = []
        def tick():
            ticks.append(time.monotonic())
            if len(ticks) == 2:
                raise RuntimeError("a release failed")
        orphan = subprocess.Popen(["true"])            # exits at once: a zombie unless reaped
        hub = subprocess.Popen(["sleep", "2"])
        code = wait_reaping(hub, tick=tick, every=0.25)
        try:
            state = open(f"/proc/{orphan.pid}/stat").read().split()[2]
        except FileNotFoundError:
            state = "gone"
        print(json.dumps({"code": code, "ticks": len(ticks), "orphan": state}))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["code"] == 0 and report["orphan"] == "gone"
    assert 3 <= report["ticks"] <= 8            # due every 0.25 s (checked every 0.2 s) for 2 s, past the one that raised
    assert "scheduled release failed: a release failed" in run.stderr
