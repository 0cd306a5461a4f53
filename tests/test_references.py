"""course.judge.references: references memoized by exact value, primed once in the judge server."""
from __future__ import annotations

import json

import numpy as np
import pytest

from course.judge import references


def test_cached_returns_a_reference_only_for_arguments_equal_in_every_bit_and_type():
    calls = []

    @references.cached
    def double(x, scale=2.0):
        calls.append(1)
        return x * scale

    a = np.arange(6.0).reshape(2, 3)
    first = double(a)
    assert double(a.copy()) is first and len(calls) == 1            # equal values: the cached one
    double(a.reshape(3, 2))                                          # another shape
    double(a.astype(np.float32))                                     # another dtype
    double(a, scale=2)                                               # int 2, not float 2.0
    double(np.array(-0.0)), double(np.array(0.0))                    # -0.0 and 0.0 differ in bits
    double(1.0, scale=-0.0), double(1.0, scale=0.0)
    double(True), double(1)                                          # bool and int
    assert len(calls) == 10
    with pytest.raises(TypeError, match="plain data"):
        double(object())


def test_prime_runs_each_parametrization_up_to_its_first_probe_and_leaves_other_tests_alone():
    computed, probed, ran_other = [], [], []

    @references.cached
    def reference(op, shape):
        computed.append((op, shape))
        return np.zeros(shape)

    @pytest.mark.parametrize("op", ["add", "mul"])
    @pytest.mark.parametrize("shape", [(3,), pytest.param((2, 2), id="square")])
    def test_graph(sub, op, shape):
        reference(op, shape)
        try:
            sub.probe("run", op)
        except Exception:  # a test's own except clause must not swallow the stop
            probed.append("swallowed")
        probed.append("after the probe")

    @pytest.mark.parametrize("a,b", [(1, 2)])
    def test_other_fixture(sub, tmp_path, a, b):
        ran_other.append(1)

    namespace = {"test_graph": test_graph, "test_other_fixture": test_other_fixture, "reference": reference}
    assert references.prime(namespace) == 4
    assert sorted(computed) == sorted([(op, s) for op in ("add", "mul") for s in ((3,), (2, 2))])
    assert probed == [] and ran_other == []
    # The real run finds every reference computed.
    before = len(computed)
    reference("mul", (2, 2))
    assert len(computed) == before


def test_the_judge_server_primes_references_once_and_each_forked_judge_reuses_them(tmp_path):
    from test_units import _serve_collected

    suite = tmp_path / "suite"
    suite.mkdir()
    counter = tmp_path / "computed.txt"
    (suite / "test_ref.py").write_text(
        "import numpy as np, pytest\nfrom course.judge import references\n"
        "@references.cached\n"
        "def expected(n):\n"
        f"    with open({str(counter)!r}, 'a') as log:\n"
        "        log.write(f'{n}\\n')\n"
        "    return np.full(3, float(n))\n"
        "@pytest.mark.part('one')\n@pytest.mark.parametrize('n', [1, 2, 3])\n"
        "def test_value(sub, n):\n"
        "    want = expected(n)\n"
        "    assert sub == 'the submission' and want[0] == n\n"
        "references.prime(globals())\n")
    run = _serve_collected(tmp_path, suite, children=2)
    assert run.returncode == 0, run.stderr[-2000:]
    *children, last = run.stdout.splitlines()
    assert last == "served"
    want = {f"test_value[{n}]": ["one", True, ""] for n in (1, 2, 3)}
    assert [json.loads(line) for line in children] == [want, want]
    assert counter.read_text().split() == ["1", "2", "3"]  # in the server, at import; never in a judge
