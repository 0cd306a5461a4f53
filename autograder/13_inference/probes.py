"""Probes for 13_inference. They run INSIDE the sandbox, next to the student's notebook.

Globals provided by the sandbox: `student` (the notebook's namespace), `describe`.

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

Everything the student's code returns or holds is read through the platform's describe() (C-level
facts captured before the notebook ran: real type, dtype, shape, a copy of the bytes), and the
probes convert only those copies, with ndarray methods: a cell that patches numpy (np.asarray,
np.array_equal...) or a subclass that lies about itself changes nothing here. The read-only inputs
p and q are sent back as describe() reads them after the calls: the judge decides they are unchanged
(a read-only flag alone can be lifted through the array's base, or by a patched constructor).
"""
import numpy as np


# --------------------------------------------------------------------------- helpers
def _facts_num(facts):
    """A recorded scalar (describe() facts) as a float, or a short text naming what it was."""
    kind, value = facts.get("type"), facts.get("value")
    if kind == "builtins.bool" or facts.get("dtype") == "bool":
        return f"<bool {value}>"
    if type(value) in (int, float):            # a plain number, or a NumPy scalar read as .item()
        return float(value)
    if type(value) is np.ndarray and value.size == 1 and value.ndim == 0 and value.dtype.kind in "iuf":
        return float(value.item())
    return f"<{kind}>"


def _num(x):
    return _facts_num(describe(x))


def _arr(x):
    """An array result as float64 (from describe()'s copy), or a short text naming what it was."""
    facts = describe(x)
    value = facts.get("value")
    if type(value) in (int, float) and facts.get("type") != "builtins.bool":
        return float(value)
    if type(value) is not np.ndarray:
        return f"<{facts.get('type')}>"
    if value.dtype.kind not in "biuf":
        return f"<{facts.get('type')} of dtype {value.dtype}>"
    return value.astype("float64")


def _ints(x):
    """A list/array of integers held by the student's object, read through describe(); None if it is
    not one (integral floats count, as int() of them did)."""
    facts = describe(x)
    value = facts.get("value")
    if type(value) is np.ndarray:
        if value.dtype.kind not in "iuf" or (value.dtype.kind == "f" and not (value == value.round()).all()):
            return None
        return _whole(value.ravel().tolist())
    items = facts.get("items")
    if type(items) is not list:                # another iterable (a deque...): its items, each described
        try:
            items = describe(list(x)).get("items")
        except Exception:                      # noqa: BLE001 - not iterable: no list of ids
            return None
        if type(items) is not list:
            return None
    if any(item.get("type") == "builtins.bool" for item in items):
        return None
    return _whole([item.get("value") for item in items])


def _whole(values):
    """Plain ints/floats that are whole numbers as ints; None if any is not (NaN and inf included)."""
    out = []
    for v in values:
        if type(v) not in (int, float) or v != v or v in (float("inf"), float("-inf")) or v != int(v):
            return None
        out.append(int(v))
    return out


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
    if describe(tables).get("type") != "builtins.dict" or describe(lens).get("type") != "builtins.dict":
        snap["problems"].append("block_tables and seq_lens must stay dicts (seq_id -> ...)")
        return snap
    refs = _ints(cache.ref_counts)
    n_blocks = int(getattr(cache, "num_blocks", len(refs or ())))
    k_blocks, v_blocks = (describe(cache.k_blocks).get("value"), describe(cache.v_blocks).get("value"))
    for seq_id, table in dict.items(tables):
        key = str(seq_id)
        ids = _ints(table)
        if ids is None:
            snap["problems"].append(f"block_tables[{seq_id!r}] is not a list of block ids ({describe(table).get('type')})")
            continue
        snap["tables"][key] = ids
        if not dict.__contains__(lens, seq_id):
            snap["problems"].append(f"sequence {seq_id!r} has a block table but no entry in seq_lens")
            continue
        n = _whole([_num(dict.__getitem__(lens, seq_id))])
        if n is None:
            snap["problems"].append(f"seq_lens[{seq_id!r}] is not a number of tokens")
            continue
        n = n[0]
        snap["lens"][key] = n
        if any(b < 0 or b >= n_blocks for b in ids):
            snap["problems"].append(f"block_tables[{seq_id!r}] = {ids} holds ids outside 0..{n_blocks - 1}")
            continue
        if n > len(ids) * cache.block_size:
            continue                           # the judge reports the table length; nothing to read
        if type(k_blocks) is not np.ndarray or type(v_blocks) is not np.ndarray:
            snap["problems"].append("k_blocks and v_blocks must stay arrays (num_blocks, block_size, head_dim)")
            continue
        snap["k"][key] = k_blocks[ids].reshape(-1, k_blocks.shape[-1])[:n].astype("float64")
        snap["v"][key] = v_blocks[ids].reshape(-1, v_blocks.shape[-1])[:n].astype("float64")
    for seq_id in dict.keys(lens):
        if not dict.__contains__(tables, seq_id):
            snap["problems"].append(f"sequence {seq_id!r} is in seq_lens but has no block table")
    if refs is None:
        snap["problems"].append(f"ref_counts must stay an array of ints ({describe(cache.ref_counts).get('type')})")
    snap["refs"] = refs or []
    free = _ints(cache.free_blocks)
    if free is None:
        snap["problems"].append(f"free_blocks must stay a list of block ids ({describe(cache.free_blocks).get('type')})")
    snap["free"] = free or []
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
        return {"type": describe(out).get("type"), "value": _num(out)}
    return {"type": describe(out).get("type"), "value": _arr(out)}


def tokens_expected(cases):
    """cases: [[alpha (float), gamma (int)], ...] -> one number (or text) per case."""
    return [_num(student.expected_tokens_per_step(float(a), int(g))) for a, g in cases]


def tokens_expected_array(alpha, gamma):
    out = student.expected_tokens_per_step(np.array(alpha, dtype=np.float64), int(gamma))
    return {"type": describe(out).get("type"), "value": _arr(out)}


# --------------------------------------------------------------------------- speculative step
def residual(p, q, layout="contiguous"):
    """residual_distribution on read-only views; p and q go back as read after the call."""
    pv, qv = _read_only(_layout(p, layout)), _read_only(_layout(q, layout))
    out = _arr(student.residual_distribution(pv, qv))
    return {"out": out, "p_after": describe(pv), "q_after": describe(qv)}


def _token_ids(out):
    """speculative_step's reply as a list of ints, or a text saying why it is none (read through describe())."""
    facts = describe(out)
    value, items = facts.get("value"), facts.get("items")
    if type(value) is np.ndarray:
        if value.ndim != 1 or (value.size and value.dtype.kind not in "iu"
                               and not (value.dtype.kind == "f" and (value == value.round()).all())):
            return f"{facts.get('type')} of shape {tuple(value.shape)} and dtype {value.dtype}"
        ids = _whole(value.tolist())
        return ids if ids is not None else f"{facts.get('type')} holding something else than token ids"
    if type(items) is list:
        ids = _ints(out)
        return ids if ids is not None else f"{facts.get('type')} holding something else than token ids"
    return f"{facts.get('type')}"


def spec_trials(p, q, drafts, seed, layout="transposed"):
    """speculative_step(drafts[n], q, p, rng) for every row n of drafts, with ONE Generator(seed).

    Returns tokens (n_trials, gamma + 1) padded with -1, the lengths, and the first malformed reply
    (not a 1-D sequence of ints, empty, too long, out of range) as a text, or None."""
    pv, qv = _read_only(_layout(p, layout)), _read_only(_layout(q, layout))
    drafts = np.asarray(drafts, dtype=np.int64)
    n_trials, gamma = drafts.shape
    V = int(describe(pv)["shape"][-1])
    rng = np.random.default_rng([int(s) for s in seed] if isinstance(seed, (list, tuple)) else int(seed))
    tokens = np.full((n_trials, gamma + 1), -1, dtype=np.int64)
    lens = np.zeros(n_trials, dtype=np.int64)
    bad = None
    for n in range(n_trials):
        ids = _token_ids(student.speculative_step(drafts[n].copy(), qv, pv, rng))
        if type(ids) is str:
            bad = f"trial {n}: speculative_step returned {ids}, expected a 1-D list/array of token ids"
            break
        if not 1 <= len(ids) <= gamma + 1:
            bad = f"trial {n}: speculative_step returned {len(ids)} tokens with gamma = {gamma} (expected 1 to gamma + 1)"
            break
        if min(ids) < 0 or max(ids) >= V:
            bad = f"trial {n}: token id {min(ids) if min(ids) < 0 else max(ids)} outside 0..{V - 1}"
            break
        tokens[n, :len(ids)] = ids
        lens[n] = len(ids)
    # p and q as they are after every call: the judge compares them with what it sent
    return {"tokens": tokens, "lens": lens, "bad": bad, "p_after": describe(pv), "q_after": describe(qv)}
