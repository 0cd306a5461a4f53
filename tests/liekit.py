"""Grading a catalogued mutant with a lying cell appended, for the red team "probe-lies" tests
(test_probe_lies*.py): a cell that patches what a probe could call must not change its score."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat

from course import mutants, notebook as nb

REPO = Path(__file__).resolve().parents[1]


def grade_mutants(tmp_path: Path, assignment: str, mutant_names, lie: str | None = None):
    """(score, {part: "got / points"}) of the solution with the mutants applied and, with `lie`,
    that code appended to the last mutant's answer cell (which the judge runs as the student's)."""
    solution = nb.load(REPO / "solutions" / assignment / f"{assignment}.ipynb")
    for name in mutant_names:
        mutant = mutants.parse(REPO / "autograder" / assignment / "mutants" / f"{name}.py")
        solution = mutants.apply(solution, mutant)
    if lie:
        cell, = [c for c in solution.cells if nb.grade_id(c) == mutant.replaces]
        cell.source += "\n" + lie
    tmp_path.mkdir(parents=True)
    path = tmp_path / f"{assignment}.ipynb"
    nbformat.write(solution, str(path))
    done = subprocess.run([sys.executable, "-m", "course.cli", "grade", assignment, str(path), "--json",
                           "--no-gradebook", "--out", str(tmp_path / "out"), "--student", "rt"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    return result["score"], {line.split(":")[0].strip(): line.split(":")[1].strip()
                             for line in result["output"].splitlines()[1:] if ":" in line}
