"""`make mutation`: mutation testing of the platform's core with mutmut, scored per module.

mutmut copies the project to mutants/, mutates the modules listed under [tool.mutmut] in
pyproject.toml one change at a time, and runs the fast tests that cover each change. A mutant
the tests still pass is a survivor: a bug the test suite would not notice. This prints the
killed share per module and overall, then every survivor (`mutmut show NAME` shows its diff).
A mutant that made a test hang until mutmut's timeout (an endless loop) counts as killed: the
tests noticed it, as mutmut's own score does. `--report` prints the last run's figures again
without running anything.
"""
from __future__ import annotations

import collections
import json
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = [sys.executable, "-m", "mutmut"]
TARGET = 0.80  # the share of mutants the fast tests must kill
DETECTED = ("killed", "timeout")


def _results() -> dict[str, str]:
    listing = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    found = {}
    for line in listing.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name and "__mutmut_" in name:
            found[name] = status
    return found


def _module(mutant: str) -> str:
    # course.judge.plugin.x_outcome__mutmut_3 -> course.judge.plugin
    return mutant.split(".x", 1)[0].split(".xǁ", 1)[0] if ".x" in mutant else mutant.rsplit(".", 1)[0]


def leftover_test_users() -> list[str]:
    """System users the roster tests made (homes under pytest's temporary folders) that a mutant
    of the roster's removal code kept from being deleted: a run once left 28 behind."""
    scratch = str(Path(tempfile.gettempdir()) / "pytest-of-")
    return sorted(entry.pw_name for entry in pwd.getpwall() if entry.pw_dir.startswith(scratch))


def remove_leftover_test_users() -> None:
    for name in leftover_test_users():
        subprocess.run(["userdel", name], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)
        print(f"removed test user {name}, left behind by a mutant", file=sys.stderr)


def main() -> int:
    if "--report" not in sys.argv[1:]:
        try:
            run = subprocess.run([*MUTMUT, "run"], cwd=ROOT)
        finally:
            remove_leftover_test_users()
        if run.returncode not in (0, 1):
            print(f"mutmut run failed with status {run.returncode}", file=sys.stderr)
            return run.returncode
    results = _results()
    if not results:
        print("mutmut produced no mutants (see [tool.mutmut] in pyproject.toml)", file=sys.stderr)
        return 2
    per_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name, status in results.items():
        per_module[_module(name)][status] += 1
    width = max(len(m) for m in per_module)
    print(f"\n{'module':<{width}}  {'mutants':>7}  {'killed':>6}  {'score':>6}  other")
    total = collections.Counter()
    for module in sorted(per_module):
        counts = per_module[module]
        total.update(counts)
        n = sum(counts.values())
        killed = sum(counts[k] for k in DETECTED)
        other = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "killed")
        print(f"{module:<{width}}  {n:>7}  {killed:>6}  {killed / n:>6.0%}  {other}")
    n = sum(total.values())
    killed = sum(total[k] for k in DETECTED)
    score = killed / n
    print(f"{'all':<{width}}  {n:>7}  {killed:>6}  {score:>6.0%}  (target {TARGET:.0%})")
    survivors = sorted(name for name, status in results.items() if status not in DETECTED)
    print(f"\n{len(survivors)} not killed (mutmut show NAME for the change):")
    for name in survivors:
        print(f"  {name}: {results[name]}")
    (ROOT / "mutants" / "score.json").write_text(json.dumps(
        {"score": score, "total": n, "per_module": {m: dict(c) for m, c in per_module.items()}}, indent=2))
    return 0 if score >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
