"""Probes for 13_inference. They run INSIDE the sandbox, next to the student's notebook.

Globals provided by the sandbox: `student` (the notebook's namespace), `type_name`, `to_numpy`.

  paged_run        builds the student's PagedKVCache and runs a script of operations chosen by the judge
                   (allocate / append / fork / free, K and V data included); after every operation it
                   reports the whole state: block tables, sequence lengths, reference counts, the pool and
                   K, V of every live sequence read through the student's block tables by the TRUSTED
                   gather below (an edited `gather` cannot hide a wrong table).
  tokens_*         acceptance_rate / expected_tokens_per_step on the judge's inputs.
  residual         residual_distribution on the judge's inputs.
  spec_trials      many calls of speculative_step on the judge's draft tokens, with one seeded
                   np.random.Generator for all calls; p and q are read-only, non-contiguous views.

The parts share no student code: the paged probes use only the PagedKVCache class, the token probes
only the two formula functions, the speculative probes only residual_distribution and speculative_step
(speculative_step may call the student's residual_distribution: both belong to the same part).
Nothing here knows an expected value; every check is made by the hidden tests in the judge process.
"""
import numpy as np


# --------------------------------------------------------------------------- helpers
def _num(x):
    """A student's scalar as a float, or a short text naming what came back instead."""
    if isinstance(x, (bool, np.bool_)):
        return f"<bool {x}>"
    if isinstance(x, (int, float, np.integer, np.floating)):
        return float(x)
    try:
        a = np.asarray(to_numpy(x))
        if a.size == 1 and a.ndim == 0 and a.dtype.kind in "iuf":
            return float(a)
    except Exception:
        pass
    return f"<{type_name(x)}>"


def _arr(x):
    """An array result as float64, or a short text naming what came back instead."""
    try:
        a = np.asarray(x if isinstance(x, np.ndarray) else to_numpy(x))
    except Exception:
        return f"<{type_name(x)}>"
    if a.dtype.kind not in "biuf":
        return f"<{type_name(x)} of dtype {a.dtype}>"
    return np.array(a, dtype=np.float64)


def _layout(a, layout):
    """a (float64) with the given memory layout, values unchanged: contiguous, transposed (a
    Fortran-ordered copy: every row is a non-contiguous view) or strided (every other row of a
    larger array whose other rows are NaN)."""
    a = np.array(a, dtype=np.float64)
    if layout == "transposed" and a.ndim >= 2:
        return np.asfortranarray(a)
    if layout == "strided" and a.ndim >= 1:
        full = np.full((2 * a.shape[0],) + a.shape[1:], np.nan)
        full[::2] = a
        return full[::2]
    return a


def _read_only(a):
    a = a.view()
    a.setflags(write=False)
    return a


# --------------------------------------------------------------------------- paged KV cache
def _snapshot(cache, raised):
    """The cache's whole state as plain data; K, V read through the block tables here (trusted)."""
    snap = {"raised": raised, "tables": {}, "lens": {}, "k": {}, "v": {}, "problems": []}
    tables = getattr(cache, "block_tables", None)
    lens = getattr(cache, "seq_lens", None)
    if not isinstance(tables, dict) or not isinstance(lens, dict):
        snap["problems"].append("block_tables and seq_lens must stay dicts (seq_id -> ...)")
        return snap
    n_blocks = int(getattr(cache, "num_blocks", len(np.asarray(cache.ref_counts).ravel())))
    for seq_id, table in tables.items():
        key = str(seq_id)
        try:
            ids = [int(b) for b in table]
        except Exception:
            snap["problems"].append(f"block_tables[{seq_id!r}] is not a list of block ids ({type_name(table)})")
            continue
        snap["tables"][key] = ids
        if seq_id not in lens:
            snap["problems"].append(f"sequence {seq_id!r} has a block table but no entry in seq_lens")
            continue
        n = int(lens[seq_id])
        snap["lens"][key] = n
        if any(b < 0 or b >= n_blocks for b in ids):
            snap["problems"].append(f"block_tables[{seq_id!r}] = {ids} holds ids outside 0..{n_blocks - 1}")
            continue
        if n > len(ids) * cache.block_size:
            continue                           # the judge reports the table length; nothing to read
        k_blocks = np.asarray(cache.k_blocks, dtype=np.float64)
        v_blocks = np.asarray(cache.v_blocks, dtype=np.float64)
        snap["k"][key] = k_blocks[ids].reshape(-1, k_blocks.shape[-1])[:n].copy()
        snap["v"][key] = v_blocks[ids].reshape(-1, v_blocks.shape[-1])[:n].copy()
    for seq_id in lens:
        if seq_id not in tables:
            snap["problems"].append(f"sequence {seq_id!r} is in seq_lens but has no block table")
    try:
        snap["refs"] = np.array([int(r) for r in np.asarray(cache.ref_counts).ravel()], dtype=np.int64)
    except Exception:
        snap["problems"].append(f"ref_counts must stay an array of ints ({type_name(cache.ref_counts)})")
        snap["refs"] = np.zeros(0, dtype=np.int64)
    try:
        snap["free"] = [int(b) for b in cache.free_blocks]
    except Exception:
        snap["problems"].append(f"free_blocks must stay a list of block ids ({type_name(cache.free_blocks)})")
        snap["free"] = []
    snap["num_free"] = _num(cache.num_free_blocks())
    return snap


def paged_run(num_blocks, block_size, head_dim, ops, layout="contiguous"):
    """Run ops on a fresh student.PagedKVCache; one state snapshot after every op.

    ops: [[name, args...], ...] with
      ["allocate", seq_id, k (n, d), v (n, d)], ["append", seq_id, k (d,), v (d,)],
      ["fork", parent_id, child_id], ["free", seq_id];
    an op may end with the string "may_raise": its exception is recorded (type name) instead of
    propagated, so the judge can check that it raised and that the state did not change."""
    cache = student.PagedKVCache(int(num_blocks), int(block_size), int(head_dim))
    snaps = []
    for op in ops:
        op = list(op)
        may_raise = isinstance(op[-1], str) and op[-1] == "may_raise"
        if may_raise:
            op = op[:-1]
        name = op[0]
        raised = None
        try:
            if name == "allocate":
                cache.allocate(int(op[1]), _layout(op[2], layout), _layout(op[3], layout))
            elif name == "append":
                cache.append(int(op[1]), np.array(op[2], dtype=np.float64), np.array(op[3], dtype=np.float64))
            elif name == "fork":
                cache.fork(int(op[1]), int(op[2]))
            elif name == "free":
                cache.free(int(op[1]))
            else:
                raise LookupError(f"unknown op {name!r}")
        except Exception as exc:
            if not may_raise:
                raise
            raised = type(exc).__name__
        snaps.append(_snapshot(cache, raised))
    return snaps


# --------------------------------------------------------------------------- expected tokens
def tokens_acceptance(p, q, layout="contiguous"):
    out = student.acceptance_rate(_layout(p, layout), _layout(q, layout))
    if np.ndim(p) == 1:
        return {"type": type_name(out), "value": _num(out)}
    return {"type": type_name(out), "value": _arr(out)}


def tokens_expected(cases):
    """cases: [[alpha (float), gamma (int)], ...] -> one number (or text) per case."""
    return [_num(student.expected_tokens_per_step(float(a), int(g))) for a, g in cases]


def tokens_expected_array(alpha, gamma):
    out = student.expected_tokens_per_step(np.array(alpha, dtype=np.float64), int(gamma))
    return {"type": type_name(out), "value": _arr(out)}


# --------------------------------------------------------------------------- speculative step
def residual(p, q, layout="contiguous"):
    pv, qv = _read_only(_layout(p, layout)), _read_only(_layout(q, layout))
    return _arr(student.residual_distribution(pv, qv))


def spec_trials(p, q, drafts, seed, layout="transposed"):
    """speculative_step(drafts[n], q, p, rng) for every row n of drafts, with ONE Generator(seed).

    Returns tokens (n_trials, gamma + 1) padded with -1, the lengths, and the first malformed reply
    (not a 1-D sequence of ints, empty, too long, out of range) as a text, or None."""
    pv, qv = _read_only(_layout(p, layout)), _read_only(_layout(q, layout))
    drafts = np.asarray(drafts, dtype=np.int64)
    n_trials, gamma = drafts.shape
    V = pv.shape[-1]
    rng = np.random.default_rng([int(s) for s in seed] if isinstance(seed, (list, tuple)) else int(seed))
    tokens = np.full((n_trials, gamma + 1), -1, dtype=np.int64)
    lens = np.zeros(n_trials, dtype=np.int64)
    bad = None
    for n in range(n_trials):
        out = student.speculative_step(drafts[n].copy(), qv, pv, rng)
        try:
            arr = np.asarray(out if isinstance(out, (list, tuple, np.ndarray)) else to_numpy(out))
        except Exception:
            arr = None
        if arr is None or arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"
                                             and not (arr.dtype.kind == "f" and np.all(arr == np.round(arr)))):
            bad = f"trial {n}: speculative_step returned {type_name(out)}" + (
                "" if arr is None else f" of shape {arr.shape} and dtype {arr.dtype}") + ", expected a 1-D list/array of token ids"
            break
        arr = arr.astype(np.int64)
        if not 1 <= arr.size <= gamma + 1:
            bad = f"trial {n}: speculative_step returned {arr.size} tokens with gamma = {gamma} (expected 1 to gamma + 1)"
            break
        if arr.min() < 0 or arr.max() >= V:
            bad = f"trial {n}: token id {int(arr.min() if arr.min() < 0 else arr.max())} outside 0..{V - 1}"
            break
        tokens[n, :arr.size] = arr
        lens[n] = arr.size
    return {"tokens": tokens, "lens": lens, "bad": bad}
