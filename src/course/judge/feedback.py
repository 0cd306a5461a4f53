"""feedback.html for the student, in the course's language: a summary on top (score, the parts
to fix first, the first failing check in words), then each part with its failing checks named
by their titles and the cases that failed, passed checks folded, a part not attempted said
once; then notes, cells that raised and the notebook's own output. Everything that comes from
the submission or the suite is HTML-escaped."""
from __future__ import annotations

import html
from pathlib import Path

from course.judge import messages
from course.judge.messages import translate, ui
from course.judge.results import fit, write_atomic

MAX_CHARS = 2 * 2**20  # feedback.html, at most

_STYLE = """
body{font-family:system-ui,"Noto Sans CJK KR","Malgun Gothic",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
.summary{border:2px solid #ccc;border-radius:.4rem;padding:.2rem 1rem;margin-bottom:1.5rem}
.summary.bad{border-color:#a31515}.summary.good{border-color:#17692d}
h2 .score{float:right;font-weight:normal}.part{border-bottom:1px solid #ddd;padding-bottom:.5rem}
.passed{color:#17692d}.failed{color:#a31515}.na{color:#8a5a00}
pre{background:#f6f6f6;padding:.6rem;overflow:auto;white-space:pre-wrap}code{white-space:pre-wrap}
details{margin:.4rem 0}summary{cursor:pointer}
"""

e = html.escape


def number(value) -> str:
    """A score as students read it: at most 2 decimals (9.5714 -> 9.57, 10.0 -> 10)."""
    return f"{round(float(value), 2):g}"


def title_of(test: dict) -> str:
    """The check's human title: its docstring's first line, else its function name in words."""
    if test.get("title"):
        return test["title"]
    name = test["name"].split(": ", 1)[-1]
    return name.removeprefix("test_").replace("_", " ")


def _case(name: str) -> str:
    return name[name.index("[") + 1:-1] if name.endswith("]") and "[" in name else name


def _failure_lines(test: dict, language: str) -> list[str]:
    """(escaped) what failed: each failed case with its message; a one-case check, its message."""
    cases = test.get("failed_cases")
    if cases is None:  # a document from before checks were grouped
        return [e(translate(test.get("output", ""), language))] if test.get("output") else []
    if test.get("cases", 1) <= 1:
        return [e(translate(c["message"], language)) for c in cases]
    return [f"<code>{e(_case(c['case']))}</code>: {e(translate(c['message'], language))}" for c in cases]


def _part_section(part: dict, tests: list[dict], language: str) -> str:
    header = (f"<h2 id='part-{e(part['grade_id'])}'>{e(part['grade_id'])} <span class='score'>"
              f"{number(part['score'])} / {number(part['max_score'])}</span></h2>")
    if part.get("not_attempted"):
        return f"<section class='part'>{header}<p class='na'>{e(ui('not_attempted_long', language))}</p></section>"
    failed = [t for t in tests if t["status"] != "passed"]
    passed = [t for t in tests if t["status"] == "passed"]
    items = []
    for test in failed:
        lines = _failure_lines(test, language)
        count = (f" ({e(ui('cases_failed', language, failed=len(test['failed_cases']), total=test['cases']))})"
                 if test.get("cases", 1) > 1 and test.get("failed_cases") is not None else "")
        detail = "".join(f"<li>{line}</li>" for line in lines)
        items.append(f"<li class='failed'><b>{e(title_of(test))}</b>{count}"
                     + (f"<ul>{detail}</ul>" if detail else "") + "</li>")
    folded = ""
    if passed:
        names = "".join(f"<li class='passed'>{e(title_of(t))}</li>" for t in passed)
        folded = f"<details><summary>{e(ui('passed_folded', language, count=len(passed)))}</summary><ul>{names}</ul></details>"
    counts = e(ui("checks_passed", language, passed=part["passed"], total=part["total"]))
    return (f"<section class='part'>{header}<p>{counts}</p>"
            + (f"<ul>{''.join(items)}</ul>" if items else "") + folded + "</section>")


def _summary(result: dict, by_part: dict[str, list[dict]], language: str) -> str:
    extra = result["extra_data"]
    if extra.get("status") == "unreadable":
        reasons = "".join(f"<li>{e(translate(n, language))}</li>" for n in extra.get("notes", []))
        return f"<section class='summary bad'><p><b>{e(ui('unreadable', language))}</b></p><ul>{reasons}</ul></section>"
    parts = extra["parts"]
    lacking = [p for p in parts if p["score"] < p["max_score"]]
    if not lacking and result["score"] >= result["max_score"]:
        return f"<section class='summary good'><p>{e(ui('all_passed', language))}</p></section>"
    # Parts a student worked on come first (closest to done), the most points lost first;
    # parts not attempted after them.
    order = sorted(lacking, key=lambda p: (bool(p.get("not_attempted")), -(p["max_score"] - p["score"])))
    rows = "".join(
        f"<li><a href='#part-{e(p['grade_id'])}'>{e(p['grade_id'])}</a> {number(p['score'])} / {number(p['max_score'])}"
        + (f" ({e(ui('not_attempted', language))})" if p.get("not_attempted")
           else f" ({e(ui('lost', language, points=number(p['max_score'] - p['score'])))})") + "</li>"
        for p in order)
    first = ""
    for part in order:
        if part.get("not_attempted"):
            continue
        failing = next((t for t in by_part.get(part["grade_id"], []) if t["status"] != "passed"), None)
        if failing is not None:
            lines = _failure_lines(failing, language)
            first = (f"<p><b>{e(ui('first_failure', language))}</b>: {e(title_of(failing))}"
                     + (f" &mdash; {lines[0]}" if lines else "") + "</p>")
            break
    return (f"<section class='summary bad'><p><b>{e(ui('fix_first', language))}</b></p><ol>{rows}</ol>"
            f"{first}</section>")


def _lateness(result: dict, language: str) -> str:
    """One line when course.toml's late policy took a share of the score."""
    late = result["extra_data"].get("late") or {}
    if not late.get("penalty_share"):
        return ""
    share = float(late["penalty_share"])
    final = number(result["score"] * (1 - share))
    due = str(late.get("due", ""))[:16].replace("T", " ") + (ui("late_extension", language) if late.get("extension") else "")
    line = ui("late", language, days=late.get("days_late", "?"), due=due, percent=number(share * 100),
              final=final, max=number(result["max_score"]))
    return f"<p class='late'><b>{e(line)}</b></p>"


def render(result: dict, language: str = messages.DEFAULT) -> str:
    extra = result["extra_data"]
    by_part: dict[str, list[dict]] = {}
    for test in result["tests"]:
        by_part.setdefault(test["tags"][0] if test.get("tags") else "", []).append(test)
    sections = "".join(_part_section(p, by_part.get(p["grade_id"], []), language) for p in extra["parts"])
    notes = "".join(f"<li>{e(translate(n, language))}</li>" for n in extra["notes"])
    errors = "".join(
        f"<li>{e(ui('cell', language))} {e(str(c.get('cell', '?')))}: {e(c.get('type', ''))}: "
        f"{e(translate(c.get('message', ''), language))}"
        + (f"<pre>{e(c.get('trace', ''))}</pre>" if c.get("trace") else "") + "</li>"
        for c in extra["cell_errors"]
    )
    output = extra.get("notebook_output") or ""
    score = f"{number(result['score'])} / {number(result['max_score'])}"
    return f"""<!doctype html><html lang="{e(language)}"><head><meta charset="utf-8">
<title>{e(extra['assignment'])}: {score}</title><style>{_STYLE}</style></head><body>
<h1>{e(extra['assignment'])}</h1>
<p>{e(ui('student', language))} <b>{e(extra['student'])}</b>: {e(ui('score', language))} <b>{score}</b>
({e(ui('graded_in', language, seconds=f"{result['execution_time']:.1f}"))})</p>
{_lateness(result, language)}
{_summary(result, by_part, language)}
{sections}
{f'<h2>{e(ui("notes", language))}</h2><ul>{notes}</ul>' if notes else ''}
{f'<h2>{e(ui("cell_errors", language))}</h2><ul>{errors}</ul>' if errors else ''}
{f'<details><summary>{e(ui("output", language))}</summary><pre>{e(output)}</pre></details>' if output else ''}
</body></html>
"""


def write(result: dict, folder: Path, language: str = messages.DEFAULT) -> Path:
    path = folder / "feedback.html"
    page = render(result, language)
    if len(page) > MAX_CHARS:  # escaping can triple a text: render a shortened copy instead
        smaller = fit(result, MAX_CHARS // 8, "this page")
        note = smaller["extra_data"].get("truncated") or f"this page was cut to fit {MAX_CHARS // 2**20} MiB"
        extra = {**smaller["extra_data"], "notes": [*smaller["extra_data"]["notes"], note]}
        page = render({**smaller, "extra_data": extra}, language)
    write_atomic(path, page)
    return path
