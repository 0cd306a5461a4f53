"""Nothing in the sandbox scores (issue 18, item 1) for assignments 01-04.

probes.py is public by design: a student's cell can reach everything that enters the sandbox, e.g.
`sys.modules["course.sandbox.child"]._probes`. Each case below is the untouched release plus ONE
cell that answers every graded function by calling whatever `_probes` holds: first the reference
pieces earlier versions shipped there (by their old names and signatures), then any probe-side
callable whose name mentions the function, then any array the probes' globals hold. Graded in a
real batch, such a notebook must score 0 on every part it tries to steal.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import pytest

from course import batch, notebook as nb
from course.paths import Course

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]

# The generic thief: lazy (probes are loaded after the notebook's cells run), re-entry guarded
# (a probe may call back into the stolen function), and it never raises anything but
# NotImplementedError, like the untouched release.
THIEF = '''
import sys as _sys

_busy = []


def _probes():
    child = _sys.modules.get("course.sandbox.child")
    return getattr(child, "_probes", None) or {}


def _arrays(value, depth=0):
    import numpy as _np
    if isinstance(value, _np.ndarray):
        yield value
    elif depth < 3 and isinstance(value, dict):
        for v in list(value.values()):
            yield from _arrays(v, depth + 1)
    elif depth < 3 and isinstance(value, (list, tuple)):
        for v in value:
            yield from _arrays(v, depth + 1)


def _steal(target, old=(), args=(), kwargs=None):
    """The answer to target(*args) from the probes module: old reference names first, then any
    probe-side callable whose name mentions target, then any array in the probes' globals."""
    kwargs = kwargs or {}
    if _busy:
        raise NotImplementedError(target)
    _busy.append(target)
    try:
        P = _probes()
        for name, adapt in old:
            if name in P:
                try:
                    return adapt(P[name], *args, **kwargs)
                except Exception:
                    pass
        key = target.lower().strip("_")
        for name, value in list(P.items()):
            if callable(value) and key in name.lower() and not name.startswith("__"):
                try:
                    out = value(*args, **kwargs)
                except Exception:
                    continue
                if out is not None:
                    return out
        for name, value in list(P.items()):
            for array in _arrays(value):
                return array.copy()
        raise NotImplementedError(target)
    finally:
        _busy.pop()


def _direct(f, *a, **k):
    return f(*a, **k)
'''

THEFT = {
    "02_autograd_engine": ('''
def _op(kind):
    def run(*args, **kwargs):
        T = Tensor
        old = [("_ref_op", lambda f, *a, **k: f(kind, a[:2] if kind in ("add", "mul", "matmul") else a[:1],
                                                 k, _probes()["_ref_unbroadcast"]))]
        return _steal(kind, old, args, kwargs)
    return run


def _accumulate_grad(self, g):
    return _steal("accumulate_grad", [("_ref_accumulate_grad", _direct)], (self, g))


def backward(self, grad=None):
    import numpy as np
    seed = np.ones_like(self.data) if grad is None else grad
    return _steal("backward", [("_ref_backward", _direct)], (self, seed))


def unbroadcast(grad, shape):
    return _steal("unbroadcast", [("_ref_unbroadcast", _direct)], (grad, shape))


add, mul, matmul, relu = _op("add"), _op("mul"), _op("matmul"), _op("relu")
reduce_sum, reduce_mean = _op("sum"), _op("mean")
Tensor._accumulate_grad = _accumulate_grad
Tensor.backward = backward
Tensor.__add__ = add
Tensor.__radd__ = lambda self, other: add(other, self)
Tensor.__mul__ = mul
Tensor.__rmul__ = lambda self, other: mul(other, self)
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
Tensor.sum = reduce_sum
Tensor.mean = reduce_mean
Tensor.relu = relu
''', ["backward", "unbroadcast", "ops_add_mul", "ops_matmul", "ops_sum_mean", "ops_relu"]),
    "03_layers_mlp": ('''
class Linear(Module):
    def __init__(self, in_features, out_features, rng=None):
        super().__init__()
        self._inner = _steal("Linear", [("_RefLinear", _direct)], (in_features, out_features, rng))
        self.params, self.grads = self._inner.params, self._inner.grads

    def forward(self, x):
        return self._inner.forward(x)

    def backward(self, grad_out):
        return self._inner.backward(grad_out)


def softmax(x):
    return _steal("softmax", [("_ref_softmax", _direct)], (x,))


def softmax_jacobian(x):
    return _steal("softmax_jacobian", [], (x,))


def log_softmax_jacobian(x):
    return _steal("log_softmax_jacobian", [], (x,))


def cross_entropy(logits, targets):
    return _steal("cross_entropy", [("_ref_cross_entropy", _direct)], (logits, targets))
''', ["linear", "softmax_jacobian", "cross_entropy"]),
    "04_optimizers": ('''
def adam_update(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8):
    return _steal("adam_update", [("_ref_adam_update", _direct)], (p, g, state, lr), {"betas": betas, "eps": eps})


def adamw_update(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    p.mul_(1 - lr * weight_decay)
    return _steal("adam_update", [("_ref_adam_update", _direct)], (p, g, state, lr), {"betas": betas, "eps": eps})


def sgd_momentum_update(p, g, state, lr, momentum=0.0, weight_decay=0.0):
    return _steal("sgd_momentum_update", [], (p, g, state, lr), {"momentum": momentum, "weight_decay": weight_decay})


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    return _steal("warmup_cosine_lr", [], (step, base_lr, warmup_steps, total_steps), {"min_lr": min_lr})


def clip_grad_norm_(params, max_norm):
    return _steal("clip_grad_norm", [], (params, max_norm))
''', ["adam", "adamw", "sgd_momentum", "lr_schedule", "clip_grad_norm"]),
    "01_tensors": ('''
def _framework_thief(name):
    def run(*args, **kwargs):
        return _steal(name, [], args, kwargs)
    return run


for _name in ("make_tensor", "pick_last_step", "softmax_rows", "image_to_tokens", "linear", "value_and_grad"):
    for _fw in ("torch", "tf"):
        globals()[f"{_name}_{_fw}"] = _framework_thief(_name)
fit_linear_regression = _framework_thief("fit_linear_regression")
''', None),
}


def _part_scores(job) -> dict[str, tuple[float, float]]:
    data = json.loads((job.out / "results.json").read_text())
    return {p["grade_id"]: (p["score"], p["max_score"]) for p in data["extra_data"]["parts"]}


@pytest.mark.parametrize("assignment", sorted(THEFT))
def test_a_cell_calling_the_probes_scores_nothing(assignment, tmp_path):
    course = Course(REPO)
    cell_source, stolen = THEFT[assignment]
    release = nb.load(course.release_notebook(assignment))
    notebook = nbformat.v4.new_notebook(metadata=release.metadata)
    notebook.cells = list(release.cells) + [nbformat.v4.new_code_cell(textwrap.dedent(THIEF + cell_source))]
    folder = tmp_path / "submitted" / "thief" / assignment
    folder.mkdir(parents=True)
    path = folder / f"{assignment}.ipynb"
    nbformat.write(notebook, path)
    job = batch.Job("thief", path, tmp_path / "out" / "thief" / assignment)
    [(_, summary)] = batch.grade(course, assignment, [job], parallel=1, progress=False)
    assert summary["status"] != "error", summary
    parts = _part_scores(job)
    stolen = stolen or list(parts)
    assert set(stolen) <= set(parts), f"unknown parts {set(stolen) - set(parts)}"
    scored = {part: parts[part][0] for part in stolen if parts[part][0] > 0}
    assert not scored, f"{assignment}: a cell that only calls into the probes scored {scored}"
    assert summary["score"] == 0, f"{assignment}: {summary['score']} points for a notebook that solves nothing"
