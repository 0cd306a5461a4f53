"""Hidden suite of 02_autograd_engine: gradcheck of a NumPy autograd engine.

Nothing in the sandbox knows an answer (probes.py is public). The ops are run one node at a time
with a recording _accumulate_grad and a random-linear stand-in unbroadcast; backward() runs on
graphs of stand-in nodes whose _backward hands each parent a random linear map of its grad. This
file computes every expected value: the ops' gradients with torch in float64 (and, under `course
validate`, central finite differences), or through the stand-ins it replays; backward's leaf
gradients by propagating the same linear maps. Inputs come from sub.seed (the same notebook gets
the same inputs), upstream gradients are random, so a rule that ignores dL/dout is caught.
A check is one test function: all of its cases must pass.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course.judge import StudentError, references, self_check
from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

# Tolerances.
# Student and reference both compute in float64 with the same formulas; they can differ only in
# the order of summation (matmul, sum, unbroadcast), about 1e-15 relative for the O(1) values and
# sums of at most ~60 terms used here. 1e-9 is far above that and far below the smallest error a
# wrong rule makes in these tests (O(1e-2) and up).
ATOL, RTOL = 1e-9, 1e-9
# Central differences with EPS = 1e-6: truncation error EPS^2 * |f'''| / 6 is ~1e-12 (the programs
# are polynomials of degree <= 3 in any one input element, away from relu's kink), round-off is
# ~1e-16 * |L| / EPS ~ 1e-8 for |L| <= 100. 1e-5 covers both with margin.
EPS = 1e-6
FD_ATOL, FD_RTOL = 1e-5, 1e-5
# Inputs of relu are kept at least this far from 0 where finite differences are used, so that
# x +- EPS never crosses the kink (the exact-zero case is compared with torch only).
RELU_MARGIN = 0.05

SYMBOL = {"add": "+", "mul": "*", "matmul": "@"}


# --------------------------------------------------------------------------- reference evaluation
def _axes(ndim, axis):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim for a in axis))


def _np_step(op, vals, kw):
    if op == "add":
        return vals[0] + vals[1]
    if op == "mul":
        return vals[0] * vals[1]
    if op == "matmul":
        return vals[0] @ vals[1]
    if op == "sum":
        return np.sum(vals[0], axis=_axes(np.ndim(vals[0]), kw.get("axis")), keepdims=kw.get("keepdims", False))
    if op == "mean":
        return np.mean(vals[0], axis=_axes(np.ndim(vals[0]), kw.get("axis")), keepdims=kw.get("keepdims", False))
    if op == "relu":
        return np.maximum(vals[0], 0.0)
    raise LookupError(op)


def _torch_step(op, vals, kw):
    if op == "add":
        return vals[0] + vals[1]
    if op == "mul":
        return vals[0] * vals[1]
    if op == "matmul":
        return vals[0] @ vals[1]
    if op in ("sum", "mean"):
        x = vals[0]
        dims = _axes(x.dim(), kw.get("axis"))
        if not dims:                      # 0-d input: nothing to reduce (torch treats dim=() as "all")
            return x * 1.0
        fn = torch.sum if op == "sum" else torch.mean
        return fn(x, dim=dims, keepdim=kw.get("keepdims", False))
    if op == "relu":
        return torch.relu(vals[0])
    raise LookupError(op)


def _run(program, env, step):
    env = dict(env)
    for name, op, args, kw in program:
        env[name] = step(op, [env[a] if isinstance(a, str) else a for a in args], kw)
    return env


def _upstreams(calls, shapes):
    return [np.ones(shapes[root]) if G is None else G for root, G in calls]


@references.cached  # memoized per judge (inputs come from sub.seed, so nothing is primed per batch)
def expected(program, leaves, consts, calls, fd=True):
    """(forward values, torch grads, finite-difference grads or None) of every leaf."""
    np_env = _run(program, {**leaves, **consts}, _np_step)
    shapes = {name: np.shape(v) for name, v in np_env.items()}
    Gs = _upstreams(calls, shapes)

    t_leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in leaves.items()}
    t_consts = {k: torch.tensor(v, dtype=torch.float64) for k, v in consts.items()}
    t_env = _run(program, {**t_leaves, **t_consts}, _torch_step)
    for (root, _), G in zip(calls, Gs):
        # d/d(root) of sum(root * G) is exactly G; backward() without a gradient argument spares
        # the judge torch's symbolic-shape check of a given one (it imports sympy, 0.4 s a batch)
        (t_env[root] * torch.tensor(G, dtype=torch.float64)).sum().backward(retain_graph=True)
    t_grads = {k: (np.zeros(np.shape(leaves[k])) if t.grad is None else t.grad.numpy()) for k, t in t_leaves.items()}

    fd_grads = None
    if fd:
        def loss(values):
            env = _run(program, {**values, **consts}, _np_step)
            return sum(float(np.sum(G * env[root])) for (root, _), G in zip(calls, Gs))

        fd_grads = {}
        for name, value in leaves.items():
            grad = np.zeros(np.shape(value))
            for idx in np.ndindex(grad.shape):
                plus, minus = np.array(value, dtype=np.float64), np.array(value, dtype=np.float64)
                plus[idx] += EPS
                minus[idx] -= EPS
                grad[idx] = (loss({**leaves, name: plus}) - loss({**leaves, name: minus})) / (2 * EPS)
            fd_grads[name] = grad
    return np_env, t_grads, fd_grads


# --------------------------------------------------------------------------- messages
def _render(program):
    parts = []
    for name, op, args, kw in program:
        a = [x if isinstance(x, str) else repr(x) for x in args]
        if op in SYMBOL:
            expr = f"{a[0]} {SYMBOL[op]} {a[1]}"
        elif op == "relu":
            expr = f"{a[0]}.relu()"
        else:
            inner = ", ".join(f"{k}={v!r}" for k, v in kw.items())
            expr = f"{a[0]}.{op}({inner})"
        parts.append(f"{name} = {expr}")
    return "; ".join(parts)


def _g_name(i, calls):
    return f"G{i + 1}" if len(calls) > 1 else "G"


def _describe(program, calls, leaves, consts):
    shapes = ", ".join(f"{k}: {tuple(np.shape(v))}" for k, v in {**leaves, **consts}.items())
    text = _render(program)
    if len(text) > 240:                      # long chains: the start and the end are enough
        text = text[:150] + " ... " + text[-80:]
    backs = [f"{root}.backward()" if G is None else f"{root}.backward({_g_name(i, calls)})"
             for i, (root, G) in enumerate(calls)]
    return f"`{text}` ({shapes}), then " + ", then ".join(backs)


def _inputs(leaves, consts, calls):
    shown = {**leaves, **consts}
    for i, (root, G) in enumerate(calls):
        if G is not None:
            shown[f"{_g_name(i, calls)} = dL/d{root}"] = G
    return shown


# --------------------------------------------------------------------------- stand-ins the judge replays
def random_map(seed, gshape, shape):
    """The matrix of probes.py's stand-in unbroadcast for (gshape -> shape): drawn the same way."""
    rng = np.random.default_rng([int(seed), len(gshape), *gshape, len(shape), *shape])
    return rng.standard_normal((int(np.prod(shape, dtype=np.int64)), int(np.prod(gshape, dtype=np.int64))))


def standin_unbroadcast(seed, g, shape):
    g = np.asarray(g, dtype=np.float64)
    if g.shape == tuple(shape):
        return g
    return (random_map(seed, g.shape, tuple(shape)) @ g.reshape(-1)).reshape(shape)


def via_standin(op, args, env, G, seed):
    """Each leaf's gradient when the op follows the notebook's table with the stand-in unbroadcast
    (None for ops that do not call unbroadcast)."""
    if op not in ("add", "mul"):
        return None
    vals = [env[a] if isinstance(a, str) else np.asarray(a, dtype=np.float64) for a in args]
    out = {}
    for i, name in enumerate(args):
        if not isinstance(name, str):
            continue
        local = G if op == "add" else G * vals[1 - i]
        share = standin_unbroadcast(seed, np.broadcast_to(local, np.shape(G)), np.shape(vals[i]))
        out[name] = share if name not in out else out[name] + share
    return out


def received(got, name, shape, where):
    """The sum of what one input received from the op (through _accumulate_grad, or set directly)."""
    total = None
    for c in got["contribs"].get(name, []):
        value = c["value"]
        if value is None:
            fail(f"{where}: {name} received a {c['type']} as its gradient, not an array of numbers")
        if tuple(np.shape(value)) != tuple(shape):
            fail(f"{where}: {name} (shape {tuple(shape)}) received a gradient of shape {tuple(np.shape(value))}"
                 " through _accumulate_grad; every share must have its input's shape")
        total = value if total is None else total + value
    direct = got["grads"].get(name, {}).get("value")
    if direct is not None:
        total = direct if total is None else total + direct
    return total


def _g_unchanged(after, G) -> bool:
    """out.grad after _backward holds the G the judge sent (reshaped to out's shape, as the probe did)."""
    value = after.get("value") if isinstance(after, dict) else None
    sent = np.asarray(np.nan if G is None else G, dtype=np.float64)
    if not isinstance(value, np.ndarray) or value.size != sent.size:
        return False
    return unchanged(value, sent.reshape(value.shape))


# --------------------------------------------------------------------------- the check
def check_op(sub, program, leaves, consts=None, G=None, *, fd=True):
    """One student operator and its _backward, called once with out.grad = G (see probes.run_op)."""
    consts = consts or {}
    (name, op, args, kw), = program
    where = _describe(program, [(name, G)], leaves, consts)
    inputs = _inputs(leaves, consts, [(name, G)])
    np_env, t_grads, fd_grads = expected(program, leaves, consts, [(name, G)], fd=fd and self_check())
    seed = int(np.random.default_rng([sub.seed, 7]).integers(2**31))
    alt = via_standin(op, args, {**leaves, **consts}, G, seed)
    plain_kw = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}
    try:
        got = sub.probe("run_op", op, list(args), plain_kw, wire(leaves), wire(consts), wire(G), seed)
    except StudentError as exc:       # say which graph it was; the message already names the cell and line
        fail(f"{where}: {exc}")

    what = f"`{_render(program)}`"
    expect(got["is_tensor"], f"{what} must return a Tensor, got {got['out']['type']}")
    expect(got["prev_ok"], f"{what}: the result's _prev must hold the input Tensors")
    out = got["out"]
    expect(out["dtype"] == "float64", f"{what}: the result's data must be float64, got {out['dtype']}")
    assert_close(out["value"], np_env[name], atol=ATOL, rtol=RTOL, what=f"forward value of {what}", inputs=inputs)
    expect(all(unchanged(got["inputs_after"].get(k), np.asarray(v, dtype=np.float64))
               for k, v in {**leaves, **consts}.items()), f"{what} changed its inputs' data in place (ops must leave their inputs as they were)")
    expect(_g_unchanged(got["G_after"], G), f"{where}: _backward changed out.grad in place (it may be shared with other nodes)")

    for leaf in leaves:
        grad = received(got, leaf, np.shape(leaves[leaf]), where)
        if grad is None:
            fail(f"nothing reached {leaf} after {where}: _backward must pass a gradient to every input")
        if alt is not None and leaf in alt and np.allclose(grad, alt[leaf], atol=ATOL, rtol=RTOL):
            continue          # the notebook's recipe through the stand-in unbroadcast
        assert_close(grad, t_grads[leaf], atol=ATOL, rtol=RTOL,
                     what=f"gradient reaching {leaf} (vs PyTorch float64) after {where}", inputs=inputs)
        if fd_grads is not None:
            assert_close(grad, fd_grads[leaf], atol=FD_ATOL, rtol=FD_RTOL,
                         what=f"{leaf}.grad (vs finite differences) after {where}", inputs=inputs)


def linear_graph(program, leaves, consts, rng):
    """The stand-in graph for a program: one node per step, shaped like the step's result, whose
    edges are identity where an add hands on the same shape, random linear maps elsewhere."""
    env = _run(program, {**leaves, **consts}, _np_step)
    nodes = []
    for name, op, args, kw in program:
        parents = [a for a in args if isinstance(a, str)]
        maps = []
        for p in parents:
            if op == "add" and np.shape(env[p]) == np.shape(env[name]):
                maps.append(None)
            else:
                maps.append(rng.standard_normal((int(np.size(env[p])), int(np.size(env[name])))))
        nodes.append([name, list(np.shape(env[name])), parents, maps])
    return nodes


def linear_expected(nodes, leaves, consts, calls):
    """Every leaf's grad after the calls, following the notebook's backward() spec."""
    shapes = {k: np.shape(v) for k, v in {**leaves, **consts}.items()}
    needs = {k: True for k in leaves} | {k: False for k in consts}
    info = {}
    for name, shape, parents, maps in nodes:
        shapes[name] = tuple(shape)
        needs[name] = any(needs[p] for p in parents)
        info[name] = (parents, maps)
    grads = {k: None for k in leaves}
    for root, G in calls:
        topo, seen = [], set()

        def visit(n):
            if n in seen:
                return
            seen.add(n)
            for p in info.get(n, ((), ()))[0]:
                visit(p)
            topo.append(n)

        visit(root)
        node_grad = {}
        seed = np.ones(shapes[root]) if G is None else np.asarray(G, dtype=np.float64)

        def add_to(n, g):
            if not needs[n]:
                return
            if n in info:
                node_grad[n] = g if n not in node_grad else node_grad[n] + g
            else:
                grads[n] = g if grads[n] is None else grads[n] + g

        add_to(root, seed)
        for n in reversed(topo):
            if n not in info or n not in node_grad:
                continue
            g = node_grad[n]
            for p, M in zip(*info[n]):
                add_to(p, g if M is None else (M @ g.reshape(-1)).reshape(shapes[p]))
    return grads


def check_backward(sub, program, leaves, consts=None, calls=None, *, rng):
    """The student's backward() and _accumulate_grad on stand-in nodes shaped like `program`;
    the edges' random maps come from the test's own generator."""
    consts = consts or {}
    calls = calls or [(program[-1][0], None)]
    nodes = linear_graph(program, leaves, consts, rng)
    want = linear_expected(nodes, leaves, consts, calls)
    where = ("stand-in nodes (each _backward a fixed random linear map) shaped like "
             + _describe(program, calls, leaves, consts))
    try:
        got = sub.probe("run_linear_graph", wire(nodes), wire(leaves), wire(consts),
                        wire([[root, G] for root, G in calls]))
    except StudentError as exc:
        fail(f"{where}: {exc}")
    for name in consts:
        expect(got["grads"][name]["value"] is None,
               f"{name} has requires_grad=False but its .grad was set after {where}")
    for name in leaves:
        grad = got["grads"][name]
        if grad["type"] == "None":
            fail(f"{name}.grad is None after {where}: no gradient reached {name}")
        if grad["value"] is None:
            fail(f"{name}.grad is a {grad['type']}, not an array of numbers, after {where}")
        expect(grad["type"] == "numpy.ndarray" and grad["dtype"] == "float64",
               f"{name}.grad must be a float64 np.ndarray, got {grad['type']} of dtype {grad['dtype']}")
        assert_close(grad["value"], want[name], atol=ATOL, rtol=RTOL, what=f"{name}.grad after {where}")


def wire(value):
    """Plain data for a probe. 0-d arrays go as Python floats: the wire format would turn them
    into shape (1,) (np.ascontiguousarray), and the probe rebuilds them with np.array(float)."""
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire(v) for v in value]
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return float(value)
    return value


def rng_for(sub, case):
    """Inputs differ per submission (sub.seed) and per test case, and are the same on a regrade."""
    return np.random.default_rng([sub.seed, case])


def away_from_zero(rng, shape):
    """Normal values with |x| >= RELU_MARGIN (see RELU_MARGIN)."""
    x = rng.standard_normal(shape)
    return np.asarray(np.sign(x + (x == 0)) * (RELU_MARGIN + np.abs(x)))


def step(name, op, *args, **kw):
    return (name, op, list(args), kw)


# =========================================================================== the ops
# One check per part: the op's forward value, its _prev, and the gradient each input receives
# must be right in EVERY case below (any shape, Python numbers, x op x, constants, broadcasting).
# Each case is a function of the test's generator; ids name them in feedback.
BROADCAST_CASES = [("add", (3, 1), (1, 5)), ("add", (5,), (3, 5)), ("add", (), (3, 5)),
                   ("mul", (3, 1), (1, 5)), ("mul", (2, 1, 5), (3, 1)), ("mul", (3, 5), (5,))]


def _add_mul_cases():
    cases = {}
    for op in ("add", "mul"):
        for shape, label in (((3, 5), "3x5"), ((7,), "7"), ((), "scalar")):
            cases[f"{op}-{label}"] = (lambda rng, op=op, shape=shape: (
                [step("out", op, "x", "y")], {"x": rng.standard_normal(shape), "y": rng.standard_normal(shape)}, {},
                rng.standard_normal(shape)))
        cases[f"{op}-x-x"] = (lambda rng, op=op: (
            [step("out", op, "x", "x")], {"x": rng.standard_normal((3, 5))}, {}, rng.standard_normal((3, 5))))
    for label, op, args in (("x+2.5", "add", ("x", 2.5)), ("2.5+x", "add", (2.5, "x")),
                            ("x*-1.5", "mul", ("x", -1.5)), ("-1.5*x", "mul", (-1.5, "x"))):
        cases[label] = (lambda rng, op=op, args=args: (
            [step("out", op, *args)], {"x": rng.standard_normal((3, 5))}, {}, rng.standard_normal((3, 5))))
    cases["mul-constant"] = lambda rng: ([step("out", "mul", "x", "c")], {"x": rng.standard_normal((3, 5))},
                                         {"c": rng.standard_normal((3, 5))}, rng.standard_normal((3, 5)))
    for op, sx, sy in BROADCAST_CASES:
        cases[f"{op}-{sx}-{sy}"] = (lambda rng, op=op, sx=sx, sy=sy: (
            [step("out", op, "x", "y")], {"x": rng.standard_normal(sx), "y": rng.standard_normal(sy)}, {},
            rng.standard_normal(np.broadcast_shapes(sx, sy))))
    return cases


ADD_MUL_CASES = _add_mul_cases()


@pytest.mark.part("ops_add_mul")
@pytest.mark.parametrize("case", list(ADD_MUL_CASES))
def test_add_mul(sub, case):
    """add/mul의 forward 값과 입력별 gradient가 모든 경우(broadcasting, 숫자, x op x)에 맞고 입력과 out.grad를 바꾸지 않는다"""
    rng = rng_for(sub, 11 + list(ADD_MUL_CASES).index(case))
    program, leaves, consts, G = ADD_MUL_CASES[case](rng)
    check_op(sub, program, leaves, consts, G=G)


MATMUL_SHAPES = [((3, 5), (5, 7)), ((1, 4), (4, 6)), ((5, 1), (1, 3)), ((6, 2), (2, 1)), ((4, 4), (4, 4))]


@pytest.mark.part("ops_matmul")
@pytest.mark.parametrize("sa,sb,const", [(a, b, False) for a, b in MATMUL_SHAPES] + [((3, 5), (5, 2), True)],
                         ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES] + ["X@constant"])
def test_matmul(sub, sa, sb, const):
    """matmul의 forward 값과 dL/dA, dL/dB가 모든 shape에서 맞다"""
    rng = rng_for(sub, 61 + sa[0] * 10 + sb[1] + const)
    A, B = rng.standard_normal(sa), rng.standard_normal(sb)
    leaves, consts = ({"A": A}, {"B": B}) if const else ({"A": A, "B": B}, {})
    G = rng.standard_normal((sa[0], sb[1]))
    check_op(sub, [step("out", "matmul", "A", "B")], leaves, consts, G=G)


REDUCE_CASES = [
    ((3, 5), None, False),
    ((3, 5), 0, False),
    ((3, 5), 1, False),
    ((3, 5), -1, True),
    ((2, 3, 5), (0, 2), False),
    ((2, 3, 5), (0, 2), True),
    ((2, 3, 5), None, True),
    ((7,), 0, False),
    ((), None, False),
]


@pytest.mark.part("ops_sum_mean")
@pytest.mark.parametrize("op", ["sum", "mean"])
@pytest.mark.parametrize("shape,axis,keepdims", REDUCE_CASES, ids=[f"{s}-axis{a}-keep{k}" for s, a, k in REDUCE_CASES])
def test_sum_mean(sub, op, shape, axis, keepdims):
    """sum/mean의 forward 값(정확한 shape)과 gradient가 모든 axis/keepdims 조합에서 맞다"""
    rng = rng_for(sub, 81 + len(shape) * 3 + (op == "mean"))
    leaves = {"x": rng.standard_normal(shape)}
    out_shape = np.sum(leaves["x"], axis=_axes(len(shape), axis), keepdims=keepdims).shape
    G = rng.standard_normal(out_shape)
    check_op(sub, [step("out", op, "x", axis=axis, keepdims=keepdims)], leaves, G=G)


@pytest.mark.part("ops_relu")
@pytest.mark.parametrize("shape", [(3, 5), (7,), (), (2, 3, 4), "zeros"], ids=["3x5", "7", "scalar", "2x3x4", "zeros"])
def test_relu(sub, shape):
    """relu의 forward 값과 gradient가 맞다 (x = 0에서는 0)"""
    rng = rng_for(sub, 91 + (len(shape) if shape != "zeros" else 9))
    if shape == "zeros":
        # relu'(0) = 0 as in PyTorch (exact zeros, +0.0 and -0.0, among random values); finite
        # differences are meaningless at the kink: torch only
        x = rng.standard_normal((4, 5))
        x[rng.random((4, 5)) < 0.35] = 0.0
        x[0, 0], x[1, 1] = 0.0, -0.0
        check_op(sub, [step("out", "relu", "x")], {"x": x}, G=rng.standard_normal((4, 5)), fd=False)
        return
    leaves = {"x": away_from_zero(rng, shape)}
    check_op(sub, [step("out", "relu", "x")], leaves, G=rng.standard_normal(shape))


# =========================================================================== backward (3)
# Stand-in nodes (probes.run_linear_graph), the student's Tensor.backward and Tensor._accumulate_grad.
backward_part = pytest.mark.part("backward")


def _graph_default_seed_is_ones(sub, rng_for):
    rng = rng_for(sub, 101)
    leaves = {"x": rng.standard_normal((3, 5)), "w": rng.standard_normal((3, 5))}
    program = [step("t", "mul", "x", "w"), step("L", "sum", "t")]
    check_backward(sub, program, leaves, calls=[("L", None)], rng=rng)


def _graph_uses_given_upstream_grad(sub, rng_for):
    rng = rng_for(sub, 102)
    leaves = {"x": rng.standard_normal((3, 5)), "w": rng.standard_normal((3, 5))}
    program = [step("y", "mul", "x", "w")]
    check_backward(sub, program, leaves, calls=[("y", rng.standard_normal((3, 5)))], rng=rng)


def _graph_chain(sub, rng_for):
    # a chain of 12 layers: gradients must flow back through every node in order
    rng = rng_for(sub, 103)
    leaves = {"x": rng.standard_normal((3, 5))}
    consts, program, h = {}, [], "x"
    for i in range(12):
        consts[f"w{i}"] = rng.uniform(0.6, 1.4, (3, 5)) * rng.choice([-1.0, 1.0], (3, 5))
        consts[f"c{i}"] = 0.1 * rng.standard_normal((3, 5))
        program += [step(f"m{i}", "mul", h, f"w{i}"), step(f"h{i}", "add", f"m{i}", f"c{i}")]
        h = f"h{i}"
    consts["W"] = rng.standard_normal((5, 3))
    program.append(step("out", "matmul", h, "W"))
    check_backward(sub, program, leaves, consts, calls=[("out", rng.standard_normal((3, 3)))], rng=rng)


def _graph_node_reuse_square(sub, rng_for):
    rng = rng_for(sub, 104)
    leaves = {"x": rng.standard_normal((3, 5))}
    check_backward(sub, [step("y", "mul", "x", "x")], leaves,
                calls=[("y", rng.standard_normal((3, 5)))], rng=rng)


def _graph_seed_example(sub, rng_for):
    # y = x*x + x, dy/dx = 2x + 1: three contributions reach x
    rng = rng_for(sub, 105)
    leaves = {"x": rng.standard_normal((5, 3))}
    program = [step("t", "mul", "x", "x"), step("y", "add", "t", "x")]
    check_backward(sub, program, leaves, calls=[("y", rng.standard_normal((5, 3)))], rng=rng)


def _graph_several_branches(sub, rng_for):
    # x feeds three branches of different depth that meet again
    rng = rng_for(sub, 106)
    leaves = {"x": away_from_zero(rng, (3, 5)), "a": rng.standard_normal((3, 5)), "W": rng.standard_normal((5, 4))}
    program = [
        step("p", "mul", "x", "a"),
        step("r", "relu", "x"),
        step("q", "matmul", "x", "W"),
        step("s", "sum", "q", axis=1, keepdims=True),
        step("u", "add", "p", "r"),
        step("out", "add", "u", "s"),
    ]
    check_backward(sub, program, leaves, calls=[("out", rng.standard_normal((3, 5)))], rng=rng)


def _graph_diamond(sub, rng_for):
    # a is used by y directly and through b: a._backward must wait for both (BFS order fails here)
    rng = rng_for(sub, 107)
    leaves = {"x": rng.standard_normal((3, 5)), "w": rng.standard_normal((3, 5)), "c": rng.standard_normal((3, 5))}
    program = [step("a", "mul", "x", "w"), step("b", "mul", "a", "c"), step("y", "add", "a", "b")]
    check_backward(sub, program, leaves, calls=[("y", rng.standard_normal((3, 5)))], rng=rng)


def _graph_residual_mlp(sub, rng_for):
    # h1 feeds out directly (skip connection) and through a second layer
    rng = rng_for(sub, 108)
    leaves = {"X": rng.standard_normal((3, 4)), "W1": rng.standard_normal((4, 5)), "b1": rng.standard_normal(5),
              "W2": rng.standard_normal((5, 5))}
    program = [
        step("z1", "matmul", "X", "W1"), step("a1", "add", "z1", "b1"), step("h1", "relu", "a1"),
        step("z2", "matmul", "h1", "W2"), step("h2", "relu", "z2"), step("out", "add", "h2", "h1"),
    ]
    check_backward(sub, program, leaves, calls=[("out", rng.standard_normal((3, 5)))], rng=rng)


def _graph_stacked_diamonds(sub, rng_for):
    # h <- h + h * w_i, four times: 2^4 paths from out to x (BFS reaches each h before its m)
    rng = rng_for(sub, 109)
    leaves = {"x": rng.standard_normal((3, 5))}
    consts, program, h = {}, [], "x"
    for i in range(4):
        consts[f"w{i}"] = rng.standard_normal((3, 5))
        program += [step(f"m{i}", "mul", h, f"w{i}"), step(f"h{i}", "add", h, f"m{i}")]
        h = f"h{i}"
    check_backward(sub, program, leaves, consts, calls=[(h, rng.standard_normal((3, 5)))], rng=rng)


def _graph_twice_same_graph_accumulates(sub, rng_for):
    # leaf gradients add up over two backward() calls; intermediate gradients must not be reused
    rng = rng_for(sub, 110)
    leaves = {"x": away_from_zero(rng, (3, 5)), "w": rng.uniform(0.5, 1.5, (3, 5))}
    program = [step("m", "mul", "x", "w"), step("s", "add", "m", "x"), step("y", "relu", "s")]
    calls = [("y", rng.standard_normal((3, 5))), ("y", rng.standard_normal((3, 5)))]
    check_backward(sub, program, leaves, calls=calls, rng=rng)


def _graph_two_roots_share_a_leaf(sub, rng_for):
    rng = rng_for(sub, 111)
    leaves = {"x": rng.standard_normal((3, 5)), "w": rng.standard_normal((3, 5)), "W": rng.standard_normal((5, 2))}
    program = [step("m", "mul", "x", "w"), step("L1", "sum", "m"),
               step("q", "matmul", "x", "W"), step("L2", "relu", "q")]
    calls = [("L1", None), ("L2", rng.standard_normal((3, 2)))]
    check_backward(sub, program, leaves, calls=calls, rng=rng)


def _graph_from_intermediate_then_root(sub, rng_for):
    # backward from t, then from y (which uses t): t.grad from the first call must be reset
    rng = rng_for(sub, 112)
    leaves = {"x": rng.standard_normal((3, 5)), "w": rng.standard_normal((3, 5))}
    program = [step("t", "mul", "x", "w"), step("y", "mul", "t", "x")]
    calls = [("t", rng.standard_normal((3, 5))), ("y", rng.standard_normal((3, 5)))]
    check_backward(sub, program, leaves, calls=calls, rng=rng)


def _graph_skips_constant_subgraph(sub, rng_for):
    # c = k1 * k2 involves no Tensor that requires grad: no gradient reaches it, backward skips it
    rng = rng_for(sub, 113)
    leaves = {"x": rng.standard_normal((3, 5))}
    consts = {"k1": rng.standard_normal((3, 5)), "k2": rng.standard_normal((3, 5))}
    program = [step("c", "mul", "k1", "k2"), step("m", "mul", "x", "c"), step("y", "add", "m", "x")]
    check_backward(sub, program, leaves, consts, calls=[("y", rng.standard_normal((3, 5)))], rng=rng)


def _graph_default_seed_non_scalar_root(sub, rng_for):
    # backward() without a gradient on a non-scalar root seeds np.ones_like(root.data)
    rng = rng_for(sub, 116)
    leaves = {"x": rng.standard_normal((3, 5)), "w": rng.standard_normal((5, 2))}
    program = [step("q", "matmul", "x", "w"), step("y", "relu", "q")]
    check_backward(sub, program, leaves, calls=[("y", None)], rng=rng)


def _graph_backward_on_a_leaf_adds_to_its_grad(sub, rng_for):
    # x.backward(G2) on a leaf that already holds a gradient: step 3 of the spec puts the seed in
    # with _accumulate_grad, so x.grad = (share from y) + G2, as in PyTorch (self.grad = G2 loses the first)
    rng = rng_for(sub, 117)
    leaves = {"x": rng.standard_normal((3, 5)), "w": rng.standard_normal((3, 5))}
    program = [step("y", "mul", "x", "w")]
    calls = [("y", rng.standard_normal((3, 5))), ("x", rng.standard_normal((3, 5)))]
    check_backward(sub, program, leaves, calls=calls, rng=rng)


GRAPHS = {name[len("_graph_"):]: fn for name, fn in list(globals().items()) if name.startswith("_graph_")}


@backward_part
@pytest.mark.parametrize("graph", list(GRAPHS))
def test_backward(sub, graph):
    """backward() 후 leaf의 grad가 모든 그래프(체인, 재사용, diamond, 두 번 호출, 상수)에서 맞다"""
    # One check: every leaf's .grad after backward() on every graph above (chains, reuse,
    # diamonds, two calls, two roots, constants, default seeds) must be right.
    GRAPHS[graph](sub, rng_for)


def _accumulate(sub, *args):
    try:
        return sub.probe("accumulate", *args)
    except StudentError as exc:
        fail(f"t._accumulate_grad(g1) then t._accumulate_grad(g2) on a fresh Tensor: {exc}")


def _accumulate_adds_and_copies(sub, dtype):
    # the first contribution is kept as a float64 copy, whatever the caller passes and later does
    rng = rng_for(sub, 114)
    g1, g2 = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    if dtype == "int64":
        g1, g2 = np.round(3 * g1), np.round(3 * g2)
    got = _accumulate(sub, g1, g2, True, dtype)
    g1c, g2c = g1.astype(dtype).astype(np.float64), g2.astype(dtype).astype(np.float64)
    for key in ("first", "first_later", "second"):
        if got[key]["value"] is None:
            fail(f"Tensor.grad after _accumulate_grad is {got[key]['type']}, not an array")
    first = got["first"]
    expect(first["type"] == "numpy.ndarray" and first["dtype"] == "float64",
           f"after _accumulate_grad(g) with a {dtype} g, grad must be a float64 np.ndarray, got "
           f"{first['type']} of dtype {first['dtype']}")
    # float32 inputs carry 24-bit mantissas: the float64 copy holds them exactly, so 1e-9 stands
    assert_close(got["first_later"]["value"], g1c, atol=ATOL, rtol=RTOL,
                 what=f"grad after one _accumulate_grad(g1) ({dtype}), when the caller later changes g1 in "
                      "place (the first gradient must be stored as a copy)")
    assert_close(got["second"]["value"], g1c + g2c, atol=ATOL, rtol=RTOL,
                 what="grad after _accumulate_grad(g1) then _accumulate_grad(g2) (must be g1 + g2)")
    expect(got["second"]["dtype"] == "float64", f"grad must stay float64, got {got['second']['dtype']}")


def _accumulate_ignores_constants(sub):
    rng = rng_for(sub, 115)
    got = _accumulate(sub, rng.standard_normal(4), rng.standard_normal(4), False)
    expect(got["second"]["type"] == "None",
           "_accumulate_grad on a Tensor with requires_grad=False must leave its grad None")


@backward_part
@pytest.mark.parametrize("case", ["float64", "float32", "int64", "constant"])
def test_accumulate_grad(sub, case):
    """_accumulate_grad는 첫 기여를 float64 복사본으로 저장하고, 이후 기여를 더하고, 상수는 무시한다"""
    # One check: the first share is stored as a float64 copy, later ones are added, and a Tensor
    # with requires_grad=False keeps grad None.
    if case == "constant":
        _accumulate_ignores_constants(sub)
    else:
        _accumulate_adds_and_copies(sub, case)


# =========================================================================== unbroadcast (2)
def _np_unbroadcast(grad, shape):
    grad = np.asarray(grad, dtype=np.float64)
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


UNBROADCAST_CASES = [
    ((3, 5), (3, 5)), ((3, 5), (5,)), ((3, 5), (1, 5)), ((3, 5), (3, 1)), ((3, 5), ()), ((3, 5), (1, 1)),
    ((2, 3, 5), (3, 1)), ((2, 3, 5), (5,)), ((2, 3, 5), (2, 1, 5)), ((4, 3, 5), (1, 1)), ((7,), (1,)), ((), ()),
]


def _unbroadcast(sub, grad, shape, **kw):
    try:
        return sub.probe("unbroadcast", wire(grad), list(shape), **kw)
    except StudentError as exc:
        fail(f"unbroadcast(grad of shape {np.shape(grad)}, shape={tuple(shape)}): {exc}")


def _check_unbroadcast(got, grad, shape, what):
    want = _np_unbroadcast(grad, shape)
    if self_check():   # the reference against torch's own reduction
        assert np.allclose(torch.tensor(grad).sum_to_size(shape).numpy(), want), "reference disagrees with torch"
    if got["value"] is None:
        fail(f"{what} returned {got['type']}, not an array")
    # a full reduction in NumPy gives a numpy.float64 scalar: shape () and float64 as well
    expect(got["type"] == "numpy.ndarray" or (got["type"] == "numpy.float64" and tuple(shape) == ()),
           f"{what} must return an np.ndarray, got {got['type']}")
    expect(tuple(got["shape"]) == tuple(shape), f"{what} must have shape exactly {tuple(shape)}, got {tuple(got['shape'])}")
    assert_close(got["value"], want, atol=ATOL, rtol=RTOL, what=what, inputs={"grad": grad})


@pytest.mark.part("unbroadcast")
@pytest.mark.parametrize("gshape,shape,strided", [(g, s_, False) for g, s_ in UNBROADCAST_CASES]
                         + [((5, 4), (4,), True), ((5, 4), (5, 1), True), ((3, 6), (1, 1), True)],
                         ids=[f"{g}->{s_}" for g, s_ in UNBROADCAST_CASES] + ["5x4->4-strided", "5x4->5x1-strided",
                                                                            "3x6->1x1-strided"])
def test_unbroadcast(sub, gshape, shape, strided):
    """unbroadcast가 모든 shape 쌍에서 정확한 shape과 값을 돌려준다 (연속적이지 않은 grad 포함)"""
    # One check: the exact shape and values for every pair of shapes, also for a non-contiguous grad
    if strided:
        _unbroadcast_non_contiguous(sub, gshape, shape)
        return
    rng = rng_for(sub, 121 + len(gshape) * 5 + len(shape))
    grad = rng.standard_normal(gshape)
    got = _unbroadcast(sub, grad, shape)
    _check_unbroadcast(got, grad, shape, f"unbroadcast(grad of shape {gshape}, shape={shape})")


UB_TWICE_CASES = [((3, 5), (3, 1), (1, 5)), ((3, 5), (5,), (3, 5)), ((3, 5), (), (3, 5)),
                  ((2, 3, 5), (2, 1, 5), (3, 1)), ((4, 5, 3), (4, 1, 3), (5, 1))]


@pytest.mark.part("unbroadcast")
@pytest.mark.parametrize("gshape,s1,s2", UB_TWICE_CASES, ids=[f"{g}->{a},{b}" for g, a, b in UB_TWICE_CASES])
def test_unbroadcast_shared_grad(sub, gshape, s1, s2):
    """unbroadcast는 받은 grad를 바꾸지 않는다 (같은 배열이 두 입력에 쓰인다)"""
    # add hands the same writable out.grad to unbroadcast for both inputs: neither call may change it
    rng = rng_for(sub, 131 + len(gshape) * 5 + len(s1))
    grad = rng.standard_normal(gshape)
    got = _unbroadcast(sub, grad, s1, writable=True, twice_shape=list(s2))
    expect(unchanged(got["grad_after"], grad), f"unbroadcast(grad of shape {gshape}, {s1}) changed grad in place "
                                  "(it is shared: the other input of add receives it next)")
    _check_unbroadcast(got, grad, s1, f"unbroadcast(grad of shape {gshape}, shape={s1})")
    _check_unbroadcast(got["second"], grad, s2, f"unbroadcast(the same grad, shape={s2}) after one to {s1}")


def _unbroadcast_non_contiguous(sub, gshape, shape):
    # a transposed (non-contiguous) gradient, as a matmul backward can produce
    rng = rng_for(sub, 141 + len(shape))
    grad = rng.standard_normal(gshape)
    got = _unbroadcast(sub, grad, shape, transposed=True)
    _check_unbroadcast(got, grad, shape, f"unbroadcast(a non-contiguous grad of shape {gshape}, shape={shape})")


# Inputs come from sub.seed, so references cannot be computed before a submission is known:
# priming stops every test at its first use of sub (course.judge.references) and costs nothing.
references.prime(globals())
