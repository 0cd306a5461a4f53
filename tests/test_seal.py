"""course.sandbox.integrity: the platform's code in the sandbox, sealed before the notebook runs.

A cell that rewrites a tool probes are given (a class's method, a function's code or closure, a
global or builtin it uses) breaks the seal, and the sandbox then fails every later check instead
of grading what the rewritten tool reported. Red team (stop 18): four lines patching
`forbid.__enter__`/`__exit__` switched 06's built-in guard off (torch's own cells: 0 -> 6/8)."""
from __future__ import annotations

import builtins
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course import notebook as nb, protocol
from course.sandbox import child, describe as describe_module, forbid as forbid_module
from course.sandbox.describe import describe
from course.sandbox.forbid import forbid
from course.sandbox.integrity import Seal

REPO = Path(__file__).resolve().parents[1]


def _seal():
    return Seal([describe, forbid, protocol.encode, protocol.send, protocol.receive, child._serve, Seal])


@pytest.mark.parametrize("attack", ["class method", "class member added", "module global", "function code",
                                    "closure cell", "defaults", "builtin"])
def test_every_kind_of_rewrite_breaks_the_seal_and_undoing_it_mends_it(attack):
    seal = _seal()
    assert seal.broken() is None and len(seal) > 100
    if attack == "class method":
        holder, key = forbid, "__enter__"
    elif attack == "class member added":
        holder, key = forbid, "__getattribute__"
    elif attack == "module global":
        holder, key = forbid_module, "_op_name"
    elif attack == "function code":
        holder, key = protocol.encode, "__code__"
    elif attack == "defaults":
        holder, key = child._serve, "__defaults__"
    elif attack == "builtin":
        holder, key = builtins, "isinstance"
    else:
        cell = describe.__closure__[0]
        old = cell.cell_contents
        cell.cell_contents = lambda *a, **k: {}
        try:
            assert "cell" in seal.broken()
        finally:
            cell.cell_contents = old
        assert seal.broken() is None
        return
    had = key in vars(holder) if isinstance(holder, type) else True
    old = getattr(holder, key, None)
    fake = (lambda *a, **k: None).__code__ if key == "__code__" else (
        (None,) * len(old or ()) if key == "__defaults__" else (lambda *a, **k: None))
    if key == "__code__":
        fake = old.replace(co_consts=old.co_consts + ("tampered",))
    try:
        setattr(holder, key, fake)
        what = seal.broken()
        assert what is not None and (key in what or attack == "class member added"), what
    finally:
        if had:
            setattr(holder, key, old)
        else:
            delattr(holder, key)
    assert seal.broken() is None


def test_describe_in_the_sealed_module_is_the_one_probes_get():
    assert describe_module.describe is describe and forbid_module.forbid is forbid


PATCH_THE_GUARD = '''
import sys
_f = sys.modules["course.sandbox.forbid"].forbid
_f.__enter__ = lambda self: self
_f.__exit__ = lambda self, *exc: False
'''
TORCH_CELLS = {
    "rnn_cell_impl": "def rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):\n"
                     "    return torch.rnn_tanh_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh)\n",
    "gru_cell_impl": "def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):\n"
                     "    return torch.gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh)\n",
}


@pytest.mark.slow
def test_a_cell_that_patches_the_builtin_guard_scores_what_the_builtins_alone_score(tmp_path):
    """06's torch one-liners score 0 on their parts; patching forbid's class must not change that."""
    release = nb.load(REPO / "release" / "06_rnn" / "06_rnn.ipynb")
    for cell in release.cells:
        if nb.grade_id(cell) in TORCH_CELLS:
            cell.source = TORCH_CELLS[nb.grade_id(cell)]
    scores = {}
    for name, extra in (("plain", ""), ("patched", PATCH_THE_GUARD)):
        book = nbformat.from_dict(json.loads(nbformat.writes(release)))
        if extra:
            book.cells.append(nbformat.v4.new_code_cell(extra))
        path = tmp_path / name / "06_rnn.ipynb"
        path.parent.mkdir()
        nbformat.write(book, str(path))
        done = subprocess.run([sys.executable, "-m", "course.cli", "grade", "06_rnn", str(path), "--json",
                               "--no-gradebook", "--out", str(tmp_path / name / "out"), "--student", "rt"],
                              cwd=REPO, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(done.stdout)
        parts: dict[str, float] = {}
        for test in result["tests"]:
            part = test["name"].split(":")[0]
            parts[part] = parts.get(part, 0.0) + test["score"]
        scores[name] = parts
    assert scores["plain"]["rnn_cell"] == 0 and scores["plain"]["gru_cell"] == 0
    assert scores["patched"] == scores["plain"], scores


AUDIT_PROBE = r'''
import gc, sys, json
from course.sandbox import audit, child
from course.sandbox.forbid import forbid
audit.install()   # as in the sandbox: after the platform's imports
seen = {}
def attempt(name, action):
    try:
        action()
        seen[name] = "allowed"
    except audit.Refused:
        seen[name] = "refused"
attempt("settrace", lambda: sys.settrace(lambda *a: None))
attempt("setprofile", lambda: sys.setprofile(lambda *a: None))
attempt("gc.get_objects", gc.get_objects)
attempt("gc.get_referrers", lambda: gc.get_referrers(forbid))
attempt("forbid code", lambda: setattr(forbid.__exit__, "__code__", (lambda *a: None).__code__))
attempt("the hook's own defaults", lambda: setattr(audit._hook, "__defaults__", ()))
attempt("the seal checker's defaults", lambda: setattr(child._seal_holds, "__defaults__", (lambda *a: True,) * 9))
attempt("the serve loop's defaults", lambda: setattr(child._serve, "__defaults__", (None,) * 4))
import threading                        # a tracer for new threads: each would install it itself
threading.settrace(lambda *a: None)
traced = []
worker = threading.Thread(target=lambda: traced.append(sys.gettrace() is not None))
worker.start(); worker.join()
threading.settrace(None)
seen["a thread's tracer"] = "allowed" if traced == [True] else "refused"
class Mine:
    pass
def mine():
    return 1
attempt("a student's class", lambda: setattr(Mine, "x", 1))
attempt("a student's function", lambda: setattr(mine, "__code__", (lambda: 2).__code__))
attempt("gc.collect", gc.collect)
attempt("a platform module imported later", lambda: __import__("course.schedule"))   # dataclasses set attributes
print(json.dumps(seen))
'''


def test_the_sandbox_audit_hook_refuses_what_reaches_into_the_platform_and_nothing_else():
    done = subprocess.run([sys.executable, "-c", AUDIT_PROBE], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"settrace": "refused", "setprofile": "refused", "gc.get_objects": "refused",
                    "gc.get_referrers": "refused", "forbid code": "refused",
                    "the hook's own defaults": "refused", "the seal checker's defaults": "refused",
                    "the serve loop's defaults": "refused", "a thread's tracer": "refused", "a student's class": "allowed",
                    "a student's function": "allowed", "gc.collect": "allowed",
                    "a platform module imported later": "allowed"}, seen


FIND_THE_SEAL = '''
import gc, sys
from course.sandbox.integrity import Seal
for obj in gc.get_objects():            # round 2: empty the seal's records, then patch the guard
    if type(obj) is Seal:
        obj._records = ()
'''


@pytest.mark.slow
def test_reaching_the_seal_through_gc_or_a_tracer_is_refused(tmp_path):
    """Red team round 2: gc found the Seal (9 lines, 06 0 -> 6/8); a tracer ran the built-in
    after the guard's exit. Both are refused at the interpreter's audit level now."""
    release = nb.load(REPO / "release" / "06_rnn" / "06_rnn.ipynb")
    for cell in release.cells:
        if nb.grade_id(cell) in TORCH_CELLS:
            cell.source = TORCH_CELLS[nb.grade_id(cell)]
    book = nbformat.from_dict(json.loads(nbformat.writes(release)))
    book.cells.append(nbformat.v4.new_code_cell("try:\n" + "".join("    " + l + "\n" for l in FIND_THE_SEAL.strip().splitlines())
                                                + "except Exception as exc:\n    print('REFUSED', type(exc).__name__)\n"
                                                + PATCH_THE_GUARD))
    path = tmp_path / "06_rnn.ipynb"
    nbformat.write(book, str(path))
    done = subprocess.run([sys.executable, "-m", "course.cli", "grade", "06_rnn", str(path), "--json",
                           "--no-gradebook", "--out", str(tmp_path / "out"), "--student", "rt"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    parts: dict[str, float] = {}
    for test in result["tests"]:
        parts[test["name"].split(":")[0]] = parts.get(test["name"].split(":")[0], 0.0) + test["score"]
    assert parts["rnn_cell"] == 0 and parts["gru_cell"] == 0, parts
