"""Grading a catalogued mutant honestly and with a lying cell, for the red team "probe-lies" tests
(tests/test_probe_lies*.py): the lie, code that patches what a probe could call (np.array_equal,
torch.equal, a shadowed torch.Tensor attribute), is appended to the student's own answer cell of
the last mutant, which the judge runs; a probe that decides nothing in the sandbox gives both the
same score, part by part.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat

from course import mutants, notebook as nb

REPO = Path(__file__).resolve().parents[1]


def grade(tmp_path, assignment, mutant_names, lie):
    """(score, {part: "got / points"}) of the solution with the mutants applied, plus `lie` if given."""
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
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    return result["score"], {line.split(":")[0].strip(): line.split(":")[1].strip()
                             for line in result["output"].splitlines()[1:] if ":" in line}


def same_with_and_without(tmp_path, assignment, mutant_names, lie):
    """Grade honestly and lying; assert both score the same, part by part; return the honest
    (score, {part: "got / points"})."""
    honest = grade(tmp_path / "honest", assignment, mutant_names, lie=None)
    lying = grade(tmp_path / "lying", assignment, mutant_names, lie=lie)
    assert "Note" not in lying[1]   # the lying cell was run, not replaced by the original
    assert lying == honest, f"{assignment} {mutant_names}: honest {honest}, lying {lying}"
    return honest
