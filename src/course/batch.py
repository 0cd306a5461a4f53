"""Grade many submissions: find them, judge each in its own process (-j at a time), record scores.

One warm judge server forks a judge per submission and one zygote forks its sandboxes, so a
submission costs its own run time, not interpreter start-up and imports. A broken submission
or a judge crash costs that submission its grading, never the batch. The batch process alone
writes the gradebook and results.json.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from course import gpus, notebook as nb, planning, schedule
from course.inbound import is_timestamp
from course.judge import results
from course.hub.roster import ID as STUDENT_ID
from course.judge.config import JudgeConfig
from course.judge_server import JudgeServer
from course.judge.submission import start_zygote
from course.sandbox.launcher import Zygote
from course.paths import Course, CourseError, course_id


@dataclass(frozen=True)
class Job:
    student: str
    notebook: Path
    out: Path | None     # <out>/<student>/<assignment>/ (None for a refused folder)
    timestamp: str | None = None
    below: Path | None = None    # the grader's folder: nothing between it and the notebook may be a link
    refused: str | None = None   # why this folder is not graded at all (its name is no student id)

    def read(self) -> bytes:
        """The submission's bytes, read safely (links refused, FIFOs and huge files unread)."""
        return nb.read_submission(self.notebook, self.below)


def find_notebook(folder: Path, assignment: str) -> Path:
    """The assignment's notebook in a submission folder: NN_slug.ipynb, else the only .ipynb."""
    preferred = folder / f"{assignment}.ipynb"
    if preferred.exists():
        return preferred
    candidates = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if len(candidates) == 1:
        return candidates[0]
    return preferred  # missing: the judge reports "cannot read" for this student


def discover(assignment: str, paths: list[Path], out: Path, student: str | None = None) -> list[Job]:
    """Jobs from notebooks and nbgrader folders (submitted/ or submitted/<student>/).

    A folder whose name is not a student id by the roster's rule (terminal escapes, `=formula`,
    `..`, new lines) becomes a refused job: it names the folder, escaped, and nothing of it
    reaches a path, the gradebook or a CSV."""
    if student is not None and not STUDENT_ID.match(student):
        raise CourseError(f"--student {nb.printable(repr(student))}: not a student id (lower-case letters, "
                          "digits, '-' and '_', starting with a letter, at most 32 characters)")
    jobs: list[Job] = []
    for path in paths:
        path = Path(path)
        if path.is_file() or path.suffix == ".ipynb":
            name = student or _student_from_path(path, assignment)
            jobs.append(_checked(Job(name, path, out / name / assignment, below=path.parent), path,
                                 "pass --student ID"))
        elif (path / assignment).is_dir():
            jobs.append(_job_from_folder(path.name, path / assignment, assignment, out, below=path))
        elif path.is_dir():
            for child in sorted(p for p in path.iterdir() if p.is_dir() and (p / assignment).is_dir()):
                jobs.append(_job_from_folder(child.name, child / assignment, assignment, out, below=path))
        else:
            raise CourseError(f"{nb.printable(path)}: no such file or folder")
    names = [j.student for j in jobs if not j.refused]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CourseError(f"student id(s) {', '.join(duplicates)} appear more than once; pass --student or one folder")
    return jobs


def _checked(job: Job, where: Path, hint: str = "rename the folder to the student's id") -> Job:
    """The job, or a refused one when its student id breaks the roster's rule."""
    if STUDENT_ID.match(job.student):
        return job
    shown = nb.printable(repr(job.student), 80)
    return Job(shown, job.notebook, None, refused=f"{nb.printable(where)}: {shown} is not a student id "
                                                   f"(lower-case letters, digits, '-' and '_'); not graded: {hint}")


def _job_from_folder(student: str, folder: Path, assignment: str, out: Path, below: Path) -> Job:
    if not STUDENT_ID.match(student):
        return _checked(Job(student, folder, None), folder.parent)
    return Job(student, find_notebook(folder, assignment), out / student / assignment,
               read_timestamp(folder / "timestamp.txt", below), below=below)


def read_timestamp(path: Path, below: Path | None) -> str | None:
    """The submission's timestamp.txt when it is a plain nbgrader timestamp, else None."""
    try:
        text = nb.read_submission(path, below, limit=200).decode("ascii").strip()
    except (nb.NotebookError, UnicodeDecodeError):
        return None
    return text if is_timestamp(text) else None  # anything else could crash the gradebook's date parser


def _submissions_root(job: Job, assignment: str) -> Path:
    """submitted/ for nbgrader's layout (every student's folder), else the notebook's folder.
    Never through a link a student made: its target (say the C library's folder) would be
    hidden from every sandbox of the batch."""
    if job.below is not None:
        return Path(os.path.abspath(job.below))  # the folder the grader named
    folder = Path(os.path.abspath(job.notebook)).parent
    return folder.parent.parent if folder.name == assignment else folder


def hidden_roots(jobs: list[Job], assignment: str) -> list[str]:
    """What the batch hides from every sandbox besides the course: where the submissions and
    the results are."""
    return sorted({str(_submissions_root(j, assignment)) for j in jobs} |
                  {os.path.abspath(j.out.parent.parent) for j in jobs})


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


@dataclass
class _Running:
    job: Job
    deadline: float
    device: str | None
    pid: int | None = None


def grade(course: Course, assignment: str, jobs: list[Job], *, parallel: int = 1, db_url: str | None = None,
          progress: bool = True, force: bool = False, settle: float = 0.0,
          devices: list[str] | None = None, server: JudgeServer | None = None,
          zygote: Zygote | None = None) -> list[tuple[Job, dict]]:
    """Grade the jobs; returns (job, summary) in job order. Scores go to the gradebook when db_url is set.

    Resumable: a job whose results.json records the hash of the notebook as it is now is kept
    (unless `force`). results.json is written last, after the gradebook row is committed, so
    whatever a kill interrupts is graded again by the next run. `server` is a judge server
    launched early (`JudgeServer.launch`) so that it warms up while this plans, and `zygote`
    the same for the sandboxes (`start_zygote(config, wait=False)`); the caller closes them.
    Without them, a batch with anything to grade launches its own.
    """
    config = JudgeConfig.load(course.autograder / assignment)
    source = nb.load(course.source_notebook(assignment))
    timing = schedule.load(course.root, course.assignments()).of(assignment)
    lates = {job.student: timing.lateness(job.student, schedule.parse_nbgrader_timestamp(job.timestamp))
             for job in jobs}
    suite = planning.suite_hash(course, assignment)
    plan = planning.plan(jobs, force=force, settle=settle, suite=suite)
    summaries: dict[int, dict] = {i: s for i, s in plan.kept.items()}
    summaries.update(plan.incomplete)
    summaries.update(plan.refused)
    writer = None
    if db_url:
        from course import gradebook  # nbgrader takes 1.7 s to import; only a batch with a gradebook needs it

        writer = gradebook.Writer(db_url, course_id(course.root), assignment, source, timing.due)
    try:
        if writer:
            writer.record_missing([jobs[i] for i in plan.kept], [_read_results(jobs[i]) for i in plan.kept])
        if plan.todo:
            summaries.update(_run(course, assignment, config, jobs, plan.todo, parallel, writer, progress, devices,
                                  suite, server, zygote, nb.parts(source), lates))
    finally:
        if writer:
            writer.close()
    return [(job, summaries[i]) for i, job in enumerate(jobs)]


def _run(course, assignment, config, jobs, todo, parallel, writer, progress, devices, suite,
         server, zygote, parts, lates) -> dict[int, dict]:
    timeout = config.total_timeout + 120  # the judge's own budget plus start-up and pytest
    hide = hidden_roots([jobs[i] for i in todo], assignment)
    pool = gpus.DevicePool(config.gpu, gpus.detect() if devices is None else devices)
    slots = pool.slots(max(parallel, 1))
    bar = Progress(len(todo)) if progress else None
    summaries: dict[int, dict] = {}
    own_server = server is None
    server = server or JudgeServer.launch(course, assignment, config)
    spool = server.spool
    own_zygote = zygote is None
    try:
        zygote = zygote or start_zygote(config, wait=False)  # imports its preload while the server warms up
        try:
            server.wait_ready()
            zygote.wait_ready()
            waiting = list(todo)
            running: dict[int, _Running] = {}
            finished: list[tuple[int, _Running, int]] = []  # judged, not yet recorded
            while waiting or running or finished:
                while waiting and len(running) < slots:
                    index = waiting.pop(0)
                    job = jobs[index]
                    try:
                        snapshot = _snapshot(job, spool / str(index), assignment)
                    except nb.NotebookError as exc:  # a link, a FIFO, a folder, too large: no judge needed
                        summaries[index] = _record_unreadable(job, assignment, parts, str(exc), suite, writer,
                                                              lates.get(job.student))
                        if bar:
                            bar.advance(f"{job.student} unreadable")
                        continue
                    device = pool.acquire()
                    server.submit({"id": index, "notebook": str(snapshot), "shown": nb.printable(job.notebook),
                                   "student": job.student, "zygote": zygote.address,
                                   "out": str(job.out), "hide": hide, "env": pool.env(device),
                                   "extra": {**pool.describe(device), "suite_sha256": suite,
                                             "notebook": nb.printable(job.notebook),
                                             **({"timestamp": job.timestamp} if job.timestamp else {}),
                                             **({"late": lates[job.student]} if lates.get(job.student) else {})}})
                    running[index] = _Running(job, time.monotonic() + timeout, device)
                # Record what finished after its slot has a new judge: the gradebook commit and
                # results.json (fsync'd) then overlap the next student's judging.
                for index, entry, code in finished:
                    summary = _finish(entry.job, assignment, spool, index, code, writer)
                    summaries[index] = summary
                    if bar:
                        score = f"{summary['score']:g}/{summary['max_score']:g}" if "score" in summary else "ERROR"
                        bar.advance(f"{entry.job.student} {score}")
                finished = []
                for event in server.events(timeout=0.5) if running else []:
                    entry = running.get(event["id"])
                    if entry is None:
                        continue
                    if "pid" in event:
                        entry.pid = event["pid"]
                        continue
                    del running[event["id"]]
                    pool.release(entry.device)
                    finished.append((event["id"], entry, event["exit"]))
                for index, entry in running.items():
                    if time.monotonic() > entry.deadline and entry.pid:
                        (spool / f"{index}.timeout").touch()
                        try:
                            os.killpg(entry.pid, signal.SIGKILL)  # its exit event follows
                        except ProcessLookupError:
                            pass
                        entry.deadline = float("inf")
        finally:
            if own_zygote:
                zygote.close()
    finally:
        if own_server:
            server.close()
    return summaries


def _snapshot(job: Job, folder: Path, assignment: str) -> Path:
    """Copy the submission once, read safely, into the batch's private spool: the judge hashes
    and grades this copy, so a student who swaps the file mid-grading changes nothing."""
    raw = job.read()
    folder.mkdir(mode=0o700)
    path = folder / f"{assignment}.ipynb"
    with open(path, "xb") as stream:
        stream.write(raw)
    return path


def _record_unreadable(job: Job, assignment: str, parts, message: str, suite: str, writer, late=None) -> dict:
    """A submission that is not a notebook file at all (a link, a FIFO, a folder, a 2 GB file):
    zero with the reason, recorded like any grade."""
    from course.judge import feedback

    meta = {"assignment": assignment, "student": job.student, "notebook": nb.printable(job.notebook),
            "suite_sha256": suite, **({"timestamp": job.timestamp} if job.timestamp else {}),
            **({"late": late} if late else {})}
    document = results.unreadable(parts, meta, message, 0.0)
    if writer:
        writer.record(document, job.timestamp)
    feedback.write(document, job.out)
    results.write(document, job.out)
    return _summary(document)


def _finish(job: Job, assignment: str, spool: Path, index: int, code: int, writer) -> dict:
    """Record one finished judge: gradebook row first, then results.json, the commit marker."""
    shutil.rmtree(spool / str(index), ignore_errors=True)  # the snapshot
    spooled = spool / f"{index}.json"
    if (spool / f"{index}.timeout").exists():
        result = {"status": "error", "error": "the judge did not finish in time and was stopped"}
    elif spooled.exists():
        result = json.loads(spooled.read_text())
    else:
        log = (spool / f"{index}.log").read_bytes()[-2000:].decode("utf-8", "replace") if (spool / f"{index}.log").exists() else ""
        result = {"status": "error", "error": f"the judge exited with status {code}: {log.strip()}"}
    if result.get("status") == "error":
        _write_error(job, assignment, result["error"])
        return {"status": "error", "error": result["error"]}
    if writer:
        writer.record(result, job.timestamp)
    results.write(result, job.out)
    return _summary(result)


def _summary(result: dict) -> dict:
    return {"status": result["extra_data"]["status"], "score": result["score"],
            "max_score": result["max_score"], "execution_time": result["execution_time"]}


def _read_results(job: Job) -> dict:
    return json.loads((job.out / "results.json").read_text())


def record_results(course: Course, assignment: str, out: Path, db_url: str) -> tuple[int, list[str]]:
    """Merge every graded results.json under out/<student>/<assignment>/ into the gradebook."""
    from course import gradebook

    source = nb.load(course.source_notebook(assignment))
    jobs, documents, skipped = [], [], []
    for path in sorted(out.glob(f"*/{assignment}/results.json")):
        try:
            document = json.loads(path.read_text())
            graded = document["extra_data"]["status"] != "error"
            graded = graded and STUDENT_ID.match(document["extra_data"]["student"]) is not None
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            graded = False
        if not graded:
            skipped.append(nb.printable(path.parent.parent.name, 80))
            continue
        jobs.append(Job(document["extra_data"]["student"], Path(document["extra_data"].get("notebook", "")),
                        path.parent, document["extra_data"].get("timestamp")))
        documents.append(document)
    due = schedule.load(course.root, course.assignments()).of(assignment).due
    writer = gradebook.Writer(db_url, course_id(course.root), assignment, source, due)
    try:
        writer.record_missing(jobs, documents)
    finally:
        writer.close()
    return len(jobs), skipped


def _write_error(job: Job, assignment: str, message: str) -> None:
    """A judge failure is recorded as such (status error, no score), never as a grade."""
    document = {"score": 0.0, "max_score": 0.0, "execution_time": 0.0, "output": f"Not graded: {message}",
                "tests": [], "extra_data": {"assignment": assignment, "student": job.student, "status": "error",
                                            "error": message, "parts": [], "cell_errors": [], "notes": []}}
    results.write(document, job.out)


def table(rows: list[tuple[Job, dict]]) -> str:
    """The batch's summary for a terminal: every student-influenced text shown escaped."""
    show = nb.printable
    width = max([len("student")] + [len(job.student) for job, _ in rows])
    lines = [f"{'student':<{width}}  {'score':>12}  {'time':>7}  status"]
    for job, summary in rows:
        if "score" in summary:
            score = f"{summary['score']:g} / {summary['max_score']:g}"
            status = summary["status"] + (" (unchanged since last run: kept)" if summary.get("kept") else "")
            lines.append(f"{job.student:<{width}}  {score:>12}  {summary['execution_time']:6.1f}s  {status}")
        elif summary["status"] == "incomplete":
            lines.append(f"{job.student:<{width}}  {'-':>12}  {'':>7}  INCOMPLETE {show(summary['note'])}")
        elif summary["status"] == "refused":
            lines.append(f"{job.student:<{width}}  {'-':>12}  {'':>7}  REFUSED {show(summary['note'])}")
        else:
            lines.append(f"{job.student:<{width}}  {'-':>12}  {'':>7}  ERROR {show(summary['error'], 80)}")
    return "\n".join(lines)
