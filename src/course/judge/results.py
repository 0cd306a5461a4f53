"""results.json in Gradescope's autograder schema, with per-part partial credit.

Each check (a hidden test function, all its parametrized cases together) is one entry of
`tests`; its max_score is its weighted share of its part's points, so the entries add up to the
part and the parts to the assignment. `failed_cases` says which cases failed and why.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from course import __version__
from course.faults import crash_point

SCHEMA_NOTE = "https://gradescope-autograders.readthedocs.io/en/latest/specs/"

# Caps on what a submission can make us record. Without them 118 KiB of erroring cells made a
# 181 MiB results.json (each cell's message and trace, repeated in `output`) and a 45 MiB page.
MAX_BYTES = 2**20                 # results.json as written (the document says when it was cut)
CELL_ERRORS_KEPT = 50             # the first cells that raised; a note counts the rest
NOTES_KEPT = 50
FIELD_CHARS = {"type": 200, "message": 1000, "where": 200, "trace": 2000}
NOTE_CHARS = 1000
OUTPUT_CHARS = 4000               # a test's message
MAX_FAILED_CASES = 20             # failed cases listed per check (a parametrised test may have hundreds)
NOTEBOOK_OUTPUT_CHARS = 64 * 1024


def cut(text, limit: int) -> str:
    """`text` as a string of at most about `limit` characters, saying how much was left out."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f" ... [{len(text) - limit} more characters not kept]"


def _capped_errors(cell_errors) -> tuple[list[dict], list[str]]:
    kept = []
    for error in list(cell_errors)[:CELL_ERRORS_KEPT]:
        kept.append({key: (cut(value, FIELD_CHARS.get(key, 200)) if isinstance(value, str) else value)
                     for key, value in error.items()})
    extra = len(cell_errors) - len(kept)
    return kept, ([f"{extra} more cell(s) raised; only the first {CELL_ERRORS_KEPT} are shown"] if extra > 0 else [])


def _capped_notes(notes) -> list[str]:
    notes = list(notes)
    kept = [cut(note, NOTE_CHARS) for note in notes[:NOTES_KEPT]]
    if len(notes) > NOTES_KEPT:
        kept.append(f"{len(notes) - NOTES_KEPT} more note(s) not shown")
    return kept


def _serialise(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def _shortened(value, limit: int):
    """Every string inside `value` (not the keys) cut to `limit` characters."""
    if isinstance(value, str):
        return cut(value, limit) if len(value) > limit else value
    if isinstance(value, list):
        return [_shortened(item, limit) for item in value]
    if isinstance(value, dict):
        return {key: _shortened(item, limit) for key, item in value.items()}
    return value


def fit(document: dict, limit: int = MAX_BYTES, what: str = "results.json") -> dict:
    """The document, its texts shortened until it serialises to at most `limit` bytes; a
    shortened one says so in `output` and `extra_data.truncated`."""
    if len(_serialise(document).encode()) <= limit:
        return document
    for chars in (16000, 4000, 1000, 250, 100):
        smaller = _shortened(document, chars)
        note = (f"{what} was cut to fit {limit // 1024} KiB: every text longer than {chars} "
                "characters was shortened")
        smaller["extra_data"]["truncated"] = note
        smaller["output"] = smaller["output"] + "\nNote: " + note
        if len(_serialise(smaller).encode()) <= limit:
            break
    return smaller


def _round(value: float) -> float:
    return round(value + 0.0, 4)


def build(parts, outcomes, meta: dict, *, cell_errors, notes, notebook_output: str, elapsed: float) -> dict:
    """outcomes: one per pytest case; the cases of one test function form one check (passed only
    if every case passed) and a part's score is the weighted share of its passing checks."""
    from course.judge.plugin import group_checks

    checks = group_checks(outcomes)
    tests, part_rows = [], []
    for part in parts:
        group = [c for c in checks if c.part == part.grade_id]
        total_weight = sum(c.weight for c in group)
        passed_weight = sum(c.weight for c in group if c.passed)
        score = part.points * passed_weight / total_weight if total_weight else 0.0
        part_rows.append({"grade_id": part.grade_id, "score": _round(score), "max_score": part.points,
                          "passed": sum(c.passed for c in group), "total": len(group),
                          "not_attempted": bool(group) and all(c.not_attempted for c in group)})
        for check in group:
            share = part.points * check.weight / total_weight
            tests.append({
                "name": f"{part.grade_id}: {check.name}",
                "title": check.title,
                "score": _round(share if check.passed else 0.0),
                "max_score": _round(share),
                "status": "passed" if check.passed else "failed",
                "output": cut(check.message, OUTPUT_CHARS),
                "cases": len(check.cases),
                "failed_cases": [{"case": c.name, "message": cut(c.message, OUTPUT_CHARS),
                                  "not_attempted": c.not_attempted} for c in check.failed[:MAX_FAILED_CASES]],
                "visibility": "visible",
                "tags": [part.grade_id],
            })
    score = _round(sum(row["score"] for row in part_rows))
    max_score = _round(sum(p.points for p in parts))
    return _document(score, max_score, tests, part_rows, meta, elapsed,
                     cell_errors=cell_errors, notes=notes, notebook_output=notebook_output)


def unreadable(parts, meta: dict, message: str, elapsed: float) -> dict:
    """A submission that could not be graded at all: zero, with the reason for the student."""
    part_rows = [{"grade_id": p.grade_id, "score": 0.0, "max_score": p.points, "passed": 0, "total": 0} for p in parts]
    return _document(0.0, _round(sum(p.points for p in parts)), [], part_rows, meta, elapsed,
                     cell_errors=[], notes=[message], notebook_output="", status="unreadable")


def _document(score, max_score, tests, part_rows, meta, elapsed, *, cell_errors, notes, notebook_output,
              status="graded") -> dict:
    cell_errors, more = _capped_errors(cell_errors)
    notes = _capped_notes(notes) + more
    notebook_output = cut(notebook_output, NOTEBOOK_OUTPUT_CHARS) if notebook_output else notebook_output
    # The text a person reads shows 2 decimals (9.57, not 9.5714); the numbers keep 4.
    lines = [f"Score {round(score, 2):g} / {round(max_score, 2):g}"]
    lines += [f"  {row['grade_id']}: {round(row['score'], 2):g} / {round(row['max_score'], 2):g}" for row in part_rows]
    lines += [f"Note: {note}" for note in notes]
    lines += [f"Cell {e.get('cell', '?')}: {e.get('type')}: {e.get('message')}" for e in cell_errors]
    return fit({
        "score": score,
        "max_score": max_score,
        "execution_time": round(elapsed, 3),
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            **meta,
            "status": status,
            "parts": part_rows,
            "cell_errors": cell_errors,
            "notes": notes,
            "notebook_output": notebook_output,
            "judge_version": __version__,
        },
    })


def write_atomic(path: Path, text: str, durable: bool = True, crash_at: str | None = None) -> None:
    """Write via a temporary file in the same directory and rename: readers never see half a file.
    durable: fsync before the rename, so that a crash cannot leave the name on empty data (not
    needed for scratch files that a crash discards anyway). crash_at: the name of the crash point
    (course.faults) between the temporary write and the rename, for the writer that has one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # backslashreplace: a lone surrogate from a student's text (a notebook's "\\ud800", a
        # printed chr(0xd800)) is written as its escape instead of failing the whole write
        with os.fdopen(handle, "w", encoding="utf-8", errors="backslashreplace") as stream:
            stream.write(text)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        if crash_at:
            crash_point(crash_at)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write(result: dict, folder: Path) -> Path:
    path = folder / "results.json"
    write_atomic(path, _serialise(fit(result)), crash_at="results.before_rename")
    return path
