"""Expected values computed once per batch, not once per student.

A hidden test's expected values depend on its seeded inputs only, never on the submission, yet
each judge process computes them again (02's torch float64 references are a fifth of a judge).
The judge server imports every test module once per batch, before it forks a judge per student;
a suite can use that:

    @references.cached           # memoized by its arguments (plain data)
    def expected(program, leaves): ...

    references.prime(globals())  # last line of the module: run each test up to its first probe

`prime` calls every test function of the module once per parametrization, with a stand-in for
`sub` whose first use ends the test. Whatever a test computes through `cached` functions before
it probes is then in the server's memory, and every judge forked from it finds it there. A test
that computes its reference after probing, or needs other fixtures, is left alone: it computes
its reference in each judge, as without priming. Nothing here can change a grade: a cached
value is returned only for arguments equal in type, dtype, shape and every bit.
"""
from __future__ import annotations

import functools
import inspect
import itertools
from typing import Callable

import numpy as np


class _Stop(BaseException):
    """Ends a test being primed at its first probe (BaseException: `except Exception` in a test
    must not swallow it)."""


class _Priming:
    """Stands in for `sub` while priming: the first probe (or any other use) ends the test."""

    def __getattr__(self, name):
        raise _Stop


def _key(value):
    """A hashable, exact form of plain data. Types are part of it (True and 1, 0.0 and -0.0
    and 0 are different keys); floats by their bits."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, np.ascontiguousarray(value).tobytes())
    if isinstance(value, (bool, int, str, bytes, type(None))):
        return (type(value).__name__, value)
    if isinstance(value, (float, np.floating)):
        return (type(value).__name__, float(value).hex())
    if isinstance(value, np.generic):
        return (type(value).__name__, value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((_key(k), _key(v)) for k, v in value.items()))
    raise TypeError(f"references.cached takes plain data (numbers, strings, numpy arrays, lists, tuples, "
                    f"dicts), not {type(value).__name__}")


def cached(function: Callable) -> Callable:
    """Memoize a pure function of plain data by the exact value of its arguments."""
    memo: dict = {}

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        key = (_key(args), _key(kwargs))
        if key not in memo:
            memo[key] = function(*args, **kwargs)
        return memo[key]

    wrapper.memo = memo
    return wrapper


def _parametrizations(test: Callable) -> list[dict] | None:
    """Every keyword set pytest would call `test` with (its parametrize marks, crossed), or
    None when the test needs what priming cannot give (another fixture, indirect parameters)."""
    from _pytest.mark.structures import ParameterSet

    grids = []
    for mark in getattr(test, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        if mark.kwargs.get("indirect"):
            return None
        names, values = mark.args[0], mark.args[1]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        rows = []
        for value in values:
            if isinstance(value, ParameterSet):
                value = value.values
            elif len(names) == 1:
                value = (value,)
            rows.append(dict(zip(names, value)))
        grids.append(rows)
    calls = [dict(itertools.chain.from_iterable(row.items() for row in combo)) for combo in itertools.product(*grids)]
    wanted = set(inspect.signature(test).parameters)
    if any(wanted - {"sub"} - set(call) for call in calls):
        return None
    return calls


def prime(namespace: dict) -> int:
    """Run each test function in `namespace` (a module's globals()) up to its first probe, so
    that its `cached` references are computed now; returns how many calls were made. Any error
    is left for the real run of the test to report."""
    made = 0
    for name, test in list(namespace.items()):
        if not (name.startswith("test") and inspect.isfunction(test)):
            continue
        takes_sub = "sub" in inspect.signature(test).parameters
        for call in _parametrizations(test) or []:
            made += 1
            try:
                test(**({"sub": _Priming()} if takes_sub else {}), **call)
            except _Stop:
                pass
            except Exception:  # noqa: BLE001 - the test itself, run for real, says what is wrong
                pass
    return made
