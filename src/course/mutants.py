"""Mutants: known-wrong solution cells kept beside a hidden suite (autograder/NN/mutants/*.py)."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from course import notebook as nb
from course.paths import CourseError

_HEADER_KEYS = ("mutant", "replaces", "breaks")


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    replaces: str
    breaks: tuple[str, ...]
    source: str


def parse(path: Path) -> Mutant:
    header: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    body_start = 0
    for number, line in enumerate(lines):
        key, _, value = line.lstrip("# ").partition(":")
        if line.startswith("#") and key.strip() in _HEADER_KEYS and key.strip() not in header:
            header[key.strip()] = value.strip()
            body_start = number + 1
            continue
        break
    missing = [k for k in _HEADER_KEYS if not header.get(k)]
    if missing:
        raise CourseError(f"{path}: header line(s) missing: {', '.join('# ' + k + ':' for k in missing)}")
    breaks = tuple(b.strip() for b in header["breaks"].split(",") if b.strip())
    return Mutant(path.stem, header["mutant"], header["replaces"], breaks, "\n".join(lines[body_start:]).strip("\n"))


def load_all(suite: Path) -> list[Mutant]:
    folder = suite / "mutants"
    return [parse(p) for p in sorted(folder.glob("*.py"))] if folder.is_dir() else []


def apply(source_notebook, mutant: Mutant):
    """A copy of the source notebook with the mutant's cell in place of the solution cell."""
    mutated = copy.deepcopy(source_notebook)
    targets = [c for c in mutated.cells if nb.grade_id(c) == mutant.replaces and nb.is_solution(c)]
    if len(targets) != 1:
        raise CourseError(f"mutant {mutant.name}: no solution cell with grade_id '{mutant.replaces}'")
    targets[0].source = mutant.source
    return mutated
