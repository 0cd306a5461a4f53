"""Convert whole-cell mutants (or alternatives) into `# replace:` / `# with:` edits.

    .venv/bin/python tools/mutant_edits.py autograder/07_attention/mutants/*.py

Each file that still holds a whole solution cell after its header is diffed against that cell
of the source notebook and rewritten as the few snippets it changes (each widened with context
until it matches exactly once and starts and ends on a non-blank line). A file is only written
when applying the new edits gives back, byte for byte, the cell the old file held. Files that
are already edits are left alone.

Differences that are not code are dropped unless --exact is given: the whole-cell copies had
drifted from their solution cell in comments, docstrings, blank lines and the
`### BEGIN/END SOLUTION` markers. Without --exact a file is written only when its edits give
back the same Python code as the old copy (the same `ast.dump`, docstrings left out); with
--exact, only when they give back the same text, byte for byte.
"""
from __future__ import annotations

import ast
import difflib
import sys
from pathlib import Path

from course import mutants, notebook as nb
from course.paths import Course, CourseError


def split_old(path: Path) -> tuple[list[str], str]:
    """(header lines, whole-cell body) of an old-format file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    keys = ("mutant", "alternative", "replaces", "breaks", "loses")
    end = 0
    while end < len(lines) and lines[end].startswith("#") and lines[end][1:].strip().partition(":")[0].strip() in keys:
        end += 1
    return lines[:end], "\n".join(lines[end:]).strip("\n")


def _count(lines: list[str], snippet: list[str]) -> int:
    n = len(snippet)
    return sum(lines[i:i + n] == snippet for i in range(len(lines) - n + 1))


def code_of(source: str) -> str | None:
    """The cell as Python code: no comments, blank lines or docstrings (None: not Python)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def essential(old: list[str], new: list[str]) -> list[str]:
    """new without the differences from old that are not code (comments, docstrings, blank
    lines, the solution markers): the whole copies drifted from their solution cell in those."""
    raw = [op for op in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes() if op[0] != "equal"]
    want = code_of("\n".join(new))
    if want is None:
        return new
    kept = [list(op[1:]) for op in raw]

    def build(ops):
        out, at = [], 0
        for i1, i2, j1, j2 in ops:
            out += old[at:i1] + new[j1:j2]
            at = i2
        return out + old[at:]

    def same(ops):
        return code_of("\n".join(build(ops))) == want

    for op in list(kept):   # whole differences that are not code
        trial = [o for o in kept if o is not op]
        if same(trial):
            kept = trial
    shrunk = True
    while shrunk:           # then lines at the edges of a difference: keep the solution's line
        shrunk = False
        for k, (i1, i2, j1, j2) in enumerate(kept):
            for smaller in ([i1 + 1, i2, j1, j2], [i1, i2 - 1, j1, j2], [i1, i2, j1 + 1, j2], [i1, i2, j1, j2 - 1]):
                dropped = new[j1] if smaller[2] > j1 else new[j2 - 1] if smaller[3] < j2 else ""
                if dropped.lstrip().startswith("#") and not dropped.lstrip().startswith("###"):
                    continue   # the mutant's own comments (# BUG: ...) say what it does: keep them
                if smaller[0] <= smaller[1] and smaller[2] <= smaller[3] and same(kept[:k] + [smaller] + kept[k + 1:]):
                    kept[k] = smaller
                    shrunk = True
                    break
            if shrunk:
                break
    return build([op for op in kept if op[0] < op[1] or op[2] < op[3]])


def hunks(old: list[str], new: list[str]) -> list[list[int]]:
    """[i1, i2, j1, j2] regions: old[i1:i2] becomes new[j1:j2], each unique and trimmed-safe."""
    found = [[i1, i2, j1, j2] for tag, i1, i2, j1, j2 in
             difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes() if tag != "equal"]

    def good(h):
        i1, i2, j1, j2 = h
        if i2 <= i1 or not old[i1].strip() or not old[i2 - 1].strip():
            return False
        if j2 > j1 and (not new[j1].strip() or not new[j2 - 1].strip()):
            return False
        return _count(old, old[i1:i2]) == 1

    def widen(h):
        i1, i2, j1, j2 = h
        blank_top = (i2 > i1 and not old[i1].strip()) or (j2 > j1 and not new[j1].strip())
        up = i1 > 0 and (blank_top or i2 >= len(old) or (i2 - i1) % 2 == 0)
        if up:
            h[0], h[2] = i1 - 1, j1 - 1
        elif i2 < len(old):
            h[1], h[3] = i2 + 1, j2 + 1
        else:
            raise RuntimeError("cannot widen a snippet past the whole cell")

    while True:
        bad = next((h for h in found if not good(h)), None)
        if bad is None:
            break
        widen(bad)
        found.sort()
        merged = found[:1]
        for h in found[1:]:
            if h[0] <= merged[-1][1]:   # touching or overlapping: one snippet
                merged[-1][1], merged[-1][3] = max(merged[-1][1], h[1]), max(merged[-1][3], h[3])
            else:
                merged.append(h)
        found = merged
    return found


def convert(path: Path, kind: str, exact: bool = False) -> str | None:
    header, body = split_old(path)
    rest = path.read_text(encoding="utf-8").splitlines()[len(header):]
    if next((line for line in rest if line.strip()), "").rstrip() == mutants.REPLACE:
        return None  # already edits
    assignment = path.parent.parent.name
    course = Course(path.parents[3])  # root/autograder/NN_slug/mutants/name.py
    replaces = next(line.split(":", 1)[1].strip() for line in header if line[1:].strip().startswith("replaces:"))
    source = nb.load(course.source_notebook(assignment))
    cells = [c for c in source.cells if nb.grade_id(c) == replaces and nb.is_solution(c)]
    if len(cells) != 1:
        raise CourseError(f"{path}: no solution cell '{replaces}'")
    old = cells[0].source.split("\n")
    new = body.split("\n") if exact else essential(old, body.split("\n"))
    out = list(header)
    for k, (i1, i2, j1, j2) in enumerate(hunks(old, new)):
        if k:
            out.append("")
        out += [mutants.REPLACE, *old[i1:i2], mutants.WITH, *new[j1:j2]]
    text = "\n".join(out) + "\n"
    tmp = path.with_suffix(".converted")
    tmp.write_text(text, encoding="utf-8")
    try:
        mutant = mutants.parse(tmp, kind)
        got = mutants.cell_source(cells[0].source, mutant)
    finally:
        tmp.unlink()
    if got != "\n".join(new) or (code_of(got) != code_of(body)) or (exact and got != body):
        raise CourseError(f"{path}: the edits do not give back the same cell")
    return text


def main(paths: list[str]) -> int:
    exact = "--exact" in paths
    for name in [p for p in paths if p != "--exact"]:
        path = Path(name).resolve()
        kind = "alternative" if path.parent.name == "alternatives" else "mutant"
        text = convert(path, kind, exact)
        if text is not None:
            path.write_text(text, encoding="utf-8")
            print(f"{name}: {text.count(mutants.REPLACE)} snippet(s), {len(text.splitlines())} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
