"""Red team "probe-lies" on a real assignment: a cell that patches what probes could call
(np.array_equal, np.shares_memory, torch.equal) must not give a catalogued mutant its points back.
The in-place mutants of 02 lose exactly what they lose without the lie: "unchanged" is decided in
the judge from the bytes the probe sends back (course.judge.described.unchanged)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat

from course import mutants, notebook as nb

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02_autograd_engine"
LIE = '''
import numpy as _np
_np.array_equal = lambda *a, **k: True      # every "input untouched" check a probe could make
_np.array_equiv = lambda *a, **k: True
_np.shares_memory = lambda *a, **k: False   # every aliasing check done with numpy
_np.may_share_memory = lambda *a, **k: False
'''


def _grade(tmp_path, mutant_names, lie):
    solution = nb.load(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    for name in mutant_names:
        mutant = mutants.parse(REPO / "autograder" / ASSIGNMENT / "mutants" / f"{name}.py")
        solution = mutants.apply(solution, mutant)
    if lie:   # appended to the student's own answer cell (the last mutant's), which the judge runs
        cell, = [c for c in solution.cells if nb.grade_id(c) == mutant.replaces]
        cell.source += LIE
    tmp_path.mkdir()
    path = tmp_path / f"{ASSIGNMENT}.ipynb"
    nbformat.write(solution, str(path))
    done = subprocess.run([sys.executable, "-m", "course.cli", "grade", ASSIGNMENT, str(path), "--json",
                           "--no-gradebook", "--out", str(tmp_path / "out"), "--student", "rt"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    return result["score"], {line.split(":")[0].strip(): line.split(":")[1].strip()
                             for line in result["output"].splitlines()[1:] if ":" in line}


def test_patched_comparisons_do_not_rescue_the_in_place_mutants(tmp_path):
    names = ["relu_in_place", "mul_scales_upstream_in_place"]
    honest_score, honest = _grade(tmp_path / "honest", names, lie=False)
    lying_score, lying = _grade(tmp_path / "lying", names, lie=True)
    assert honest["ops_relu"] == "0 / 1" and honest["ops_add_mul"] == "0 / 2"
    assert "Note" not in lying   # the lying cell was run, not replaced by the original
    assert (lying_score, lying) == (honest_score, honest)
