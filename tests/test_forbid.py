"""course.sandbox.forbid: the guard 05 and 06 probes put around a student's call. Run in-process
here (the probes get the same object as a global): every path to a forbidden kernel raises while
it is active, a canary that gets through refuses to start it, and leaving it restores torch."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from course.sandbox.forbid import Forbidden, forbid  # noqa: E402

CONV = [(r"conv(?!ert)", "write it yourself")]


def _x():
    return torch.ones(1, 1, 3, 3, dtype=torch.float64), torch.ones(1, 1, 2, 2, dtype=torch.float64)


def test_every_path_to_a_forbidden_kernel_raises_and_leaving_restores_it():
    x, w = _x()
    saved = torch.conv2d   # a reference taken before the guard, as a notebook cell would
    with forbid(CONV):
        for call in (lambda: F.conv2d(x, w), lambda: saved(x, w), lambda: torch.nn.Conv2d(1, 1, 2).double()(x),
                     lambda: torch.ops.aten.convolution.default(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)):
            with pytest.raises(Forbidden, match="may not be used in this exercise: write it yourself"):
                call()
        with torch._C.DisableTorchFunction():   # below torch-function handling: the kernel refuses
            with pytest.raises(Forbidden):
                saved(x, w)
        assert torch.mm(x[0, 0], x[0, 0]).shape == (3, 3)   # everything else runs
    assert torch.equal(F.conv2d(x, w), torch.full((1, 1, 2, 2), 4.0, dtype=torch.float64))


def test_a_qualified_function_is_refused_but_its_namesake_method_is_not():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    with forbid(CONV, functions=[("torch.nn.functional.unfold", "slice it")]):
        with pytest.raises(Forbidden, match="torch.nn.functional.unfold may not be used"):
            F.unfold(x, 2)
        assert x.unfold(2, 2, 1).shape == (1, 1, 3, 4, 2)   # Tensor.unfold is allowed


def test_a_canary_that_gets_through_stops_the_guard_and_leaves_torch_as_it_was():
    x, w = _x()
    with pytest.raises(RuntimeError, match="could not block"):
        with forbid(CONV, canaries=[lambda: torch.mm(x[0, 0], x[0, 0])]):   # mm is not forbidden
            pass
    assert F.conv2d(x, w).shape == (1, 1, 2, 2)
    with forbid(CONV, canaries=[lambda: torch.conv2d(x, w)]):   # refused on both levels: starts
        pass


def test_no_rules_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        forbid([])


def _disarm_from_inside():
    """What a hostile student's function can do while the guard is on: find it through torch's
    mode stack, destroy its kernel library (every closure the mode reaches), pop nothing."""
    for i in range(torch._C._len_torch_function_stack()):
        mode = torch._C._get_function_stack_at(i)
        for cell in type(mode).__torch_function__.__closure__ or ():
            guard = cell.cell_contents
            for undo in getattr(guard, "_entered", []):
                for inner in getattr(undo, "__closure__", None) or ():
                    if hasattr(inner.cell_contents, "_destroy"):
                        inner.cell_contents._destroy()


def test_a_guard_disarmed_from_inside_the_students_call_fails_the_part():
    x, w = _x()
    canaries = [lambda: torch.conv2d(x, w)]
    with pytest.raises(RuntimeError, match="taken off while your code ran"):
        with forbid(CONV, canaries=canaries):
            _disarm_from_inside()
            with torch._C.DisableTorchFunction():
                torch.conv2d(x, w)   # the built-in went through: its result must not count
    assert F.conv2d(x, w).shape == (1, 1, 2, 2)   # and torch works again afterwards
    with forbid(CONV, canaries=canaries):   # an honest call leaves the guard armed: no error
        torch.mm(x[0, 0], x[0, 0])
