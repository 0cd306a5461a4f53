"""A static guard over the probes that decide nothing in the sandbox: no call or attribute read a
notebook cell can patch or a Tensor subclass can answer for (torch.equal, np.array_equal,
np.shares_memory, isinstance, .data_ptr(), .is_contiguous(), .is_leaf, .requires_grad, .grad,
.clone() for a before-snapshot). Such facts come from describe() and are judged in the test
(course.judge.described); tests/test_probe_lies_c.py shows what a lying cell did to the old probes.
An assignment joins CONVERTED once its probes pass this guard."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONVERTED = ["01_tensors", "02_autograd_engine", "04_optimizers", "05_cnn", "06_rnn", "07_attention",
             "08_transformer_lm", "09_modern_llm", "10_lora_quant", "14_diffusion", "15_dit_flow",
             "16_alignment_dpo", "17_efficient_attention"]

PATCHABLE_CALLS = {("torch", "equal"), ("torch", "allclose"), ("np", "array_equal"), ("np", "array_equiv"),
                   ("np", "allclose"), ("np", "shares_memory"), ("np", "may_share_memory")}
ANSWERED_BY_THE_OBJECT = {"data_ptr", "is_contiguous", "is_leaf", "requires_grad", "grad", "clone",
                          "untyped_storage", "storage"}


def decisions_in_the_sandbox(source: str, name: str) -> list[str]:
    """'file:line: what' for each read a probe must leave to describe() and the judge."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("isinstance", "issubclass"):
            found.append((node.lineno, node.col_offset,
                          f"{name}:{node.lineno}: {node.func.id}(...) (a class can answer it; read describe()'s type)"))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if isinstance(node.value, ast.Name) and (node.value.id, node.attr) in PATCHABLE_CALLS:
                found.append((node.lineno, node.col_offset, f"{name}:{node.lineno}: {node.value.id}.{node.attr} "
                                                            "(a cell can patch it)"))
            elif node.attr in ANSWERED_BY_THE_OBJECT:
                found.append((node.lineno, node.end_col_offset, f"{name}:{node.lineno}: .{node.attr} "
                                                                "(the object or a patched torch answers it)"))
    return [text for _, _, text in sorted(found)]


def test_the_guard_sees_each_kind_of_decision():
    bad = ("import torch, numpy as np\n"
           "def probe(x):\n"
           "    before = x.clone()\n"
           "    out = student.f(x)\n"
           "    ok = torch.equal(x, before) and not np.shares_memory(out, x)\n"
           "    return ok and isinstance(out, torch.Tensor) and out.requires_grad and x.grad is None\n")
    assert decisions_in_the_sandbox(bad, "p.py") == [
        "p.py:3: .clone (the object or a patched torch answers it)",
        "p.py:5: torch.equal (a cell can patch it)",
        "p.py:5: np.shares_memory (a cell can patch it)",
        "p.py:6: isinstance(...) (a class can answer it; read describe()'s type)",
        "p.py:6: .requires_grad (the object or a patched torch answers it)",
        "p.py:6: .grad (the object or a patched torch answers it)"]
    # what the converted probes do instead passes
    good = ("def probe(x):\n"
            "    out = student.f(x)\n"
            "    return {'out': describe(out, inputs={'x': x}), 'x_after': describe(x), 't': p.requires_grad_(True)}\n")
    assert decisions_in_the_sandbox(good, "p.py") == []


@pytest.mark.parametrize("assignment", CONVERTED)
def test_converted_probes_decide_nothing_in_the_sandbox(assignment):
    path = REPO / "autograder" / assignment / "probes.py"
    assert decisions_in_the_sandbox(path.read_text(), str(path.relative_to(REPO))) == []
