"""Probes record what the student returned before any conversion (course.sandbox.describe):
the description travels through a real sandbox and the protocol and reaches the test as made."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from course.judge.config import JudgeConfig
from course.judge.submission import Submission
from course.notebook import CodeCell
from course.sandbox.describe import describe

STUDENT = '''
import ast
from pathlib import Path

import numpy as np
import torch

def as_float32(x):     return x.to(torch.float32)
def transposed(x):     return x.t()
def itself(x):         return x
def doubled(x):        return x * 2
def detached(x):       return (x * 2).detach()
def scalar(x):         return x.sum()
def one_element(x):    return x.sum().reshape(1)
def python_float(x):   return float(x.sum())
def pair(x):           return x[0], x.clone()
def numpy_row(a):      return a[1]
def numpy_copy(a):     return a.copy()
def half(x):           return x.to(torch.bfloat16)
'''

PROBES = '''
import ast
from pathlib import Path

import numpy as np
import torch

def tensor(name, value, dtype="float64", requires_grad=False):
    x = torch.tensor(np.asarray(value), dtype=getattr(torch, dtype), requires_grad=requires_grad)
    out = getattr(student, name)(x)
    return describe(out, inputs={"x": x})

def array(name, value):
    a = np.array(value)
    return describe(getattr(student, name)(a), inputs={"a": a})

def converts_first(name, value):
    x = torch.tensor(np.asarray(value))
    out = getattr(student, name)(x).double()     # what a probe must not do
    return describe(out, inputs={"x": x})
'''

X = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


@pytest.fixture(scope="module")
def sub():
    submission = Submission(cells=[CodeCell(1, STUDENT, "impl")], probes_source=PROBES, config=JudgeConfig(),
                            files=[], hide=[])
    submission.run_notebook()
    assert not submission.cell_errors, submission.cell_errors
    yield submission
    submission.close()


def test_dtype_is_the_students_not_the_probes(sub):
    got = sub.probe("tensor", "as_float32", X)
    assert (got["type"], got["dtype"], got["shape"]) == ("torch.Tensor", "float32", [2, 3])
    assert got["value"].dtype == np.float32 and got["value"].tolist() == X
    # The same function seen through a probe that converts first: the mistake would be invisible.
    assert sub.probe("converts_first", "as_float32", X)["dtype"] == "float64"


def test_requires_grad_and_grad_fn_are_recorded(sub):
    got = sub.probe("tensor", "doubled", X, requires_grad=True)
    assert (got["requires_grad"], got["grad_fn"]) == (True, "MulBackward0")
    cut = sub.probe("tensor", "detached", X, requires_grad=True)
    assert (cut["requires_grad"], cut["grad_fn"]) == (False, None)


def test_views_and_aliases_of_an_input_are_recorded(sub):
    view = sub.probe("tensor", "transposed", X)
    assert view["is_view"] and view["aliases"] == ["x"] and view["shape"] == [3, 2]
    assert sub.probe("tensor", "itself", X)["aliases"] == ["x"]
    assert sub.probe("tensor", "doubled", X)["aliases"] == []
    assert sub.probe("array", "numpy_row", X)["aliases"] == ["a"]
    assert sub.probe("array", "numpy_copy", X)["aliases"] == []


def test_shape_distinguishes_a_scalar_from_one_element_and_from_a_python_float(sub):
    assert sub.probe("tensor", "scalar", X)["shape"] == []
    assert sub.probe("tensor", "one_element", X)["shape"] == [1]
    plain = sub.probe("tensor", "python_float", X)
    assert (plain["type"], plain["shape"], plain["value"]) == ("builtins.float", None, 21.0)


def test_tuples_are_described_item_by_item_and_low_precision_keeps_its_name(sub):
    got = sub.probe("tensor", "pair", X)
    assert got["type"] == "builtins.tuple"
    assert [(i["shape"], i["is_view"], i["aliases"]) for i in got["items"]] == [([3], True, ["x"]), ([2, 3], False, [])]
    low = sub.probe("tensor", "half", X)
    assert low["dtype"] == "bfloat16" and low["value"].dtype == np.float32


def test_describe_outside_the_sandbox_handles_plain_values():
    assert describe(None) == {"type": "builtins.NoneType", "exact": True, "dtype": None, "shape": None, "value": None}
    assert describe(np.float32(0.5)) == {"type": "numpy.float32", "exact": True, "dtype": "float32", "shape": [],
                                         "value": 0.5}
    assert describe({"a": 1})["items"]["a"]["value"] == 1
    assert describe(object())["type"] == "builtins.object"


# ------------------------------------------------------------------ every probe of the course
# A static guard over autograder/*/probes.py for the plain form of the mistake: a conversion
# applied to what a student's function returned before anything was read from it, either on
# the call itself (`student.f(x).double()`, `to_numpy(student.f(x))`) or as the first use of the
# name it was bound to. Building a student's class and moving it to a dtype
# (`student.RMSNorm(d).to(dt)`) is setting up the experiment, not recording a result: exempt.
_CONVERTS = {"to", "double", "float", "half", "detach", "cpu", "numpy", "astype", "type", "item", "tolist",
             "contiguous", "clone"}
_CONVERTERS = {"to_numpy", "float", "int", "np.asarray", "np.array", "torch.as_tensor", "torch.tensor",
               "np.float64", "np.ascontiguousarray"}


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _student_function_call(node) -> bool:
    """student.f(...) or getattr(student, name)(...), f not a class (lowercase)."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "student":
        return not func.attr[:1].isupper()
    return (isinstance(func, ast.Call) and _dotted(func.func) == "getattr" and func.args
            and _dotted(func.args[0]) == "student")


def _converted(parent, child) -> str | None:
    if isinstance(parent, ast.Attribute) and parent.value is child and parent.attr in _CONVERTS:
        return f".{parent.attr}()"
    if isinstance(parent, ast.Call) and _dotted(parent.func) in _CONVERTERS and parent.args and parent.args[0] is child:
        return f"{_dotted(parent.func)}(...)"
    return None


def converts_before_recording(source: str, filename: str) -> list[str]:
    tree = ast.parse(source, filename)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    problems = []
    for node in ast.walk(tree):
        if _student_function_call(node) and (how := _converted(parents.get(node), node)):
            problems.append(f"{filename}:{node.lineno}: {how} on a student's result before recording it")
    for function in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
        for stmt in ast.walk(function):
            if not (isinstance(stmt, ast.Assign) and _student_function_call(stmt.value) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name)):
                continue
            name = stmt.targets[0].id
            uses = sorted((n for n in ast.walk(function) if isinstance(n, ast.Name) and n.id == name
                           and isinstance(n.ctx, ast.Load) and n.lineno > stmt.lineno),
                          key=lambda n: (n.lineno, n.col_offset))
            if uses and (how := _converted(parents.get(uses[0]), uses[0])):
                problems.append(f"{filename}:{uses[0].lineno}: {how} on '{name}' (a student's result) before "
                                f"recording it: describe({name}) first")
    return problems


def test_the_guard_sees_a_probe_that_converts_first():
    bad = ("def p(x):\n    out = student.f(x)\n    return {'dtype': str(out.double().dtype)}\n"
           "def q(x):\n    return to_numpy(student.g(x))\n"
           "def r(x):\n    m = student.Model(3).double()\n    out = m(x)\n    return describe(out)\n"
           "def s(x):\n    out = student.f(x)\n    return describe(out)\n")
    assert converts_before_recording(bad, "probes.py") == [
        "probes.py:5: to_numpy(...) on a student's result before recording it",
        "probes.py:3: .double() on 'out' (a student's result) before recording it: describe(out) first"]


def test_no_probe_of_the_course_converts_a_students_result_before_recording_it():
    root = Path(__file__).resolve().parents[1] / "autograder"
    problems = [p for path in sorted(root.glob("*/probes.py"))
                for p in converts_before_recording(path.read_text(), str(path.relative_to(root.parent)))]
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ a notebook that lies
# Red team (probe-lies): the probe runs in the student's process, so a cell can patch what a
# probe would call. Everything below is patched before the probes run; the judge must still see
# the truth: values changed in place, memory shared with the input, the real dtype and type.
LIAR = STUDENT + '''
import numpy as _np, torch as _t
_np.array_equal = lambda *a, **k: True
_np.shares_memory = lambda *a, **k: False
_np.may_share_memory = lambda *a, **k: False
_t.equal = lambda *a, **k: True
_t.Tensor.dtype = property(lambda self: _t.float32)          # every tensor claims float32
_t.Tensor.data_ptr = lambda self: 0
import json as _json, base64 as _b64
_real_dumps = _json.dumps
_np.ascontiguousarray = lambda a, *k, **kw: _np.zeros_like(a)   # what travels to the judge
_b64.b64encode = lambda data, *a: b"AAAA"

class F32(_t.Tensor):
    """A float64 tensor that reports float32 (and backward still works)."""
    @property
    def dtype(self):
        return _t.float32
F32.__module__, F32.__qualname__ = "torch", "Tensor"         # and names itself torch.Tensor

class Quiet(_np.ndarray):
    pass

def lying_double(x):       return (x * 2).as_subclass(F32)
def scaled_in_place(x):    return x.mul_(2)
def subclass_view(a):      return a.view(Quiet)
def array_in_place(a):
    a *= 2
    return a
def shared_tensor(a):      return _t.as_tensor(a)

class FakeFloat:
    pass
FakeFloat.__module__, FakeFloat.__qualname__ = "builtins", "float"
def fake_float(x):         return FakeFloat()
'''

LIAR_PROBES = PROBES + '''
def in_place(name, value):
    x = torch.tensor(np.asarray(value))
    out = getattr(student, name)(x)
    return {"out": describe(out, inputs={"x": x}), "x_after": describe(x)}

def named(name, value):
    return type_name(getattr(student, name)(torch.tensor(np.asarray(value))))

def array_after(name, value):
    a = np.array(value)
    out = getattr(student, name)(a)
    return {"out": describe(out, inputs={"a": a}), "a_after": describe(a)}
'''


@pytest.fixture(scope="module")
def liar():
    submission = Submission(cells=[CodeCell(1, LIAR, "impl")], probes_source=LIAR_PROBES, config=JudgeConfig(),
                            files=[], hide=[])
    submission.run_notebook()
    assert not submission.cell_errors, submission.cell_errors
    yield submission
    submission.close()


def test_a_patched_numpy_or_torch_does_not_hide_an_in_place_change(liar):
    from course.judge.check import Failure
    from course.judge.described import expect_described, expect_unchanged

    got = liar.probe("in_place", "scaled_in_place", X)
    assert got["x_after"]["value"].tolist() == (2 * np.asarray(X)).tolist()
    with pytest.raises(Failure, match="changed its input x"):
        expect_unchanged(got["x_after"], np.asarray(X), what="scaled_in_place(x)", name="x")
    with pytest.raises(Failure, match="shares memory with input"):
        expect_described(got["out"], what="scaled_in_place(x)", aliases=())
    got = liar.probe("array_after", "array_in_place", X)
    with pytest.raises(Failure, match="changed its input a"):
        expect_unchanged(got["a_after"], np.asarray(X), what="array_in_place(a)", name="a")
    # and an honest function passes the same checks
    honest = liar.probe("in_place", "doubled", X)
    expect_unchanged(honest["x_after"], np.asarray(X), what="doubled(x)", name="x")
    expect_described(honest["out"], what="doubled(x)", type="torch.Tensor", dtype="float64", aliases=())


def test_a_patched_shares_memory_does_not_hide_aliasing_across_numpy_and_torch(liar):
    got = liar.probe("array_after", "shared_tensor", X)
    assert got["out"]["type"] == "torch.Tensor" and got["out"]["aliases"] == ["a"]
    assert liar.probe("array", "numpy_row", X)["aliases"] == ["a"]
    assert liar.probe("array", "numpy_copy", X)["aliases"] == []


def test_a_tensor_subclass_reports_its_real_dtype_and_type_and_fails_type_checks(liar):
    from course.judge.check import Failure
    from course.judge.described import expect_described

    # torch.Tensor.dtype itself is patched: the C descriptor still answers
    assert liar.probe("tensor", "doubled", X)["dtype"] == "float64"
    got = liar.probe("tensor", "lying_double", X)
    assert got["dtype"] == "float64" and got["exact"] is False
    assert got["type"] == "torch.Tensor (look-alike)" and got["value"].tolist() == (2 * np.asarray(X)).tolist()
    with pytest.raises(Failure, match="look-alike"):
        expect_described(got, what="lying_double(x)", type="torch.Tensor")
    with pytest.raises(Failure, match="subclass"):
        expect_described(got, what="lying_double(x)", dtype="float64")


def test_an_ndarray_subclass_reports_its_real_type(liar):
    got = liar.probe("array", "subclass_view", X)
    assert got["type"].endswith("Quiet") and got["exact"] is False and got["aliases"] == ["a"]
    assert type(got["value"]) is np.ndarray and got["value"].tolist() == X


def test_the_types_the_facts_are_read_from_cannot_be_patched_from_python():
    import torch

    for kind in (np.ndarray, np.dtype, np.generic, type(np.dtype("float32")), torch._C.TensorBase,
                 torch._C.StorageBase, torch.device, torch.dtype, torch.Size):
        with pytest.raises(TypeError):
            setattr(kind, "dtype", None)


def test_a_class_named_after_a_genuine_type_is_told_apart(liar):
    assert liar.probe("tensor", "fake_float", X)["type"] == "builtins.float (look-alike)"
    assert liar.probe("named", "fake_float", X) == "builtins.float (look-alike)"   # the probes' type_name
    assert liar.probe("named", "python_float", X) == "builtins.float"
