"""Grade many submissions: find them, run one judge worker each (-j at a time), record scores.

Workers are separate processes, so a broken submission or a judge crash costs that submission
its grading, never the batch. The batch process alone writes the gradebook.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from course import gradebook, notebook as nb
from course.judge import results
from course.judge.config import JudgeConfig
from course.paths import Course, CourseError, course_id


@dataclass(frozen=True)
class Job:
    student: str
    notebook: Path
    out: Path            # <out>/<student>/<assignment>/
    timestamp: str | None = None


def find_notebook(folder: Path, assignment: str) -> Path:
    """The assignment's notebook in a submission folder: NN_slug.ipynb, else the only .ipynb."""
    preferred = folder / f"{assignment}.ipynb"
    if preferred.exists():
        return preferred
    candidates = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if len(candidates) == 1:
        return candidates[0]
    return preferred  # missing: the worker reports "cannot read" for this student


def discover(assignment: str, paths: list[Path], out: Path, student: str | None = None) -> list[Job]:
    """Jobs from notebooks and nbgrader folders (submitted/ or submitted/<student>/)."""
    jobs: list[Job] = []
    for path in paths:
        path = Path(path)
        if path.is_file() or path.suffix == ".ipynb":
            name = student or _student_from_path(path, assignment)
            jobs.append(Job(name, path, out / name / assignment))
        elif (path / assignment).is_dir():
            jobs.append(_job_from_folder(path.name, path / assignment, assignment, out))
        elif path.is_dir():
            for child in sorted(p for p in path.iterdir() if p.is_dir() and (p / assignment).is_dir()):
                jobs.append(_job_from_folder(child.name, child / assignment, assignment, out))
        else:
            raise CourseError(f"{path}: no such file or folder")
    names = [j.student for j in jobs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CourseError(f"student id(s) {', '.join(duplicates)} appear more than once; pass --student or one folder")
    return jobs


def _job_from_folder(student: str, folder: Path, assignment: str, out: Path) -> Job:
    stamp = folder / "timestamp.txt"
    timestamp = stamp.read_text().strip() if stamp.exists() else None
    return Job(student, find_notebook(folder, assignment), out / student / assignment, timestamp)


def _submissions_root(notebook: Path, assignment: str) -> Path:
    """submitted/ for nbgrader's layout (every student's folder), else the notebook's folder."""
    folder = notebook.resolve().parent
    return folder.parent.parent if folder.name == assignment else folder


def _student_from_path(path: Path, assignment: str) -> str:
    # submitted/<student>/<assignment>/<notebook>.ipynb names its student; a loose file does not.
    if path.parent.name == assignment and path.parent.parent.name:
        return path.parent.parent.name
    return path.stem


class Progress:
    """A one-line bar on a terminal, a line per submission otherwise."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.started = time.monotonic()
        self.tty = stream.isatty()
        self._lock = threading.Lock()

    def advance(self, label: str) -> None:
        with self._lock:
            self.done += 1
            elapsed = time.monotonic() - self.started
            if self.tty:
                filled = int(30 * self.done / self.total)
                self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
                                  f"{elapsed:5.0f}s {label[:40]:<40}")
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(f"[{self.done}/{self.total}] {label}\n")
            self.stream.flush()


def run_worker(course: Course, assignment: str, job: Job, timeout: float, hide: list[Path]) -> dict:
    """One judge process for one submission; its summary line, or an error description."""
    command = [sys.executable, "-m", "course.judge.worker", "--course", str(course.root), "--assignment",
               assignment, "--notebook", str(job.notebook), "--student", job.student, "--out", str(job.out)]
    for path in hide:
        command += ["--hide", str(path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return {"status": "error", "error": f"the judge did not finish within {timeout:g} s"}
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"status": "error", "error": f"the judge exited with status {process.returncode}: {stderr[-2000:]}"}
    return json.loads(lines[-1])


def grade(course: Course, assignment: str, jobs: list[Job], *, parallel: int = 1, db_url: str | None = None,
          progress: bool = True) -> list[tuple[Job, dict]]:
    """Grade the jobs; returns (job, summary) in job order. Scores go to the gradebook when db_url is set."""
    config = JudgeConfig.load(course.autograder / assignment)
    source = nb.load(course.source_notebook(assignment))
    timeout = config.total_timeout + 120  # the judge's own budget plus start-up and pytest
    hide = sorted({_submissions_root(j.notebook, assignment) for j in jobs} | {j.out.resolve().parent.parent for j in jobs})
    bar = Progress(len(jobs)) if progress and jobs else None
    summaries: dict[int, dict] = {}
    cid = course_id(course.root)
    with ThreadPoolExecutor(max_workers=max(parallel, 1)) as pool:
        futures = {pool.submit(run_worker, course, assignment, job, timeout, hide): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            index = futures[future]
            job, summary = jobs[index], future.result()
            if summary["status"] == "error":
                _write_error(job, assignment, summary["error"])
            elif db_url:
                result = json.loads((job.out / "results.json").read_text())
                gradebook.record(db_url, cid, assignment, source, result, job.timestamp)
            summaries[index] = summary
            if bar:
                score = f"{summary['score']:g}/{summary['max_score']:g}" if "score" in summary else "ERROR"
                bar.advance(f"{job.student} {score}")
    return [(job, summaries[i]) for i, job in enumerate(jobs)]


def _write_error(job: Job, assignment: str, message: str) -> None:
    """A judge failure is recorded as such (status error, no score), never as a grade."""
    document = {"score": 0.0, "max_score": 0.0, "execution_time": 0.0, "output": f"Not graded: {message}",
                "tests": [], "extra_data": {"assignment": assignment, "student": job.student, "status": "error",
                                            "error": message, "parts": [], "cell_errors": [], "notes": []}}
    results.write(document, job.out)


def table(rows: list[tuple[Job, dict]]) -> str:
    width = max([len("student")] + [len(job.student) for job, _ in rows])
    lines = [f"{'student':<{width}}  {'score':>12}  {'time':>7}  status"]
    for job, summary in rows:
        if "score" in summary:
            score = f"{summary['score']:g} / {summary['max_score']:g}"
            lines.append(f"{job.student:<{width}}  {score:>12}  {summary['execution_time']:6.1f}s  {summary['status']}")
        else:
            lines.append(f"{job.student:<{width}}  {'-':>12}  {'':>7}  ERROR {summary['error'][:80]}")
    return "\n".join(lines)
