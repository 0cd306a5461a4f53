"""Red team "probe-lies" on 08, 09 and 10: a cell that patches what the probes used to decide a
property with (torch.equal for "the input is unchanged", nn.Module.named_parameters for "the
base layer is frozen") must not give a catalogued mutant its points back. The probes now send the
platform's describe() of the inputs after the call and the modules' own parameter dicts, and the
judge decides; a lying notebook scores exactly what the honest mutant scores.

On the probes before this change (same mutants, same lies; honest -> lying): 08
sampling_temperature_in_place 9.25 -> 8.5 (sampling 0.25 -> 1 rescued; tiny_gpt 3 -> 1.5, since
train's "parameters changed" count also used torch.equal), 09 route_shifts_logits_in_place
9.67 -> 10 (moe 1.67 -> 2), 10 lora_base_trainable 5.5 -> 7 (lora 0.5 -> 2). Now equal.
(09's rope_in_place cannot show it: its in-place write on x fails the gradient cases anyway.)

05 has no catalogued mutant whose failure is a property; its lie surface is the built-in guard
(course.sandbox.forbid), which a cell can try to disarm in advance: its canaries then refuse to
grade the guarded parts (the last test).
"""
from __future__ import annotations

import pytest
from lyingkit import grade as _grade, same_with_and_without

pytestmark = pytest.mark.slow

# torch.equal answers True: every "input untouched" check a probe could make with it passes
LIE_EQUAL = '''
import torch as _torch
_torch.equal = lambda *a, **k: True
_torch.Tensor.equal = lambda *a, **k: True
'''

# named_parameters() hides the base layer: a probe that asks the module which parameters train
# (or which base parameters require grad, or got a gradient) hears "only lora_A and lora_B"
LIE_PARAMETERS = '''
import torch as _torch
_own_named_parameters = _torch.nn.Module.named_parameters


def _named_parameters(self, *args, **kwargs):
    for _name, _p in _own_named_parameters(self, *args, **kwargs):
        if _name.split(".")[-1] in ("lora_A", "lora_B"):
            yield _name, _p


_torch.nn.Module.named_parameters = _named_parameters
'''


def _same_with_and_without_the_lie(tmp_path, assignment, names, lie, part, honest_part):
    _, honest = same_with_and_without(tmp_path, assignment, names, lie)
    assert honest[part] == honest_part, honest           # the mutant is caught by its property check


def test_08_patched_torch_equal_does_not_rescue_sampling_in_place(tmp_path):
    _same_with_and_without_the_lie(tmp_path, "08_transformer_lm", ["sampling_temperature_in_place"], LIE_EQUAL,
                                   "sampling", "0.25 / 1")


def test_09_patched_torch_equal_does_not_rescue_route_in_place(tmp_path):
    _same_with_and_without_the_lie(tmp_path, "09_modern_llm", ["route_shifts_logits_in_place"], LIE_EQUAL,
                                   "moe", "1.67 / 2")


def test_10_hidden_parameters_do_not_rescue_a_trainable_base(tmp_path):
    _same_with_and_without_the_lie(tmp_path, "10_lora_quant", ["lora_base_trainable"], LIE_PARAMETERS,
                                   "lora", "0.5 / 5")


# disarms a guard made of a TorchFunctionMode and kernels registered with torch.library: the mode
# is never pushed and no kernel is registered (05's forbid() reads both from torch at entry)
LIE_GUARD = '''
import torch as _torch
import torch.overrides as _overrides
_torch.library.Library.impl = lambda self, *a, **k: None
_overrides.TorchFunctionMode.__enter__ = lambda self: self
_overrides.TorchFunctionMode.__exit__ = lambda self, *a: None
'''


def test_05_a_disarmed_builtin_guard_refuses_to_grade_rather_than_let_unfold_through(tmp_path):
    """Not an equality: a guard disarmed in advance fails its canary, so every guarded part (conv2d
    and maxpool) fails, and the lying notebook scores less than the honest mutant, never more."""
    names = ["im2col_builtin_saved_unfold"]
    honest_score, honest = _grade(tmp_path / "honest", "05_cnn", names, lie=None)
    lying_score, lying = _grade(tmp_path / "lying", "05_cnn", names, lie=LIE_GUARD)
    assert honest["conv2d"] == "0 / 3" and honest["maxpool"] == "2 / 2", honest
    assert "Note" not in lying
    assert lying["conv2d"] == "0 / 3" and lying["maxpool"] == "0 / 2", lying
    assert lying_score < honest_score
