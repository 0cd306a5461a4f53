"""`make bench` end to end on a tiny class: both tools grade it and the figures are written."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_grades_a_tiny_class_with_both_tools(tmp_path):
    # PATH without the venv, as under `make bench`: nbgrader's gradebook must still find alembic.
    env = {**os.environ, "PATH": "/usr/local/bin:/usr/bin:/bin", "BENCH_N": "3",
           "BENCH_ASSIGNMENTS": "02_autograd_engine", "BENCH_JOBS": "2", "BENCH_OUT": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "course.bench"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "02_autograd_engine" in run.stdout  # the printed table has the row
    [row] = json.loads((tmp_path / "bench.json").read_text())
    assert row["assignment"] == "02_autograd_engine" and row["n"] == 3
    assert row["course"]["graded"] == 3  # every submission of the class has a results.json
    for tool in ("nbgrader", "course"):
        assert row[tool]["wall_s"] > 0 and row[tool]["per_min"] > 0 and row[tool]["peak_mib"] > 0
    assert row["ratio"] == pytest.approx(row["nbgrader"]["wall_s"] / row["course"]["wall_s"], rel=0.01)
    # The README's claim is a ratio far above 1 (several times faster even at N = 3); a bench that
    # measures the two tools the wrong way round, or grades nothing, lands below 1.
    assert row["ratio"] > 1, row
    assert (tmp_path / "bench.png").stat().st_size > 1000


def test_bench_help_and_bad_arguments_exit_before_grading_anything(tmp_path):
    # --help, a typo in an assignment or a bad size must not start a half-hour run.
    def bench(*args, **env):
        return subprocess.run([sys.executable, "-m", "course.bench", "--out", str(tmp_path / "out"), *args],
                              cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    helped = bench("--help")
    assert helped.returncode == 0 and "--assignments" in helped.stdout and "BENCH_N" in helped.stdout
    typo = bench("--assignments", "02_autograd_engine,99_nope")
    assert typo.returncode == 2 and "no such assignment" in typo.stderr and "99_nope" in typo.stderr
    bad_size = bench(BENCH_N="10,x")
    assert bad_size.returncode == 2 and "'10,x'" in bad_size.stderr
    assert not (tmp_path / "out").exists()


def test_marginal_overhead_leaves_out_the_fixed_start_up():
    from course.bench import marginal_overhead

    # Two slots; a 6 s start-up, then 0.5 s of judging plus 0.05 s of machinery per submission.
    def row(n):
        wall = 6.0 + n * 0.55 / 2
        return {"n": n, "jobs": 2, "mean_judged_s": 0.5, "course": {"wall_s": wall}}

    assert marginal_overhead(row(30), row(60)) == pytest.approx(0.05, abs=1e-3)
