"""Probes for 11_memory_parallel. They run INSIDE the sandbox, next to the student's notebook.

Globals provided by the sandbox: `student` (the notebook's namespace), `type_name`, `to_numpy`.

  vram_*        call count_params / model_state_bytes / activation_bytes on a batch of cases and report
                every result as a plain number (or a short text saying what came back instead).
  ring          runs the student's ring_all_reduce on buffers the judge chose (dtype and memory layout
                too) over a TRUSTED ring defined here (same interface as the notebook's SimulatedRing),
                so the bytes counted per rank are what the student's algorithm really sent, and the
                messages' values (logged too) let the judge replay the ring. It also sends back the
                caller's buffers as they are after the call (the judge compares).
  tp_*          the student's column/row-parallel forward and backward on shards cut here with
                np.array_split (the notebook's convention); the notebook's `all_reduce` is replaced by the
                reference below for the duration of the call, so an edited helper cannot change a grade.

Parts never share student code: the ring uses only ring_all_reduce (+ the given chunk_bounds), the
tensor-parallel probes only the four tensor-parallel functions.

This file is public (a notebook can read anything that enters the sandbox): it holds no graded
function and no expected value. _given_ring and _given_all_reduce are copies of the notebook's GIVEN
(read-only) SimulatedRing and all_reduce, which every student already has; the ring part's tests
require the traffic of a real ring, which an all_reduce that sums in place does not send.
"""
import numpy as np

_MISSING = object()


# --------------------------------------------------------------------------- helpers
# Everything the student returned is read through the platform's describe() (C-level facts taken
# before the notebook ran): a cell that patches numpy (np.shares_memory, np.array_equal, np.asarray)
# or an ndarray subclass that lies about its dtype changes nothing here. Properties (type, dtype,
# aliasing, "the caller's buffers are untouched") are decided by the tests, in the judge; the probes
# only turn the recorded values into numbers or arrays, with ndarray methods (C, not patchable).
_FLOAT_KINDS = ("float16", "float32", "float64", "bfloat16")


def _value_num(facts):
    """A recorded scalar result as int/float, or a short text naming what it was."""
    kind, value, dtype = facts.get("type"), facts.get("value"), facts.get("dtype")
    if kind == "builtins.bool" or dtype == "bool":
        return f"<bool {value}>"
    if kind in ("builtins.int", "builtins.float"):
        return value
    if type(value) in (int, float):                    # a genuine NumPy scalar, read as .item()
        return value
    if type(value) is np.ndarray and value.size == 1 and value.dtype.kind in "iuf":
        return value.item()
    return f"<{kind}>"


def _value_arr(facts):
    """A recorded array result (values in their own dtype), or a short text naming what it was."""
    value = facts.get("value")
    if type(value) is np.ndarray and value.dtype.kind in "biuf":
        return value
    if type(value) in (int, float) and facts.get("dtype") != "bool" and facts.get("type") != "builtins.bool":
        return value
    return f"<{facts.get('type')}>"


def _num(x):
    return _value_num(describe(x))


def _arr(x):
    return _value_arr(describe(x))


def _items(xs, inputs=None):
    """describe() of a list/tuple result item by item (None if it is no genuine list/tuple)."""
    facts = describe(xs, inputs=inputs)
    if facts.get("type") not in ("builtins.list", "builtins.tuple") or "items" not in facts:
        return None, facts
    return facts["items"], facts


def _arr_list(xs, inputs=None):
    """(values, facts): the arrays of a list result and what describe() recorded of each
    (type, dtype, shape, aliases with `inputs`); a text instead of the values if it is no list."""
    items, facts = _items(xs, inputs)
    if items is None:
        return f"<{facts.get('type')}, not a list>", []
    return [_value_arr(i) for i in items], items


def _named(arrays, prefix):
    return {f"{prefix}{i}": a for i, a in enumerate(arrays)}


class _Config:
    """Duck-typed stand-in for the notebook's GPTConfig (same field names)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def _config(fields):
    cls = getattr(student, "GPTConfig") if "GPTConfig" in student else _Config
    try:
        return cls(**fields)
    except Exception:
        return _Config(**fields)


def _layout(a, layout):
    """a with the given memory layout (values unchanged): contiguous, transposed (axes reversed in
    memory, a non-contiguous view) or strided (every other row / element of a larger array)."""
    a = np.asarray(a)
    if layout == "transposed" and a.ndim >= 2:
        return np.ascontiguousarray(a.transpose()).transpose()
    if layout == "strided":
        full = np.zeros((2 * a.shape[0],) + a.shape[1:], dtype=a.dtype)
        full[1::2] = np.nan if a.dtype.kind == "f" else 0
        full[::2] = a
        return full[::2]
    return np.array(a, copy=True)


# --------------------------------------------------------------------------- VRAM calculator
def vram_count_params(configs):
    return [_num(student.count_params(_config(c))) for c in configs]


def _states(res):
    """model_state_bytes' dict as {key: number}, or a text if it is no dict of text keys."""
    facts = describe(res)
    if facts.get("type") != "builtins.dict" or "items" not in facts:
        return f"<{facts.get('type')}, not a dict with text keys>"
    return {k: _value_num(v) for k, v in facts["items"].items()}


def vram_model_states(cases):
    """cases: [[n_params, n_gpus, stage], ...] -> one {key: number} per case (or a text)."""
    return [_states(student.model_state_bytes(int(n_params), int(n_gpus), int(stage)))
            for n_params, n_gpus, stage in cases]


def vram_activations(cases):
    """cases: [[config fields, batch_size, seq_len, checkpointing], ...]."""
    return [_num(student.activation_bytes(_config(c), int(b), int(s), checkpointing=bool(ck)))
            for c, b, s, ck in cases]


def vram_total(cases):
    """The calculator end to end, the student's functions chained as the notebook's table does:
    sum(model_state_bytes(count_params(cfg), N, stage).values()) + activation_bytes(cfg, b, s, ckpt).
    cases: [[config fields, n_gpus, zero_stage, batch_size, seq_len, checkpointing], ...]."""
    out = []
    for c, n_gpus, stage, b, s, ck in cases:
        cfg = _config(c)
        states = student.model_state_bytes(student.count_params(cfg), n_gpus=int(n_gpus), zero_stage=int(stage))
        kind = describe(states).get("type")
        if kind != "builtins.dict":
            out.append(f"<model_state_bytes returned {kind}, not a dict>")
            continue
        out.append(_num(sum(states.values()) + student.activation_bytes(cfg, int(b), int(s), checkpointing=bool(ck))))
    return out


# --------------------------------------------------------------------------- ring all-reduce
def _given_ring(n_ranks):
    """The notebook's SimulatedRing (same interface), re-implemented here so the count cannot be
    edited away. Every message is read by describe() (real dtype and shape, a copy of its bytes):
    what the receiver gets is that copy, and the log of [src, dst, dtype, shape, values] goes to the
    judge, which counts the bytes AND replays the ring from the values (a function that adds the
    buffers itself and sends look-alike chunks is caught by what its messages hold). The log lives
    in this closure, not in an attribute of the ring."""
    log = []

    class _GivenRing:
        def __init__(self):
            self.n_ranks = int(n_ranks)
            self.bytes_sent = [0] * self.n_ranks       # the notebook's attribute; the judge reads `log`
            self.n_messages = 0

        def send(self, src, dst, data):
            src, dst = _value_num(describe(src)), _value_num(describe(dst))   # genuine ints, not look-alikes
            if type(src) is not int or type(dst) is not int or not 0 <= src < self.n_ranks:
                raise TypeError(f"ring.send(src, dst, data): src and dst are rank numbers 0..{self.n_ranks - 1}")
            if dst != (src + 1) % self.n_ranks:
                raise ValueError(f"rank {src} may only send to its right neighbour {(src + 1) % self.n_ranks}, "
                                 f"not to {dst}")
            facts = describe(data)
            if type(facts.get("value")) is not np.ndarray:     # a list or a scalar: as np.array(data) makes it
                facts = describe(np.array(data))
            message = facts["value"]
            if type(message) is not np.ndarray:
                raise TypeError(f"ring.send: cannot send a {facts.get('type')}")
            log.append([src, dst, facts["dtype"], [int(n) for n in facts["shape"]], message.copy()])
            self.bytes_sent[src] += int(message.nbytes)
            self.n_messages += 1
            return message

    return _GivenRing(), log


def ring(buffers, dtype, layout="contiguous"):
    """student.ring_all_reduce on the judge's buffers (cast to dtype, laid out as asked). Reports the
    results (values and describe() facts, aliases named "buffer<r>"), the message log and the
    caller's buffers as describe() reads them after the call; the judge decides everything."""
    bufs = [_layout(np.asarray(b, dtype=np.float64).astype(dtype), layout) for b in buffers]
    net, log = _given_ring(len(bufs))
    out = student.ring_all_reduce(bufs, net)
    results, infos = _arr_list(out, _named(bufs, "buffer"))
    return {"results": results, "infos": infos, "messages": log, "buffers_after": [describe(b) for b in bufs]}


# --------------------------------------------------------------------------- tensor parallel
def _given_all_reduce(arrays):
    """The notebook's given all_reduce (every device gets the sum)."""
    total = np.array(arrays[0], copy=True)
    for a in arrays[1:]:
        total = total + a
    return [total.copy() for _ in arrays]


class _SwapAllReduce:
    def __init__(self, fn):
        self.ns = getattr(fn, "__globals__", None)

    def __enter__(self):
        if self.ns is not None:
            self.saved = self.ns.get("all_reduce", _MISSING)
            self.ns["all_reduce"] = _given_all_reduce
        return self

    def __exit__(self, *exc):
        if self.ns is not None:
            if self.saved is _MISSING:
                self.ns.pop("all_reduce", None)
            else:
                self.ns["all_reduce"] = self.saved
        return False


def _split(a, n, axis, layout):
    return [_layout(p, layout) for p in np.array_split(np.asarray(a, dtype=np.float64), n, axis=axis)]


def _triple(res, name, parts):
    """A (a, b, c) result as its three items, or an error text (describe() decides what it is)."""
    facts = describe(res)
    if facts.get("type") not in ("builtins.tuple", "builtins.list") or len(facts.get("items") or ()) != 3:
        return None, f"{name} must return ({parts}), got {facts.get('type')}"
    return tuple(res), None


def tp_column(x, W, b, G, n_dev, layout="contiguous", backward=False):
    """Column-parallel forward (backward=False) or backward with upstream gradient G, on n_dev devices."""
    xs = _layout(np.asarray(x, dtype=np.float64), layout)
    Ws = _split(W, n_dev, -1, layout)
    if not backward:
        bs = _split(b, n_dev, -1, "contiguous")
        fn = student.column_parallel_forward
        with _SwapAllReduce(fn):
            Y = fn(xs, Ws, bs)
            values, infos = _arr_list(Y, {"x": xs, **_named(Ws, "W"), **_named(bs, "b")})
            return {"Y_info": infos, "Y": values}
    Gs = _split(G, n_dev, -1, layout)
    fn = student.column_parallel_backward
    with _SwapAllReduce(fn):
        res = fn(xs, Ws, Gs)
    res, error = _triple(res, "column_parallel_backward", "dx, dW_shards, db_shards")
    if error:
        return {"error": error}
    dx, dW, db = res
    return {"dx": _arr_list(dx)[0], "dW": _arr_list(dW)[0], "db": _arr_list(db)[0]}


def tp_row(x, W, b, G, n_dev, layout="contiguous", backward=False):
    """Row-parallel forward (backward=False) or backward with upstream gradient G, on n_dev devices."""
    xs = _split(x, n_dev, -1, layout)
    Ws = _split(W, n_dev, 0, layout)
    if not backward:
        fn = student.row_parallel_forward
        with _SwapAllReduce(fn):
            y = fn(xs, Ws, np.array(b, dtype=np.float64))
            values, infos = _arr_list(y, {**_named(xs, "x"), **_named(Ws, "W")})
            return {"y_info": infos, "y": values}
    fn = student.row_parallel_backward
    with _SwapAllReduce(fn):
        res = fn(xs, Ws, _layout(np.asarray(G, dtype=np.float64), layout))
    res, error = _triple(res, "row_parallel_backward", "dx_shards, dW_shards, db")
    if error:
        return {"error": error}
    dx, dW, db = res
    return {"dx": _arr_list(dx)[0], "dW": _arr_list(dW)[0], "db": _arr(db)}


def tp_mlp(x, W1, b1, W2, b2, G, n_dev):
    """A Megatron MLP on n_dev devices, the student's four functions chained: column-parallel W1,
    tanh on each device's block (done here), row-parallel W2; then backward with upstream G through
    row_parallel_backward, the tanh (here) and column_parallel_backward."""
    x = np.asarray(x, dtype=np.float64)
    W1s, b1s = _split(W1, n_dev, -1, "contiguous"), _split(b1, n_dev, -1, "contiguous")
    W2s = _split(W2, n_dev, 0, "contiguous")
    fns = [student.column_parallel_forward, student.row_parallel_forward,
           student.row_parallel_backward, student.column_parallel_backward]
    swaps = [_SwapAllReduce(fn) for fn in fns]
    for swap in swaps:
        swap.__enter__()
    try:
        Y = fns[0](x, W1s, b1s)
        H = [np.tanh(np.asarray(y, dtype=np.float64)) for y in Y]
        out = fns[1](H, W2s, np.array(b2, dtype=np.float64))
        res2, error = _triple(fns[2](H, W2s, np.asarray(G, dtype=np.float64)), "row_parallel_backward",
                              "dx_shards, dW_shards, db")
        if error:
            return {"error": error}
        dH, dW2, db2 = res2
        dY = [np.asarray(d, dtype=np.float64) * (1.0 - h * h) for d, h in zip(dH, H)]
        res1, error = _triple(fns[3](x, W1s, dY), "column_parallel_backward", "dx, dW_shards, db_shards")
        if error:
            return {"error": error}
        dx, dW1, db1 = res1
    finally:
        for swap in reversed(swaps):
            swap.__exit__(None, None, None)
    return {"error": None, "y": _arr_list(out)[0], "dx": _arr_list(dx)[0], "dW1": _arr_list(dW1)[0],
            "db1": _arr_list(db1)[0], "dW2": _arr_list(dW2)[0], "db2": _arr(db2)}
