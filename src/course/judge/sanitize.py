"""The student's notebook as instructors open it in formgrader: inert.

formgrader renders autograded/<student>/<NN>/<NN>.ipynb as HTML on the hub's origin, with
nbconvert, which passes a markdown cell's raw HTML (`<script>`, `<img onerror>`, `<iframe>`),
`javascript:` links, HTML/JS/SVG/LaTeX outputs and attachments through as they are. So nothing
of the student's is rendered as written: every markdown and raw cell becomes a fenced block
of plain text (shown verbatim, escaped by the renderer: nothing is interpreted, not even a
link), code cells keep only their source (shown escaped, highlighted), and every output and
attachment is dropped (the judge's verdict is added as plain text by `annotate`).

The notebook comes from `notebook.parse_submission`, which already kept only the cell type,
the source, nbgrader's metadata and tags of each cell.
"""
from __future__ import annotations

import re

_BACKTICKS = re.compile(r"`+")


def as_text(source: str) -> str:
    """Markdown that shows `source` verbatim: a fenced code block whose fence is longer than any
    run of backticks inside, so no line of the source can close it early."""
    longest = max((len(run) for run in _BACKTICKS.findall(source)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{source}\n{fence}"


def inert(notebook):
    """Make the notebook safe to render, in place; returns it."""
    for cell in notebook.cells:
        cell.pop("attachments", None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        else:  # markdown or raw: shown as the text the student typed
            cell["cell_type"] = "markdown"
            cell["source"] = as_text(cell.get("source", ""))
    return notebook
