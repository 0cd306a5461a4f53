"""Mutants and alternatives: variants of one solution cell kept beside a hidden suite.

`autograder/NN/mutants/*.py` are known-wrong variants (each must lose the parts it `breaks:`),
`autograder/NN/alternatives/*.py` known-right ones (each must score full marks). A file is a
header, then its change to the solution cell of the source notebook:

    # mutant: softmax without the max shift          (alternatives: `# alternative: ...`)
    # replaces: attention_impl                       the solution cell, by grade_id
    # breaks: attention                              mutants only: the parts it must break
    # loses: 0.3 the scale is off by 2, a near miss  optional: the share it must lose (default 0.5)
    # replace:
        e = torch.exp(scores - scores.max(dim=-1, keepdim=True).values)
    # with:
        e = torch.exp(scores)

Each `# replace:` snippet is whole lines of the solution cell, as written there, and must match
exactly once; its `# with:` lines take their place (none: the lines are deleted). Blank lines
around a snippet are not part of it. A mutant is always edits, so that a change to the solution
shows in every mutant that no longer applies (refused, naming the file and the snippet) instead
of being silently undone by a stale copy. An alternative may instead hold the whole cell (no
`# replace:` line), since a different solution usually differs throughout.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from course import notebook as nb
from course.paths import CourseError

REPLACE, WITH = "# replace:", "# with:"
DEFAULT_LOSES = 0.5   # a mutant must lose at least half of each part it breaks, unless it says less
_KINDS = {"mutant": ("mutant", "replaces", "breaks", "loses"), "alternative": ("alternative", "replaces")}
_ALL_KEYS = {"mutant", "alternative", "replaces", "breaks", "loses"}
_REQUIRED = {"mutant": ("mutant", "replaces", "breaks"), "alternative": ("alternative", "replaces")}


@dataclass(frozen=True)
class Edit:
    replace: tuple[str, ...]   # lines of the solution cell
    with_: tuple[str, ...]     # the lines that take their place
    line: int                  # line of its `# replace:` in the file, for messages


@dataclass(frozen=True)
class Mutant:
    """A mutant or an alternative (kind); `edits`, or `cell` for a whole-cell alternative."""
    name: str
    path: Path
    kind: str
    description: str
    replaces: str
    breaks: tuple[str, ...] = ()
    loses: float = DEFAULT_LOSES
    loses_reason: str = ""
    edits: tuple[Edit, ...] = ()
    cell: str | None = None


def parse(path: Path, kind: str = "mutant") -> Mutant:
    allowed, required = _KINDS[kind], _REQUIRED[kind]
    lines = path.read_text(encoding="utf-8").splitlines()
    header: dict[str, str] = {}
    body_start = 0
    for number, line in enumerate(lines):
        key, colon, value = line[1:].strip().partition(":") if line.startswith("#") else ("", "", "")
        key = key.strip()
        if not colon or line.rstrip() in (REPLACE, WITH) or " " in key:
            break
        if key not in _ALL_KEYS:
            break   # a whole-cell alternative may start with a comment of its own
        if key not in allowed:
            known = ", ".join(f"# {k}:" for k in allowed)
            raise CourseError(f"{path}: line {number + 1}: unknown header '# {key}:' for a {kind} (known: {known})")
        if key in header:
            raise CourseError(f"{path}: line {number + 1}: '# {key}:' given twice")
        header[key] = value.strip()
        body_start = number + 1
    missing = [k for k in required if not header.get(k)]
    if missing:
        raise CourseError(f"{path}: header line(s) missing: {', '.join('# ' + k + ':' for k in missing)}")
    loses, reason = _loses(path, header.get("loses"))
    breaks = tuple(b.strip() for b in header.get("breaks", "").split(",") if b.strip())
    body = lines[body_start:]
    first = next((i for i, line in enumerate(body) if line.strip()), None)
    if first is None:
        raise CourseError(f"{path}: nothing after the header (expected '{REPLACE}' / '{WITH}' snippet pairs)")
    common = dict(name=path.stem, path=path, kind=kind, description=header[kind], replaces=header["replaces"],
                  breaks=breaks, loses=loses, loses_reason=reason)
    if body[first].rstrip() in (REPLACE, WITH):
        return Mutant(**common, edits=_edits(path, body, body_start))
    if kind == "mutant":
        raise CourseError(f"{path}: line {body_start + first + 1}: a mutant holds '{REPLACE}' / '{WITH}' snippet "
                          f"pairs after its header, not a whole cell (tools/mutant_edits.py converts one)")
    return Mutant(**common, cell="\n".join(body).strip("\n"))


def _loses(path: Path, text: str | None) -> tuple[float, str]:
    if text is None:
        return DEFAULT_LOSES, ""
    share, _, reason = text.partition(" ")
    try:
        value = float(share)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1 or not reason.strip():
        raise CourseError(f"{path}: '# loses: {text}': expected a share in (0, 1] and a one-line reason, "
                          f"e.g. '# loses: 0.3 off by a constant factor, a near miss'")
    return value, reason.strip()


def _edits(path: Path, body: list[str], offset: int) -> tuple[Edit, ...]:
    """The `# replace:` / `# with:` pairs of a body that starts (after blank lines) with `# replace:`."""
    pairs: list[tuple[int, list[str], list[str] | None]] = []
    for number, line in enumerate(body, start=offset + 1):
        marker = line.rstrip()
        if marker == REPLACE:
            if pairs and pairs[-1][2] is None:
                raise CourseError(f"{path}: line {number}: '{REPLACE}' before the '{WITH}' of the one at line {pairs[-1][0]}")
            pairs.append((number, [], None))
        elif marker == WITH:
            if not pairs or pairs[-1][2] is not None:
                raise CourseError(f"{path}: line {number}: '{WITH}' without a '{REPLACE}' before it")
            pairs[-1] = (pairs[-1][0], pairs[-1][1], [])
        elif pairs:
            (pairs[-1][1] if pairs[-1][2] is None else pairs[-1][2]).append(line)
    edits = []
    for number, replace, with_ in pairs:
        if with_ is None:
            raise CourseError(f"{path}: line {number}: '{REPLACE}' has no '{WITH}' after it")
        replace, with_ = _trim(replace), _trim(with_)
        if not replace:
            raise CourseError(f"{path}: line {number}: empty '{REPLACE}' snippet (name the lines to change; "
                              f"to insert, replace a line next to the insertion with itself plus the new lines)")
        edits.append(Edit(tuple(replace), tuple(with_), number))
    return tuple(edits)


def _trim(lines: list[str]) -> list[str]:
    """Blank lines around a snippet separate pairs; they are not part of it."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def load_all(suite: Path, kind: str = "mutant") -> list[Mutant]:
    folder = suite / ("mutants" if kind == "mutant" else "alternatives")
    return [parse(p, kind) for p in sorted(folder.glob("*.py"))] if folder.is_dir() else []


def cell_source(original: str, mutant: Mutant) -> str:
    """The solution cell's source with the mutant's edits made (or the alternative's whole cell).
    Refuses, naming the file and the snippet, an edit that does not match exactly once."""
    if mutant.cell is not None:
        return mutant.cell
    lines = original.split("\n")
    spans = []
    for index, edit in enumerate(mutant.edits, start=1):
        n = len(edit.replace)
        found = [i for i in range(len(lines) - n + 1) if tuple(lines[i:i + n]) == edit.replace]
        if len(found) != 1:
            why = ("matches no lines of" if not found else
                   f"matches {len(found)} places (cell lines {', '.join(str(i + 1) for i in found[:5])}) of")
            raise CourseError(f"{mutant.path}: snippet {index} ('{REPLACE}' at line {edit.line}, first line "
                              f"{edit.replace[0].strip()!r}) {why} solution cell '{mutant.replaces}': "
                              f"{'update the snippet to the solution as it is now' if not found else 'add a line of context'}")
        spans.append((found[0], found[0] + n, index, edit))
    spans.sort(key=lambda s: s[0])
    for (start, end, first, _), (next_start, _, second, _) in zip(spans, spans[1:]):
        if next_start < end:
            raise CourseError(f"{mutant.path}: snippets {first} and {second} overlap in solution cell "
                              f"'{mutant.replaces}': merge them into one")
    for start, end, _, edit in reversed(spans):
        lines[start:end] = list(edit.with_)
    return "\n".join(lines)


def apply(source_notebook, mutant: Mutant):
    """A copy of the source notebook with the mutant's change made to its solution cell."""
    mutated = copy.deepcopy(source_notebook)
    targets = [c for c in mutated.cells if nb.grade_id(c) == mutant.replaces and nb.is_solution(c)]
    if len(targets) != 1:
        raise CourseError(f"{mutant.path}: no solution cell with grade_id '{mutant.replaces}'")
    targets[0].source = cell_source(targets[0].source, mutant)
    return mutated
