"""Hidden suite of 13_inference, part block_table (5 points): the paged KV cache.

Each test is a script of operations (allocate / append / fork / free) run on the student's
PagedKVCache in the sandbox; the probe reports the whole state after every operation. This file runs
the same script on a reference model (vLLM semantics: fork shares blocks and raises ref counts, a
write copies the last block only when it is shared, free returns a block to the pool only when its
ref count reaches 0) and compares, operation by operation:

  1. whether the operation raised (MemoryError when the pool runs dry) and left the state unchanged;
  2. live sequences, their lengths and table lengths ceil(n / block_size);
  3. the sharing pattern: two logical blocks are the same physical block in the student's tables
     exactly when they are in the reference (physical ids themselves are free to differ);
  4. stability: a logical block keeps its physical block across the operation exactly when the
     reference's does (an in-place write keeps it, copy-on-write replaces it);
  5. ref counts of every block, 0 for blocks in no table; the pool: no duplicates, none in use, and
     as many blocks as the reference's pool;
  6. K and V of every sequence read through its block table, exactly (values are only copied).

Block sizes 3, 4 and 5, pools of 4 to 13 blocks, prompt lengths that are and are not multiples of the
block size, fork chains, beam-search-like branching, and K/V inputs in non-contiguous layouts.
"""
from __future__ import annotations

import numpy as np
import pytest

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail

pytestmark = pytest.mark.part("block_table")


# --------------------------------------------------------------------------- reference model
class RefCache:
    """Reference paged KV cache (float64). Its block ids are its own; only the structure is compared."""

    def __init__(self, num_blocks, block_size, head_dim):
        self.size = block_size
        self.refs = np.zeros(num_blocks, dtype=np.int64)
        self.free = list(range(num_blocks - 1, -1, -1))
        self.k = np.zeros((num_blocks, block_size, head_dim))
        self.v = np.zeros((num_blocks, block_size, head_dim))
        self.tables, self.lens = {}, {}

    def _new(self):
        if not self.free:
            raise MemoryError
        b = self.free.pop()
        self.refs[b] = 1
        return b

    def _release(self, b):
        self.refs[b] -= 1
        if self.refs[b] == 0:
            self.free.append(b)

    def allocate(self, s, k, v):
        n = len(k)
        need = -(-n // self.size)
        if need > len(self.free):
            raise MemoryError
        table = [self._new() for _ in range(need)]
        for i, b in enumerate(table):
            chunk = slice(i * self.size, min(n, (i + 1) * self.size))
            self.k[b, : chunk.stop - chunk.start] = k[chunk]
            self.v[b, : chunk.stop - chunk.start] = v[chunk]
        self.tables[s], self.lens[s] = table, n

    def append(self, s, k, v):
        table, t = self.tables[s], self.lens[s]
        off = t % self.size
        if off == 0:
            table.append(self._new())
        elif self.refs[table[-1]] > 1:
            old, new = table[-1], self._new()
            self.k[new], self.v[new] = self.k[old], self.v[old]
            self._release(old)
            table[-1] = new
        self.k[table[-1], off], self.v[table[-1], off] = k, v
        self.lens[s] = t + 1

    def fork(self, parent, child):
        self.tables[child] = list(self.tables[parent])
        for b in self.tables[child]:
            self.refs[b] += 1
        self.lens[child] = self.lens[parent]

    def free_seq(self, s):
        for b in self.tables.pop(s):
            self._release(b)
        del self.lens[s]

    def snapshot(self, raised):
        snap = {"raised": raised, "tables": {str(s): list(t) for s, t in self.tables.items()},
                "lens": {str(s): n for s, n in self.lens.items()}, "refs": self.refs.copy(),
                "num_free": len(self.free), "k": {}, "v": {}}
        for s, t in self.tables.items():
            n = self.lens[s]
            snap["k"][str(s)] = self.k[t].reshape(-1, self.k.shape[-1])[:n].copy()
            snap["v"][str(s)] = self.v[t].reshape(-1, self.v.shape[-1])[:n].copy()
        return snap


def run_reference(num_blocks, block_size, head_dim, ops):
    ref = RefCache(num_blocks, block_size, head_dim)
    snaps = []
    for op in ops:
        may_raise = isinstance(op[-1], str) and op[-1] == "may_raise"
        raised = None
        try:
            if op[0] == "allocate":
                ref.allocate(op[1], np.asarray(op[2]), np.asarray(op[3]))
            elif op[0] == "append":
                ref.append(op[1], np.asarray(op[2]), np.asarray(op[3]))
            elif op[0] == "fork":
                ref.fork(op[1], op[2])
            else:
                ref.free_seq(op[1])
        except MemoryError:
            assert may_raise, f"scenario bug: {op[0]} ran out of blocks in the reference"
            raised = "MemoryError"
        snaps.append(ref.snapshot(raised))
    return snaps


# --------------------------------------------------------------------------- scenario builder
class Script:
    """A list of operations with seeded K/V data, and a readable description of each."""

    def __init__(self, seed, head_dim):
        self.rng = np.random.default_rng(seed)
        self.d = head_dim
        self.ops, self.names = [], []

    def allocate(self, s, n, may_raise=False):
        k, v = self.rng.standard_normal((n, self.d)) * 10, self.rng.standard_normal((n, self.d))
        self.ops.append(["allocate", s, k, v] + (["may_raise"] if may_raise else []))
        self.names.append(f"allocate(seq {s}, {n} tokens)")
        return self

    def append(self, s, times=1, may_raise=False):
        for _ in range(times):
            k, v = self.rng.standard_normal(self.d) * 10, self.rng.standard_normal(self.d)
            self.ops.append(["append", s, k, v] + (["may_raise"] if may_raise else []))
            self.names.append(f"append(seq {s})")
        return self

    def fork(self, parent, child):
        self.ops.append(["fork", parent, child])
        self.names.append(f"fork(seq {parent} -> seq {child})")
        return self

    def free(self, s):
        self.ops.append(["free", s])
        self.names.append(f"free(seq {s})")
        return self


def scenario_prefill_decode(seed):
    # no fork at all: ceil(n / B) blocks, appends across block boundaries, reuse of freed blocks
    sc = Script([seed, 1], head_dim=5)
    sc.allocate(0, 7).append(0, 3).allocate(1, 6).append(1).free(0).allocate(2, 4).append(2, 2).free(1).free(2)
    return dict(num_blocks=9, block_size=3, head_dim=5, layout="strided", script=sc)


def scenario_fork_partial_block(seed):
    # the shared last block is half full: the first writer copies it, the other then writes in place
    sc = Script([seed, 2], head_dim=3)
    sc.allocate(0, 6).fork(0, 1).append(0).append(1, 3).append(0, 2).free(0).append(1).free(1)
    return dict(num_blocks=11, block_size=4, head_dim=3, layout="contiguous", script=sc)


def scenario_fork_full_block(seed):
    # the shared last block is full: appends take new blocks, nothing is copied, the prefix stays shared
    sc = Script([seed, 3], head_dim=4)
    sc.allocate(0, 10).fork(0, 1).append(0).append(1).append(0, 4).free(1).append(0).free(0)
    return dict(num_blocks=9, block_size=5, head_dim=4, layout="transposed", script=sc)


def scenario_fork_chain(seed):
    # ref count 3, frees in the middle of the chain, copy-on-write of a block shared by three
    sc = Script([seed, 4], head_dim=3)
    sc.allocate(0, 5).fork(0, 1).fork(1, 2).append(1).free(0).append(2).append(2).free(2).append(1).free(1)
    return dict(num_blocks=7, block_size=3, head_dim=3, layout="contiguous", script=sc)


def scenario_beam_search(seed):
    # one prompt, four beams; beams die and branch like in beam search
    sc = Script([seed, 5], head_dim=2)
    sc.allocate(0, 8)
    for child in (1, 2, 3):
        sc.fork(0, child)
    sc.append(1).append(2).append(3).append(0).free(0).fork(2, 4).free(3).append(4, 2).append(2, 2)
    sc.fork(4, 5).free(2).free(1).append(5).free(4).free(5)
    return dict(num_blocks=13, block_size=3, head_dim=2, layout="strided", script=sc)


def scenario_out_of_blocks(seed):
    # a pool of 5 blocks of 2 slots: an allocation that does not fit (nothing may change), a copy-on-write
    # with an empty pool, appends that need a block when none is free, then room again after a free
    sc = Script([seed, 6], head_dim=3)
    sc.allocate(0, 5).allocate(1, 6, may_raise=True).fork(0, 1).allocate(2, 3).append(0, may_raise=True)
    sc.free(2).append(0).append(1, 2).append(0, may_raise=True).allocate(3, 1, may_raise=True).free(0)
    sc.allocate(3, 1).free(1).free(3)
    return dict(num_blocks=5, block_size=2, head_dim=3, layout="contiguous", script=sc)


SCENARIOS = {
    "prefill_decode": scenario_prefill_decode,
    "fork_partial_last_block": scenario_fork_partial_block,
    "fork_full_last_block": scenario_fork_full_block,
    "fork_chain_and_free": scenario_fork_chain,
    "beam_search": scenario_beam_search,
    "out_of_blocks": scenario_out_of_blocks,
}


# --------------------------------------------------------------------------- comparison
def _blocks(snap):
    """{(seq, logical index): physical id} of a snapshot."""
    return {(s, i): b for s, t in snap["tables"].items() for i, b in enumerate(t)}


def compare(step, got, want, got_prev, want_prev, num_blocks, block_size):
    """Fail with a readable message at the first difference between the student's and the reference state."""
    where = f"after op {step}"
    expect(not got["problems"], f"{where}: {'; '.join(got['problems'])}")

    if want["raised"]:
        expect(got["raised"] is not None,
               f"{where}: the pool does not have enough free blocks, so this must raise MemoryError (it returned normally)")
        expect(got["raised"] == "MemoryError", f"{where}: raised {got['raised']}, expected MemoryError")
    else:
        expect(got["raised"] is None, f"{where}: raised {got['raised']}, but enough blocks were free")

    live_got, live_want = set(got["tables"]), set(want["tables"])
    expect(live_got == live_want, f"{where}: live sequences (block_tables keys) {sorted(live_got)}, expected {sorted(live_want)}")
    for s in sorted(live_want):
        expect(got["lens"].get(s) == want["lens"][s],
               f"{where}: seq_lens[{s}] = {got['lens'].get(s)}, expected {want['lens'][s]}")
        n = want["lens"][s]
        expect(len(got["tables"][s]) == len(want["tables"][s]),
               f"{where}: sequence {s} has {n} tokens in {len(got['tables'][s])} blocks; it needs "
               f"ceil({n} / {block_size}) = {len(want['tables'][s])}")

    # 3. sharing pattern: a bijection between the reference's ids and the student's
    gb, wb = _blocks(got), _blocks(want)
    first_of_ref, first_of_got = {}, {}
    for key in sorted(wb, key=lambda k: (int(k[0]), k[1])):
        r, g = wb[key], gb[key]
        if r in first_of_ref and gb[first_of_ref[r]] != g:
            other = first_of_ref[r]
            fail(f"{where}: sequence {key[0]}'s logical block {key[1]} (physical {g}) and sequence {other[0]}'s "
                 f"logical block {other[1]} (physical {gb[other]}) must be the SAME physical block: fork shares "
                 f"blocks, and a block is copied only when a shared block is written")
        if g in first_of_got and wb[first_of_got[g]] != r:
            other = first_of_got[g]
            fail(f"{where}: sequence {key[0]}'s logical block {key[1]} and sequence {other[0]}'s logical block "
                 f"{other[1]} are both physical block {g}, but they must be different blocks (their contents "
                 f"differ: the write needed copy-on-write, or the block tables are one shared list object)")
        first_of_ref.setdefault(r, key)
        first_of_got.setdefault(g, key)

    # 4. stability across the operation: in-place write vs copy
    if want_prev is not None and got_prev is not None:
        gpb, wpb = _blocks(got_prev), _blocks(want_prev)
        for key in sorted(set(wb) & set(wpb), key=lambda k: (int(k[0]), k[1])):
            if key not in gpb:
                continue
            want_same, got_same = wpb[key] == wb[key], gpb[key] == gb[key]
            if want_same and not got_same:
                fail(f"{where}: sequence {key[0]}'s logical block {key[1]} moved from physical block {gpb[key]} "
                     f"to {gb[key]}; it must stay where it is (a block nobody else holds is written in place, "
                     f"a block that is not written is never copied)")
            if got_same and not want_same:
                fail(f"{where}: sequence {key[0]}'s logical block {key[1]} was written while another sequence "
                     f"still held it (ref count > 1), but it is still physical block {gb[key]}: copy-on-write "
                     f"must copy it into a new block first")

    # 5. reference counts and the pool
    refs = got["refs"]
    expect(len(refs) == num_blocks, f"{where}: ref_counts has {len(refs)} entries for {num_blocks} blocks")
    used = {}
    for key, g in gb.items():
        used.setdefault(g, key)
    for g, key in sorted(used.items()):
        want_ref = int(want["refs"][wb[key]])
        expect(int(refs[g]) == want_ref,
               f"{where}: physical block {g} (sequence {key[0]}'s logical block {key[1]}) has ref count "
               f"{int(refs[g])}, but {want_ref} block table(s) hold it")
    for g in range(num_blocks):
        if g not in used:
            expect(int(refs[g]) == 0, f"{where}: physical block {g} is in no block table but has ref count {int(refs[g])}")
    free = got["free"]
    expect(len(set(free)) == len(free), f"{where}: the pool holds a block twice: {sorted(free)}")
    in_use = sorted(set(free) & set(used))
    expect(not in_use, f"{where}: block(s) {in_use} are in the pool while a sequence still uses them: free must "
                       f"return a block only when its ref count reaches 0")
    expect(len(free) == want["num_free"],
           f"{where}: {len(free)} free blocks in the pool, expected {want['num_free']} of {num_blocks} "
           f"(a block returns to the pool exactly when its ref count reaches 0)")
    expect(got["num_free"] == len(free), f"{where}: num_free_blocks() = {got['num_free']} but the pool holds {len(free)}")

    # 6. the data, read through the block tables
    for s in sorted(live_want):
        for name in ("k", "v"):
            if s not in got[name]:
                fail(f"{where}: sequence {s}'s {name.upper()} could not be read through its block table")
            # Values are only copied (never computed), so they must match exactly.
            assert_close(got[name][s], want[name][s], atol=0.0, rtol=0.0,
                         what=f"{where}: sequence {s}'s {name.upper()} read through its block table")


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_paged_cache_script(sub, name):
    """PagedKVCache: 연산마다 시퀀스 길이, 블록 공유, CoW, 참조 카운트, 풀, 블록 테이블로 읽은 K/V가 맞다"""
    cfg = SCENARIOS[name](sub.seed)
    sc = cfg["script"]
    nb, bs, d = cfg["num_blocks"], cfg["block_size"], cfg["head_dim"]
    want = run_reference(nb, bs, d, sc.ops)
    story = lambda upto: "; ".join(f"{i + 1}. {n}" for i, n in enumerate(sc.names[:upto]))
    try:
        got = sub.probe("paged_run", nb, bs, d, sc.ops, cfg["layout"])
    except StudentError as exc:
        fail(f"PagedKVCache(num_blocks={nb}, block_size={bs}, head_dim={d}), ops {story(len(sc.ops))}: {exc}")
    expect(len(got) == len(want), f"the probe got {len(got)} states for {len(want)} operations")
    for i in range(len(want)):
        try:
            compare(f"{i + 1} ({sc.names[i]})", got[i], want[i], got[i - 1] if i else None,
                    want[i - 1] if i else None, nb, bs)
        except AssertionError as exc:
            fail(f"PagedKVCache(num_blocks={nb}, block_size={bs}, head_dim={d}) {exc}. Operations so far: {story(i + 1)}")
