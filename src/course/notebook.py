"""Reading notebooks and telling their nbgrader cells apart.

Everything that decides a score (which parts exist, their points, what given code says) is read
from the trusted release/source notebook; the submission only supplies the student's cells.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"


class NotebookError(ValueError):
    """A file that is not a usable notebook; the message names the file and the problem."""


def load(path: Path) -> nbformat.NotebookNode:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NotebookError(f"{path}: cannot read ({exc.strerror})") from None
    return parse(raw, path)


def parse(raw: bytes, path: Path) -> nbformat.NotebookNode:
    """A notebook from bytes already read (`path` only names it in messages)."""
    if len(raw) > 32 * 2**20:
        raise NotebookError(f"{path}: {len(raw)} bytes is too large for a notebook (limit 32 MiB)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotebookError(f"{path}: not a notebook (not valid JSON: {str(exc)[:120]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError(f"{path}: not a notebook (no list of cells)")
    try:
        notebook = nbformat.from_dict(data)
        if notebook.get("nbformat", 0) < 4:
            raise NotebookError(f"{path}: nbformat {notebook.get('nbformat')} is too old (need 4)")
        for cell in notebook.cells:
            if not isinstance(cell.get("source", ""), str):
                cell["source"] = "".join(cell["source"]) if isinstance(cell["source"], list) else ""
            if cell.get("cell_type") not in ("code", "markdown", "raw"):
                raise NotebookError(f"{path}: cell of unknown type {cell.get('cell_type')!r}")
    except NotebookError:
        raise
    except Exception as exc:
        raise NotebookError(f"{path}: malformed notebook ({type(exc).__name__}: {str(exc)[:120]})") from None
    return notebook


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    value = nbgrader_meta(cell).get("grade_id")
    return value if isinstance(value, str) else None


def is_graded_test(cell) -> bool:
    """An autograder test cell: graded, not a solution (its visible checks are never run)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.get("cell_type") == "code"


def is_solution(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def tags(cell) -> list[str]:
    value = cell.get("metadata", {}).get("tags", [])
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


# Read-only cells tagged "demo" (plots, training curves, timing tables) only illustrate: the
# student runs them, the judge skips them, so they cost no grading time. Only the trusted
# notebook's tags count, and only on locked cells: a student cannot skip given code.
DEMO_TAG = "demo"


def is_locked(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("locked")) and not meta.get("solution")


@dataclass(frozen=True)
class Part:
    grade_id: str
    points: float


def parts(notebook) -> list[Part]:
    """The graded parts, in notebook order, as the trusted notebook defines them."""
    return [
        Part(grade_id(cell), float(nbgrader_meta(cell).get("points", 0)))
        for cell in notebook.cells
        if is_graded_test(cell) and grade_id(cell)
    ]


@dataclass(frozen=True)
class CodeCell:
    index: int          # 1-based position in the submitted notebook, as the student sees it
    source: str
    grade_id: str | None


def cells_to_run(submission, reference) -> tuple[list[CodeCell], list[str]]:
    """The code the sandbox runs, and notes about tampering for the feedback.

    Locked cells (given code) are taken from the reference, whatever the submission says;
    graded test cells are skipped in both; the student's other code cells run as written.
    """
    reference_by_id = {grade_id(c): c for c in reference.cells if grade_id(c)}
    graded_ids = {grade_id(c) for c in reference.cells if is_graded_test(c)}
    notes: list[str] = []
    seen: set[str] = set()
    to_run: list[CodeCell] = []
    for position, cell in enumerate(submission.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        cid = grade_id(cell)
        trusted = reference_by_id.get(cid) if cid else None
        if cid in seen:
            notes.append(f"cell {position} repeats grade_id '{cid}'; the copy was ignored")
            continue
        if cid:
            seen.add(cid)
        if cid in graded_ids or is_graded_test(cell):
            if trusted is not None and cell.source != trusted.source:
                notes.append(f"graded cell '{cid}' (cell {position}) was edited; the judge ignores "
                             "graded cells, so the edit changes nothing")
            continue
        if trusted is not None and is_locked(trusted):
            if cell.source != trusted.source:
                notes.append(f"read-only cell '{cid}' (cell {position}) was edited; the original was run instead")
            if DEMO_TAG not in tags(trusted):
                to_run.append(CodeCell(position, trusted.source, cid))
            continue
        to_run.append(CodeCell(position, cell.source, cid))
    for cid, cell in reference_by_id.items():
        if cid not in seen and (is_graded_test(cell) or is_solution(cell)) and cell.get("cell_type") == "code":
            notes.append(f"cell '{cid}' is missing from the submission")
    return to_run, notes


def strip_outputs(notebook) -> None:
    for cell in notebook.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
