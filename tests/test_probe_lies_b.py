"""Red team "probe-lies" on 11-13: a cell that patches what the probes used to call (np.shares_memory,
np.array_equal, np.array, torch.Tensor.data_ptr, a subclass whose setflags does nothing...) must not
give a catalogued mutant its points back. Each mutant whose failure is a property (in place, aliasing,
traffic dtype, writes outside the output, a read-only input written) is graded honestly and with the
lie appended to its answer cell: the scores must be equal, part by part. Properties are decided in the
judge from what the platform's describe() read in the sandbox (course.judge.described)."""
from __future__ import annotations

import pytest
from lyingkit import same_with_and_without as _same_with_and_without

pytestmark = pytest.mark.slow


# ----------------------------------------------------------------------------- 11_memory_parallel
# The old ring probe decided "untouched" with np.array_equal and aliasing with np.shares_memory, and
# counted each message as np.array(data).nbytes. The second lie makes np.array, called from a method
# named send, deliver a float64 message whose values fit float32 as float32: the float32 ring's
# traffic looks right while the mutant sends float64.
LIE_11_COMPARE = '''
import numpy as _np
_np.array_equal = lambda *a, **k: True
_np.array_equiv = lambda *a, **k: True
_np.shares_memory = lambda *a, **k: False
_np.may_share_memory = lambda *a, **k: False
'''
LIE_11_TRAFFIC = '''
import sys as _sys
import numpy as _np
_real_array = _np.array
def _lying_array(obj, *args, **kwargs):
    out = _real_array(obj, *args, **kwargs)
    if (_sys._getframe(1).f_code.co_name == "send" and out.dtype == _np.float64
            and _np.all(out.astype(_np.float32).astype(_np.float64) == out)):
        return out.astype(_np.float32)
    return out
_np.array = _lying_array
'''


def test_11_patched_numpy_does_not_rescue_ring_mutants(tmp_path):
    honest_score, honest = _same_with_and_without(tmp_path / "inputs", "11_memory_parallel",
                                                  ["ring_modifies_inputs"], LIE_11_COMPARE)
    assert honest["ring_allreduce"] != "3 / 3"
    honest_score, honest = _same_with_and_without(tmp_path / "traffic", "11_memory_parallel",
                                                  ["ring_sends_float64"], LIE_11_TRAFFIC)
    assert honest["ring_allreduce"] != "3 / 3"


# ----------------------------------------------------------------------------- 12_triton_softmax
# The old wrapper probe decided "x changed" with np.array_equal and "returned x's memory" by comparing
# untyped_storage().data_ptr(); the lie answers both for the probe's own frames only (the Triton
# interpreter and the student's code see the real functions).
LIE_12 = '''
import itertools as _itertools
import sys as _sys
import numpy as _np
import torch as _torch
_PROBE_FRAMES = {"_describe", "_report", "softmax_wrapper", "dropout_wrapper", "run"}
_real_equal, _real_storage, _fresh = _np.array_equal, _torch.Tensor.untyped_storage, _itertools.count(1)
def _lying_equal(*args, **kwargs):
    return True if _sys._getframe(1).f_code.co_name in _PROBE_FRAMES else _real_equal(*args, **kwargs)
class _FakeStorage:
    def __init__(self):
        self.ptr = next(_fresh)
    def data_ptr(self):
        return self.ptr
def _lying_storage(self):
    return _FakeStorage() if _sys._getframe(1).f_code.co_name in _PROBE_FRAMES else _real_storage(self)
_np.array_equal = _lying_equal
_torch.Tensor.untyped_storage = _lying_storage
'''


def test_12_patched_equality_and_storage_do_not_rescue_writing_into_x(tmp_path):
    honest_score, honest = _same_with_and_without(tmp_path, "12_triton_softmax", ["wrapper_writes_into_x"], LIE_12)
    assert honest["softmax"] != "4 / 4"


# ----------------------------------------------------------------------------- 13_inference
# The old speculative probe relied on a read-only flag to keep p and q unchanged, set on arrays it
# built with np.asfortranarray: patched to return a subclass whose setflags does nothing, p stays
# writable and a speculative_step that overwrites p no longer raises. Now the judge compares p and q
# as describe() reads them after the calls.
LIE_13 = '''
import numpy as _np
class _Writable(_np.ndarray):
    def setflags(self, *args, **kwargs):
        pass
_real_fortran = _np.asfortranarray
_np.asfortranarray = lambda a, *args, **kwargs: _real_fortran(a, *args, **kwargs).view(_Writable)
'''


def test_13_a_writable_subclass_does_not_rescue_writing_into_p(tmp_path):
    honest_score, honest = _same_with_and_without(tmp_path, "13_inference", ["spec_writes_into_p"], LIE_13)
    assert honest["speculative_step"] != "3 / 3"
