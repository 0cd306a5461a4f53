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

SCHEMA_NOTE = "https://gradescope-autograders.readthedocs.io/en/latest/specs/"


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
                "output": check.message,
                "cases": len(check.cases),
                "failed_cases": [{"case": c.name, "message": c.message, "not_attempted": c.not_attempted}
                                 for c in check.failed],
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
    lines = [f"Score {score:g} / {max_score:g}"]
    lines += [f"  {row['grade_id']}: {row['score']:g} / {row['max_score']:g}" for row in part_rows]
    lines += [f"Note: {note}" for note in notes]
    lines += [f"Cell {e.get('cell', '?')}: {e.get('type')}: {e.get('message')}" for e in cell_errors]
    return {
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
    }


def write_atomic(path: Path, text: str, durable: bool = True) -> None:
    """Write via a temporary file in the same directory and rename: readers never see half a file.
    durable: fsync before the rename, so that a crash cannot leave the name on empty data (not
    needed for scratch files that a crash discards anyway)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write(result: dict, folder: Path) -> Path:
    path = folder / "results.json"
    write_atomic(path, json.dumps(result, indent=2, sort_keys=False) + "\n")
    return path
