"""Reading notebooks and telling their nbgrader cells apart.

Everything that decides a score (which parts exist, their points, what given code says) is read
from the trusted release/source notebook; the submission only supplies the student's cells.
"""
from __future__ import annotations

import errno
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"


class NotebookError(ValueError):
    """A file that is not a usable notebook; the message names the file and the problem."""


# A notebook larger than this is not read at all (nor hashed): the judge reports it unreadable.
MAX_BYTES = 32 * 2**20
# Nor one with more cells than this (a million empty cells fit in 32 MiB, and cost the judge a GiB).
MAX_CELLS = 5000


def printable(text: str, limit: int = 300) -> str:
    """Text a student chose (a folder or file name), safe for a terminal, a log or a CSV cell:
    control and other non-printable characters are shown as escapes, and it is cut to `limit`."""
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in str(text))
    return text if len(text) <= limit else text[:limit] + "..."


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISLNK, "a symbolic link"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_submission(path: Path, below: Path | None = None, limit: int = MAX_BYTES) -> bytes:
    """A submitted file's bytes, read without trusting anything the student controls.

    Every path component after `below` (a folder the grader chose, such as submitted/) must be a
    real folder and the file a regular file: none is followed if it is a symbolic link (a link
    to solutions/ or to a classmate's work is refused, never graded as the student's). The file
    is opened without blocking (a FIFO cannot hang the batch) and refused unread when larger
    than `limit` (a 2 GB sparse file costs nothing). NotebookError names the file and why.
    """
    path = Path(path)
    below = Path(below) if below is not None else path.parent
    try:
        inner = path.relative_to(below).parts
    except ValueError:
        inner = (path.name,)
        below = path.parent
    if not inner:
        raise NotebookError(f"{printable(path)}: not a file")
    shown = printable(path)
    fds: list[int] = []
    try:
        try:
            fds.append(os.open(below, os.O_RDONLY | os.O_DIRECTORY))
        except OSError as exc:
            raise NotebookError(f"{printable(below)}: cannot open the folder ({exc.strerror})") from None
        walked = below
        for name in inner[:-1]:
            walked = walked / name
            try:
                fds.append(os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fds[-1]))
            except OSError as exc:
                raise NotebookError(f"{printable(walked)}: {_why_not_a_folder(name, fds[-1], exc)}; "
                                    "a submission must be the student's own files") from None
        try:
            fd = os.open(inner[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY, dir_fd=fds[-1])
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # the file itself is a symbolic link
                raise NotebookError(f"{shown}: a symbolic link, not a notebook file; a submission must be "
                                    "the student's own files") from None
            raise NotebookError(f"{shown}: cannot read ({exc.strerror})") from None
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotebookError(f"{shown}: {_kind(info.st_mode)}, not a notebook file")
        if info.st_size > limit:
            raise NotebookError(f"{shown}: {info.st_size} bytes is too large for a notebook "
                                f"(limit {limit // 2**20} MiB)")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # grew while we read
            raise NotebookError(f"{shown}: more than {limit // 2**20} MiB is too large for a notebook")
        return b"".join(chunks)
    except OSError as exc:
        raise NotebookError(f"{shown}: cannot read ({exc.strerror})") from None
    finally:
        for fd in reversed(fds):
            os.close(fd)


def _why_not_a_folder(name: str, parent_fd: int, exc: OSError) -> str:
    try:
        mode = os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode
    except OSError:
        return f"cannot open ({exc.strerror})"
    return "a symbolic link, not a folder" if stat.S_ISLNK(mode) else f"{_kind(mode)}, not a folder"


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
    data = _json(raw, path)
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
    except RecursionError:
        raise NotebookError(f"{path}: malformed notebook (nested too deeply)") from None
    except Exception as exc:
        raise NotebookError(f"{path}: malformed notebook ({type(exc).__name__}: {str(exc)[:120]})") from None
    return notebook


# JSON values a submission may hold (an upper bound: its commas, braces and brackets), checked
# before parsing: 31 MiB of `{}` parse into 10.8 million dicts, a gigabyte in planning and the
# judge. A long notebook (5,000 cells of 50 source lines, outputs kept) stays far below.
MAX_JSON_VALUES = 2_000_000


def _json(raw: bytes, path) -> object:
    values = raw.count(b",") + raw.count(b"{") + raw.count(b"[")
    if values > MAX_JSON_VALUES:
        raise NotebookError(f"{path}: not a notebook (about {values} JSON values, more than the "
                            f"{MAX_JSON_VALUES} a notebook may hold)")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotebookError(f"{path}: not a notebook (not valid JSON: {str(exc)[:120]})") from None
    except RecursionError:
        raise NotebookError(f"{path}: not a notebook (nested too deeply to read)") from None
    except MemoryError:
        raise NotebookError(f"{path}: not a notebook (too large to read)") from None


def parse_submission(raw: bytes, path) -> nbformat.NotebookNode:
    """A student's notebook from any bytes, rebuilt from scratch: only what grading and
    formgrader use (cell type, source, nbgrader metadata, tags, id), each checked for its type.
    Outputs, attachments and every other metadata field are dropped, so nothing odd in them
    (wrong types, deep nesting, HTML) goes any further. NotebookError names what is wrong."""
    path = printable(path)
    if len(raw) > MAX_BYTES:
        raise NotebookError(f"{path}: {len(raw)} bytes is too large for a notebook (limit 32 MiB)")
    data = _json(raw, path)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError(f"{path}: not a notebook (no list of cells)")
    major = data.get("nbformat", 4)
    if not isinstance(major, int) or isinstance(major, bool) or major < 4:
        raise NotebookError(f"{path}: nbformat {printable(repr(major), 40)} is not supported (need 4)")
    if len(data["cells"]) > MAX_CELLS:
        raise NotebookError(f"{path}: {len(data['cells'])} cells is more than a notebook has (limit {MAX_CELLS})")
    cells = []
    for position, cell in enumerate(data["cells"], start=1):
        if not isinstance(cell, dict):
            raise NotebookError(f"{path}: cell {position} is not a cell (a JSON {type(cell).__name__})")
        kind = cell.get("cell_type")
        if kind not in ("code", "markdown", "raw"):
            raise NotebookError(f"{path}: cell {position} has unknown type {printable(repr(kind), 40)}")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        elif not isinstance(source, str):
            raise NotebookError(f"{path}: cell {position}: source is a JSON {type(source).__name__}, not text")
        clean = {"cell_type": kind, "source": source, "metadata": _cell_metadata(cell.get("metadata"))}
        if isinstance(cell.get("id"), str) and len(cell["id"]) <= 64:
            clean["id"] = cell["id"]
        if kind == "code":
            clean.update(outputs=[], execution_count=None)
        cells.append(clean)
    ids = [c.get("id") for c in cells]
    if not all(isinstance(i, str) and _CELL_ID.match(i) for i in ids) or len(set(ids)) != len(ids):
        for cell in cells:  # nbformat 4.5 wants a unique, well-formed id on every cell, 4.4 none
            cell.pop("id", None)
    document = {"cells": cells, "metadata": _notebook_metadata(data.get("metadata")),
                "nbformat": 4, "nbformat_minor": 5 if all("id" in c for c in cells) else 4}
    try:
        return nbformat.from_dict(document)
    except (RecursionError, MemoryError) as exc:  # cannot happen with the shapes built above
        raise NotebookError(f"{path}: malformed notebook ({type(exc).__name__})") from None


_SCALARS = (str, int, float, bool, type(None))
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")  # nbformat 4.5's rule


def _cell_metadata(meta) -> dict:
    """nbgrader's cell metadata (scalars only) and tags (strings only); nothing else."""
    if not isinstance(meta, dict):
        return {}
    clean: dict = {}
    grader = meta.get("nbgrader")
    if isinstance(grader, dict):
        clean["nbgrader"] = {k: v for k, v in grader.items() if isinstance(k, str) and isinstance(v, _SCALARS)
                             and not (isinstance(v, str) and len(v) > 200)}
    tags_value = meta.get("tags")
    if isinstance(tags_value, list):
        clean["tags"] = [t for t in tags_value if isinstance(t, str) and len(t) <= 100][:50]
    return clean


def _notebook_metadata(meta) -> dict:
    """The kernel's name and language (what formgrader shows); nothing else of the student's."""
    if not isinstance(meta, dict):
        return {}
    clean = {}
    for key, fields in (("kernelspec", ("name", "display_name", "language")), ("language_info", ("name",))):
        value = meta.get(key)
        if isinstance(value, dict):
            kept = {f: value[f][:100] for f in fields if isinstance(value.get(f), str)}
            if key != "kernelspec" or {"name", "display_name"} <= set(kept):
                clean[key] = kept
    return clean


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
    graded test cells are skipped in both; the student's other code cells run as written. A
    locked cell the submission lacks (deleted, or its nbgrader metadata stripped so that an
    edited copy would pass for the student's own) still runs, from the reference, where the
    reference has it: before the first later cell of the reference that the submission has.
    """
    reference_by_id = {grade_id(c): c for c in reference.cells if grade_id(c)}
    graded_ids = {grade_id(c) for c in reference.cells if is_graded_test(c)}
    order = {grade_id(c): i for i, c in enumerate(reference.cells) if grade_id(c)}
    locked_code = [grade_id(c) for c in reference.cells
                   if grade_id(c) and is_locked(c) and not is_graded_test(c) and c.get("cell_type") == "code"
                   and DEMO_TAG not in tags(c)]
    notes: list[str] = []
    seen: set[str] = set()
    to_run: list[CodeCell] = []

    def restore_locked_before(limit: int, position: int) -> None:
        for lid in locked_code:
            if lid not in seen and order[lid] < limit:
                seen.add(lid)
                notes.append(f"read-only cell '{lid}' is missing from the submission (deleted, or its metadata "
                             "removed); the original was run in its place")
                to_run.append(CodeCell(position, reference_by_id[lid].source, lid))

    for position, cell in enumerate(submission.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        cid = grade_id(cell)
        trusted = reference_by_id.get(cid) if cid else None
        if trusted is not None and cid not in seen:
            restore_locked_before(order[cid], position)
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
    restore_locked_before(len(reference.cells), len(submission.cells) + 1)
    for cid, cell in reference_by_id.items():
        if cid not in seen and (is_graded_test(cell) or is_solution(cell)) and cell.get("cell_type") == "code":
            notes.append(f"cell '{cid}' is missing from the submission")
    return to_run, notes


def strip_outputs(notebook) -> None:
    for cell in notebook.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
