"""`make bench`: grade the same synthetic class with `nbgrader autograde` and with `course grade`.

For each assignment (01, 02 and 07 when it exists) and each class size N (default 10, 30, 60)
it builds N submissions (solved, unmodified releases, every mutant, hostile ones), grades them
with both tools on this machine, and prints submissions per minute, the ratio, the
per-submission overhead (slot time per submission minus the student's own cell time; for
course grade also the batch overhead: slot time minus the whole judging of the submission,
hidden suite included, and the marginal overhead: the same for the submissions a size adds to
the one before it, which leaves out the batch's fixed start-up) and the peak memory (PSS of
the whole process tree). Figures go to .bench/bench.json and .bench/bench.png.

    BENCH_N=10,30,60 BENCH_ASSIGNMENTS=01_tensors,02_autograd_engine make bench
    python -m course.bench --n 10 --assignments 02_autograd_engine

BENCH_JOBS (--jobs) sets course grade's -j (default: the core count); BENCH_OUT (--out) the
output folder.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat

from course import mutants, notebook as nb
from course.judge.config import JudgeConfig
from course.paths import Course, ensure_scripts_on_path

HOSTILE = {
    # Each replaces the first solution cell; none may raise a score (see tests/test_adversarial.py).
    "os_exit": "import os\nos._exit(0)\n",
    "always_equal": "class _Eq:\n    def __eq__(self, other):\n        return True\n\nfake = _Eq()\n",
    "fake_results": 'print(\'{"score": 100, "max_score": 100, "tests": []}\')\n',
}


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


class PeakMemory:
    """Samples the summed PSS of a process and all its descendants (pid namespaces included)."""

    def __init__(self, root_pid: int):
        self.root, self.peak_kib, self._stop = root_pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                children.setdefault(ppid, []).append(int(entry))
        tree, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += children.get(pid, [])
        return tree

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            total = 0
            for pid in self._tree():
                try:
                    for line in open(f"/proc/{pid}/smaps_rollup"):
                        if line.startswith("Pss:"):
                            total += int(line.split()[1])
                            break
                except OSError:
                    pass
            self.peak_kib = max(self.peak_kib, total)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kib / 1024


def _timed(command: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = PeakMemory(process.pid)
    out, err = process.communicate()
    wall = time.monotonic() - started
    return wall, memory.stop(), subprocess.CompletedProcess(command, process.returncode, out, err)


def _class_notebooks(course: Course, assignment: str) -> list[tuple[str, object]]:
    source = nb.load(course.source_notebook(assignment))
    solved = nb.load(course.solutions / assignment / f"{assignment}.ipynb")
    released = nb.load(course.release_notebook(assignment))
    kinds = [("solved", solved), ("release", released)]
    kinds += [(f"mutant-{m.name}", mutants.apply(source, m)) for m in mutants.load_all(course.autograder / assignment)]
    first_solution = next(c for c in solved.cells if nb.is_solution(c) and c.cell_type == "code")
    for name, code in HOSTILE.items():
        hostile = nbformat.from_dict(json.loads(nbformat.writes(solved)))
        for cell in hostile.cells:
            if nb.grade_id(cell) == nb.grade_id(first_solution):
                cell.source = code
        kinds.append((f"hostile-{name}", hostile))
    # Half of a real class hands in working code: interleave solved notebooks with the rest.
    mixed = []
    for other in kinds[1:]:
        mixed += [kinds[0], other]
    return mixed


def _nbgrader_course(course: Course, assignment: str, work: Path, cell_timeout: float) -> Path:
    root = work / "nbgrader"
    if root.exists():
        shutil.rmtree(root)
    (root / "source").mkdir(parents=True)
    shutil.copytree(course.source / assignment, root / "source" / assignment)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'bench'\n"
        f"c.Execute.timeout = {int(cell_timeout)}\n"  # the same per-cell limit as the judge
        "c.Execute.allow_errors = True\n")
    made = subprocess.run([_bin("nbgrader"), "generate_assignment", assignment, "--force", "--log-level=ERROR"],
                          cwd=root, capture_output=True, text=True)
    if made.returncode != 0:
        raise SystemExit(f"bench: nbgrader generate_assignment {assignment} failed in {root}:\n"
                         f"{made.stdout[-2000:]}{made.stderr[-2000:]}")
    return root


def _place_class(root: Path, assignment: str, kinds, size: int) -> list[str]:
    submitted = root / "submitted"
    if submitted.exists():
        shutil.rmtree(submitted)
    for folder in ("autograded", "feedback"):
        shutil.rmtree(root / folder, ignore_errors=True)
    names = []
    for i in range(size):
        kind, notebook = kinds[i % len(kinds)]
        folder = submitted / f"s{i:03d}" / assignment
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{assignment}.ipynb")
        (folder / "timestamp.txt").write_text("2026-11-20 23:59:00.000000 UTC")
        names.append(kind)
    return names


def bench_one(course: Course, assignment: str, size: int, work: Path, root: Path, kinds, jobs: int) -> dict:
    _place_class(root, assignment, kinds, size)
    nbg_wall, nbg_mem, nbg = _timed([_bin("nbgrader"), "autograde", assignment, "--create", "--force",
                                     "--log-level=ERROR"], root)
    if nbg.returncode != 0:
        print(f"  nbgrader autograde exited {nbg.returncode}: {nbg.stderr[-500:]}", file=sys.stderr)
    out = work / "course-out"
    shutil.rmtree(out, ignore_errors=True)
    ours_wall, ours_mem, ours = _timed([_bin("course"), "grade", assignment, str(root / "submitted"), "-j", str(jobs),
                                        "--no-gradebook", "--force", "--settle", "0", "--out", str(out)], course.root)
    if ours.returncode != 0:
        print(f"  course grade exited {ours.returncode}: {ours.stderr[-500:]}", file=sys.stderr)
    documents = [json.loads(p.read_text()) for p in out.glob(f"*/{assignment}/results.json")]
    cells = [d["extra_data"].get("cell_seconds", 0.0) for d in documents]
    mean_cells = sum(cells) / max(len(cells), 1)
    # execution_time is one submission's whole judging (sandbox, cells, hidden suite): what is left
    # of a slot beyond it is the batch machinery (queue, fork, results.json, feedback, gradebook).
    judged = [d.get("execution_time", 0.0) for d in documents]
    mean_judged = sum(judged) / max(len(judged), 1)
    return {
        "assignment": assignment, "n": size, "jobs": jobs,
        "nbgrader": {"wall_s": round(nbg_wall, 2), "per_min": round(60 * size / nbg_wall, 1),
                     "overhead_s": round(nbg_wall / size - mean_cells, 3), "peak_mib": round(nbg_mem)},
        "course": {"wall_s": round(ours_wall, 2), "per_min": round(60 * size / ours_wall, 1),
                   "overhead_s": round(ours_wall * jobs / size - mean_cells, 3), "peak_mib": round(ours_mem),
                   "batch_overhead_s": round(ours_wall * jobs / size - mean_judged, 3),
                   "graded": len(documents)},
        "mean_cell_s": round(mean_cells, 3),
        "mean_judged_s": round(mean_judged, 3),
        "ratio": round(nbg_wall / ours_wall, 2),
    }


def marginal_overhead(smaller: dict, larger: dict) -> float:
    """The batch overhead of one more submission: the slot time the larger class adds beyond the
    judging it adds. Unlike `batch_overhead_s` it leaves out the batch's fixed start-up (judge
    server and zygote imports), which a larger class spreads thinner."""
    jobs = larger["jobs"]
    added_slot_time = (larger["course"]["wall_s"] - smaller["course"]["wall_s"]) * jobs
    added_judging = larger["mean_judged_s"] * larger["n"] - smaller["mean_judged_s"] * smaller["n"]
    return round((added_slot_time - added_judging) / (larger["n"] - smaller["n"]), 3)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assignments = sorted({r["assignment"] for r in rows})
    figure, axes = plt.subplots(1, len(assignments), figsize=(5 * len(assignments), 4), squeeze=False)
    for axis, assignment in zip(axes[0], assignments):
        mine = sorted((r for r in rows if r["assignment"] == assignment), key=lambda r: r["n"])
        sizes = [r["n"] for r in mine]
        axis.plot(sizes, [r["nbgrader"]["wall_s"] for r in mine], "o-", label="nbgrader autograde")
        axis.plot(sizes, [r["course"]["wall_s"] for r in mine], "s-", label=f"course grade -j {mine[0]['jobs']}")
        axis.set(title=assignment, xlabel="submissions (N)", ylabel="wall time (s)")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


DEFAULT_ASSIGNMENTS = "01_tensors,02_autograd_engine,07_attention"


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(n) for n in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"class sizes must be comma-separated integers, got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"class sizes must be at least 1, got {text!r}")
    return sizes


def parse_args(argv: list[str] | None, course: Course) -> argparse.Namespace:
    # Flags override the BENCH_* variables; string defaults go through type= like flags do, so
    # a bad variable is reported the same way as a bad flag.
    parser = argparse.ArgumentParser(prog="python -m course.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=_sizes, default=os.environ.get("BENCH_N", "10,30,60"),
                        help="class sizes, comma-separated (BENCH_N; default 10,30,60)")
    parser.add_argument("--assignments", default=os.environ.get("BENCH_ASSIGNMENTS"),
                        help=f"comma-separated (BENCH_ASSIGNMENTS; default those of {DEFAULT_ASSIGNMENTS} that exist)")
    parser.add_argument("-j", "--jobs", type=int, default=os.environ.get("BENCH_JOBS", str(os.cpu_count() or 1)),
                        help="course grade's -j (BENCH_JOBS; default the core count)")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("BENCH_OUT", course.root / ".bench")),
                        help="output folder (BENCH_OUT; default .bench)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if args.assignments is None:
        args.assignments = [a for a in DEFAULT_ASSIGNMENTS.split(",") if (course.source / a).is_dir()]
    else:
        args.assignments = [a for a in args.assignments.split(",") if a]
        unknown = [a for a in args.assignments if not (course.source / a).is_dir()]
        if unknown:
            parser.error(f"no such assignment in {course.source}: {', '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    course = Course.find()
    args = parse_args(argv, course)
    ensure_scripts_on_path()  # nbgrader shells out to `alembic`, which `make bench` does not put on PATH
    sizes, assignments, jobs, out = args.n, args.assignments, args.jobs, args.out
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    header = (f"{'assignment':<20} {'N':>4}  {'nbgrader/min':>12} {'course/min':>10} {'ratio':>6}  "
              f"{'overhead nbgrader':>17} {'overhead course':>15} {'batch overhead':>14} {'marginal':>9}  "
              f"{'peak MiB nbg':>12} {'peak MiB course':>15}")
    print(header)
    for assignment in assignments:
        work = out / assignment
        work.mkdir(exist_ok=True)
        config = JudgeConfig.load(course.autograder / assignment)
        root = _nbgrader_course(course, assignment, work, config.cell_timeout)
        kinds = _class_notebooks(course, assignment)
        previous = None
        for size in sorted(sizes):
            row = bench_one(course, assignment, size, work, root, kinds, jobs)
            if previous is not None and size > previous["n"]:
                row["course"]["marginal_overhead_s"] = marginal_overhead(previous, row)
            marginal = row["course"].get("marginal_overhead_s")
            rows.append(row)
            previous = row
            print(f"{assignment:<20} {size:>4}  {row['nbgrader']['per_min']:>12.1f} {row['course']['per_min']:>10.1f} "
                  f"{row['ratio']:>5.1f}x  {row['nbgrader']['overhead_s']:>16.2f}s {row['course']['overhead_s']:>14.2f}s {row['course']['batch_overhead_s']:>13.2f}s "
                  f"{f'{marginal:.2f}s' if marginal is not None else '-':>9}  "
                  f"{row['nbgrader']['peak_mib']:>12} {row['course']['peak_mib']:>15}", flush=True)
            (out / "bench.json").write_text(json.dumps(rows, indent=2) + "\n")
    if rows:
        plot(rows, out / "bench.png")
        print(f"\nfigures: {out / 'bench.json'}, plot: {out / 'bench.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
