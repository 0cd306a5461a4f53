"""Hidden suite of 11_memory_parallel, part ring_allreduce (3 points).

The probe runs the student's ring_all_reduce over a trusted ring (rank r may only send to r+1, every
send counted in bytes). Tests check (a) every rank ends with the elementwise sum, in the input dtype,
with the caller's buffers untouched, and (b) the traffic law of the ring: over all ranks exactly
2 (N-1) K elements are sent, and every rank sends between 2 (N-1) floor(K/N) and 2 (N-1) ceil(K/N)
elements (chunks of np.array_split sizes), which is 2 (N-1) K / N when N divides K.
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
    """Bytes sent per rank, counted here from the probe's message log: (src, dtype, shape) of every
    ring.send as describe() read the message (a dtype this table does not know counts 8 bytes)."""
    sent = [0] * n
    for src, dtype, shape in messages:
        sent[int(src)] += ITEMSIZE.get(dtype, 8) * int(np.prod(shape, dtype=np.int64))
    return sent


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
    _, got = run(sub, n, k, dtype, seed=100 + n + k)
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
