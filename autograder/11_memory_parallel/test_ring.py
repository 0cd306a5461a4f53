"""Hidden suite of 11_memory_parallel, part ring_allreduce (3 points).

The probe runs the student's ring_all_reduce over a trusted ring (rank r may only send to r+1, every
send logged with its values as describe() read them). Tests check (a) every rank ends with the
elementwise sum, in the input dtype, with the caller's buffers untouched, (b) the traffic law of the
ring: over all ranks exactly 2 (N-1) K elements are sent, and every rank sends between
2 (N-1) floor(K/N) and 2 (N-1) ceil(K/N) elements (chunks of np.array_split sizes), which is
2 (N-1) K / N when N divides K, and (c), in every test, that the sums took the ring's route
(check_route): replayed from the messages' values alone, each message is the partial sum the
notebook's schedule sends and each rank's result is what it received.
N in {1, 2, 3, 5, 8}; vector lengths not divisible by N (also K < N, empty chunks); float32 and
float64; large positive and negative magnitudes; non-contiguous (strided) buffers.
"""
from __future__ import annotations

import numpy as np
import pytest

from course.judge.check import assert_close, expect, fail
from course.judge.described import expect_described, unchanged

pytestmark = pytest.mark.part("ring_allreduce")

ITEMSIZE = {"float64": 8, "float32": 4, "float16": 2, "int64": 8, "int32": 4, "int16": 2, "int8": 1,
            "uint8": 1, "bool": 1, "complex128": 16, "complex64": 8}


def tolerance(dtype, buffers):
    """Every correct ring adds the N values of an element in some order, each addition rounding once in
    the input dtype: the error is at most (N-1) * eps * sum|x_i|. Twice that (plus a tiny floor) is the
    tolerance; a wrong chunk index leaves out or repeats whole terms, an error of order |x_i| itself."""
    eps = np.finfo(dtype).eps
    n = len(buffers)
    scale = float(np.max(np.sum(np.abs(np.asarray(buffers, dtype=np.float64)), axis=0))) if n else 1.0
    return 2.0 * max(n - 1, 1) * eps * scale + 1e-300


def make_buffers(sub, seed, n, k, dtype, scale=1.0):
    rng = np.random.default_rng([sub.seed, seed])     # per submission: an answer table is for other inputs
    bufs = rng.standard_normal((n, k)) * scale
    return bufs.astype(dtype).astype(np.float64)   # the values the student sees, exactly


def bytes_sent(messages, n):
    """Bytes sent per rank, counted here from the probe's message log: (src, dst, dtype, shape, values)
    of every ring.send as describe() read the message (a dtype this table does not know counts 8 bytes)."""
    sent = [0] * n
    for src, _dst, dtype, shape, _values in messages:
        sent[int(src)] += ITEMSIZE.get(dtype, 8) * int(np.prod(shape, dtype=np.int64))
    return sent


# --------------------------------------------------------------------------- the ring, replayed
# Counting bytes says nothing about what travelled: a function that adds the buffers itself and sends
# zero-filled chunks of the right sizes obeys the traffic law. So the judge replays the notebook's
# schedule from the messages' VALUES alone. Rank r's k-th non-empty message is, in order,
# reduce-scatter step t = 0..N-2 (chunk (r - t) % N), then all-gather step t (chunk (r + 1 - t) % N):
#   reduce-scatter t = 0: rank r's own chunk;  t >= 1: its own chunk + what rank r-1 sent in step t-1
#   all-gather t = 0:     its own chunk + what rank r-1 sent in the last reduce-scatter step (the full sum)
#   all-gather t >= 1:    exactly what rank r-1 sent in all-gather step t-1 (a copy passed on)
# and rank r's result holds, chunk by chunk, exactly the full sum it sent (chunk r + 1) or the copy it
# received in the all-gather (every other chunk). All comparisons are exact: each hop is one addition of
# two numbers of the input dtype, which IEEE rounds the same way in any order (a + b == b + a), and also
# when done in float64 and rounded back (53 >= 2 * 24 + 2 bits: the double rounding is harmless).

def chunk_bounds(length, n):
    """The notebook's chunk_bounds (np.array_split sizes: the first length % n chunks one longer)."""
    base, extra = divmod(int(length), int(n))
    bounds, start = [], 0
    for i in range(int(n)):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def schedule(n, k):
    """Per rank, the (phase, step, (lo, hi)) of every chunk it sends, in the notebook's order."""
    bounds = chunk_bounds(k, n)
    return [[("reduce-scatter", t, bounds[(r - t) % n]) for t in range(n - 1)]
            + [("all-gather", t, bounds[(r + 1 - t) % n]) for t in range(n - 1)] for r in range(n)]


def _routed(messages, n, k, dtype, what):
    """{(rank, phase, step): values (input dtype)} of every non-empty message, matched to the schedule by
    the order in which each rank sent (empty chunks, K < N, may be sent or skipped)."""
    by_rank = [[] for _ in range(n)]
    for src, dst, mdtype, shape, values in messages:
        if int(np.prod(shape, dtype=np.int64)) > 0:
            by_rank[int(src)].append((mdtype, [int(s) for s in shape], values))
    routed = {}
    for r, plan in enumerate(schedule(n, k)):
        plan = [(phase, t, lo, hi) for phase, t, (lo, hi) in plan if hi > lo]
        expect(len(by_rank[r]) == len(plan),
               f"rank {r} sent {len(by_rank[r])} non-empty messages; in a ring all-reduce every rank sends one "
               f"chunk per step, 2(N-1) = {2 * (n - 1)} in all ({len(plan)} of them non-empty here) ({what})")
        for (phase, t, lo, hi), (mdtype, shape, values) in zip(plan, by_rank[r]):
            expect(mdtype == dtype and shape == [hi - lo] and type(values) is np.ndarray,
                   f"rank {r}'s {phase} message in step {t} is {mdtype} of shape {tuple(shape)}; the schedule sends "
                   f"chunk {(r - t) % n if phase == 'reduce-scatter' else (r + 1 - t) % n}, {dtype} of shape "
                   f"({hi - lo},) ({what})")
            routed[r, phase, t] = values
    return routed


def _wrong(got, want):
    """A short text on where got differs from want (elementwise, exactly), or None."""
    bad = np.asarray(got, dtype=np.float64) != np.asarray(want, dtype=np.float64)
    if not bad.any():
        return None
    return f"{int(bad.sum())} of {bad.size} value(s) off, first at position {int(np.argmax(bad))} of the chunk"


def describe_value(value):
    return f"shape {value.shape}" if isinstance(value, np.ndarray) else str(value)


def check_route(bufs, got, dtype, what):
    """The sums came through the ring: replay the messages (see above) and compare with the results."""
    n, k = bufs.shape
    if n == 1:
        return                      # nothing to replay; the bytes sent (none) are checked by the caller
    routed = _routed(got["messages"], n, k, dtype, what)
    own = bufs.astype(dtype)                             # each rank's starting values, exactly
    bounds = chunk_bounds(k, n)
    why = "a ring sends its own chunk plus the partial sum that arrived from rank {left}"
    for r in range(n):
        left = (r - 1) % n
        # (phase, step, chunk, the reduce-scatter step of rank r-1 whose partial sum r adds, or None)
        steps = [("reduce-scatter", t, (r - t) % n, t - 1 if t else None) for t in range(n - 1)]
        steps.append(("all-gather", 0, (r + 1) % n, n - 2))
        for phase, t, c, came_in in steps:
            lo, hi = bounds[c]
            if hi == lo:
                continue
            mine = own[r, lo:hi]
            prev = np.zeros_like(mine) if came_in is None else routed[left, "reduce-scatter", came_in]
            problem = _wrong(routed[r, phase, t], mine + prev)            # one addition in the input dtype
            expect(problem is None,
                   f"rank {r}'s {phase} message in step {t} (chunk {c}) is not what the ring carries: {problem}; "
                   + ("in step 0 a rank sends its own chunk" if came_in is None
                      else why.format(left=left)) + f"; the sums must travel through ring.send ({what})")
        for t in range(1, n - 1):
            c = (r + 1 - t) % n
            if bounds[c][1] == bounds[c][0]:
                continue
            problem = _wrong(routed[r, "all-gather", t], routed[left, "all-gather", t - 1])
            expect(problem is None,
                   f"rank {r}'s all-gather message in step {t} (chunk {c}) is not the chunk it received from rank "
                   f"{left} in step {t - 1}: {problem}; the all-gather passes the full sums on unchanged ({what})")
    # what each rank holds at the end: the full sum it sent, and the copies it received
    results = got["results"]
    expect(isinstance(results, list) and len(results) == n,
           f"ring_all_reduce must return a list with one NumPy array per rank ({what})")
    for r, arr in enumerate(results):
        expect(isinstance(arr, np.ndarray) and arr.shape == (k,),
               f"rank {r}'s result must be a NumPy array of shape ({k},), got {describe_value(arr)} ({what})")
        left = (r - 1) % n
        for c, (lo, hi) in enumerate(bounds):
            if hi == lo:
                continue
            if c == (r + 1) % n:
                source, came = routed[r, "all-gather", 0], "the full sum it sent in all-gather step 0"
            else:
                t = (r - c) % n
                source, came = routed[left, "all-gather", t], f"the chunk it received from rank {left} in all-gather step {t}"
            problem = _wrong(arr[lo:hi], source)
            expect(problem is None, f"rank {r}'s result, chunk {c}, is not {came}: {problem}; each rank's result must "
                                    f"be what arrived through ring.send ({what})")


def run(sub, n, k, dtype="float64", layout="contiguous", seed=0, scale=1.0):
    bufs = make_buffers(sub, seed, n, k, dtype, scale)
    got = sub.probe("ring", [b for b in bufs], dtype, layout)
    got["bytes_sent"] = bytes_sent(got["messages"], n)
    # the caller's buffers as the probe read them after the call, compared here with what was sent
    after = got["buffers_after"]
    got["untouched"] = len(after) == n and all(unchanged(a, b.astype(dtype)) for a, b in zip(after, bufs))
    return bufs, got


def describe(n, k, dtype, layout):
    words = {"contiguous": "", "strided": ", each buffer every other element of a larger array (non-contiguous)"}
    return f"N={n} ranks, {dtype} vectors of length K={k}{words[layout]}"


SUM_CASES = [
    (2, 7, "float64", "contiguous", 1.0),
    (3, 10, "float32", "contiguous", 1.0),
    (5, 13, "float64", "contiguous", 1e6),         # large positive and negative values
    (8, 29, "float64", "strided", 1.0),
    (8, 5, "float64", "contiguous", 1.0),          # K < N: some chunks are empty
    (5, 23, "float32", "strided", 1e3),
]


@pytest.mark.parametrize("n,k,dtype,layout,scale", SUM_CASES)
def test_allreduce_is_sum(sub, n, k, dtype, layout, scale):
    """ring all-reduce: 모든 rank가 원소별 합을 받고, 그 합은 ring.send로 오간 값"""
    bufs, got = run(sub, n, k, dtype, layout, seed=10 * n + k, scale=scale)
    what = describe(n, k, dtype, layout)
    res = got["results"]
    if isinstance(res, str):
        fail(f"ring_all_reduce must return a list of arrays (one per rank), got {res} ({what})")
    expect(len(res) == n, f"ring_all_reduce returned {len(res)} arrays for {n} ranks ({what})")
    want = bufs.sum(axis=0)
    tol = tolerance(dtype, bufs)
    for r, arr in enumerate(res):
        if isinstance(arr, str):
            fail(f"rank {r}: expected a NumPy array, got {arr} ({what})")
        # type, dtype and aliasing as describe() recorded them in the sandbox, decided here
        expect_described(got["infos"][r], what=f"rank {r}'s result ({what})", type="numpy.ndarray", dtype=dtype,
                         aliases=())
        assert_close(arr, want, atol=tol, rtol=0.0, what=f"rank {r}'s result (the elementwise sum)",
                     inputs={"case": what})
    expect(got["untouched"], f"ring_all_reduce modified the caller's input buffers; copy them first ({what})")
    # the sums must have travelled through the ring: a function that adds the buffers itself is no ring
    total = sum(got["bytes_sent"])
    expect(n == 1 or total == 2 * (n - 1) * k * ITEMSIZE[dtype],
           f"the ranks sent {total} bytes through the ring, not the 2(N-1)K elements of a ring all-reduce; "
           f"every partial sum must reach the other ranks with ring.send ({what})")
    check_route(bufs, got, dtype, what)


TRAFFIC_CASES = [
    (2, 9, "float64"),
    (3, 10, "float64"),
    (5, 13, "float64"),
    (8, 29, "float64"),
    (8, 5, "float64"),
    (3, 11, "float32"),         # 4 bytes per element: messages must keep the input dtype
]


@pytest.mark.parametrize("n,k,dtype", TRAFFIC_CASES)
def test_traffic_law(sub, n, k, dtype):
    """ring all-reduce의 통신량: 전체 2(N-1)K 원소, rank마다 청크 2(N-1)개"""
    bufs, got = run(sub, n, k, dtype, seed=100 + n + k)
    what = describe(n, k, dtype, "contiguous")
    sent = got["bytes_sent"]
    size = ITEMSIZE[dtype]
    total = sum(sent)
    expect(total > 0, f"no bytes were sent through the ring: ranks must exchange data with ring.send ({what})")
    expect(total == 2 * (n - 1) * k * size,
           f"all ranks together sent {total} bytes; the ring all-reduce sends 2(N-1)K elements in all, "
           f"i.e. {2 * (n - 1) * k * size} bytes ({what}; bytes per rank {sent})")
    lo, hi = 2 * (n - 1) * (k // n) * size, 2 * (n - 1) * (-(-k // n)) * size
    for r, b in enumerate(sent):
        expect(lo <= b <= hi, f"rank {r} sent {b} bytes, outside [{lo}, {hi}] = 2(N-1) x (one chunk of "
                              f"floor/ceil(K/N) elements) ({what}; bytes per rank {sent})")
    check_route(bufs, got, dtype, what)     # the right sizes are not enough: the messages carry the sums


def test_one_rank_sends_nothing_two_ranks_send_once(sub):
    """rank 1개는 보내지 않고, rank 2개는 각각 K 원소를 보냄"""
    # N = 1 sends nothing and returns its own values (copied); one check with N = 2, so that a
    # function that is no ring (it adds the buffers itself) gains nothing from the N = 1 edge
    for n, k in ((1, 7), (2, 5)):
        bufs, got = run(sub, n, k, "float64", seed=3 + n)
        what = describe(n, k, "float64", "contiguous")
        res = got["results"]
        expect(isinstance(res, list) and len(res) == n and not any(isinstance(r, str) for r in res),
               f"ring_all_reduce must return a list with one NumPy array per rank ({what})")
        for r, arr in enumerate(res):
            assert_close(arr, bufs.sum(axis=0), atol=tolerance("float64", bufs), rtol=0.0,
                         what=f"rank {r}'s result", inputs={"case": what})
            expect_described(got["infos"][r], what=f"rank {r}'s result ({what})", type="numpy.ndarray", aliases=())
        want = [8 * k * (n - 1)] * n      # 2(N-1) chunks of K/N elements per rank: K for N = 2, 0 for N = 1
        expect(got["bytes_sent"] == want, f"bytes sent per rank {got['bytes_sent']}, expected {want} ({what})")
        check_route(bufs, got, "float64", what)
