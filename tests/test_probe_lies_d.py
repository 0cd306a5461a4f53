"""Red team "probe-lies" on 06 and 07: a result that answers for its own kind must not give a
catalogued mutant its points back. 06's and 07's probes now read what a result is through the
platform's describe() (the real type; a subclass is described as itself, not exact) and the judge
decides; a lying notebook scores exactly what the honest mutant scores.

On the probes before this change (honest -> lying):
06 clip_total_norm_tensor 7/8 -> 8/8 (bptt 1/2 -> 2/2 rescued: the 0-d tensor total, wrapped in an
   object whose __class__ says float, passed isinstance(total, float) and float() read its value);
07 pe_returns_float64 8/10 -> 10/10 (positional_encoding 0/2 -> 2/2 rescued: a Tensor subclass
   whose .dtype says float32, asked obj.dtype). Now equal.
"""
from __future__ import annotations

import pytest
from lyingkit import same_with_and_without

pytestmark = pytest.mark.slow

# The total norm (a 0-d tensor in the mutant) comes back wrapped in an object that says it is a float.
LIE_FLOAT = '''
class _SaysFloat:
    def __init__(self, value):
        self._value = value

    @property
    def __class__(self):
        return float

    def __float__(self):
        return float(self._value)


_own_clip = clip_grad_norm


def clip_grad_norm(grads, max_norm):
    clipped, total = _own_clip(grads, max_norm)
    return clipped, _SaysFloat(total)
'''

# The encoding comes back as a Tensor subclass whose .dtype says float32 (the values stay float64).
LIE_DTYPE = '''
import torch as _torch


class _SaysFloat32(_torch.Tensor):
    @property
    def dtype(self):
        return _torch.float32


_own_encoding = sinusoidal_positional_encoding


def sinusoidal_positional_encoding(*args, **kwargs):
    return _own_encoding(*args, **kwargs).as_subclass(_SaysFloat32)
'''


def test_07_a_subclass_claiming_float32_does_not_rescue_pe_float64(tmp_path):
    _, honest = same_with_and_without(tmp_path, "07_attention", ["pe_returns_float64"], LIE_DTYPE)
    assert honest["positional_encoding"] == "0 / 2", honest     # caught by its dtype check


def test_06_an_object_claiming_to_be_a_float_does_not_rescue_a_tensor_total(tmp_path):
    _, honest = same_with_and_without(tmp_path, "06_rnn", ["clip_total_norm_tensor"], LIE_FLOAT)
    assert honest["bptt"] == "1 / 2", honest                    # caught by its "Python float" check
