"""Probes for 02_autograd_engine. They run INSIDE the sandbox, next to the student's notebook.

Every graded part is probed in isolation: the pieces of the engine that are NOT under test are
swapped for the reference versions below for the duration of one probe, so a mistake in one part
never costs points in another (the notebook tells students so):

  mode "ops"         the student's operators and their _backward closures;
                     reference _accumulate_grad, unbroadcast and backward order.
  mode "backward"    the student's Tensor._accumulate_grad and Tensor.backward;
                     reference operators (built on the notebook's Tensor node protocol).
  mode "unbroadcast" the student's unbroadcast, called by reference add/mul;
                     reference _accumulate_grad and backward order.

Probes only run the student's code and report what it produced; every expected value is computed
by the hidden tests in the judge process.
"""
import numpy as np

_MISSING = object()


# --------------------------------------------------------------------------- reference pieces
def _ref_unbroadcast(grad, shape):
    # Returns a view of grad when nothing is reduced (like a straightforward student solution),
    # so a _accumulate_grad that stores gradients without copying is exposed by aliasing.
    grad = np.asarray(grad, dtype=np.float64)
    shape = tuple(shape)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def _ref_accumulate_grad(self, g):
    # No shape check on purpose: a wrong-shaped gradient is stored as is and the test reports
    # its shape next to the expected one.
    if not self.requires_grad:
        return
    g = np.array(g, dtype=np.float64)
    self.grad = g if self.grad is None else self.grad + g


def _ref_backward(root, grad):
    topo, seen = [], set()
    stack = [(root, False)]
    while stack:                      # iterative DFS post-order
        node, done = stack.pop()
        if done:
            topo.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in reversed(tuple(getattr(node, "_prev", ()))):
            if id(parent) not in seen:
                stack.append((parent, False))
    for node in topo:
        if getattr(node, "_prev", ()):
            node.grad = None
    root.grad = np.array(grad, dtype=np.float64)   # seeded directly, whatever requires_grad says
    for node in reversed(topo):
        if node.grad is not None:
            node._backward()


def _notebook_globals():
    """The notebook's global namespace: where the student's closures look up `unbroadcast`."""
    for name in ("as_tensor", "make_result"):
        if name in student:
            fn = getattr(student, name)
            if hasattr(fn, "__globals__"):
                return fn.__globals__
    return student.Tensor.__init__.__globals__


class _Swap:
    """Temporarily replace engine pieces that are not under test by the reference versions."""

    def __init__(self, accumulate=False, unbroadcast=False):
        self.accumulate = accumulate
        self.unbroadcast = unbroadcast

    def __enter__(self):
        self.tensor = student.Tensor
        self.saved_acc = self.tensor.__dict__.get("_accumulate_grad", _MISSING)
        self.ns = _notebook_globals() if self.unbroadcast else None
        self.saved_ub = self.ns.get("unbroadcast", _MISSING) if self.unbroadcast else None
        if self.accumulate:
            self.tensor._accumulate_grad = _ref_accumulate_grad
        if self.unbroadcast:
            self.ns["unbroadcast"] = _ref_unbroadcast
        return self

    def __exit__(self, *exc):
        if self.accumulate:
            if self.saved_acc is _MISSING:
                try:
                    delattr(self.tensor, "_accumulate_grad")
                except AttributeError:
                    pass
            else:
                self.tensor._accumulate_grad = self.saved_acc
        if self.unbroadcast:
            if self.saved_ub is _MISSING:
                self.ns.pop("unbroadcast", None)
            else:
                self.ns["unbroadcast"] = self.saved_ub
        return False


def _ref_op(op, args, kwargs, unbroadcast):
    """Reference operators on the notebook's Tensor (data, requires_grad, _prev, _backward)."""
    T = student.Tensor
    ts = [a if isinstance(a, T) else T(a) for a in args]
    data = [t.data for t in ts]
    if op == "add":
        value = data[0] + data[1]
    elif op == "mul":
        value = data[0] * data[1]
    elif op == "matmul":
        value = data[0] @ data[1]
    elif op == "sum":
        value = data[0].sum(axis=kwargs.get("axis"), keepdims=kwargs.get("keepdims", False))
    elif op == "mean":
        value = data[0].mean(axis=kwargs.get("axis"), keepdims=kwargs.get("keepdims", False))
    elif op == "relu":
        value = np.maximum(data[0], 0.0)
    else:
        raise LookupError(f"unknown op {op!r}")
    out = T(value, requires_grad=any(t.requires_grad for t in ts), _prev=tuple(ts), _op=op)

    def _backward():
        G = out.grad
        if op == "add":
            ts[0]._accumulate_grad(unbroadcast(G, ts[0].shape))
            ts[1]._accumulate_grad(unbroadcast(G, ts[1].shape))
        elif op == "mul":
            ts[0]._accumulate_grad(unbroadcast(G * data[1], ts[0].shape))
            ts[1]._accumulate_grad(unbroadcast(G * data[0], ts[1].shape))
        elif op == "matmul":
            ts[0]._accumulate_grad(G @ data[1].T)
            ts[1]._accumulate_grad(data[0].T @ G)
        elif op in ("sum", "mean"):
            x = data[0]
            axis = kwargs.get("axis")
            axes = tuple(range(x.ndim)) if axis is None else tuple(
                sorted(a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)))
            g = G if kwargs.get("keepdims", False) else np.expand_dims(G, axes)
            g = np.broadcast_to(g, x.shape)
            if op == "mean":
                g = g / int(np.prod([x.shape[a] for a in axes]))
            ts[0]._accumulate_grad(g)
        elif op == "relu":
            ts[0]._accumulate_grad(G * (data[0] > 0))

    out._backward = _backward
    return out


def _student_op(op, args, kwargs):
    """The student's operators, called the way the notebook uses them."""
    if op == "add":
        return args[0] + args[1]          # a Python number on the left goes through __radd__
    if op == "mul":
        return args[0] * args[1]
    if op == "matmul":
        return args[0] @ args[1]
    if op == "sum":
        return args[0].sum(**kwargs)
    if op == "mean":
        return args[0].mean(**kwargs)
    if op == "relu":
        return args[0].relu()
    raise LookupError(f"unknown op {op!r}")


# --------------------------------------------------------------------------- reporting helpers
def _arr(x):
    """A gradient or value as a float64 array, None, or a short string saying what it was.

    0-d results travel as a Python float: the wire format turns a 0-d array into shape (1,)."""
    if x is None:
        return None
    try:
        a = np.array(x if isinstance(x, np.ndarray) else to_numpy(x), dtype=np.float64)
    except Exception:
        return f"<{type(x).__module__}.{type(x).__qualname__}>"
    return float(a) if a.ndim == 0 else a


def _kwargs(raw):
    kw = dict(raw or {})
    if isinstance(kw.get("axis"), list):
        kw["axis"] = tuple(kw["axis"])
    return kw


# --------------------------------------------------------------------------- probes
def run_graph(mode, program, leaves, consts=None, calls=None):
    """Build the graph `program` and backpropagate the `calls`, in the given mode.

    program: [[name, op, args, kwargs], ...]; args are names of leaves / consts / earlier steps,
             or Python numbers. leaves: {name: array} (requires_grad=True); consts: {name: array}.
    calls:   [[root_name, G or None], ...], one backward per entry, in order, on the same graph.
    Returns the value of every step, whether it is a Tensor that lists its inputs in _prev,
    and the .grad of every leaf afterwards.
    """
    T = student.Tensor
    env = {}
    for name, value in leaves.items():
        env[name] = T(np.array(value, dtype=np.float64), requires_grad=True)
    for name, value in (consts or {}).items():
        env[name] = T(np.array(value, dtype=np.float64), requires_grad=False)

    report = {"values": {}, "is_tensor": {}, "prev_ok": {}, "grads": {}}
    swap = _Swap(accumulate=mode in ("ops", "unbroadcast"), unbroadcast=(mode == "ops"))
    with swap:
        for name, op, args, kwargs in program:
            vals = [env[a] if isinstance(a, str) else a for a in args]
            kw = _kwargs(kwargs)
            if mode == "ops":
                out = _student_op(op, vals, kw)
            elif mode == "unbroadcast":
                out = _ref_op(op, vals, kw, lambda g, s: student.unbroadcast(g, tuple(s)))
            else:
                out = _ref_op(op, vals, kw, _ref_unbroadcast)
            is_tensor = isinstance(out, T)
            report["is_tensor"][name] = is_tensor
            if not is_tensor:
                report["values"][name] = _arr(out)
                report["prev_ok"][name] = False
                env[name] = out
                continue
            report["values"][name] = _arr(out.data)
            prev = tuple(getattr(out, "_prev", ()) or ())
            report["prev_ok"][name] = all(any(p is v for p in prev) for v in vals if isinstance(v, T))
            env[name] = out

        for root_name, G in (calls or []):
            root = env[root_name]
            if not isinstance(root, T):
                break
            if mode == "backward":
                if G is None:
                    root.backward()
                else:
                    root.backward(np.array(G, dtype=np.float64))
            else:
                _ref_backward(root, np.ones(root.shape) if G is None else G)

    for name in leaves:
        report["grads"][name] = _arr(env[name].grad)
    return report


def unbroadcast(grad, shape):
    """The student's unbroadcast called directly; grad arrives read-only, as a caller's array may be."""
    grad = np.array(grad, dtype=np.float64)
    grad.setflags(write=False)
    out = student.unbroadcast(grad, tuple(shape))
    return {"type": type_name(out), "value": _arr(out)}


def accumulate(g1, g2, requires_grad=True):
    """_accumulate_grad twice on a fresh Tensor; the caller changes its arrays after each call."""
    T = student.Tensor
    t = T(np.zeros(np.shape(g1)), requires_grad=requires_grad)
    a1 = np.array(g1, dtype=np.float64)
    a2 = np.array(g2, dtype=np.float64)
    t._accumulate_grad(a1)
    a1 += 1000.0                                  # the caller reuses its array
    first = _arr(t.grad)
    t._accumulate_grad(a2)
    a2 += 1000.0
    return {"first": first, "second": _arr(t.grad)}
