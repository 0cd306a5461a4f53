"""Red team "probe-lies" on 14-17: a cell that patches what those assignments' probes used to
decide with (torch.equal after a clone, a tensor's own dtype/requires_grad) must not give a
catalogued mutant its points back. Each test grades the same mutants twice, honestly and with
the lying cell appended to the student's answer cell, and the two must score exactly the same:
the probes report describe() records and the inputs as read back after the call, and the judge
decides (course.judge.described.unchanged / expect_described)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course import mutants, notebook as nb

pytestmark = pytest.mark.slow   # grades whole notebooks

REPO = Path(__file__).resolve().parents[1]

# Every "input untouched" check a probe could make with torch: equal after a clone.
LIE_EQUAL = '''
import torch as _torch
_torch.equal = lambda *a, **k: True
'''


def _grade(tmp_path, assignment, mutant_names, lie):
    solution = nb.load(REPO / "solutions" / assignment / f"{assignment}.ipynb")
    for name in mutant_names:
        mutant = mutants.parse(REPO / "autograder" / assignment / "mutants" / f"{name}.py")
        solution = mutants.apply(solution, mutant)
    if lie:   # appended to the student's own answer cell (the last mutant's), which the judge runs
        cell, = [c for c in solution.cells if nb.grade_id(c) == mutant.replaces]
        cell.source += lie
    tmp_path.mkdir()
    path = tmp_path / f"{assignment}.ipynb"
    nbformat.write(solution, str(path))
    done = subprocess.run([sys.executable, "-m", "course.cli", "grade", assignment, str(path), "--json",
                           "--no-gradebook", "--out", str(tmp_path / "out"), "--student", "rt"],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    return result["score"], {line.split(":")[0].strip(): line.split(":")[1].strip()
                             for line in result["output"].splitlines()[1:] if ":" in line}


def _same_with_and_without(tmp_path, assignment, names, lie):
    honest_score, honest = _grade(tmp_path / "honest", assignment, names, lie=None)
    lying_score, lying = _grade(tmp_path / "lying", assignment, names, lie=lie)
    assert "Note" not in lying   # the lying cell was run, not replaced by the original
    assert (lying_score, lying) == (honest_score, honest)
    return honest


def test_14_patched_equal_does_not_rescue_the_in_place_mutants(tmp_path):
    honest = _same_with_and_without(tmp_path, "14_diffusion",
                                    ["q_sample_in_place", "ddim_step_in_place", "cfg_combine_in_place"], LIE_EQUAL)
    assert honest["forward_process"] == "1.5 / 3" and honest["ddim"] == "0 / 3" and honest["cfg"] == "1 / 2"


# The float32 times of euler_t_float32 claim float64 whenever velocity_fn reads them (a property
# on torch.Tensor shadowing the C descriptor, aimed at the probe's own frame).
LIE_T_DTYPE = LIE_EQUAL + '''
import sys as _sys
_real_dtype = _torch._C.TensorBase.dtype
def _claimed_dtype(self):
    d = _real_dtype.__get__(self)
    if d is _torch.float32 and _sys._getframe(1).f_code.co_name == "velocity_fn":
        return _torch.float64
    return d
_torch.Tensor.dtype = property(_claimed_dtype)
'''


def test_15_patched_equal_and_dtype_do_not_rescue_the_euler_mutants(tmp_path):
    honest = _same_with_and_without(tmp_path, "15_dit_flow", ["euler_in_place_update", "euler_t_float32"],
                                    LIE_T_DTYPE)
    assert honest["euler_sampler"] == "0 / 2"


def test_17_patched_equal_does_not_rescue_the_in_place_state(tmp_path):
    honest = _same_with_and_without(tmp_path, "17_efficient_attention", ["gla_recurrent_updates_state_in_place"],
                                    LIE_EQUAL)
    assert honest["gla_recurrent"] == "0.67 / 2"
