"""feedback.html for the student: parts, what failed and why, cell errors, their own output."""
from __future__ import annotations

import html
from pathlib import Path

from course.judge.results import fit, write_atomic

MAX_CHARS = 2 * 2**20  # feedback.html, at most

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35rem;text-align:left;vertical-align:top}
.passed{color:#17692d}.failed{color:#a31515}pre{background:#f6f6f6;padding:.6rem;overflow:auto;white-space:pre-wrap}
"""


def render(result: dict) -> str:
    extra = result["extra_data"]
    e = html.escape
    rows = []
    for part in extra["parts"]:
        tests = [t for t in result["tests"] if t["tags"] == [part["grade_id"]]]
        items = "".join(
            f"<li class='{t['status']}'>{e(t['name'].split(': ', 1)[-1])}: {e(t['status'])}"
            + (f"<br><code>{e(t['output'])}</code>" if t["output"] else "") + "</li>"
            for t in tests
        )
        rows.append(f"<tr><td><b>{e(part['grade_id'])}</b></td><td>{part['score']:g} / {part['max_score']:g}</td>"
                    f"<td>{part['passed']} of {part['total']} checks passed<ul>{items}</ul></td></tr>")
    notes = "".join(f"<li>{e(n)}</li>" for n in extra["notes"])
    errors = "".join(
        f"<li>cell {e(str(c.get('cell', '?')))}: {e(c.get('type', ''))}: {e(c.get('message', ''))}"
        + (f"<pre>{e(c.get('trace', ''))}</pre>" if c.get("trace") else "") + "</li>"
        for c in extra["cell_errors"]
    )
    output = extra.get("notebook_output") or ""
    return f"""<!doctype html><html lang="ko"><head><meta charset="utf-8">
<title>{e(extra['assignment'])}: {result['score']:g} / {result['max_score']:g}</title><style>{_STYLE}</style></head><body>
<h1>{e(extra['assignment'])}</h1>
<p>Student <b>{e(extra['student'])}</b>: score <b>{result['score']:g} / {result['max_score']:g}</b>
(graded in {result['execution_time']:.1f} s)</p>
<table><tr><th>part</th><th>score</th><th>checks</th></tr>{''.join(rows)}</table>
{f'<h2>Notes</h2><ul>{notes}</ul>' if notes else ''}
{f'<h2>Cells that raised</h2><ul>{errors}</ul>' if errors else ''}
{f'<h2>Output of your notebook</h2><pre>{e(output)}</pre>' if output else ''}
</body></html>
"""


def write(result: dict, folder: Path) -> Path:
    path = folder / "feedback.html"
    page = render(result)
    if len(page) > MAX_CHARS:  # escaping can triple a text: render a shortened copy instead
        page = render(fit(result, MAX_CHARS // 8, "this page"))
    write_atomic(path, page)
    return path
