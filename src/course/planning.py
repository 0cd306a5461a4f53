"""Which submissions a batch grades: resume what a killed run left, skip what is unchanged,
wait for what is still being written, and split a class into deterministic shards."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from course import notebook as nb
from course.paths import CourseError


@dataclass
class Plan:
    todo: list[int] = field(default_factory=list)               # job indexes to grade now
    kept: dict[int, dict] = field(default_factory=dict)         # unchanged since graded: summary
    incomplete: dict[int, dict] = field(default_factory=dict)   # still being written: summary
    refused: dict[int, dict] = field(default_factory=dict)      # not a student's folder: summary


def sha256_of(path: Path, below: Path | None = None) -> str | None:
    """The hash of a submitted file, read safely; None when it cannot be read as a notebook file."""
    try:
        return hashlib.sha256(nb.read_submission(Path(path), below)).hexdigest()
    except nb.NotebookError:
        return None


def suite_hash(course, assignment: str) -> str:
    """What else decides a grade: the hidden suite, judge.toml, the source and release notebooks,
    and the platform's version. Changing any of them regrades everyone."""
    import course as platform

    digest = hashlib.sha256(platform.__version__.encode())
    files = [p for p in sorted((course.autograder / assignment).rglob("*"))
             if p.is_file() and "__pycache__" not in p.parts]
    files += [course.source_notebook(assignment), course.release_notebook(assignment)]
    from course import schedule  # due dates, late policy and extensions decide the penalty

    digest.update(repr(schedule.load(course.root).of(assignment)).encode())
    for path in files:
        digest.update(str(path.relative_to(course.root)).encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()


def _graded_hash(results_path: Path) -> tuple[str | None, dict | None]:
    """The notebook hash a finished results.json records (None for errors and unreadable files)."""
    try:
        document = json.loads(results_path.read_text())
        extra = document["extra_data"]
    except (OSError, ValueError, KeyError, TypeError):
        return None, None
    if not isinstance(extra, dict):
        return None, None  # a damaged results.json ("extra_data": null) regrades, never stops the batch
    if extra.get("status") == "error":
        return None, None  # a judge failure is never final: grade it again
    return extra.get("notebook_sha256"), document


def _still_written(notebook: Path, raw: bytes | None, settle: float) -> bool:
    """A notebook that does not parse yet and changed in the last `settle` seconds is mid-copy.
    A modification time in the future counts as settled (nbgrader's copies keep the student's
    mtimes: a future one would otherwise keep a broken notebook waiting forever)."""
    if settle <= 0 or raw is None:
        return False
    try:
        age = time.time() - notebook.lstat().st_mtime
    except OSError:
        return False
    if age < 0 or age >= settle:
        return False
    try:
        json.loads(raw)
        return False
    except (ValueError, RecursionError, MemoryError):
        return True


def _clean_leftovers(out: Path) -> None:
    """Temporary files of an atomic write that a kill interrupted (never a results.json)."""
    for leftover in out.glob(".results.json.*"):
        leftover.unlink(missing_ok=True)


def plan(jobs, *, force: bool, settle: float, suite: str | None = None) -> Plan:
    result = Plan()
    for index, job in enumerate(jobs):
        if getattr(job, "refused", None):
            result.refused[index] = {"status": "refused", "note": job.refused}
            continue
        if job.out.is_dir():
            _clean_leftovers(job.out)
        try:
            raw = nb.read_submission(job.notebook, getattr(job, "below", None))
        except nb.NotebookError:
            raw = None  # the batch reports why, as this student's verdict
        if _still_written(job.notebook, raw, settle):
            result.incomplete[index] = {"status": "incomplete",
                                        "note": f"{nb.printable(job.notebook)} is still being written; run again to grade it"}
            continue
        if not force:
            graded, document = _graded_hash(job.out / "results.json")
            same_suite = suite is None or document and document["extra_data"].get("suite_sha256") == suite
            if graded is not None and same_suite and raw is not None and graded == hashlib.sha256(raw).hexdigest():
                result.kept[index] = {"status": document["extra_data"]["status"], "score": document["score"],
                                      "max_score": document["max_score"],
                                      "execution_time": document["execution_time"], "kept": True}
                continue
        result.todo.append(index)
    return result


def parse_shard(text: str) -> tuple[int, int]:
    """'2/5' -> (2, 5); shards are numbered from 1."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise CourseError(f"--shard {text!r}: expected I/N, e.g. 2/5") from None
    if not 1 <= index <= count:
        raise CourseError(f"--shard {text!r}: I must be between 1 and N")
    return index, count


def in_shard(student: str, index: int, count: int) -> bool:
    """Deterministic and stable: a student's shard depends on their id only, not on the class list."""
    digest = hashlib.sha256(student.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count == index - 1
