"""Issue 18 item 1 for 05-08: nothing that enters the sandbox scores.

probes.py is public by design: a student's cell can reach everything the judge sends into the
sandbox (`sys.modules["course.sandbox.child"]._probes`, the notebook's globals while a probe has
swapped a stand-in in). Each attack here is the untouched release plus ONE appended cell that
replaces every function the student must write by a thief: it calls whatever is callable in the
probes' globals (stand-ins first), and also anything a probe swapped into the notebook's
namespace during an earlier call (harvested on every call). A second cell only reads the
probes' globals and records every array, tensor or number table in them. Both must score 0.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest

from course import notebook as nb
from course.judge.run import grade_notebook
from course.paths import Course

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

# The functions and methods each assignment asks for: the thief takes their place.
TARGETS = {
    "05_cnn": {"functions": ["conv_output_size", "conv2d_params", "conv2d_flops", "im2col", "conv2d",
                             "maxpool2d_forward", "maxpool2d_backward"],
               "methods": {"BasicBlock": ["__init__", "forward"]}},
    "06_rnn": {"functions": ["rnn_cell", "lstm_cell", "gru_cell", "rnn_forward", "bptt_hidden_grads",
                             "per_step_norms", "clip_grad_norm"], "methods": {}},
    "07_attention": {"functions": ["scaled_dot_product_attention", "split_heads", "merge_heads",
                                   "multi_head_attention", "sinusoidal_positional_encoding", "causal_mask"],
                     "methods": {}},
    "08_transformer_lm": {"functions": ["get_batch", "lm_loss", "train", "sample_next", "incremental_logits",
                                        "generate"],
                          "methods": {"CausalSelfAttention": ["forward"], "MLP": ["forward"],
                                      "Block": ["forward"], "GPT": ["forward"], "KVCache": ["update"]}},
}

THIEF = '''
import sys as _sys
_OWN = set()          # the thief's own functions, never harvested
_HARVEST = []         # whatever probes swapped into this namespace during earlier calls
_BUSY = []


def _probe_globals():
    return _sys.modules["course.sandbox.child"]._probes


def _candidates(name):
    found = []
    for key, value in list(_probe_globals().items()):
        if key in ("student", "type_name", "to_numpy") or isinstance(value, type(_sys)):
            continue
        if isinstance(value, type):
            found += [(key + "." + k, m) for k, m in vars(value).items() if callable(m)]
        elif callable(value):
            found.append((key, value))
    # stand-ins and references first, then anything named like the target
    def rank(item):
        key = item[0].lower()
        return (0 if any(w in key for w in ("ref", "stand", "fake", "stub")) else 1,
                0 if name.lower() in key else 1)
    return [c for _, c in sorted(found, key=rank)] + list(_HARVEST)


def _harvest(namespace):
    for value in list(namespace.values()):
        if callable(value) and not isinstance(value, type) and id(value) not in _OWN \\
                and getattr(value, "__module__", None) in (None, "probes", "__main__") \\
                and value not in _HARVEST and getattr(value, "__name__", "") not in ("_harvest",):
            _HARVEST.append(value)


def _thief(name):
    def steal(*args, **kwargs):
        _harvest(globals())
        if _BUSY:
            raise RuntimeError("no recursion")
        _BUSY.append(1)
        try:
            for candidate in _candidates(name):
                try:
                    return candidate(*args, **kwargs)
                except Exception:
                    continue
        finally:
            _BUSY.pop()
        raise NotImplementedError("nothing to steal for " + name)
    _OWN.add(id(steal))
    return steal


for _name in FUNCTIONS:
    globals()[_name] = _thief(_name)
for _cls, _methods in METHODS.items():
    for _m in _methods:
        _f = _thief(_cls + "." + _m)
        if _m == "__init__":
            _base_init = globals()[_cls].__mro__[1].__init__
            def _f(self, *a, _steal=_f, _base=_base_init, **k):
                _base(self)
                try:
                    _steal(self, *a, **k)
                except Exception:
                    pass
        setattr(globals()[_cls], _m, _f)
'''

READER = '''
import sys as _sys
import numpy as _np
LOOT = {}


def _loot():
    for key, value in list(_sys.modules["course.sandbox.child"]._probes.items()):
        if isinstance(value, (_np.ndarray, dict, list, tuple, float, int)) and not isinstance(value, bool):
            LOOT[key] = repr(value)[:200]
    return LOOT
'''


def attack_notebook(assignment: str, cell: str):
    notebook = copy.deepcopy(nb.load(ROOT / "release" / assignment / f"{assignment}.ipynb"))
    notebook.cells.append(nbformat.v4.new_code_cell(cell))
    return notebook


def grade(tmp_path, assignment, notebook, student):
    path = tmp_path / student / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)
    return grade_notebook(Course(ROOT), assignment, path, student=student)


@pytest.mark.parametrize("assignment", list(TARGETS))
def test_calling_what_probes_hold_scores_nothing(tmp_path, assignment):
    targets = TARGETS[assignment]
    cell = f"FUNCTIONS = {targets['functions']!r}\nMETHODS = {targets['methods']!r}\n" + THIEF
    result = grade(tmp_path, assignment, attack_notebook(assignment, cell), "thief")
    parts = {p["grade_id"]: p["score"] for p in result["extra_data"]["parts"]}
    assert result["extra_data"].get("status", "graded") != "error", json.dumps(result)[:2000]
    assert all(score == 0 for score in parts.values()), f"{assignment}: the thief scored {parts}"


@pytest.mark.parametrize("assignment", list(TARGETS))
def test_probes_hold_no_values_or_tables(tmp_path, assignment):
    # the reader's functions call _loot() from every function the student must write, so the
    # probes' globals are read while a probe runs; nothing in them is data (only code)
    targets = TARGETS[assignment]
    hooks = "".join(f"def {name}(*args, **kwargs):\n    print('LOOT', sorted(_loot()))\n    raise NotImplementedError\n"
                    for name in targets["functions"])
    result = grade(tmp_path, assignment, attack_notebook(assignment, READER + hooks), "reader")
    assert result["score"] == 0
    source = (ROOT / "autograder" / assignment / "probes.py").read_text()
    namespace = {"student": None, "type_name": str, "to_numpy": None, "__name__": "probes"}
    exec(compile(source, "probes.py", "exec"), namespace)
    import numpy as np
    data = {k: type(v).__name__ for k, v in namespace.items()
            if not k.startswith("__") and isinstance(v, (np.ndarray, list, tuple, float, complex))
            and not k.isupper()}
    assert not data, f"{assignment}: probes.py holds data at module level: {data}"
