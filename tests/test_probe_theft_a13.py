"""Nothing in the sandbox scores (issue 18, item 1) for assignments 13-17.

probes.py is public by design: a student's cell can reach everything that enters the sandbox,
`sys.modules["course.sandbox.child"]._probes` included. Each attack below is the untouched
release plus ONE extra cell that redefines every function and class the student must write as
a thief, and is graded by the real judge. It must score 0 on every part.

Every student name becomes a thief, which tries in turn (one grading per assignment, the
strongest attack of the three):
  stash_swaps    whenever any thief runs it keeps whatever the notebook's globals hold under a
                 student name that is not a thief: a probe that swaps a reference in for part
                 isolation hands it over, and the thief calls it for that name in later tests;
  call_probes    any callable in the probes' globals whose name is the student's name with any
                 prefix (`_ref_q_sample`, `reference_dpo_loss`, ...), also inside dicts and
                 (name, value) lists held by the probes' globals and their classes (swap tables);
  read_globals   any non-callable value stored there under such a name (expected values,
                 answer tables).
"""
from __future__ import annotations

import ast
import copy
from pathlib import Path

import nbformat
import pytest

from course import notebook as nb
from course.judge.run import grade_notebook
from course.paths import Course

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ["13_inference", "14_diffusion", "15_dit_flow", "16_alignment_dpo", "17_efficient_attention"]

pytestmark = pytest.mark.slow

THIEF = r'''
import sys as _sys

_TARGETS = {targets!r}
_child = _sys.modules["course.sandbox.child"]
_active = set()
_stash = {{}}


def _norm(name):
    name = name.lower().replace("_", "")
    for prefix in ("reference", "ref", "expected", "want", "answer", "solution", "given"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name


def _tables(value, depth=0):
    """(key, value) pairs held in dicts, lists of pairs and class attributes, a few levels deep."""
    if depth > 3:
        return
    if isinstance(value, dict):
        for k, v in list(value.items()):
            if isinstance(k, str):
                yield k, v
                yield from _tables(v, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str):
                yield item[0], item[1]
            yield from _tables(item, depth + 1)
    elif isinstance(value, type) and getattr(value, "__module__", "") == "probes":
        yield from _tables(dict(vars(value)), depth + 1)


def _candidates(name):
    probes = _child._probes
    want = _norm(name)
    found = []
    for key, value in _tables(dict(probes)):
        if key == name and key in probes and probes[key] is value:
            continue                                   # the probe itself: it calls this very wrapper
        nk = _norm(key)
        if nk == want or (want and nk.endswith(want)):
            found.append(value)
    return found


def _grab_swapped():
    space = globals()
    for target in _TARGETS:
        current = space.get(target)
        if current is not None and not getattr(current, "_thief", False):
            _stash.setdefault(target, current)


def _make(name):
    def thief(*args, **kwargs):
        if name in _active:
            raise RuntimeError("recursion")
        _active.add(name)
        try:
            _grab_swapped()                            # stash_swaps: keep what a probe swapped in
            if name in _stash:
                try:
                    return _stash[name](*args, **kwargs)
                except Exception:
                    pass
            found = _candidates(name)
            for value in found:                        # call_probes: whatever callable matches the name
                if callable(value):
                    try:
                        return value(*args, **kwargs)
                    except RecursionError:
                        raise
                    except Exception:
                        continue
            for value in found:                        # read_globals: a stored value under the name
                if not callable(value):
                    return value
            raise NotImplementedError(f"nothing to steal for {{name}}")
        finally:
            _active.discard(name)
    thief._thief = True
    thief.__name__ = name
    return thief


for _name in _TARGETS:
    globals()[_name] = _make(_name)
'''


def student_names(release_nb) -> list[str]:
    """Top-level functions and classes defined in the release's solution cells."""
    names = []
    for cell in release_nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.append(node.name)
    return names


def thief_notebook(assignment: str):
    release = nb.load(REPO / "release" / assignment / f"{assignment}.ipynb")
    names = student_names(release)
    assert names, f"{assignment}: no solution cells found in the release"
    stolen = copy.deepcopy(release)
    stolen.cells.append(nbformat.v4.new_code_cell(THIEF.format(targets=names)))
    return stolen


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_thief_cell_scores_nothing(tmp_path, assignment):
    path = tmp_path / f"{assignment}.ipynb"
    stolen = thief_notebook(assignment)
    nbformat.write(stolen, path)
    document = grade_notebook(Course(REPO), assignment, path, student="thief")
    last = len(stolen.cells)                           # cells are numbered from 1, as the student sees them
    thief_errors = [e for e in document.get("extra_data", {}).get("cell_errors", []) if e.get("cell") == last]
    assert not thief_errors, f"the thief cell itself failed: {thief_errors}"
    scored = {t["name"]: t["score"] for t in document["tests"] if t["score"] > 0}
    assert document["score"] == 0, f"{assignment}: the thief scored {document['score']}: {sorted(scored)}"
