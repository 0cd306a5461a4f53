"""`course validate`: every assignment checked against its own hidden suite.

Per assignment: lint is clean; release/ and solutions/ equal a fresh nbgrader generation; the
source notebook scores full marks; the unmodified release scores 0; each mutant loses points
in every part it lists under `breaks:` and keeps full marks everywhere else.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import nbformat

from course import batch, lint, mutants, notebook as nb, release
from course.judge import SELF_CHECK_ENV
from course.paths import Course, CourseError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _parts_of(job: batch.Job) -> dict[str, tuple[float, float]]:
    data = json.loads((job.out / "results.json").read_text())
    return {p["grade_id"]: (p["score"], p["max_score"]) for p in data["extra_data"].get("parts", [])}


def _describe(parts: dict[str, tuple[float, float]]) -> str:
    return ", ".join(f"{k} {s:g}/{m:g}" for k, (s, m) in parts.items())


def validate_assignment(course: Course, assignment: str, parallel: int, workspace: Path) -> list[Check]:
    checks = [Check("lint", *_as_check(lint.lint_assignment(course, assignment)))]
    checks.append(Check("release/ and solutions/ fresh", *_as_check(release.stale(course, assignment))))
    suite = course.autograder / assignment
    source_path = course.source_notebook(assignment)
    source = nb.load(source_path)
    parts = {p.grade_id: p.points for p in nb.parts(source)}

    submissions = workspace / assignment / "submitted"
    jobs: list[tuple[batch.Job, str, tuple[str, ...] | None]] = []

    def add(student: str, notebook, expectation: str, breaks=None):
        folder = submissions / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{assignment}.ipynb")
        job = batch.Job(student, folder / f"{assignment}.ipynb", workspace / assignment / "out" / student / assignment)
        jobs.append((job, expectation, breaks))

    add("solution", source, "full")
    release_path = course.release_notebook(assignment)
    if release_path.exists():
        add("release", nb.load(release_path), "zero")
    else:
        checks.append(Check("release scores 0", False, f"{release_path} missing"))
    for kind in ("mutant", "alternative"):
        try:
            variants = mutants.load_all(suite, kind)
        except CourseError as exc:
            checks.append(Check(f"{kind}s", False, str(exc)))
            continue
        for mutant in variants:
            try:
                add(f"{kind}-{mutant.name}", mutants.apply(source, mutant), kind if kind == "mutant" else "full",
                    mutant.breaks)
            except CourseError as exc:
                checks.append(Check(f"{kind} {mutant.name}", False, str(exc)))
    if not any(e == "mutant" for _, e, _ in jobs):
        checks.append(Check("mutants", False, f"no mutants in {suite / 'mutants'}"))

    graded = batch.grade(course, assignment, [j for j, _, _ in jobs], parallel=parallel, progress=False)
    for (job, expectation, breaks), (_, summary) in zip(jobs, graded):
        label = job.student if job.student != "solution" else "source scores full marks"
        label = "release scores 0" if expectation == "zero" else label
        if summary["status"] == "error":
            checks.append(Check(label, False, summary["error"][:300]))
            continue
        got = _parts_of(job)
        if expectation == "full":
            ok = all(s == m for s, m in got.values()) and summary["score"] == sum(parts.values())
        elif expectation == "zero":
            ok = summary["score"] == 0
        else:
            lost = {k for k, (s, m) in got.items() if s < m}
            ok = lost == set(breaks)
            if not ok:
                label += f" (must lose exactly: {', '.join(breaks)})"
        checks.append(Check(label, ok, f"{summary['score']:g}/{summary['max_score']:g} [{_describe(got)}] "
                                       f"{summary['execution_time']:.1f}s"))
    return checks


def _as_check(problems: list[str]) -> tuple[bool, str]:
    return (not problems, "ok" if not problems else "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))


def validate(course: Course, assignments: list[str], parallel: int = 1, stream=None) -> bool:
    stream = stream or sys.stdout
    all_ok = True
    with _self_check(), tempfile.TemporaryDirectory(prefix="course-validate-") as workspace:
        for assignment in assignments:
            try:
                checks = validate_assignment(course, assignment, parallel, Path(workspace))
            except CourseError as exc:
                checks = [Check("validate", False, str(exc))]
            width = max(len(c.name) for c in checks)
            print(f"\n{assignment}", file=stream)
            for check in checks:
                print(f"  {'ok  ' if check.ok else 'FAIL'}  {check.name:<{width}}  {check.detail}", file=stream)
            all_ok &= all(c.ok for c in checks)
    print(f"\n{'all assignments valid' if all_ok else 'VALIDATION FAILED'}", file=stream)
    return all_ok


def _self_check():
    """Suites also cross-check their own references while validating (course.judge.self_check);
    the judges inherit the setting through the environment of the batch's judge server."""
    return mock.patch.dict(os.environ, {SELF_CHECK_ENV: "1"})
