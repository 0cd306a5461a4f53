"""Whether the platform's own code in the sandbox is still what it was before the notebook ran.

Probes are given tools (`describe`, `forbid`, `type_name`, `to_numpy`) and the sandbox answers
through `course.protocol`; all of it is Python in the student's own process. A cell can rewrite
it without ctypes: a class's methods (`forbid.__enter__ = ...`), a function's `__code__`,
`__defaults__` or closure cells, a module global a tool calls (`course.sandbox.forbid._op_name`),
a builtin it uses (`builtins.getattr`). `Seal(roots)` records, before any cell runs, every such
binding reachable from the roots through the platform's own modules (functions, closures,
classes, the globals and builtins their code names); `seal.broken()` names the first one that
no longer holds. The sandbox checks it around every probe call: a broken seal fails that check
instead of grading what a rewritten tool reported.

Everything is read through descriptors of C types taken at import (a cell cannot patch those),
and the walk stays inside `course.*`: torch and numpy are vouched for by other means (describe's
C-level facts, forbid's canaries). Not covered: writes to C-level state (ctypes), and objects a
tool creates later (forbid's per-call guard class) beyond the code that creates them.
"""
from __future__ import annotations

import builtins
import operator
import sys
import types

_FunctionType, _CodeType, _CellType = types.FunctionType, types.CodeType, types.CellType
_code_of = _FunctionType.__dict__["__code__"].__get__
_defaults_of = _FunctionType.__dict__["__defaults__"].__get__
_kwdefaults_of = _FunctionType.__dict__["__kwdefaults__"].__get__
_closure_of = _FunctionType.__dict__["__closure__"].__get__
_globals_of = _FunctionType.__dict__["__globals__"].__get__
_cell_contents = _CellType.__dict__["cell_contents"].__get__
_class_dict = type.__dict__["__dict__"].__get__
_class_module = type.__dict__["__module__"].__get__
_co_names = _CodeType.__dict__["co_names"].__get__
_co_consts = _CodeType.__dict__["co_consts"].__get__
_type, _isinstance, _id, _str, _dict_get, _list, _tuple, _sorted, _enumerate = (
    type, isinstance, id, str, dict.get, list, tuple, sorted, enumerate)
_BUILTINS = builtins.__dict__
_MODULES = sys.modules      # grows and changes as the notebook imports: never sealed
_MISSING = object()


def _ours(obj) -> bool:
    """A function or class of the platform (its module is course or under it)."""
    try:
        if _isinstance(obj, _FunctionType):
            module = _dict_get(_globals_of(obj), "__name__")
        elif _isinstance(obj, type):
            module = _class_module(obj)
        else:
            return False
    except (AttributeError, TypeError):
        return False
    return _type(module) is _str and (module == "course" or module.startswith("course."))


def _names(code) -> list:
    """Every global name a code object (and the code nested in it) may look up."""
    found, todo = [], [code]
    while todo:
        current = todo.pop()
        found.extend(_co_names(current))
        todo.extend(c for c in _co_consts(current) if _isinstance(c, _CodeType))
    return found


def _record(roots) -> list:
    """(what, holder, key, object) for every binding reachable from the roots."""
    records, seen, todo = [], set(), _list(roots)
    while todo:
        obj = todo.pop()
        if _id(obj) in seen or not _ours(obj):
            continue
        seen.add(_id(obj))
        if _isinstance(obj, type):
            members = _class_dict(obj)
            records.append(("keys", obj, "", _tuple(_sorted(members.keys()))))   # nothing added either
            for key, value in members.items():
                records.append(("class", obj, key, value))
                if _isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                todo.append(value)
            continue
        code, scope = _code_of(obj), _globals_of(obj)
        records += [("code", obj, "__code__", code), ("defaults", obj, "__defaults__", _defaults_of(obj)),
                    ("kwdefaults", obj, "__kwdefaults__", _kwdefaults_of(obj))]
        for index, cell in _enumerate(_closure_of(obj) or ()):
            try:
                value = _cell_contents(cell)
            except ValueError:      # an empty cell (a name assigned later)
                value = _MISSING
            records.append(("cell", cell, index, value))
            todo.append(value)
            if _type(value) is dict and value and value is not _MODULES:
                # a table a tool keeps in its closure (describe's genuine types, facts' torch
                # references): its entries too; entries added later (torch found late) are not
                records += [("item", value, key, item) for key, item in value.items()]
        for name in _names(code):
            value = _dict_get(scope, name, _MISSING)
            if value is not _MISSING:
                records.append(("global", scope, name, value))
                todo.append(value)
            elif name in _BUILTINS:
                records.append(("builtin", _BUILTINS, name, _BUILTINS[name]))
    return records


def _now(what, holder, key):
    if what == "keys":
        return _tuple(_sorted(_class_dict(holder).keys()))
    if what == "class":
        return _class_dict(holder).get(key, _MISSING)     # a mappingproxy's own (C) get
    if what == "code":
        return _code_of(holder)
    if what == "defaults":
        return _defaults_of(holder)
    if what == "kwdefaults":
        return _kwdefaults_of(holder)
    if what == "cell":
        try:
            return _cell_contents(holder)
        except ValueError:
            return _MISSING
    return _dict_get(holder, key, _MISSING)     # a module's globals, the builtins, a table's entry


def _label(holder) -> str:
    try:
        if _isinstance(holder, dict):
            return _str(_dict_get(holder, "__name__", "builtins"))
        return _str(_type.__dict__["__qualname__"].__get__(holder) if _isinstance(holder, type)
                    else _FunctionType.__dict__["__qualname__"].__get__(holder))
    except (AttributeError, TypeError):
        return "?"


_GETTERS = {"code": operator.attrgetter("__code__"), "defaults": operator.attrgetter("__defaults__"),
            "kwdefaults": operator.attrgetter("__kwdefaults__"), "cell": operator.attrgetter("cell_contents")}


class Seal:
    """The platform's bindings as they were when the seal was made."""

    def __init__(self, roots):
        self._records = _tuple(_record(roots))

    def tables(self) -> tuple[tuple, tuple, tuple, tuple, tuple]:
        """(getters, holders, values, sized, sizes) for a check made of C callables only:

            all(map(operator.is_, map(operator.call, getters, holders), values))
            and all(map(operator.eq, map(len, sized), sizes))

        A caller that keeps these in its own local variables (which no Python code can rebind)
        and runs that expression checks every binding without running any Python the notebook
        could have rewritten (this class's own methods included). A binding that is gone raises
        (KeyError, ValueError): the caller counts that as broken too."""
        getters, holders, values, sized, sizes = [], [], [], [], []
        for what, holder, key, value in self._records:
            if what == "keys":
                sized.append(_class_dict(holder))      # a live view of the class's dict
                sizes.append(len(value))
                continue
            if what == "class":
                getters.append(operator.itemgetter(key))
                holders.append(_class_dict(holder))
            elif what in _GETTERS:
                getters.append(_GETTERS[what])
                holders.append(holder)
            else:                                       # global, builtin, item: a dict entry
                getters.append(operator.itemgetter(key))
                holders.append(holder)
            values.append(value)
        return _tuple(getters), _tuple(holders), _tuple(values), _tuple(sized), _tuple(sizes)

    def broken(self) -> str | None:
        """None while every recorded binding holds; else which one changed."""
        for what, holder, key, value in self._records:
            now = _now(what, holder, key)
            if (now != value) if what == "keys" else (now is not value):
                return f"{what} {key!s} of {_label(holder)}"
        return None

    def __len__(self) -> int:
        return len(self._records)
