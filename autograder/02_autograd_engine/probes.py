"""Probes for 02_autograd_engine. They run INSIDE the sandbox, next to the student's notebook.

This file is public: a student's cell can read everything in it. So it holds no reference
implementation and no expected value. Every graded part is probed in isolation with stand-ins
that are NOT solutions; the hidden tests in the judge compute what the stand-ins do:

  run_op            the student's operator and its _backward closure, called once on its output
                    node. The notebook's `unbroadcast` is a stand-in: identity when nothing is
                    reduced, otherwise a fixed random linear map from the seed the judge sends.
                    `Tensor._accumulate_grad` is a recorder: it only keeps each contribution.
  run_linear_graph  the student's Tensor.backward and Tensor._accumulate_grad on a graph of
                    stand-in nodes: each node's _backward hands every parent a fixed random
                    linear map of its grad (or the grad itself, on an identity edge).
  unbroadcast       the student's unbroadcast, called directly.
  accumulate        the student's _accumulate_grad on a fresh Tensor.

Probes report what came back before any conversion (type, dtype, shape, aliasing) and its values.
Whether an input or G was changed in place is decided in the judge: the probes send back the
arrays after the call through the platform's `describe` (read with references the notebook cannot
replace), never a sandbox-side np.array_equal a cell could patch. A Tensor's grad and
requires_grad are read from its own instance dict, and what is a Tensor / an array from the
class's real bases, not isinstance (tests/test_probes_decide_nothing.py).
"""
import numpy as np

_MISSING = object()
_MRO = type.__dict__["__mro__"].__get__   # a class's real bases: no __instancecheck__ to answer for it


def _own(obj, name, default=None):
    """obj's attribute `name` as stored in its own instance dict (the given Tensor keeps grad and
    requires_grad there): a property, __getattr__ or __getattribute__ added to the class cannot
    answer for it."""
    try:
        own = object.__getattribute__(obj, "__dict__")
    except AttributeError:   # a class with __slots__: nothing stored where the given Tensor keeps it
        return default
    return own.get(name, default) if type(own) is dict else default


def _is_array(x):
    """x is a NumPy array by its real bases (not isinstance, which a class can answer)."""
    return np.ndarray in _MRO(type(x))


# --------------------------------------------------------------------------- reporting
def _desc(x):
    """What the student left: type, dtype and shape as returned, then the values as float64.

    0-d values travel as a Python float: the wire format turns a 0-d array into shape (1,)."""
    if x is None:
        return {"type": "None", "dtype": None, "shape": None, "value": None}
    got = describe(x)    # the platform's: a subclass or a patched numpy cannot change type/dtype/shape
    info = {"type": got["type"], "dtype": str(got.get("dtype")), "shape": got.get("shape"), "value": None}
    try:
        value = got.get("value")   # a genuine array: the copy describe() took
        if got.get("exact") and got["type"] == "numpy.ndarray" and type(value) is np.ndarray:
            a = value.astype(np.float64)
        else:
            a = np.array(x if _is_array(x) else to_numpy(x), dtype=np.float64)
    except Exception:  # noqa: BLE001 - reported, not raised
        return info
    info["value"] = float(a) if a.ndim == 0 else a
    return info


def _kwargs(raw):
    kw = dict(raw or {})
    if type(kw.get("axis")) is list:   # the judge's own data
        kw["axis"] = tuple(kw["axis"])
    return kw


# --------------------------------------------------------------------------- stand-ins (not solutions)
def _random_map(seed, gshape, shape):
    """The stand-in unbroadcast's matrix: a random linear map from gshape to shape (the judge
    draws the same one from the same seed)."""
    rng = np.random.default_rng([int(seed), len(gshape), *gshape, len(shape), *shape])
    return rng.standard_normal((int(np.prod(shape, dtype=np.int64)), int(np.prod(gshape, dtype=np.int64))))


def _standin_unbroadcast(seed, log):
    def unbroadcast(grad, shape):
        g = np.asarray(grad, dtype=np.float64)
        shape = tuple(int(s) for s in shape)
        log.append([list(g.shape), list(shape)])
        if g.shape == shape:
            return g
        return (_random_map(seed, g.shape, shape) @ g.reshape(-1)).reshape(shape)

    return unbroadcast


def _recorder(log):
    def _accumulate_grad(self, g):
        log.setdefault(id(self), []).append(_desc(np.array(g, copy=True) if _is_array(g) else g))

    return _accumulate_grad


class _Swap:
    """Temporarily set attributes on the Tensor class and names in the notebook's globals."""

    def __init__(self, cls_attrs=None, names=None):
        self.cls_attrs = cls_attrs or {}
        self.names = names or {}

    def __enter__(self):
        self.T = student.Tensor
        self.saved_cls = {k: self.T.__dict__.get(k, _MISSING) for k in self.cls_attrs}
        self.saved_names = {k: (getattr(student, k) if k in student else _MISSING) for k in self.names}
        for k, v in self.cls_attrs.items():
            setattr(self.T, k, v)
        for k, v in self.names.items():
            setattr(student, k, v)
        return self

    def __exit__(self, *exc):
        for k, v in self.saved_cls.items():
            if v is _MISSING:
                try:
                    delattr(self.T, k)
                except AttributeError:
                    pass
            else:
                setattr(self.T, k, v)
        for k, v in self.saved_names.items():
            if v is _MISSING:
                student._namespace.pop(k, None)
            else:
                setattr(student, k, v)
        return False


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


# --------------------------------------------------------------------------- probes
def run_op(op, args, kwargs, leaves, consts, G, seed):
    """One student operator on leaves/consts (names in args; numbers pass as they are), then
    out.grad = G and out._backward() once, with the stand-in unbroadcast and the recorder.

    Reports the output as returned, whether _prev holds the input Tensors, every contribution
    each input received, any .grad the op set directly, and whether the op changed its inputs'
    data or G in place."""
    T = student.Tensor
    env = {}
    for name, value in leaves.items():
        env[name] = T(np.array(value, dtype=np.float64), requires_grad=True)
    for name, value in (consts or {}).items():
        env[name] = T(np.array(value, dtype=np.float64), requires_grad=False)
    contributions, ub_calls = {}, []
    vals = [env[a] if type(a) is str else a for a in args]   # names or numbers, from the judge
    report = {"is_tensor": False, "prev_ok": False, "out": None, "contribs": {}, "grads": {},
              "inputs_after": {}, "G_after": None, "unbroadcast_calls": ub_calls}
    with _Swap(cls_attrs={"_accumulate_grad": _recorder(contributions)},
               names={"unbroadcast": _standin_unbroadcast(seed, ub_calls)}):
        out = _student_op(op, vals, _kwargs(kwargs))
        report["is_tensor"] = T in _MRO(type(out))
        if not report["is_tensor"]:
            report["out"] = _desc(out)
            return report
        report["out"] = _desc(out.data)
        prev = tuple(getattr(out, "_prev", ()) or ())
        report["prev_ok"] = all(any(p is v for p in prev) for v in vals if T in _MRO(type(v)))
        g = np.array(G, dtype=np.float64).reshape(np.shape(out.data))
        out.grad = g
        out._backward()
        report["G_after"] = describe(g)      # the judge compares it with the G it sent
    for name, t in env.items():
        report["contribs"][name] = contributions.get(id(t), [])
        report["grads"][name] = _desc(_own(t, "grad"))
        report["inputs_after"][name] = describe(t.data)   # compared with what was sent, in the judge
    return report


def run_linear_graph(nodes, leaves, consts, calls):
    """The student's backward() on a graph of stand-in nodes.

    nodes:  [[name, shape, parents, maps], ...] in creation order; maps[i] is None (identity edge:
            the parent receives the node's grad array itself) or a matrix M (the parent receives
            (M @ grad.ravel()).reshape(parent.shape)).
    calls:  [[root, G or None], ...] one root.backward(G) each, in order, on the same graph.
    Reports every leaf's .grad after all calls (as left, then as numbers)."""
    T = student.Tensor
    env = {}
    for name, value in leaves.items():
        env[name] = T(np.array(value, dtype=np.float64), requires_grad=True)
    for name, value in (consts or {}).items():
        env[name] = T(np.array(value, dtype=np.float64), requires_grad=False)
    for name, shape, parents, maps in nodes:
        ps = tuple(env[p] for p in parents)
        out = T(np.zeros(tuple(shape)), requires_grad=any(_own(p, "requires_grad", False) for p in ps), _prev=ps, _op="stand-in")
        mats = [None if m is None else np.array(m, dtype=np.float64) for m in maps]

        def _backward(out=out, ps=ps, mats=mats, name=name):
            G = _own(out, "grad")
            if G is None:
                raise TypeError(f"_backward of node {name!r} was called while its grad is None")
            for p, M in zip(ps, mats):
                if M is None:
                    p._accumulate_grad(G)
                else:
                    p._accumulate_grad((M @ np.asarray(G, dtype=np.float64).reshape(-1)).reshape(p.data.shape))

        out._backward = _backward
        env[name] = out
    for root, G in calls:
        if G is None:
            env[root].backward()
        else:
            env[root].backward(np.array(G, dtype=np.float64).reshape(env[root].data.shape))
    return {"grads": {name: _desc(_own(env[name], "grad")) for name in list(leaves) + list(consts or {})}}


def unbroadcast(grad, shape, writable=False, twice_shape=None, transposed=False):
    """The student's unbroadcast called directly. grad arrives read-only, as a caller's array may
    be; with writable=True it is writable and, with twice_shape, the same array is passed again
    (as add hands one out.grad to both of its inputs). transposed: grad is a non-contiguous view."""
    g = np.array(grad, dtype=np.float64)
    if transposed:
        g = np.ascontiguousarray(g.T).T
    if not writable:
        g.setflags(write=False)
    out = student.unbroadcast(g, tuple(shape))
    report = _desc(out)
    report["second"] = None
    if twice_shape is not None:
        report["second"] = _desc(student.unbroadcast(g, tuple(twice_shape)))
    report["grad_after"] = describe(g)       # the judge compares it with the grad it sent
    return report


def accumulate(g1, g2, requires_grad=True, dtype="float64"):
    """_accumulate_grad twice on a fresh Tensor; the caller changes its arrays after each call."""
    T = student.Tensor
    t = T(np.zeros(np.shape(g1)), requires_grad=requires_grad)
    a1 = np.array(g1).astype(dtype)
    a2 = np.array(g2).astype(dtype)
    t._accumulate_grad(a1)
    first = _desc(_own(t, "grad"))
    first["aliases_caller"] = bool(describe(_own(t, "grad"), inputs={"a1": a1}).get("aliases"))
    a1 += 1000                                    # the caller reuses its array
    first_later = _desc(_own(t, "grad"))
    t._accumulate_grad(a2)
    a2 += 1000
    return {"first": first, "first_later": first_later, "second": _desc(_own(t, "grad"))}
