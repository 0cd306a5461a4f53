"""Nothing in the sandbox scores (issue 18, item 1) for 09-12: probes.py is public, so an untouched
release plus one cell that calls whatever probes.py holds, or copies any array it holds, must
score 0 on the parts it tries to steal.

Each attack is a real notebook graded by the real judge at the machine's sandbox level. The
thieves look the probes module up when a probe calls them (probes load after the notebook ran),
at `sys.modules["course.sandbox.child"]._probes`, as a student who read this repository would.
Against the probes of main before this change (reference kernels, rings, quantizers and RoPE in
probes.py) the same cells scored: 09 4/10, 10 7.3/10, 11 3/10, 12 3/10.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from course import notebook as nb
from course.judge.run import grade_notebook
from course.paths import Course

REPO = Path(__file__).resolve().parent.parent

# Shared by both attacks: the probes module as the sandbox holds it, and every value reachable
# from it (globals, dicts, lists, closures, class attributes, default arguments).
PRELUDE = r"""
import sys as _sys
import numpy as _np

def _probes():
    return _sys.modules["course.sandbox.child"]._probes

def _reachable(root, depth=4, seen=None):
    seen = set() if seen is None else seen
    if id(root) in seen or depth < 0:
        return
    seen.add(id(root))
    yield root
    children = []
    if isinstance(root, dict):
        children = list(root.values())
    elif isinstance(root, (list, tuple, set)):
        children = list(root)
    elif isinstance(root, type):
        children = list(vars(root).values())
    elif callable(root):
        children = [c.cell_contents for c in (getattr(root, "__closure__", None) or ()) if c.cell_contents is not None]
        children += list(getattr(root, "__defaults__", None) or ())
    for child in children:
        yield from _reachable(child, depth - 1, seen)
"""

# Attack 1: every student name becomes a function that calls the first callable in probes.py
# whose name mentions it (a `_ref_apply_rope`, a `_TrustedRing` ...). Used as a Triton kernel
# (`kernel[grid](...)`), it launches whatever in probes.py can be launched that way (a reference
# kernel object, made from a class with or without a `dropout` flag).
CALL_THIEF = PRELUDE + r"""
def _candidates(keywords):
    for name, value in list(_probes().items()):
        if name.startswith("__") or not callable(value):
            continue
        if any(k in name.lower() for k in keywords) and getattr(value, "__module__", "probes") == "probes":
            yield value

class _Stolen:
    def __init__(self, keywords, flag):
        self.keywords, self.flag = keywords, flag
    def __get__(self, obj, owner=None):          # used as a method: bind like a function
        return self if obj is None else (lambda *a, **k: self(obj, *a, **k))
    def __call__(self, *args, **kwargs):
        for value in _candidates(self.keywords):
            for call in (lambda: value(*args, **kwargs), lambda: value(*args[:1])):   # all, or the data only
                try:
                    return call()
                except Exception:
                    continue
        raise NotImplementedError("nothing to steal for " + "/".join(self.keywords))
    def __getitem__(self, grid):
        def launch(*args, **kwargs):
            for value in _candidates(self.keywords):
                makers = [lambda v=value: v] if not isinstance(value, type) else \
                    [lambda v=value: v(self.flag), lambda v=value: v(not self.flag), lambda v=value: v()]
                for make in makers:
                    try:
                        return make()[grid](*args, **kwargs)
                    except Exception:
                        continue
            raise NotImplementedError("nothing to launch for " + "/".join(self.keywords))
        return launch

for _target, _keywords in TARGETS.items():
    _owner, _, _attr = _target.rpartition(".")
    _thief = _Stolen(_keywords, "dropout" in _target)
    setattr(globals()[_owner], _attr, _thief) if _owner else globals().__setitem__(_attr, _thief)
"""

# Attack 2: every student name returns any array held by probes.py with the shape of its first
# array argument (an answer table, an expected value, a precomputed reference).
TABLE_THIEF = PRELUDE + r"""
def _shape_of(args):
    for a in args:
        if hasattr(a, "shape"):
            return tuple(a.shape), a
    return None, None

def _thief(keywords):
    def stolen(*args, **kwargs):
        shape, like = _shape_of(args)
        for value in _reachable(_probes()):
            if isinstance(value, _np.ndarray) and value.dtype.kind == "f" and value.shape == shape:
                if hasattr(like, "new_tensor"):
                    return like.new_tensor(value)
                return _np.array(value)
        raise NotImplementedError("no table for " + "/".join(keywords))
    return stolen

for _target, _keywords in TARGETS.items():
    _owner, _, _attr = _target.rpartition(".")
    setattr(globals()[_owner], _attr, _thief(_keywords)) if _owner else globals().__setitem__(_attr, _thief(_keywords))
"""

# What each assignment's student writes, and the words a reference for it would carry.
TARGETS = {
    "09_modern_llm": {
        "RMSNorm.forward": ("rmsnorm",), "rotate_half": ("rotate_half",), "apply_rope": ("apply_rope", "rope"),
        "SwiGLU.forward": ("swiglu",), "repeat_kv": ("repeat_kv",), "kv_cache_bytes": ("kv_cache",),
        "GroupedQueryAttention.forward": ("attention", "gqa"),
        "route": ("route",), "load_balancing_loss": ("load_balancing", "aux"), "MoE.forward": ("moe",),
    },
    "10_lora_quant": {
        "LoRALinear.delta_weight": ("delta",), "LoRALinear.forward": ("lora_forward", "forward"),
        "LoRALinear.merge": ("merge",), "LoRALinear.unmerge": ("unmerge",),
        "compute_qparams": ("qparams",), "quantize": ("quantiz",), "dequantize": ("dequantiz",),
        "roundtrip_error": ("roundtrip", "error"),
    },
    "11_memory_parallel": {
        "shard_size": ("shard",), "count_params": ("count_params", "params"),
        "model_state_bytes": ("model_state", "state"), "activation_bytes": ("activation",),
        "ring_all_reduce": ("ring", "all_reduce", "reduce"),
        "column_parallel_forward": ("column",), "column_parallel_backward": ("column",),
        "row_parallel_forward": ("row_parallel",), "row_parallel_backward": ("row_parallel",),
    },
    "12_triton_softmax": {
        "softmax_kernel": ("kernel",), "softmax_online_kernel": ("kernel", "online"),
        "softmax_dropout_kernel": ("kernel", "dropout"), "softmax": ("softmax",), "softmax_dropout": ("dropout",),
    },
}


def _attack(assignment: str, body: str):
    notebook = copy.deepcopy(nb.load(REPO / "release" / assignment / f"{assignment}.ipynb"))
    targets = {t: k for t, k in TARGETS[assignment].items()}
    code = f"TARGETS = {targets!r}\n" + body
    notebook.cells.append(nbformat.v4.new_code_cell(code))
    return notebook


@pytest.mark.parametrize("attack", ["call", "table"])
@pytest.mark.parametrize("assignment", sorted(TARGETS))
def test_stealing_from_probes_scores_nothing(tmp_path, assignment, attack):
    notebook = _attack(assignment, CALL_THIEF if attack == "call" else TABLE_THIEF)
    path = tmp_path / "thief" / f"{assignment}.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, path)
    result = grade_notebook(Course(REPO), assignment, path, student="thief")
    parts = {p["grade_id"]: p["score"] for p in result["extra_data"]["parts"]}
    assert result["score"] == 0, f"{assignment}: a notebook that only calls into probes.py scored {parts}"
