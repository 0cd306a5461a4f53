"""The graded copy of a submission for formgrader: each graded cell shows its part's result.

nbgrader's formgrader renders autograded/<student>/<assignment>/<notebook>.ipynb; we write the
student's notebook there with the hidden suite's verdict as the output of each graded cell.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from course import notebook as nb
from course.judge import sanitize
from course.judge.results import write_atomic


def annotated(submitted, result: dict):
    parts = {p["grade_id"]: p for p in result["extra_data"]["parts"]}
    nb.strip_outputs(submitted)
    for cell in submitted.cells:
        part = parts.get(nb.grade_id(cell)) if nb.is_graded_test(cell) else None
        if part is None:
            continue
        lines = [f"{part['grade_id']}: {part['score']:g} / {part['max_score']:g} "
                 f"({part['passed']} of {part['total']} hidden checks passed)"]
        lines += [f"  FAILED {t['name'].split(': ', 1)[-1]}: {t['output']}"
                  for t in result["tests"] if t["tags"] == [part["grade_id"]] and t["status"] == "failed"]
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")]
    return submitted


def write(notebook_path: Path, result: dict, folder: Path) -> Path | None:
    """Write the annotated copy next to results.json; an unreadable submission has none.
    `notebook_path` is the snapshot the judge graded; the copy is made inert (sanitize)."""
    try:
        submitted = sanitize.inert(nb.parse_submission(nb.read_submission(notebook_path), notebook_path))
    except nb.NotebookError:
        return None
    target = folder / f"{result['extra_data']['assignment']}.ipynb"  # the name formgrader looks for
    # nbformat's own JSON writer, without nbformat.writes' schema validation: the submission is
    # the student's (valid or not, it is what formgrader gets), and the outputs added here are
    # built by nbformat.v4.new_output, which validates them.
    write_atomic(target, nbformat.v4.writes_json(annotated(submitted, result)) + "\n")
    return target
