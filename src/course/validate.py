"""`course validate`: every assignment checked against its own hidden suite.

Per assignment: lint is clean; release/ and solutions/ equal a fresh nbgrader generation; the
source notebook and every alternative score full marks; the unmodified release scores 0; each
mutant loses at least half (or its declared `loses:` share) of every part it lists under
`breaks:` and keeps full marks everywhere else (points lost elsewhere are collateral damage).
`--report` adds a table of how hard the suites bite.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import nbformat

from course import batch, lint, mutants, notebook as nb, release
from course.judge import SELF_CHECK_ENV
from course.paths import Course, CourseError

MIN_ALTERNATIVES = 2
# Every assignment must show at least MIN_ALTERNATIVES correct alternatives scoring full marks.
ALTERNATIVES_REQUIRED = True


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False   # shown, but does not fail validation


@dataclass
class MutantResult:
    name: str
    breaks: tuple[str, ...]
    required: float                      # the share of each broken part it must lose
    lost: dict[str, float]               # share of each part in breaks: lost (0..1)
    collateral: dict[str, float]         # points lost in parts outside breaks:

    @property
    def caught(self) -> bool:
        return all(v > 0 for v in self.lost.values())

    @property
    def enough(self) -> bool:
        return all(v >= self.required - 1e-9 for v in self.lost.values())


@dataclass
class Rigour:
    """What `--report` tabulates for one assignment."""
    mutants: list[MutantResult] = field(default_factory=list)
    alternatives: list[tuple[str, bool]] = field(default_factory=list)


def _parts_of(job: batch.Job) -> dict[str, tuple[float, float]]:
    data = json.loads((job.out / "results.json").read_text())
    return {p["grade_id"]: (p["score"], p["max_score"]) for p in data["extra_data"].get("parts", [])}


def _attempted_in_release(job: batch.Job) -> list[str]:
    data = json.loads((job.out / "results.json").read_text())
    return [p["grade_id"] for p in data["extra_data"].get("parts", []) if not p.get("not_attempted")]


def _describe(parts: dict[str, tuple[float, float]]) -> str:
    return ", ".join(f"{k} {s:g}/{m:g}" for k, (s, m) in parts.items())


def judge_mutant(mutant: mutants.Mutant, got: dict[str, tuple[float, float]]) -> MutantResult:
    lost = {p: ((got[p][1] - got[p][0]) / got[p][1] if got.get(p) and got[p][1] else 0.0) for p in mutant.breaks}
    collateral = {p: m - s for p, (s, m) in got.items() if p not in mutant.breaks and s < m}
    return MutantResult(mutant.name, mutant.breaks, mutant.loses, lost, collateral)


def _mutant_problems(result: MutantResult) -> str:
    problems = []
    weak = [f"{p} {share:.0%}" for p, share in result.lost.items() if share < result.required - 1e-9]
    if weak:
        problems.append(f"must lose at least {result.required:.0%} of {', '.join(result.breaks)}; lost {', '.join(weak)}")
    if result.collateral:
        problems.append("collateral damage in " + ", ".join(f"{p} -{v:g}" for p, v in result.collateral.items()))
    return "; ".join(problems)


def validate_assignment(course: Course, assignment: str, parallel: int, workspace: Path,
                        rigour: Rigour | None = None) -> list[Check]:
    rigour = rigour if rigour is not None else Rigour()
    checks = [Check("lint", *_as_check(lint.lint_assignment(course, assignment)))]
    checks.append(Check("release/ and solutions/ fresh", *_as_check(release.stale(course, assignment))))
    suite = course.autograder / assignment
    source_path = course.source_notebook(assignment)
    source = nb.load(source_path)
    parts = {p.grade_id: p.points for p in nb.parts(source)}

    submissions = workspace / assignment / "submitted"
    jobs: list[tuple[batch.Job, str, mutants.Mutant | None]] = []

    def add(student: str, notebook, expectation: str, mutant=None):
        folder = submissions / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{assignment}.ipynb")
        job = batch.Job(student, folder / f"{assignment}.ipynb", workspace / assignment / "out" / student / assignment)
        jobs.append((job, expectation, mutant))

    add("solution", source, "full")
    release_path = course.release_notebook(assignment)
    if release_path.exists():
        add("release", nb.load(release_path), "zero")
    else:
        checks.append(Check("release scores 0", False, f"{release_path} missing"))
    counts = {}
    for kind in ("mutant", "alternative"):
        try:
            variants = mutants.load_all(suite, kind)
        except CourseError as exc:
            checks.append(Check(f"{kind}s", False, str(exc)))
            continue
        counts[kind] = len(variants)
        for mutant in variants:
            try:
                add(f"{kind}-{mutant.name}", mutants.apply(source, mutant), kind, mutant)
            except CourseError as exc:
                checks.append(Check(f"{kind} {mutant.name}", False, str(exc)))
    if counts.get("mutant") == 0:
        checks.append(Check("mutants", False, f"no mutants in {suite / 'mutants'}"))
    if "alternative" in counts and counts["alternative"] < MIN_ALTERNATIVES:
        checks.append(Check(f"at least {MIN_ALTERNATIVES} alternatives", False,
                            f"{counts['alternative']} in {suite / 'alternatives'}", warning=not ALTERNATIVES_REQUIRED))

    graded = batch.grade(course, assignment, [j for j, _, _ in jobs], parallel=parallel, progress=False)
    for (job, expectation, mutant), (_, summary) in zip(jobs, graded):
        label = {"full": "source scores full marks", "zero": "release scores 0"}.get(expectation, job.student)
        if summary["status"] == "error":
            checks.append(Check(label, False, summary["error"][:300]))
            if expectation == "alternative":
                rigour.alternatives.append((mutant.name, False))
            continue
        got = _parts_of(job)
        full = all(s == m for s, m in got.values()) and summary["score"] == sum(parts.values())
        problem = ""
        if expectation in ("full", "alternative"):
            problem = "" if full else "a correct solution must score full marks"
            if expectation == "alternative":
                rigour.alternatives.append((mutant.name, full))
        elif expectation == "zero":
            problem = "" if summary["score"] == 0 else "the release must score 0"
            attempted = _attempted_in_release(job)
            if attempted:  # the feedback of an untouched notebook lists every case instead of one line
                checks.append(Check("release: every part 'not attempted'", False, warning=True,
                                    detail=f"{', '.join(attempted)}: some case failed for another reason than "
                                           f"the stub's NotImplementedError"))
        else:
            result = judge_mutant(mutant, got)
            rigour.mutants.append(result)
            problem = _mutant_problems(result)
        checks.append(Check(label, not problem, (f"{problem}: " if problem else "") +
                            f"{summary['score']:g}/{summary['max_score']:g} [{_describe(got)}] "
                            f"{summary['execution_time']:.1f}s"))
    return checks


def _as_check(problems: list[str]) -> tuple[bool, str]:
    return (not problems, "ok" if not problems else "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))


def validate(course: Course, assignments: list[str], parallel: int = 1, stream=None, report: bool = False) -> bool:
    stream = stream or sys.stdout
    all_ok = True
    table: dict[str, Rigour] = {}
    with _self_check(), tempfile.TemporaryDirectory(prefix="course-validate-") as workspace:
        for assignment in assignments:
            table[assignment] = Rigour()
            try:
                checks = validate_assignment(course, assignment, parallel, Path(workspace), table[assignment])
            except CourseError as exc:
                checks = [Check("validate", False, str(exc))]
            width = max(len(c.name) for c in checks)
            print(f"\n{assignment}", file=stream)
            for check in checks:
                status = "ok  " if check.ok else "warn" if check.warning else "FAIL"
                print(f"  {status}  {check.name:<{width}}  {check.detail}", file=stream)
            all_ok &= all(c.ok or c.warning for c in checks)
    if report:
        print_report(table, stream)
    print(f"\n{'all assignments valid' if all_ok else 'VALIDATION FAILED'}", file=stream)
    return all_ok


def print_report(table: dict[str, Rigour], stream) -> None:
    """Per assignment: mutants caught (lost points in every part they break) and at the bar
    (lost at least their required share), the median share of its broken part a mutant loses,
    alternatives at full marks, and collateral damage; then every mutant below the bar."""
    header = ("assignment", "mutants", "caught", "at bar", "median loss", "alternatives ok", "collateral")
    rows = []
    for assignment, rigour in table.items():
        shares = [share for m in rigour.mutants for share in m.lost.values()]
        collateral = [m for m in rigour.mutants if m.collateral]
        rows.append((assignment, str(len(rigour.mutants)), str(sum(m.caught for m in rigour.mutants)),
                     str(sum(m.enough for m in rigour.mutants)),
                     f"{statistics.median(shares):.0%}" if shares else "-",
                     f"{sum(ok for _, ok in rigour.alternatives)}/{len(rigour.alternatives)}",
                     f"{len(collateral)} ({sum(sum(m.collateral.values()) for m in collateral):g} pts)"
                     if collateral else "0"))
    every = [m for r in table.values() for m in r.mutants]
    shares = [s for m in every for s in m.lost.values()]
    alternatives = [ok for r in table.values() for _, ok in r.alternatives]
    rows.append(("all", str(len(every)), str(sum(m.caught for m in every)), str(sum(m.enough for m in every)),
                 f"{statistics.median(shares):.0%}" if shares else "-", f"{sum(alternatives)}/{len(alternatives)}",
                 str(sum(bool(m.collateral) for m in every))))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print("\nRigour report", file=stream)
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)), file=stream)
    weak = [(a, m) for a, r in table.items() for m in r.mutants if not m.enough]
    if weak:
        print("\nMutants below their bar (lose less than the required share of a part they break):", file=stream)
        for assignment, m in weak:
            lost = ", ".join(f"{p} {s:.0%}" for p, s in m.lost.items())
            print(f"  {assignment}/mutants/{m.name}.py: lost {lost} (needs {m.required:.0%})", file=stream)


def _self_check():
    """Suites also cross-check their own references while validating (course.judge.self_check);
    the judges inherit the setting through the environment of the batch's judge server."""
    return mock.patch.dict(os.environ, {SELF_CHECK_ENV: "1"})
