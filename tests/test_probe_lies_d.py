"""Red team "probe-lies" on 07: a notebook whose function returns a torch.Tensor subclass that
answers for its own dtype must not give a catalogued dtype mutant its points back. 07's probes
now read every property through the platform's describe() (a subclass is described as itself,
not exact) and the judge decides; a lying notebook scores exactly what the honest mutant scores.

On the probes before this change (obj.dtype asked of the object; honest -> lying):
07 pe_returns_float64 8/10 -> 10/10 (positional_encoding 0/2 -> 2/2 rescued). Now equal.
"""
from __future__ import annotations

import pytest
from lyingkit import same_with_and_without

pytestmark = pytest.mark.slow

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
