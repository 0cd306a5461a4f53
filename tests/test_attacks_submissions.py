"""Hostile submissions that attack what READS or SHOWS a submission (issue 18, items 4, 7-9):
planning and hashing, the judge's reading, the annotated notebook formgrader renders, the
feedback page, results.json, the gradebook, the terminal, the exchange.

Each attack is a real file in nbgrader's submitted/<student>/<assignment>/ layout, graded in ONE
real batch (`batch.discover` + `batch.grade`, gradebook on, settle on) beside an honest
classmate whose score must not move; each test asserts the exact verdict. The fast tests at the
end check the readers directly (any bytes in, a verdict out).
"""
from __future__ import annotations

import copy
import json
import os
import random
import re
import time
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings, strategies as st

from conftest import ASSIGNMENT, build_notebook, submit
from course import batch, notebook as nb, planning
from course.judge import annotate, feedback, results, sanitize

HONEST_SCORE = 3.0
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SCRIPT = "<script>alert(document.cookie)</script>"
IMG = "<img src=x onerror=alert(1)>"


def _folder(course, student) -> Path:
    folder = course.root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _solved(course) -> dict:
    return json.loads(nbformat.writes(build_notebook(course)))


def _raw(course, student, data) -> Path:
    return submit(course, student, raw=data if isinstance(data, bytes) else json.dumps(data).encode())


# ---------------------------------------------------------------------------------------------
# the class: every attack below, and `honest`

def _hostile_markdown_notebook(course):
    document = _solved(course)
    document["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": [
        f"# Answer\n{SCRIPT}\n{IMG}\n[click](javascript:alert(2))\n<iframe src='https://evil.example'></iframe>\n"
        "<a href='javascript:alert(3)'>x</a> <svg onload=alert(4)></svg>\n```\nclose the fence?\n```\n"],
        "attachments": {"x.png": {"image/svg+xml": "<svg onload=alert(5)/>"}}})
    document["cells"].insert(1, {"cell_type": "raw", "metadata": {"format": "text/html"},
                                 "source": f"{SCRIPT}<b onmouseover=alert(6)>raw</b>"})
    for cell in document["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = [
                {"output_type": "display_data", "metadata": {}, "data": {
                    "text/html": SCRIPT, "application/javascript": "alert(7)",
                    "image/svg+xml": "<svg onload=alert(8)></svg>", "text/markdown": IMG,
                    "text/latex": r"$\href{javascript:alert(9)}{x}$", "text/plain": "plain"}},
                {"output_type": "stream", "name": "stdout", "text": SCRIPT}]
    document["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": SCRIPT}}
    return document


def _hostile_fields_notebook(course):
    # Every field of feedback a student controls: exception type and message, where, output, source.
    return build_notebook(course, insert_after={"add_impl": (
        f"print({SCRIPT!r})\n"
        f"Evil = type({SCRIPT!r}, (Exception,), {{}})\n"
        f"raise Evil({IMG!r})\n")})


def _erroring_cells_notebook(course, cells: int):
    # About 30 bytes of source per cell; each raises a 4000-character non-ASCII message
    # (6 bytes each in JSON), which the trace repeats.
    notebook = build_notebook(course)
    bomb = [nbformat.v4.new_code_cell("raise ValueError('\u00e9' * 4000)") for _ in range(cells)]
    position = next(i for i, c in enumerate(notebook.cells) if nb.grade_id(c) == "norm_impl") + 1
    notebook.cells[position:position] = bomb
    return notebook


def _class(course) -> dict[str, str]:
    """Builds submitted/ and returns {folder name: what it attacks}."""
    solutions = course.root / "solutions" / ASSIGNMENT / NOTEBOOK
    submit(course, "honest", build_notebook(course))

    # 1. no submission stops a batch: deep nesting with a future mtime, bad bytes, odd shapes
    deep = b'{"cells": [], "metadata": {"x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}, \"nbformat\": 4}"
    future = time.time() + 10 * 365 * 86400
    os.utime(_raw(course, "deep-future", deep), (future, future))
    _raw(course, "deep-young", deep)  # just written, does not parse: INCOMPLETE, never an exception
    _raw(course, "bad-utf8", json.dumps(_solved(course)).encode().replace(b"Elementwise", b"Element\xff\xfewise"))
    no_meta = _solved(course)
    for cell in no_meta["cells"]:
        if cell["cell_type"] == "code" and not cell["metadata"].get("nbgrader", {}).get("grade"):
            del cell["metadata"]
    _raw(course, "no-metadata", no_meta)
    odd_meta = _solved(course)
    odd_meta["cells"].insert(0, {"cell_type": "code", "metadata": {"nbgrader": "grade", "tags": "demo"},
                                 "source": ["x = 1\n", "y = 2\n"], "outputs": "none", "execution_count": "one"})
    odd_meta["cells"].insert(0, {"cell_type": "markdown", "metadata": [1, 2], "source": "hi"})
    odd_meta["metadata"] = ["not", "a", "dict"]
    _raw(course, "odd-metadata", odd_meta)
    _raw(course, "cell-is-a-number", {**_solved(course), "cells": [42]})
    _raw(course, "source-is-a-number", {**_solved(course), "cells": [{"cell_type": "code", "source": 7,
                                                                         "metadata": {}, "outputs": []}]})
    _raw(course, "cells-not-a-list", {"cells": {"a": 1}, "nbformat": 4})
    _raw(course, "json-list", [1, 2, 3])
    _raw(course, "nbformat-3", {**_solved(course), "nbformat": 3})
    _raw(course, "unknown-cell-type", {**_solved(course), "cells": [{"cell_type": "<script>", "source": ""}]})
    with open(_folder(course, "sparse-2gb") / NOTEBOOK, "wb") as sparse:
        sparse.truncate(2 * 2**30)
    os.mkfifo(_folder(course, "fifo") / NOTEBOOK)
    (_folder(course, "directory-notebook") / NOTEBOOK).mkdir()
    (_folder(course, "link-to-solutions") / NOTEBOOK).symlink_to(solutions)
    (_folder(course, "link-to-classmate") / NOTEBOOK).symlink_to(
        course.root / "submitted" / "honest" / ASSIGNMENT / NOTEBOOK)
    (course.root / "submitted" / "linked-folder").symlink_to(course.root / "submitted" / "honest")
    (course.root / "submitted" / "linked-assignment").mkdir()
    (course.root / "submitted" / "linked-assignment" / ASSIGNMENT).symlink_to(solutions.parent)
    dev_null = _folder(course, "device-notebook") / NOTEBOOK
    os.symlink("/dev/zero", dev_null)  # a link to a device that never ends
    # a link whose target folder the batch once hid from every sandbox (the C library's)
    (_folder(course, "link-to-libc") / NOTEBOOK).symlink_to(os.path.realpath("/lib/x86_64-linux-gnu/libc.so.6"))
    loop = _folder(course, "link-loop") / NOTEBOOK
    os.symlink(loop, loop)
    many = b'{"nbformat": 4, "metadata": {}, "cells": [' + b'{"cell_type":"raw","source":""},' * 6_000
    _raw(course, "many-cells", many + b'{"cell_type":"raw","source":""}]}')
    two = _folder(course, "two-notebooks")
    for name in ("mine.ipynb", "yours.ipynb"):
        nbformat.write(build_notebook(course), two / name)
    forged = _solved(course)
    for cell in forged["cells"]:
        grader = cell["metadata"].get("nbgrader", {})
        if grader.get("grade_id") == "add":
            grader.update(points=10**9, grade_id="add" + "x" * 10_000)
    forged["cells"].append({"cell_type": "code", "source": "", "outputs": [], "metadata": {"nbgrader": {
        "grade": True, "solution": False, "grade_id": "bonus", "points": 100, "locked": True}}})
    _raw(course, "forged-points", forged)

    # 2. student ids: folder names that are not ids never reach a path, the gradebook or the terminal
    for name in ("\x1b]0;owned\x07\x1b[2Jevil", "=HYPERLINK(\"x.example\";\"click\")",
                 "Upper", "new\nline", "+cmd|' -C calc'!A0", "-rf", "a" * 40, "..hidden"):
        submit(course, name, build_notebook(course))

    # the timestamp nbgrader keeps is the student's text too
    submit(course, "timestamp-formula", build_notebook(course))
    (_folder(course, "timestamp-formula") / "timestamp.txt").write_text("=1+1\n")
    submit(course, "timestamp-fifo", build_notebook(course))
    os.mkfifo(_folder(course, "timestamp-fifo") / "timestamp.txt")
    submit(course, "timestamp-link", build_notebook(course))
    (_folder(course, "timestamp-link") / "timestamp.txt").symlink_to(solutions)
    submit(course, "timestamp-good", build_notebook(course))
    (_folder(course, "timestamp-good") / "timestamp.txt").write_text("2026-11-20 10:00:00.123456 UTC\n")
    submit(course, "timestamp-month-13", build_notebook(course))
    (_folder(course, "timestamp-month-13") / "timestamp.txt").write_text("2026-13-45 10:00:00\n")
    submit(course, "timestamp-huge", build_notebook(course))
    with open(_folder(course, "timestamp-huge") / "timestamp.txt", "wb") as huge:
        huge.truncate(2**30)

    # a notebook whose file name is a terminal escape (the only .ipynb: it is graded)
    escaped = _folder(course, "escaped-file-name")
    nbformat.write(build_notebook(course), escaped / "\x1b[31mred.ipynb")

    # 3. caps on what is recorded
    submit(course, "erroring-cells", _erroring_cells_notebook(course, 300))
    submit(course, "many-notes", build_notebook(course, edit=lambda n: n.cells.extend(
        copy.deepcopy(c) for c in list(n.cells) * 60 if nb.grade_id(c) == "add")))

    # lone surrogates: in the notebook's JSON, and made at run time in an exception and output
    surrogates = _solved(course)
    surrogates["cells"][0]["source"] = "# \ud800 heading"
    surrogates["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "source":
                                "print(chr(0xdfff))\nraise ValueError(chr(0xd800))\n"})
    _raw(course, "lone-surrogates", surrogates)

    # 4. what instructors and students open is inert
    _raw(course, "hostile-markdown", _hostile_markdown_notebook(course))
    submit(course, "hostile-fields", _hostile_fields_notebook(course))

    # Everything was submitted an hour ago (settled), but the two deep notebooks: one just now
    # (it does not parse: INCOMPLETE, graded by a later run), one with a future mtime (settled).
    past = time.time() - 3600
    for path in (course.root / "submitted").glob(f"*/{ASSIGNMENT}/*"):
        if path.parent.parent.name not in ("deep-young", "deep-future") and not path.is_symlink():
            if path.is_file() or path.is_dir():
                os.utime(path, (past, past))


@pytest.fixture(scope="module")
def graded(course):
    _class(course)
    out = course.root / "autograded"
    jobs = batch.discover(ASSIGNMENT, [course.root / "submitted"], out)
    started = time.monotonic()
    rows = batch.grade(course, ASSIGNMENT, jobs, parallel=2, db_url=course.gradebook_url, progress=False,
                       settle=30)
    elapsed = time.monotonic() - started
    summaries = {job.student: summary for job, summary in rows}
    documents = {job.student: json.loads((job.out / "results.json").read_text())
                 for job, summary in rows if job.out is not None and (job.out / "results.json").exists()}
    return summaries, documents, rows, out, elapsed


def part(document, grade_id):
    return {p["grade_id"]: p["score"] for p in document["extra_data"]["parts"]}[grade_id]


def everything(document) -> str:
    extra = document["extra_data"]
    return json.dumps([document["output"], [t["output"] for t in document["tests"]], extra["cell_errors"],
                       extra["notes"], extra.get("notebook_output", "")], ensure_ascii=False)


@pytest.mark.slow
def test_the_batch_goes_on_and_the_honest_classmate_keeps_full_marks(graded, course):
    from course.gradebook import scores

    summaries, documents, _, _, _ = graded
    assert summaries["honest"]["score"] == HONEST_SCORE and summaries["honest"]["status"] == "graded"
    assert not [s for s in summaries.values() if s["status"] == "error"], summaries
    assert scores(course.gradebook_url, "fixture", ASSIGNMENT)["honest"] == HONEST_SCORE


@pytest.mark.slow
@pytest.mark.parametrize("student,reason", [
    ("deep-future", f"deep-future/{ASSIGNMENT}/{NOTEBOOK}: not a notebook (nested too deeply to read)"),
    ("bad-utf8", f"bad-utf8/{ASSIGNMENT}/{NOTEBOOK}: not a notebook (not valid JSON: 'utf-8' codec can't decode"),
    ("cell-is-a-number", f"{NOTEBOOK}: cell 1 is not a cell (a JSON int)"),
    ("source-is-a-number", f"{NOTEBOOK}: cell 1: source is a JSON int, not text"),
    ("cells-not-a-list", f"{NOTEBOOK}: not a notebook (no list of cells)"),
    ("json-list", f"{NOTEBOOK}: not a notebook (no list of cells)"),
    ("nbformat-3", f"{NOTEBOOK}: nbformat 3 is not supported (need 4)"),
    ("unknown-cell-type", f"{NOTEBOOK}: cell 1 has unknown type '<script>'"),
    ("sparse-2gb", f"{NOTEBOOK}: 2147483648 bytes is too large for a notebook (limit 32 MiB)"),
    ("fifo", f"fifo/{ASSIGNMENT}/{NOTEBOOK}: a named pipe (FIFO), not a notebook file"),
    ("directory-notebook", f"directory-notebook/{ASSIGNMENT}/{NOTEBOOK}: a folder, not a notebook file"),
    ("link-to-solutions", f"link-to-solutions/{ASSIGNMENT}/{NOTEBOOK}: a symbolic link, not a notebook file"),
    ("link-to-classmate", f"link-to-classmate/{ASSIGNMENT}/{NOTEBOOK}: a symbolic link, not a notebook file"),
    ("device-notebook", f"device-notebook/{ASSIGNMENT}/{NOTEBOOK}: a symbolic link, not a notebook file"),
    ("link-loop", f"link-loop/{ASSIGNMENT}/{NOTEBOOK}: a symbolic link, not a notebook file"),
    ("link-to-libc", f"link-to-libc/{ASSIGNMENT}/{NOTEBOOK}: a symbolic link, not a notebook file"),
    ("many-cells", f"{NOTEBOOK}: 6001 cells is more than a notebook has (limit 5000)"),
    ("two-notebooks", f"two-notebooks/{ASSIGNMENT}/{NOTEBOOK}: cannot read (No such file or directory)"),
    ("linked-folder", "submitted/linked-folder: a symbolic link, not a folder; a submission must be the "
                      "student's own files"),
    ("linked-assignment", f"linked-assignment/{ASSIGNMENT}: a symbolic link, not a folder"),
])
def test_unreadable_submissions_get_zero_and_their_own_reason(graded, course, student, reason):
    from course.gradebook import scores

    summaries, documents, _, _, _ = graded
    document = documents[student]
    assert summaries[student] == {"status": "unreadable", "score": 0.0, "max_score": 3.0,
                                  "execution_time": document["execution_time"]}
    assert document["extra_data"]["status"] == "unreadable" and document["score"] == 0
    assert reason in document["extra_data"]["notes"][0], document["extra_data"]["notes"]
    assert scores(course.gradebook_url, "fixture", ASSIGNMENT)[student] == 0


@pytest.mark.slow
def test_a_young_notebook_that_does_not_parse_waits_and_a_future_mtime_counts_as_settled(graded):
    summaries = graded[0]
    assert summaries["deep-young"]["status"] == "incomplete"
    assert summaries["deep-future"]["status"] == "unreadable"


@pytest.mark.slow
@pytest.mark.parametrize("student", ["no-metadata", "odd-metadata", "escaped-file-name", "timestamp-formula",
                                     "timestamp-fifo", "timestamp-link", "timestamp-good", "timestamp-month-13",
                                     "timestamp-huge", "forged-points", "lone-surrogates"])
def test_odd_but_honest_submissions_are_graded_normally(graded, student):
    document = graded[1][student]
    assert document["extra_data"]["status"] == "graded" and document["score"] == HONEST_SCORE, everything(document)


@pytest.mark.slow
def test_only_a_real_nbgrader_timestamp_reaches_the_gradebook(graded, course):
    from nbgrader.api import Gradebook

    documents = graded[1]
    assert documents["timestamp-good"]["extra_data"]["timestamp"] == "2026-11-20 10:00:00.123456 UTC"
    for student in ("timestamp-formula", "timestamp-fifo", "timestamp-link", "timestamp-month-13", "timestamp-huge"):
        assert "timestamp" not in documents[student]["extra_data"]
    with Gradebook(course.gradebook_url, course_id="fixture") as gb:
        assert str(gb.find_submission(ASSIGNMENT, "timestamp-good").timestamp).startswith("2026-11-20 10:00:00")


@pytest.mark.slow
def test_folders_that_are_no_student_id_are_refused_and_reach_nothing(graded, course):
    from course.gradebook import scores

    summaries, _, rows, out, _ = graded
    refused = [(job, s) for job, s in rows if s["status"] == "refused"]
    assert len(refused) == 8
    for job, summary in refused:
        assert job.out is None and "is not a student id" in summary["note"]
        assert all(c.isprintable() for c in job.student + summary["note"])
    assert "'\\x1b]0;owned\\x07\\x1b[2Jevil'" in summaries
    assert "'new\\nline'" in summaries
    written = {p.name for p in out.iterdir()}
    assert not [name for name in written if not name.isascii() or not name.replace("-", "").isalnum()], written
    recorded = set(scores(course.gradebook_url, "fixture", ASSIGNMENT))
    assert not [s for s in recorded if not s.replace("-", "").isalnum() or s != s.lower()], recorded
    table = batch.table(rows)
    assert "\x1b" not in table and "\x07" not in table and "\nline" not in table
    assert "REFUSED " in table and "submitted/=HYPERLINK(" in table


@pytest.mark.slow
def test_a_file_name_with_terminal_escapes_reaches_no_output_raw(graded):
    document = graded[1]["escaped-file-name"]
    assert document["extra_data"]["notebook"].endswith(f"{ASSIGNMENT}/\\x1b[31mred.ipynb")
    assert "\x1b" not in json.dumps(document, ensure_ascii=False)


@pytest.mark.slow
def test_forged_points_and_grade_ids_in_the_submission_change_nothing(graded):
    document = graded[1]["forged-points"]
    assert document["max_score"] == 3 and [p["grade_id"] for p in document["extra_data"]["parts"]] == ["add", "norm"]


@pytest.mark.slow
def test_the_judge_grades_a_snapshot_and_records_its_hash(graded, course):
    document = graded[1]["honest"]
    path = course.root / "submitted" / "honest" / ASSIGNMENT / NOTEBOOK
    assert document["extra_data"]["notebook_sha256"] == planning.sha256_of(path)
    assert document["extra_data"]["notebook"] == str(path)


@pytest.mark.slow
def test_what_is_recorded_is_capped(graded):
    _, documents, _, out, _ = graded
    document = documents["erroring-cells"]
    assert document["score"] == HONEST_SCORE  # the cells after the bombs still ran
    size = len((out / "erroring-cells" / ASSIGNMENT / "results.json").read_bytes())
    page = len((out / "erroring-cells" / ASSIGNMENT / "feedback.html").read_bytes())
    print(f"erroring cells x300: results.json {size} bytes, feedback.html {page} bytes")
    assert size <= results.MAX_BYTES and page <= feedback.MAX_CHARS
    errors = document["extra_data"]["cell_errors"]
    assert len(errors) == results.CELL_ERRORS_KEPT
    assert "250 more cell(s) raised; only the first 50 are shown" in document["extra_data"]["notes"]
    assert all(len(e["message"]) <= results.FIELD_CHARS["message"] + 60 for e in errors)
    assert len(documents["many-notes"]["extra_data"]["notes"]) <= results.NOTES_KEPT + 1


@pytest.mark.slow
def test_the_annotated_notebook_formgrader_renders_is_inert(graded):
    from nbconvert import HTMLExporter

    _, documents, _, out, _ = graded
    assert documents["hostile-markdown"]["score"] == HONEST_SCORE
    path = out / "hostile-markdown" / ASSIGNMENT / NOTEBOOK
    notebook = nbformat.read(path, as_version=4)
    assert "widgets" not in notebook.metadata
    for cell in notebook.cells:
        assert "attachments" not in cell
        if cell.cell_type == "markdown":
            assert cell.source.startswith("````text\n") or cell.source.startswith("```text\n"), cell.source
        else:
            assert cell.cell_type == "code"
            assert all(o["output_type"] == "stream" for o in cell.outputs)
    page, _ = HTMLExporter().from_notebook_node(notebook)
    lowered = page.lower()
    for raw in ("<script>alert", "<img src=x", "<iframe", "<svg onload", "<b onmouseover"):
        assert raw not in lowered, raw
    # shown as text is fine; as the target of a real tag it is not
    assert not re.search(r"<[a-z]+[^<>]*(href|src)\s*=\s*[\"']?\s*javascript:", lowered)
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in page  # still readable, as text


@pytest.mark.slow
def test_feedback_escapes_every_field_the_student_controls(graded):
    _, documents, _, out, _ = graded
    document = documents["hostile-fields"]
    text = everything(document)
    assert SCRIPT in text and IMG in text  # the hostile texts did reach the result ...
    page = (out / "hostile-fields" / ASSIGNMENT / "feedback.html").read_text()
    assert "<script>alert" not in page and "<img src=x" not in page  # ... and the page shows them as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    markdown_page = (out / "hostile-markdown" / ASSIGNMENT / "feedback.html").read_text()
    assert "<script>alert" not in markdown_page


# ---------------------------------------------------------------------------------------------
# fast: the readers themselves

def test_any_bytes_give_a_notebook_or_a_named_error():
    rng = random.Random(18)
    seeds = [b"", b"{", b"[]", b"null", b'{"cells": null}', b'{"cells": [{}]}', b'{"cells": [[]]}',
             b'{"cells": [], "nbformat": "4"}', b'{"cells": [{"cell_type": "code", "source": ["a", 1]}]}',
             b"\xef\xbb\xbf{}", b"[" * 100_000, b'{"a":' * 100_000, '{"cells": "\ud800"}'.encode("utf-8", "surrogatepass")]
    blob = json.dumps({"cells": [{"cell_type": "code", "source": "x", "metadata": {}, "outputs": []}],
                       "nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode()
    seeds += [bytes(rng.randrange(256) if rng.random() < 0.05 else b for b in blob) for _ in range(300)]
    seeds += [blob[:rng.randrange(len(blob))] for _ in range(100)]
    for raw in seeds:
        try:
            notebook = nb.parse_submission(raw, "x.ipynb")
        except nb.NotebookError as exc:
            assert str(exc).startswith("x.ipynb: "), exc
            continue
        nb.cells_to_run(notebook, notebook)
        sanitize.inert(notebook)
        nbformat.validate(notebook)


def test_read_submission_refuses_links_pipes_folders_and_huge_files(tmp_path):
    root = tmp_path / "submitted"
    (root / "amy" / "a").mkdir(parents=True)
    good = root / "amy" / "a" / "n.ipynb"
    good.write_bytes(b"{}")
    assert nb.read_submission(good, root) == b"{}"
    (root / "bo").symlink_to(root / "amy")
    with pytest.raises(nb.NotebookError, match="bo: a symbolic link, not a folder"):
        nb.read_submission(root / "bo" / "a" / "n.ipynb", root)
    os.mkfifo(root / "amy" / "a" / "pipe.ipynb")
    started = time.monotonic()
    with pytest.raises(nb.NotebookError, match=r"a named pipe \(FIFO\)"):
        nb.read_submission(root / "amy" / "a" / "pipe.ipynb", root)
    assert time.monotonic() - started < 1
    with pytest.raises(nb.NotebookError, match="too large"):
        nb.read_submission(good, root, limit=1)
    assert planning.sha256_of(root / "amy" / "a" / "pipe.ipynb") is None


def test_results_are_cut_to_a_mebibyte_and_say_so():
    big = "\u00e9" * 200_000
    document = results._document(1.0, 3.0, [{"name": "a: t", "output": big, "tags": ["a"]}] * 20,
                                 [{"grade_id": "a", "score": 1.0, "max_score": 3.0, "passed": 0, "total": 20}],
                                 {"assignment": "x", "student": "amy"}, 0.1,
                                 cell_errors=[{"cell": i, "type": "E", "message": big, "trace": big}
                                              for i in range(5000)],
                                 notes=[big] * 500, notebook_output=big * 10)
    size = len(results._serialise(document).encode())
    assert size <= results.MAX_BYTES
    assert "results.json was cut to fit 1024 KiB" in document["extra_data"]["truncated"]
    assert document["score"] == 1.0 and len(document["extra_data"]["cell_errors"]) == results.CELL_ERRORS_KEPT


def test_markdown_shown_as_text_cannot_close_its_own_fence():
    text = sanitize.as_text("a\n````\n<script>x</script>\n```")
    assert text.startswith("`````text\n") and text.endswith("\n`````")


# ---------------------------------------------------------------------------------------------
# the exchange: `course hub grade` collects only what each student submitted themselves

def _entry(inbound: Path, name: str, uid: int) -> Path:
    entry = inbound / name
    entry.mkdir()
    (entry / NOTEBOOK).write_text("{}")
    (entry / "timestamp.txt").write_text("2026-11-20 10:00:00 UTC")
    for path in (entry, entry / NOTEBOOK, entry / "timestamp.txt"):
        os.chown(path, uid, uid, follow_symlinks=False)
    return entry


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to other users needs root")
def test_inbound_entries_not_owned_by_their_student_are_not_collected(tmp_path, course):
    import pwd

    from course.inbound import screen_inbound

    nobody, daemon = pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("daemon").pw_uid
    inbound, quarantine = tmp_path / "exchange" / "c" / "inbound", tmp_path / "state" / "rejected"
    inbound.mkdir(parents=True)
    kept = _entry(inbound, f"nobody+{ASSIGNMENT}+2026-11-20 10:00:00 UTC+aaaa", nobody)
    _entry(inbound, f"daemon+{ASSIGNMENT}+2026-11-20 10:00:00 UTC+bbbb", nobody)     # forged by nobody
    inner = _entry(inbound, f"daemon+{ASSIGNMENT}+2026-11-20 11:00:00 UTC+cccc", daemon)
    os.chown(inner / NOTEBOOK, nobody, nobody)                                       # a file of another user
    linked = _entry(inbound, f"nobody+{ASSIGNMENT}+2026-11-20 12:00:00 UTC+dddd", nobody)
    (linked / NOTEBOOK).unlink()
    (linked / NOTEBOOK).symlink_to(course.root / "solutions" / ASSIGNMENT / NOTEBOOK)  # root would copy it
    os.chown(linked / NOTEBOOK, nobody, nobody, follow_symlinks=False)
    piped = _entry(inbound, f"nobody+{ASSIGNMENT}+2026-11-20 13:00:00 UTC+eeee", nobody)
    os.mkfifo(piped / "stuck.txt")                                                   # copytree would hang
    os.chown(piped / "stuck.txt", nobody, nobody)
    _entry(inbound, f"ghost-no-user+{ASSIGNMENT}+2026-11-20 10:00:00 UTC+ffff", nobody)
    _entry(inbound, f"=cmd\x1b[2J+{ASSIGNMENT}+2026-11-20 10:00:00 UTC+gggg", nobody)
    other = _entry(inbound, "daemon+99_other+2026-11-20 10:00:00 UTC+hhhh", nobody)  # not this assignment

    lines = screen_inbound(inbound, ASSIGNMENT, quarantine)

    assert sorted(p.name for p in inbound.iterdir()) == sorted([kept.name, other.name])
    assert len(lines) == 6 and len(list(quarantine.iterdir())) == 6
    text = "\n".join(lines)
    assert f"daemon+{ASSIGNMENT}+2026-11-20 10:00:00 UTC+bbbb: owned by uid {nobody}, not by daemon (uid {daemon})" in text
    assert f"cccc: {NOTEBOOK} is owned by uid {nobody}, not by daemon" in text
    assert f"dddd: {NOTEBOOK} is not a regular file" in text and "eeee: stuck.txt is not a regular file" in text
    assert "ffff: no system user ghost-no-user" in text
    assert "is not a student id" in text and "\x1b" not in text and "\\x1b[2J" in text
    assert oct(quarantine.stat().st_mode & 0o777) == "0o700"


def test_discover_refuses_bad_ids_and_reads_timestamps_safely(tmp_path):
    from course.paths import CourseError

    root = tmp_path / "submitted"
    for name in ("amy", "Bad Name", "x\x1b[0m"):
        (root / name / ASSIGNMENT).mkdir(parents=True)
        (root / name / ASSIGNMENT / NOTEBOOK).write_text("{}")
    os.mkfifo(root / "amy" / ASSIGNMENT / "timestamp.txt")
    jobs = batch.discover(ASSIGNMENT, [root], tmp_path / "out")
    assert [(j.student, j.refused is None, j.timestamp) for j in jobs] == [
        ("'Bad Name'", False, None), ("amy", True, None), ("'x\\x1b[0m'", False, None)]
    with pytest.raises(CourseError, match="--student '=1\\+1': not a student id"):
        batch.discover(ASSIGNMENT, [root / "amy" / ASSIGNMENT / NOTEBOOK], tmp_path / "out", student="=1+1")
    loose = batch.discover(ASSIGNMENT, [tmp_path / "Loose File.ipynb"], tmp_path / "out")
    assert loose[0].refused and "pass --student ID" in loose[0].refused


def test_formgrader_pages_carry_a_content_security_policy():
    from traitlets.config import Config

    from course.hub import embedded as hub

    config = Config()
    exec(hub.GRADER_SERVER_CONFIG.replace("get_config()", "config"), {"config": config})
    policy = config.ServerApp.tornado_settings["headers"]["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
                      "connect-src 'self'", "img-src 'self' data:", "frame-ancestors 'self'"):
        assert directive in policy
    assert "*" not in policy and "http" not in policy


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["cells", "cell_type", "source", "metadata", "nbgrader", "grade_id", "tags", "outputs",
                         "nbformat", "attachments", "id", "x"]), children, max_size=5),
    max_leaves=30)
_CELL = st.fixed_dictionaries(
    {"cell_type": st.sampled_from(["code", "markdown", "raw", "heading", 3]),
     "source": st.one_of(st.text(max_size=30), st.lists(st.text(max_size=5)), _JSON)},
    optional={"metadata": _JSON, "outputs": _JSON, "attachments": _JSON, "id": _JSON})


@settings(max_examples=150, deadline=None, database=None)
@given(st.one_of(_JSON, st.fixed_dictionaries({"cells": st.lists(st.one_of(_CELL, _JSON), max_size=5)},
                                              optional={"nbformat": _JSON, "metadata": _JSON})))
def test_any_json_shaped_like_a_notebook_gives_a_notebook_or_a_named_error(document):
    raw = json.dumps(document).encode()
    try:
        notebook = nb.parse_submission(raw, "h.ipynb")
    except nb.NotebookError as exc:
        assert str(exc).startswith("h.ipynb: ")
        return
    nb.cells_to_run(notebook, notebook)
    nbformat.validate(sanitize.inert(notebook))
    nbformat.v4.writes_json(annotate.annotated(notebook, {"extra_data": {"parts": []}, "tests": []}))


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to other users needs root")
def test_formgraders_collect_button_skips_forged_entries_and_links(tmp_path, course):
    """The grader's nbgrader_config.py as `course hub` writes it, loaded by traitlets as formgrader
    loads it, then nbgrader's real collect through ExchangeFactory (what the Collect button runs)."""
    import pwd
    import shutil

    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeFactory
    from traitlets.config import Config, PyFileConfigLoader

    from course import inbound
    from course.hub import embedded as hub

    nobody, daemon = pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("daemon").pw_uid
    state, cdir = tmp_path / "state", tmp_path / "state" / "course"
    (state / "jupyter" / "grader").mkdir(parents=True)
    cdir.mkdir()
    shutil.copy(inbound.__file__, state / "jupyter" / "grader" / "course_inbound.py")
    settings = hub.Settings(course_id="fixture", course_root=str(course.root), state=str(state))
    (cdir / "nbgrader_config.py").write_text(hub._nbgrader_config(settings, student=False))
    box = settings.exchange / "fixture" / "inbound"
    box.mkdir(parents=True)
    _entry(box, f"nobody+{ASSIGNMENT}+2026-11-20 10:00:00.000001 UTC+aaaa", nobody)
    _entry(box, f"daemon+{ASSIGNMENT}+2026-11-20 10:00:00.000001 UTC+bbbb", nobody)       # forged
    linked = _entry(box, f"bin+{ASSIGNMENT}+2026-11-20 10:00:00.000001 UTC+cccc", pwd.getpwnam("bin").pw_uid)
    (linked / NOTEBOOK).unlink()
    (linked / NOTEBOOK).symlink_to(course.root / "solutions" / ASSIGNMENT / NOTEBOOK)
    os.chown(linked / NOTEBOOK, 2, 2, follow_symlinks=False)
    _entry(box, f"sys+{ASSIGNMENT}+not a date+dddd", 3)                                     # stopped nbgrader

    loader = PyFileConfigLoader("nbgrader_config.py", path=str(cdir))
    config = Config(loader.load_config())
    config.CourseDirectory.assignment_id = ASSIGNMENT
    coursedir = CourseDirectory(config=config)
    collect = ExchangeFactory(config=config).Collect(coursedir=coursedir, authenticator=Authenticator(config=config),
                                                     config=config)
    assert type(collect).__name__ == "ScreenedCollect"
    collect.start()
    assert sorted(p.name for p in (cdir / "submitted").iterdir()) == ["nobody"]
    assert len(list(box.iterdir())) == 4  # the grader account cannot move them; they are skipped


def test_folder_names_that_are_not_even_utf8_are_refused_printably(tmp_path):
    root = tmp_path / "submitted"
    folder = os.path.join(os.fsencode(root), b"\xff\xfe\x1b[2J", os.fsencode(ASSIGNMENT))
    os.makedirs(folder)
    with open(os.path.join(folder, os.fsencode(NOTEBOOK)), "w") as stream:
        stream.write("{}")
    (job,) = batch.discover(ASSIGNMENT, [root], tmp_path / "out")
    assert job.refused and job.out is None
    line = batch.table([(job, {"status": "refused", "note": job.refused})])
    assert line.isascii() and "\x1b" not in line and "\\x1b[2J" in line
    line.encode("utf-8")  # no lone surrogate reaches the terminal


def test_course_record_merges_no_result_whose_student_is_not_an_id(tmp_path, course):
    from course.gradebook import scores

    out = tmp_path / "shared"
    parts = nb.parts(nb.load(course.source_notebook(ASSIGNMENT)))
    good = results.unreadable(parts, {"assignment": ASSIGNMENT, "student": "amy"}, "x", 0.0)
    bad = results.unreadable(parts, {"assignment": ASSIGNMENT, "student": "=1+1"}, "x", 0.0)
    results.write(good, out / "amy" / ASSIGNMENT)
    results.write(bad, out / "mallory" / ASSIGNMENT)
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    recorded, skipped = batch.record_results(course, ASSIGNMENT, out, db)
    assert (recorded, skipped) == (1, ["mallory"])
    assert set(scores(db, "fixture", ASSIGNMENT)) == {"amy"}


def test_a_students_link_never_decides_what_the_sandboxes_hide(tmp_path):
    root = tmp_path / "submitted"
    folder = root / "mallory" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).symlink_to(os.path.realpath("/lib/x86_64-linux-gnu/libc.so.6"))
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ASSIGNMENT).mkdir(parents=True)
    (elsewhere / ASSIGNMENT / NOTEBOOK).write_text("{}")
    (root / "eve").symlink_to(elsewhere)
    jobs = [j for j in batch.discover(ASSIGNMENT, [root], tmp_path / "out") if not j.refused]
    assert {j.student for j in jobs} == {"mallory", "eve"}
    assert batch.hidden_roots(jobs, ASSIGNMENT) == [str(tmp_path / "out"), str(root)]


def test_feedback_is_cut_to_two_mebibytes_and_says_so(tmp_path):
    # 200 checks whose messages are 4,000 '<' each: 0.8 MB of results, 3.2 MB once escaped
    tests = [{"name": f"add: t{i}", "score": 0.0, "max_score": 0.01, "status": "failed", "output": "<" * 4000,
              "visibility": "visible", "tags": ["add"]} for i in range(200)]
    document = results._document(0.0, 2.0, tests, [{"grade_id": "add", "score": 0.0, "max_score": 2.0,
                                                     "passed": 0, "total": 200}],
                                 {"assignment": ASSIGNMENT, "student": "amy"}, 0.1,
                                 cell_errors=[], notes=[], notebook_output="")
    assert len(feedback.render(document)) > feedback.MAX_CHARS
    page = feedback.write(document, tmp_path).read_text()
    assert len(page) <= feedback.MAX_CHARS and "this page was cut to fit" in page


def test_collect_copies_without_following_a_link_swapped_in_after_screening(tmp_path):
    """Red team (hub, round 2): the entry passed screening, then its student swapped a file for a
    link (to the solution, /etc/shadow); nbgrader's copytree followed it as root. The copy now
    opens everything with O_NOFOLLOW and checks what it opened."""
    import pwd

    from course.inbound import Changed, copy_entry

    uid = os.getuid()
    entry = tmp_path / "inbound" / "ann+00_demo+2026-11-20 10:00:00.000000 UTC+abc"
    (entry / "sub").mkdir(parents=True)
    (entry / "00_demo.ipynb").write_text("{}")
    (entry / "sub" / "data.txt").write_text("mine")
    secret = tmp_path / "solution.ipynb"
    secret.write_text("THE SOLUTION")
    copy_entry(entry, tmp_path / "ok", uid)    # an honest entry is copied whole
    assert (tmp_path / "ok" / "sub" / "data.txt").read_text() == "mine"
    assert oct((tmp_path / "ok" / "00_demo.ipynb").stat().st_mode & 0o777) == "0o600"

    (entry / "00_demo.ipynb").unlink()
    (entry / "00_demo.ipynb").symlink_to(secret)        # swapped in after the screening
    with pytest.raises(Changed, match="without following a link"):
        copy_entry(entry, tmp_path / "file-link", uid)
    assert not (tmp_path / "file-link").exists()           # nothing of the entry is kept
    (entry / "00_demo.ipynb").unlink()
    (entry / "00_demo.ipynb").write_text("{}")
    os.rename(entry / "sub", tmp_path / "moved")
    (entry / "sub").symlink_to(tmp_path)                    # a folder swapped for a link
    with pytest.raises(Changed):
        copy_entry(entry, tmp_path / "folder-link", uid)
    (entry / "sub").unlink()
    os.rename(tmp_path / "moved", entry / "sub")
    os.link(secret, entry / "hard.ipynb")                   # a hard link to someone else's file
    with pytest.raises(Changed, match="regular file"):
        copy_entry(entry, tmp_path / "hard-link", uid)
    os.unlink(entry / "hard.ipynb")
    os.mkfifo(entry / "pipe.ipynb")                         # a FIFO would hang a plain copy
    with pytest.raises(Changed, match="regular file"):
        copy_entry(entry, tmp_path / "fifo", uid)
    os.unlink(entry / "pipe.ipynb")
    other = next(p.pw_uid for p in pwd.getpwall() if p.pw_uid != uid)
    with pytest.raises(Changed, match="of the student's"):   # owned by someone else
        copy_entry(entry, tmp_path / "not-theirs", other)
