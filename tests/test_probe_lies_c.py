"""Red team "probe-lies" on 14-17: a cell that patches what those assignments' probes used to
decide with (torch.equal after a clone, a tensor's own dtype/requires_grad) must not give a
catalogued mutant its points back. Each test grades the same mutants twice, honestly and with
the lying cell appended to the student's answer cell, and the two must score exactly the same:
the probes report describe() records and the inputs as read back after the call, and the judge
decides (course.judge.described.unchanged / expect_described)."""
from __future__ import annotations

import pytest
from lyingkit import same_with_and_without

pytestmark = pytest.mark.slow   # grades whole notebooks

# Every "input untouched" check a probe could make with torch: equal after a clone.
LIE_EQUAL = '''
import torch as _torch
_torch.equal = lambda *a, **k: True
'''


def test_14_patched_equal_does_not_rescue_the_in_place_mutants(tmp_path):
    _, honest = same_with_and_without(tmp_path, "14_diffusion",
                                   ["q_sample_in_place", "ddim_step_in_place", "cfg_combine_in_place"], LIE_EQUAL)
    assert honest["forward_process"] == "1.5 / 3" and honest["ddim"] == "0 / 3" and honest["cfg"] == "1 / 2"


# The float32 times of euler_t_float32 claim float64 whenever velocity_fn reads them (a property
# on torch.Tensor shadowing the C descriptor, aimed at the probe's own frame).
LIE_T_DTYPE = LIE_EQUAL + '''
import sys as _sys
_real_dtype = _torch._C.TensorBase.dtype
def _claimed_dtype(self):
    d = _real_dtype.__get__(self)
    if d is _torch.float32 and _sys._getframe(1).f_code.co_name == "velocity_fn":
        return _torch.float64
    return d
_torch.Tensor.dtype = property(_claimed_dtype)
'''


def test_15_patched_equal_and_dtype_do_not_rescue_the_euler_mutants(tmp_path):
    _, honest = same_with_and_without(tmp_path, "15_dit_flow", ["euler_in_place_update", "euler_t_float32"],
                                   LIE_T_DTYPE)
    assert honest["euler_sampler"] == "0 / 2"


def test_17_patched_equal_does_not_rescue_the_in_place_state(tmp_path):
    _, honest = same_with_and_without(tmp_path, "17_efficient_attention", ["gla_recurrent_updates_state_in_place"],
                                   LIE_EQUAL)
    assert honest["gla_recurrent"] == "0.67 / 2"


# The reference's log-probabilities claim requires_grad=False when the grader's stand-in dpo_loss
# reads them, and the reference's parameters claim no .grad when a probe lists them (properties on
# torch.Tensor shadowing the C descriptors, aimed at the probes' own frames, "<hidden>").
LIE_GRAPH = LIE_EQUAL + '''
import sys as _sys
_rg, _gr = _torch._C.TensorBase.requires_grad, _torch._C.TensorBase.grad

def _probe_frame(*names):
    f = _sys._getframe(2)
    return f.f_code.co_filename == "<hidden>" and f.f_code.co_name in names

_torch.Tensor.requires_grad = property(
    lambda s: False if _probe_frame("dpo_loss") else _rg.__get__(s), lambda s, v: _rg.__set__(s, v))
_torch.Tensor.grad = property(
    lambda s: None if _probe_frame("<listcomp>", "<genexpr>") else _gr.__get__(s),
    lambda s, v: _gr.__set__(s, v), lambda s: _gr.__delete__(s))
'''


def test_16_patched_requires_grad_and_grad_do_not_rescue_a_reference_with_gradients(tmp_path):
    _, honest = same_with_and_without(tmp_path, "16_alignment_dpo", ["dpo_reference_gets_grads"], LIE_GRAPH)
    assert honest["dpo_training"] == "2.33 / 3"


# nn.Module.named_parameters, called from a probe on a model without LoRA layers (the reference),
# hands back copies taken at the first such call: the reference looks untouched after training.
LIE_STALE_PARAMETERS = '''
import sys as _sys
import torch as _torch
_real_named_parameters = _torch.nn.Module.named_parameters
_stale = {}

def _named_parameters(self, *args, **kwargs):
    if (_sys._getframe(1).f_code.co_filename != "<hidden>"
            or any(type(m).__name__ == "LoRALinear" for m in self.modules())):
        return _real_named_parameters(self, *args, **kwargs)
    if id(self) not in _stale:
        _stale[id(self)] = [(n, p.detach().clone()) for n, p in _real_named_parameters(self, *args, **kwargs)]
    return iter(_stale[id(self)])

_torch.nn.Module.named_parameters = _named_parameters
'''


def test_16_patched_named_parameters_does_not_hide_a_trained_reference(tmp_path):
    _, honest = same_with_and_without(tmp_path, "16_alignment_dpo", ["dpo_reference_trained"], LIE_STALE_PARAMETERS)
    assert honest["dpo_training"] == "2.33 / 3"
