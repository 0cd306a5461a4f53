"""course.toml: open and due dates, the late policy, extensions, and every mistake named."""
from __future__ import annotations

import datetime as dt

import pytest

from course import schedule
from course.paths import CourseError

KST = dt.timezone(dt.timedelta(hours=9))
TEXT = """
[course]
language = "ko"

[late]
per_day = 0.1
max_days = 3

[assignments.01_tensors]
open = 2027-03-02T09:00:00+09:00
due = 2027-03-09T23:59:00+09:00

[assignments.02_autograd_engine]
open = 2027-03-09T09:00:00+09:00
due = 2027-03-16T23:59:00+09:00
late = { per_day = 0.25, max_days = 1 }

[extensions.01_tensors]
kim01 = 2027-03-11T23:59:00+09:00
"""
KNOWN = ["01_tensors", "02_autograd_engine", "03_layers_mlp"]


def _load(tmp_path, text=TEXT):
    (tmp_path / "course.toml").write_text(text)
    return schedule.load(tmp_path, KNOWN)


def test_the_policy_takes_a_share_per_started_day_then_everything():
    policy = schedule.LatePolicy(per_day=0.1, max_days=3)
    day = 86400
    assert [policy.penalty_share(s) for s in (-5, 0, 1, day, day + 1, 3 * day, 3 * day + 1)] == [
        0.0, 0.0, 0.1, 0.1, 0.2, 0.3, 1.0]
    assert schedule.LatePolicy().penalty_share(1) == 1.0  # no grace: any lateness loses everything


def test_open_due_and_extensions_are_read_with_their_offsets(tmp_path):
    plan = _load(tmp_path)
    first = plan.of("01_tensors")
    assert first.due == dt.datetime(2027, 3, 9, 23, 59, tzinfo=KST)
    assert first.late == schedule.LatePolicy(0.1, 3)
    assert plan.of("02_autograd_engine").late == schedule.LatePolicy(0.25, 1)
    assert plan.of("03_layers_mlp").due is None and plan.of("03_layers_mlp").is_open(dt.datetime(2000, 1, 1, tzinfo=KST))
    before = dt.datetime(2027, 3, 5, tzinfo=KST)
    assert plan.open_now(KNOWN, before) == ["01_tensors", "03_layers_mlp"]
    assert plan.open_now(KNOWN, dt.datetime(2027, 3, 9, 9, tzinfo=KST)) == KNOWN


def test_lateness_counts_from_the_students_own_due_date(tmp_path):
    first = _load(tmp_path).of("01_tensors")
    submitted = dt.datetime(2027, 3, 10, 12, 0, tzinfo=KST)   # 12 h 1 min after the class's due date
    late = first.lateness("lee02", submitted)
    assert late["days_late"] == 1 and late["penalty_share"] == 0.1 and not late["extension"]
    on_time = first.lateness("kim01", submitted)                # kim01 has until the 11th
    assert on_time["days_late"] == 0 and on_time["penalty_share"] == 0.0 and on_time["extension"]
    assert first.lateness("lee02", None) is None
    # the same instant written in UTC is the same lateness
    utc = submitted.astimezone(dt.timezone.utc)
    assert first.lateness("lee02", utc)["seconds_late"] == late["seconds_late"]


def test_nbgrader_timestamps_are_read_as_utc():
    assert schedule.parse_nbgrader_timestamp("2027-03-10 03:00:00.123456 UTC") == dt.datetime(
        2027, 3, 10, 3, 0, 0, 123456, tzinfo=dt.timezone.utc)
    assert schedule.parse_nbgrader_timestamp("yesterday") is None and schedule.parse_nbgrader_timestamp(None) is None


@pytest.mark.parametrize("text, says", [
    ("[assignments.01_tensors]\ndue = 2027-03-09T23:59:00\n", "no UTC offset"),
    ("[assignments.01_tensors]\nopen = 2027-03-09T09:00:00Z\ndue = 2027-03-08T09:00:00Z\n", "is not after open"),
    ("[assignments.99_nope]\ndue = 2027-03-09T23:59:00Z\n", "no such assignment"),
    ("[assignments.01_tensors]\ndue = \"next friday\"\n", "expected a date and time"),
    ("[assignments.01_tensors]\ndeadline = 2027-03-09T23:59:00Z\n", "unknown key 'deadline'"),
    ("[late]\nper_day = 1.5\n", "per_day = 1.5"),
    ("[late]\nmax_days = -1\n", "max_days = -1"),
    ("[course]\nlanguage = \"fr\"\n", "language = 'fr'; known: ko, en"),
    ("[grading]\nx = 1\n", "unknown table [grading]"),
    ("[assignments.01_tensors]\ndue = 2027-03-09T23:59:00Z\n[extensions.01_tensors]\nkim01 = 2027-03-01T00:00:00Z\n",
     "is not after the due date"),
    ("[extensions.03_layers_mlp]\nkim01 = 2027-03-01T00:00:00Z\n", "no [assignments.03_layers_mlp]"),
    ("[assignments.01_tensors\n", "course.toml"),
])
def test_every_mistake_is_named_with_the_file(tmp_path, text, says):
    with pytest.raises(CourseError) as info:
        _load(tmp_path, text)
    assert says in str(info.value) and "course.toml" in str(info.value)


def test_no_file_means_everything_open_and_nothing_due(tmp_path):
    plan = schedule.load(tmp_path, KNOWN)
    assert plan.open_now(KNOWN) == KNOWN and plan.of("01_tensors").lateness("x", dt.datetime.now(KST)) is None


@pytest.mark.slow
def test_late_submissions_lose_the_policy_share_in_results_gradebook_and_nbgrader_export(tmp_path):
    import csv
    import json
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from conftest import ASSIGNMENT, FIXTURE_COURSE, build_notebook, submit
    from course.paths import Course

    course = Course(tmp_path / "course")
    shutil.copytree(FIXTURE_COURSE, course.root)
    (course.root / "course.toml").write_text(
        f"[late]\nper_day = 0.1\nmax_days = 3\n\n"
        f"[assignments.{ASSIGNMENT}]\ndue = 2027-03-09T23:59:00+09:00\n\n"
        f"[extensions.{ASSIGNMENT}]\next = 2027-03-12T23:59:00+09:00\n")
    stamps = {"ontime": "2027-03-09 14:00:00.000000 UTC",     # 23:00 KST, before the due date
              "late2": "2027-03-11 10:00:00.000000 UTC",      # 1 day 19 h late: two started days
              "late9": "2027-03-19 10:00:00.000000 UTC",      # past max_days: everything
              "ext": "2027-03-11 10:00:00.000000 UTC"}        # late for the class, on time for ext
    for student, stamp in stamps.items():
        path = submit(course, student, build_notebook(course))
        (path.parent / "timestamp.txt").write_text(stamp)
    run = subprocess.run([sys.executable, "-m", "course.cli", "grade", ASSIGNMENT, "submitted", "--settle", "0"],
                         cwd=course.root, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    late = {s: json.loads((course.root / "autograded" / s / ASSIGNMENT / "results.json").read_text())["extra_data"]["late"]
            for s in stamps}
    assert {s: (v["days_late"], v["penalty_share"]) for s, v in late.items()} == {
        "ontime": (0, 0.0), "late2": (2, 0.2), "late9": (10, 1.0), "ext": (0, 0.0)}
    assert late["ext"]["extension"] and late["ext"]["due"].startswith("2027-03-12")
    page = {s: (course.root / "autograded" / s / ASSIGNMENT / "feedback.html").read_text() for s in stamps}
    assert "the late policy takes 20%, so this counts as 2.4 / 3" in page["late2"]
    assert "class='late'" not in page["ontime"] and "class='late'" not in page["ext"]
    export = course.root / "grades.csv"
    subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "export", "--to", str(export)],
                   cwd=course.root, check=True, capture_output=True)
    rows = {row["student_id"]: row for row in csv.DictReader(export.open())}
    assert {s: float(rows[s]["raw_score"]) for s in stamps} == {s: 3.0 for s in stamps}
    assert {s: float(rows[s]["late_submission_penalty"]) for s in stamps} == {
        "ontime": 0.0, "late2": pytest.approx(0.6), "late9": 3.0, "ext": 0.0}
    assert float(rows["late2"]["score"]) == pytest.approx(2.4)
    assert rows["ontime"]["duedate"].startswith("2027-03-09 14:59")  # stored in UTC


@pytest.mark.slow
def test_export_and_stats_show_parts_lateness_and_failing_checks(tmp_path):
    import csv
    import shutil
    import subprocess
    import sys

    from conftest import ASSIGNMENT, FIXTURE_COURSE, build_notebook, submit
    from course.paths import Course

    course = Course(tmp_path / "course")
    shutil.copytree(FIXTURE_COURSE, course.root)
    (course.root / "course.toml").write_text(
        f"[late]\nper_day = 0.25\nmax_days = 2\n\n[assignments.{ASSIGNMENT}]\ndue = 2027-03-09T00:00:00Z\n")
    submissions = {"amy": (build_notebook(course), "2027-03-08 10:00:00.000000 UTC"),
                   "bo": (build_notebook(course, replace={"norm_impl": "def norm(x):\n    return 0.0\n"}),
                          "2027-03-09 10:00:00.000000 UTC"),
                   # a student id a spreadsheet would not run, and a part that never passes
                   "cy": (build_notebook(course, replace={"add_impl": "def add(a, b):\n    return a - b\n"}),
                          "2027-03-08 10:00:00.000000 UTC")}
    for student, (notebook, stamp) in submissions.items():
        path = submit(course, student, notebook)
        (path.parent / "timestamp.txt").write_text(stamp)

    def course_cmd(*args):
        run = subprocess.run([sys.executable, "-m", "course.cli", *args], cwd=course.root, capture_output=True,
                             text=True, timeout=600)
        assert run.returncode == 0, run.stdout + run.stderr
        return run.stdout

    course_cmd("grade", ASSIGNMENT, "submitted", "--settle", "0")
    assert "row(s)" in course_cmd("export", "--to", "out.csv")
    rows = list(csv.DictReader((course.root / "out.csv").open()))
    by = {(r["student_id"], r["part"]): r for r in rows}
    assert set(by) == {(s, p) for s in submissions for p in ("add", "norm")}
    assert by[("bo", "norm")]["part_score"] == "0.0" and by[("bo", "add")]["part_score"] == "2.0"
    assert by[("bo", "add")]["raw_score"] == "2.0" and by[("bo", "add")]["late_penalty"] == "0.5"
    assert by[("bo", "add")]["score"] == "1.5" and by[("bo", "add")]["days_late"] == "1"
    assert by[("amy", "add")]["late_penalty"] == "0.0" and by[("amy", "add")]["days_late"] == "0"
    assert by[("amy", "add")]["due"].startswith("2027-03-09 00:00:00")

    course_cmd("stats", ASSIGNMENT, "--to", "stats.html")
    page = (course.root / "stats.html").read_text()
    assert "3 submissions, 3 graded, 0 judge errors" in page
    assert page.count("data:image/png;base64,") == 3  # total, add, norm
    assert "1 day(s) late: 1" in page
    assert "<code>norm: test_norm</code></td><td>1</td>" in page or "norm" in page.split("fail most often")[1]


def test_export_cells_never_start_a_formula():
    from course import export

    row = {c: "" for c in export.COLUMNS}
    row.update(student_id="=HYPERLINK(\"x\")", part="+cmd|' /C calc'!A0", raw_score=-1.5, assignment="@SUM")
    text = export.to_csv([row])
    assert "'=HYPERLINK" in text and "'+cmd" in text and "'@SUM" in text
    assert ",-1.5," in text  # a negative number stays a number


def test_a_backdated_timestamp_is_replaced_by_when_the_exchange_received_the_entry(tmp_path):
    import os

    from course import inbound

    def entry(name, claimed):
        folder = tmp_path / "inbound" / name
        folder.mkdir(parents=True)
        (folder / "01_tensors.ipynb").write_text("{}")
        (folder / "timestamp.txt").write_text(claimed)
        os.utime(folder / "01_tensors.ipynb", (0, 0))        # mtimes are the student's to set: ignored
        copy = tmp_path / "submitted" / name
        copy.mkdir(parents=True)
        (copy / "timestamp.txt").write_text(claimed)
        return folder, copy

    now = dt.datetime.now(dt.timezone.utc)
    honest_stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    folder, copy = entry("amy+01_tensors+x+1", honest_stamp)
    assert inbound.trust_timestamp(folder, copy) is None
    assert (copy / "timestamp.txt").read_text() == honest_stamp
    for claimed in ("2020-01-01 00:00:00.000000 UTC", "yesterday"):
        folder, copy = entry(f"bo+01_tensors+{len(claimed)}+1", claimed)
        said = inbound.trust_timestamp(folder, copy)
        assert said and "the exchange received it at" in said
        recorded = schedule.parse_nbgrader_timestamp((copy / "timestamp.txt").read_text())
        assert abs((recorded - now).total_seconds()) < 60   # the entry's change time, not the claim


def test_a_top_level_language_is_the_feedbacks_setting_not_a_schedule_error(tmp_path):
    from course.judge.messages import course_language

    plan = _load(tmp_path, 'language = "ko"\n[late]\nper_day = 0.1\nmax_days = 1\n')
    assert plan.language == course_language(tmp_path) == "ko"
    assert plan.of("01_tensors").due is None  # an assignment course.toml does not name is never late
