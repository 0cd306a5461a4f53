"""Probes for 11_memory_parallel. They run INSIDE the sandbox, next to the student's notebook.

Globals provided by the sandbox: `student` (the notebook's namespace), `type_name`, `to_numpy`.

  vram_*        call count_params / model_state_bytes / activation_bytes on a batch of cases and report
                every result as a plain number (or a short text saying what came back instead).
  ring          runs the student's ring_all_reduce on buffers the judge chose (dtype and memory layout
                too) over a TRUSTED ring defined here (same interface as the notebook's SimulatedRing),
                so the bytes counted per rank are what the student's algorithm really sent. It also
                reports whether the caller's buffers were left untouched.
  tp_*          the student's column/row-parallel forward and backward on shards cut here with
                np.array_split (the notebook's convention); the notebook's `all_reduce` is replaced by the
                reference below for the duration of the call, so an edited helper cannot change a grade.

Parts never share student code: the ring uses only ring_all_reduce (+ the given chunk_bounds), the
tensor-parallel probes only the four tensor-parallel functions.

This file is public (a notebook can read anything that enters the sandbox): it holds no graded
function and no expected value. _GivenRing and _given_all_reduce are copies of the notebook's GIVEN
(read-only) SimulatedRing and all_reduce, which every student already has; the ring part's tests
require the traffic of a real ring, which an all_reduce that sums in place does not send.
"""
import numpy as np

_MISSING = object()


# --------------------------------------------------------------------------- helpers
def _num(x):
    """A student's scalar result as int/float, or a short text naming what it was."""
    if isinstance(x, (bool, np.bool_)):
        return f"<bool {x}>"
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    try:
        a = np.asarray(to_numpy(x))
        if a.size == 1 and a.dtype.kind in "iuf":
            return a.item()
    except Exception:
        pass
    return f"<{type_name(x)}>"


def _arr(x):
    """An array result (values kept in their own dtype), or a short text naming what it was."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return np.array(x, copy=True)
    try:
        a = np.asarray(to_numpy(x))
        if a.dtype.kind in "biuf":
            return np.array(a, copy=True)
    except Exception:
        pass
    return f"<{type_name(x)}>"


def _info(x, inputs=()):
    """What the student returned, recorded untouched before any conversion: type, dtype, shape and
    the indices of the given input arrays it shares memory with."""
    info = {"type": type_name(x), "dtype": str(getattr(x, "dtype", "")), "shape": None, "aliases": []}
    if isinstance(x, np.ndarray):
        info["shape"] = list(x.shape)
        info["aliases"] = [i for i, a in enumerate(inputs) if isinstance(a, np.ndarray) and np.shares_memory(x, a)]
    return info


def _info_list(xs, inputs=()):
    return [_info(x, inputs) for x in xs] if isinstance(xs, (list, tuple)) else []


def _arr_list(xs):
    if not isinstance(xs, (list, tuple)):
        return f"<{type_name(xs)}, not a list>"
    return [_arr(x) for x in xs]


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


def vram_model_states(cases):
    """cases: [[n_params, n_gpus, stage], ...] -> one {key: number} per case (or a text)."""
    out = []
    for n_params, n_gpus, stage in cases:
        res = student.model_state_bytes(int(n_params), int(n_gpus), int(stage))
        if not isinstance(res, dict):
            out.append(f"<{type_name(res)}, not a dict>")
            continue
        out.append({str(k): _num(v) for k, v in res.items()})
    return out


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
        if not isinstance(states, dict):
            out.append(f"<model_state_bytes returned {type_name(states)}, not a dict>")
            continue
        out.append(_num(sum(states.values()) + student.activation_bytes(cfg, int(b), int(s), checkpointing=bool(ck))))
    return out


# --------------------------------------------------------------------------- ring all-reduce
class _GivenRing:
    """The notebook's SimulatedRing, re-implemented here so the count cannot be edited away."""

    def __init__(self, n_ranks):
        self.n_ranks = int(n_ranks)
        self.bytes_sent = [0] * self.n_ranks
        self.n_messages = 0

    def send(self, src, dst, data):
        if dst != (src + 1) % self.n_ranks:
            raise ValueError(f"rank {src} may only send to its right neighbour {(src + 1) % self.n_ranks}, not to {dst}")
        message = np.array(data, copy=True)
        self.bytes_sent[int(src)] += int(message.nbytes)
        self.n_messages += 1
        return message


def ring(buffers, dtype, layout="contiguous"):
    """student.ring_all_reduce on the judge's buffers (cast to dtype, laid out as asked)."""
    bufs = [_layout(np.asarray(b, dtype=np.float64).astype(dtype), layout) for b in buffers]
    before = [b.copy() for b in bufs]
    net = _GivenRing(len(bufs))
    out = student.ring_all_reduce(bufs, net)
    infos = _info_list(out, bufs)
    untouched = all(np.array_equal(b, c, equal_nan=True) for b, c in zip(bufs, before))
    results = _arr_list(out)
    dtypes = [i["dtype"] if i["type"] == "numpy.ndarray" else None for i in infos] if isinstance(results, list) else None
    return {"results": results, "infos": infos, "dtypes": dtypes, "bytes_sent": [int(n) for n in net.bytes_sent],
            "n_messages": net.n_messages, "untouched": bool(untouched)}


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


def tp_column(x, W, b, G, n_dev, layout="contiguous", backward=False):
    """Column-parallel forward (backward=False) or backward with upstream gradient G, on n_dev devices."""
    xs = _layout(np.asarray(x, dtype=np.float64), layout)
    Ws = _split(W, n_dev, -1, layout)
    if not backward:
        bs = _split(b, n_dev, -1, "contiguous")
        fn = student.column_parallel_forward
        with _SwapAllReduce(fn):
            Y = fn(xs, Ws, bs)
            return {"Y_info": _info_list(Y, [xs, *Ws, *bs]), "Y": _arr_list(Y)}
    Gs = _split(G, n_dev, -1, layout)
    fn = student.column_parallel_backward
    with _SwapAllReduce(fn):
        res = fn(xs, Ws, Gs)
    if not isinstance(res, (tuple, list)) or len(res) != 3:
        return {"error": f"column_parallel_backward must return (dx, dW_shards, db_shards), got {type_name(res)}"}
    dx, dW, db = res
    return {"dx": _arr_list(dx), "dW": _arr_list(dW), "db": _arr_list(db)}


def tp_row(x, W, b, G, n_dev, layout="contiguous", backward=False):
    """Row-parallel forward (backward=False) or backward with upstream gradient G, on n_dev devices."""
    xs = _split(x, n_dev, -1, layout)
    Ws = _split(W, n_dev, 0, layout)
    if not backward:
        fn = student.row_parallel_forward
        with _SwapAllReduce(fn):
            y = fn(xs, Ws, np.array(b, dtype=np.float64))
            return {"y_info": _info_list(y, [*xs, *Ws]), "y": _arr_list(y)}
    fn = student.row_parallel_backward
    with _SwapAllReduce(fn):
        res = fn(xs, Ws, _layout(np.asarray(G, dtype=np.float64), layout))
    if not isinstance(res, (tuple, list)) or len(res) != 3:
        return {"error": f"row_parallel_backward must return (dx_shards, dW_shards, db), got {type_name(res)}"}
    dx, dW, db = res
    return {"dx": _arr_list(dx), "dW": _arr_list(dW), "db": _arr(db)}


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
        res2 = fns[2](H, W2s, np.asarray(G, dtype=np.float64))
        if not isinstance(res2, (tuple, list)) or len(res2) != 3:
            return {"error": f"row_parallel_backward must return (dx_shards, dW_shards, db), got {type_name(res2)}"}
        dH, dW2, db2 = res2
        dY = [np.asarray(d, dtype=np.float64) * (1.0 - h * h) for d, h in zip(dH, H)]
        res1 = fns[3](x, W1s, dY)
        if not isinstance(res1, (tuple, list)) or len(res1) != 3:
            return {"error": f"column_parallel_backward must return (dx, dW_shards, db_shards), got {type_name(res1)}"}
        dx, dW1, db1 = res1
    finally:
        for swap in reversed(swaps):
            swap.__exit__(None, None, None)
    return {"error": None, "y": _arr_list(out), "dx": _arr_list(dx), "dW1": _arr_list(dW1), "db1": _arr_list(db1),
            "dW2": _arr_list(dW2), "db2": _arr(db2)}
