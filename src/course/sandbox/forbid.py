"""`forbid(rules, canaries)`: while a student's code runs, named torch functions and aten kernels raise.

Given to probes as a global (next to `describe`), bound before the notebook runs, so a cell
cannot swap in a harmless look-alike through `sys.modules`. An exercise that asks students to
write a convolution or an LSTM cell themselves wraps the call in it:

    rules = [(r"conv(?!ert)", "build conv2d from your im2col and one matrix multiply")]
    functions = [("torch.nn.functional.unfold", "build im2col from F.pad and slicing")]
    canaries = [lambda: torch.ops.aten.im2col.default(torch.zeros(1, 1, 1, 1), [1, 1], [1, 1], [0, 0], [1, 1])]
    with forbid(rules, functions=functions, canaries=canaries):
        out = student.conv2d(x, w, b)

A rule is (regular expression, hint). It is searched in the bare name of every torch-level call
("convolution" for torch.ops.aten.convolution.default, torch.convolution, F.conv2d's "conv2d"):
matched on the function itself, whatever path reached it (a module attribute, torch._C,
torch.ops.aten, an nn.Module's forward, a reference a notebook cell saved earlier). `functions`
names single Python-level functions by their qualified name ("torch.nn.functional.unfold",
module + name), refused at the torch-function level only (Tensor.unfold, also named "unfold",
stays allowed). Two levels refuse:

  * a TorchFunctionMode sees every torch-level call;
  * below it (torch._C.DisableTorchFunction() switches modes off), a Python kernel that raises is
    registered over the CPU and Autograd kernels of every aten operator whose bare name a rule
    matches, and removed on exit, which brings the real kernels back. (A TorchDispatchMode would
    import torch._dynamo on first use, +2-4 s per sandbox, and would not see composite ops.)

On entry every canary (a call that must be refused) is run twice, with torch-function handling on
and off; one that goes through means the guard was disarmed in advance (torch patched by a
cell), and entering raises RuntimeError, so the check fails instead of letting the built-ins
through. On exit the canaries run again, before the guard is taken down: a call that disarmed
it from inside (its kernel library destroyed, its mode popped) raises RuntimeError there, so what
that call returned is not graded. torch is read from sys.modules at entry, like the probe's own
`import torch`: the canaries are what vouch for it. This is a guard in the student's own process:
it stops a student who calls the built-ins, and one who disarms it in the ways tested here; code
that rewrites the guard's own objects could still get through (see the README's limits).
"""
from __future__ import annotations

import re
import sys
import warnings


class Forbidden(RuntimeError):
    """A built-in the exercise asks students to write themselves was called."""


def _op_name(func) -> str:
    """'convolution' for torch.ops.aten.convolution, its .default overload and torch.convolution alike."""
    packet = getattr(func, "overloadpacket", None)           # an OpOverload (aten.convolution.default)
    name = getattr(packet if packet is not None else func, "__name__", "")
    return name if type(name) is str else ""


def _qualified(func, name: str) -> str:
    module = getattr(func, "__module__", None)
    return f"{module}.{name}" if type(module) is str else name


_KERNELS: dict = {}   # compiled rules -> the aten overloads they match, listed once per sandbox


def _kernels(torch, rules) -> list:
    """Every aten operator overload (forward, backward, out=) whose bare name a rule matches."""
    key = tuple(pattern.pattern for pattern, _ in rules)
    if key not in _KERNELS:
        names = [full[len("aten::"):] for full in torch._C._dispatch_get_all_op_names() if full.startswith("aten::")]
        _KERNELS[key] = sorted(n for n in names if any(p.search(n.split(".")[0]) for p, _ in rules))
    return _KERNELS[key]


class forbid:   # noqa: N801 - used as a statement: `with forbid(...)`
    """Context manager; see the module docstring. rules: [(regex, hint)] on bare names;
    functions: [(qualified name, hint)]; canaries: zero-argument callables, each a call of a
    forbidden built-in that must raise Forbidden."""

    def __init__(self, rules, *, functions=(), canaries=()):
        self.rules = [(re.compile(pattern), str(hint)) for pattern, hint in rules]
        if not self.rules:
            raise ValueError("forbid() needs at least one (pattern, hint) rule")
        self.functions = {str(name): str(hint) for name, hint in functions}
        self.canaries = list(canaries)
        self._entered = []

    def refusal(self, func):
        """The Forbidden error a call of func earns, or None."""
        name = _op_name(func)
        for pattern, hint in self.rules:
            if pattern.search(name):
                return Forbidden(f"torch's {name} may not be used in this exercise: {hint}")
        qualified = _qualified(func, name)
        if qualified in self.functions:
            return Forbidden(f"{qualified} may not be used in this exercise: {self.functions[qualified]}")
        return None

    def _kernel(self, torch, overload):
        refused = self.refusal(getattr(torch.ops.aten, overload.split(".")[0]))
        message = str(refused) if refused is not None else f"torch's {overload} may not be used in this exercise"

        def kernel(*args, **kwargs):
            raise Forbidden(message)   # a fresh error each call: no traceback carried over
        return kernel

    def __enter__(self):
        torch = sys.modules["torch"]
        from torch.overrides import TorchFunctionMode

        guard = self

        class _FunctionGuard(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                refused = guard.refusal(func)
                if refused is not None:
                    raise refused
                return func(*args, **(kwargs or {}))

        try:
            mode = _FunctionGuard()
            mode.__enter__()
            self._entered.append(mode.__exit__)
            lib = torch.library.Library("aten", "IMPL")
            self._entered.append(lambda *exc: lib._destroy())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")          # "Overriding a previously registered kernel"
                for overload in _kernels(torch, self.rules):
                    for key in ("CPU", "Autograd"):
                        try:
                            lib.impl(overload, self._kernel(torch, overload), key)
                        except Exception:   # noqa: BLE001 - an overload that takes no kernel at this key
                            pass
            for canary in self.canaries:
                for below in (False, True):
                    if not self._refused(torch, canary, below):
                        raise RuntimeError("the checks could not block torch's built-in kernels in this "
                                           "notebook (was torch patched?); this part cannot be graded")
        except BaseException:
            self._teardown()
            raise
        return self

    @staticmethod
    def _refused(torch, canary, below: bool) -> bool:
        try:
            if below:
                with torch._C.DisableTorchFunction():
                    canary()
            else:
                canary()
        except Forbidden:
            return True
        return False

    def _teardown(self):
        while self._entered:
            self._entered.pop()(None, None, None)

    def __exit__(self, *exc):
        # The canaries again, before the guard comes off: a student's call that disarmed it from
        # inside (destroyed the kernels' library, popped the mode) and then used the built-ins
        # leaves it disarmed, so what that call returned is not graded.
        torch = sys.modules.get("torch")
        disarmed = bool(self._entered) and torch is not None and not all(
            self._refused(torch, canary, below) for canary in self.canaries for below in (False, True))
        self._teardown()
        if disarmed:
            raise RuntimeError("the checks' guard against torch's built-in kernels was taken off while "
                               "your code ran; this part cannot be graded")
        return False
