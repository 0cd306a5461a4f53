"""`course stats NN`: one HTML page for the instructor about a graded assignment.

From the results.json files of the batch (what the judge saw, check by check): each part's score
distribution as a histogram, the checks that fail most often (with how many students they cost
points), how many submissions were late and by how much, and the judge errors. Plots are PNGs
inlined in the page, so it is one file to open or send.
"""
from __future__ import annotations

import base64
import collections
import html
import io
import json
import statistics
from pathlib import Path

from course.judge.results import write_atomic

TOP_CHECKS = 15


def collect(out: Path, assignment: str) -> list[dict]:
    """Every results.json of the assignment under `out` that parses; unparsable ones are skipped."""
    documents = []
    for path in sorted(Path(out).glob(f"*/{assignment}/results.json")):
        try:
            documents.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, RecursionError):
            continue
    return documents


def summarise(documents: list[dict]) -> dict:
    graded = [d for d in documents if d.get("extra_data", {}).get("status") not in ("error",)]
    parts: dict[str, list[float]] = collections.defaultdict(list)
    maxima: dict[str, float] = {}
    failing: collections.Counter = collections.Counter()
    titles: dict[str, str] = {}
    late_days: collections.Counter = collections.Counter()
    for document in graded:
        extra = document["extra_data"]
        for part in extra.get("parts", []):
            parts[part["grade_id"]].append(float(part["score"]))
            maxima[part["grade_id"]] = float(part["max_score"])
        for test in document.get("tests", []):
            if test.get("status") == "failed":
                failing[test["name"]] += 1
                titles[test["name"]] = test.get("title") or test["name"]
        late = extra.get("late") or {}
        if late.get("days_late"):
            late_days[int(late["days_late"])] += 1
    return {
        "submissions": len(documents), "graded": len(graded), "errors": len(documents) - len(graded),
        "totals": [float(d["score"]) for d in graded], "max_score": max((float(d["max_score"]) for d in graded), default=0.0),
        "parts": {name: {"scores": scores, "max": maxima[name], "mean": statistics.fmean(scores),
                         "full": sum(s >= maxima[name] - 1e-9 for s in scores)} for name, scores in parts.items()},
        "failing": [(name, titles[name], count) for name, count in failing.most_common(TOP_CHECKS)],
        "late": dict(sorted(late_days.items())),
    }


def _histogram(scores: list[float], maximum: float, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4.2, 2.4), dpi=100)
    bins = max(4, min(20, int(maximum * 4) or 4))
    axes.hist(scores, bins=bins, range=(0, maximum or 1), color="#3b6ea8", edgecolor="white")
    axes.set_title(title, fontsize=10)
    axes.set_xlabel("score")
    axes.set_ylabel("students")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def render(assignment: str, summary: dict) -> str:
    e = html.escape
    totals = summary["totals"]
    head = (f"<p>{summary['submissions']} submissions, {summary['graded']} graded, {summary['errors']} judge errors. "
            + (f"Mean {statistics.fmean(totals):.2f} / {summary['max_score']:g}, median {statistics.median(totals):.2f}."
               if totals else "Nothing graded yet.") + "</p>")
    plots = []
    if totals:
        plots.append(("total", _histogram(totals, summary["max_score"], "total")))
    rows = []
    for name, part in sorted(summary["parts"].items()):
        plots.append((name, _histogram(part["scores"], part["max"], name)))
        rows.append(f"<tr><td>{e(name)}</td><td>{part['mean']:.2f} / {part['max']:g}</td>"
                    f"<td>{part['full']} of {len(part['scores'])}</td></tr>")
    images = "".join(f"<figure><img alt='{e(name)}' src='data:image/png;base64,{data}'></figure>" for name, data in plots)
    failing = "".join(f"<tr><td>{e(title)}</td><td><code>{e(name)}</code></td><td>{count}</td></tr>"
                      for name, title, count in summary["failing"])
    late = "".join(f"<li>{days} day(s) late: {count}</li>" for days, count in summary["late"].items()) or "<li>none</li>"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{e(assignment)}: statistics</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<style>body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto}}figure{{display:inline-block;margin:.3rem}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}}</style></head><body>
<h1>{e(assignment)}</h1>{head}
<h2>Parts</h2><table><tr><th>part</th><th>mean</th><th>full marks</th></tr>{''.join(rows)}</table>
<div>{images}</div>
<h2>Checks that fail most often</h2><table><tr><th>check</th><th>id</th><th>students</th></tr>{failing}</table>
<h2>Late submissions</h2><ul>{late}</ul>
</body></html>
"""


def write(out: Path, assignment: str, page: Path) -> dict:
    summary = summarise(collect(out, assignment))
    write_atomic(Path(page), render(assignment, summary))
    return summary
