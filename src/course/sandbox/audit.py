"""An audit hook (PEP 578) the sandbox installs before the notebook runs: what would let a cell
reach into the platform's own objects is refused at the interpreter level.

Refused: tracing and profiling hooks (`sys.settrace`, `sys.setprofile`: a tracer can rewrite a
running function's local variables, the probes' and the serve loop's), the garbage collector's
object walks (`gc.get_objects`, `get_referrers`, `get_referents`: how a cell finds objects no name
leads to), `sys._current_frames`, and changing the code or defaults of a platform function
(`__code__`, `__defaults__`, `__kwdefaults__`; CPython audits those setters, not a class's
attribute assignments, which the seal checks instead). An audit hook cannot be removed once added,
and changing this hook's own code or defaults is itself an audited attribute change it refuses;
it keeps no state in closures or module globals (only in its defaults).

What it does not cover (said in the README): a closure cell's or a dict's contents (the seal,
course.sandbox.integrity, checks those), Python threads, and C-level writes (ctypes).
"""
from __future__ import annotations

import sys
import types


class Refused(RuntimeError):
    """What a cell tried is not allowed in the sandbox."""


def _hook(event, args, _refused=frozenset({"sys.settrace", "sys.setprofile", "gc.get_objects",
                                          "gc.get_referrers", "gc.get_referents", "sys._current_frames"}),
          _attribute_events=frozenset({"object.__setattr__", "object.__delattr__"}),
          _code_attributes=frozenset({"__code__", "__defaults__", "__kwdefaults__"}),
          _Refused=Refused, _type=type, _function=types.FunctionType, _str=str, _dict_get=dict.get,
          _isinstance=isinstance,
          _globals_of=types.FunctionType.__dict__["__globals__"].__get__,
          _module_of=type.__dict__["__module__"].__get__):
    if event in _refused:
        raise _Refused(f"{event} is not allowed while a notebook is graded")
    if event in _attribute_events and len(args) >= 2 and args[1] in _code_attributes:
        target = args[0]
        kind = _type(target)
        try:
            if kind is _function:
                module = _dict_get(_globals_of(target), "__name__")
            elif _isinstance(target, _type):
                module = _module_of(target)
            else:
                return
        except (AttributeError, TypeError):
            return
        if _type(module) is _str and (module == "course" or module.startswith("course.")):
            raise _Refused(f"the grader's own code may not be changed ({module})")


def install() -> None:
    """Once per sandbox, before any cell runs (it cannot be undone)."""
    sys.addaudithook(_hook)
