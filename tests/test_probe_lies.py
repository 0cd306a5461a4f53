"""Red team "probe-lies" on a real assignment: a cell that patches what probes could call
(np.array_equal, np.shares_memory, torch.equal) must not give a catalogued mutant its points back.
The in-place mutants of 02 lose exactly what they lose without the lie: "unchanged" is decided in
the judge from the bytes the probe sends back (course.judge.described.unchanged)."""
from __future__ import annotations

from lyingkit import grade

ASSIGNMENT = "02_autograd_engine"
LIE = '''
import numpy as _np
_np.array_equal = lambda *a, **k: True      # every "input untouched" check a probe could make
_np.array_equiv = lambda *a, **k: True
_np.shares_memory = lambda *a, **k: False   # every aliasing check done with numpy
_np.may_share_memory = lambda *a, **k: False
'''


def test_patched_comparisons_do_not_rescue_the_in_place_mutants(tmp_path):
    names = ["relu_in_place", "mul_scales_upstream_in_place"]
    honest_score, honest = grade(tmp_path / "honest", ASSIGNMENT, names, lie=None)
    lying_score, lying = grade(tmp_path / "lying", ASSIGNMENT, names, lie=LIE)
    assert honest["ops_relu"] == "0 / 1" and honest["ops_add_mul"] == "0 / 2"
    assert "Note" not in lying   # the lying cell was run, not replaced by the original
    assert (lying_score, lying) == (honest_score, honest)
