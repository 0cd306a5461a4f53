"""Edges of batch planning: which results.json counts as final, the settle window, what the suite
hash covers (and ignores), and the shard syntax."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from conftest import ASSIGNMENT, FIXTURE_COURSE
from course import planning
from course.batch import Job
from course.paths import Course, CourseError


def _job(tmp_path, student, text='{"cells": []}'):
    notebook = tmp_path / "submitted" / student / "a.ipynb"
    notebook.parent.mkdir(parents=True, exist_ok=True)
    notebook.write_text(text)
    return Job(student, notebook, tmp_path / "out" / student / "a")


def _results(job, text: str) -> None:
    job.out.mkdir(parents=True, exist_ok=True)
    (job.out / "results.json").write_text(text)


def _document(job, **extra) -> str:
    return json.dumps({"score": 2.0, "max_score": 3.0, "execution_time": 1.5,
                       "extra_data": {"status": "graded", "notebook_sha256": planning.sha256_of(job.notebook),
                                      **extra}})


@pytest.mark.parametrize("text", ["{not json", "[]", '{"score": 1}', '{"extra_data": null}',
                                  '{"extra_data": {"status": "graded"}}'])
def test_a_results_file_that_records_no_notebook_hash_regrades(tmp_path, text):
    job = _job(tmp_path, "amy")
    _results(job, text)
    assert planning.plan([job], force=False, settle=0).todo == [0]


def test_a_kept_result_reports_its_own_status_and_figures(tmp_path):
    job = _job(tmp_path, "amy")
    _results(job, _document(job, status="late"))
    assert planning.plan([job], force=False, settle=0).kept == {
        0: {"status": "late", "score": 2.0, "max_score": 3.0, "execution_time": 1.5, "kept": True}}


def test_a_result_without_a_suite_hash_is_kept_only_when_no_suite_is_asked(tmp_path):
    job = _job(tmp_path, "amy")
    _results(job, _document(job))
    assert planning.plan([job], force=False, settle=0).todo == []
    assert planning.plan([job], force=False, settle=0, suite="abc").todo == [0]
    _results(job, _document(job, suite_sha256="abc"))
    assert planning.plan([job], force=False, settle=0, suite="abc").todo == []


def test_an_unreadable_notebook_is_graded_even_when_its_old_result_matches_nothing(tmp_path):
    job = _job(tmp_path, "amy")
    _results(job, _document(job))
    job.notebook.unlink()
    plan = planning.plan([job], force=False, settle=30)
    assert plan.todo == [0] and plan.incomplete == {} and plan.kept == {}


def test_a_young_notebook_that_parses_is_graded_at_once(tmp_path):
    plan = planning.plan([_job(tmp_path, "amy")], force=False, settle=3600)
    assert plan.todo == [0] and plan.incomplete == {}


def test_the_settle_window_is_measured_from_the_last_write(tmp_path):
    job = _job(tmp_path, "amy", '{"cells": [')
    recent = time.time() - 20
    os.utime(job.notebook, (recent, recent))
    assert list(planning.plan([job], force=False, settle=30).incomplete) == [0]
    assert planning.plan([job], force=False, settle=10).todo == [0]
    note = planning.plan([job], force=False, settle=30).incomplete[0]
    assert note == {"status": "incomplete", "note": f"{job.notebook} is still being written; run again to grade it"}


def test_only_leftovers_of_an_atomic_write_are_cleaned(tmp_path):
    job = _job(tmp_path, "amy")
    _results(job, _document(job))
    (job.out / ".results.json.tmp1").write_text("{")
    (job.out / "feedback.html").write_text("kept")
    planning.plan([job], force=False, settle=0)
    assert sorted(p.name for p in job.out.iterdir()) == ["feedback.html", "results.json"]


def _course_copy(tmp_path) -> Course:
    shutil.copytree(FIXTURE_COURSE, tmp_path / "course")
    return Course(tmp_path / "course")


def test_the_suite_hash_ignores_bytecode_caches_but_not_a_new_suite_file(tmp_path):
    course = _course_copy(tmp_path)
    before = planning.suite_hash(course, ASSIGNMENT)
    cache = course.autograder / ASSIGNMENT / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "test_demo.cpython-311.pyc").write_bytes(b"\0" * 16)
    assert planning.suite_hash(course, ASSIGNMENT) == before
    (course.autograder / ASSIGNMENT / "data.csv").write_text("1,2\n")
    assert planning.suite_hash(course, ASSIGNMENT) != before


def test_the_suite_hash_tells_a_missing_release_from_an_empty_one(tmp_path):
    course = _course_copy(tmp_path)
    release = course.release_notebook(ASSIGNMENT)
    release.write_bytes(b"")
    empty = planning.suite_hash(course, ASSIGNMENT)
    release.unlink()
    assert planning.suite_hash(course, ASSIGNMENT) != empty


def test_the_suite_hash_follows_the_schedule(tmp_path):
    course = _course_copy(tmp_path)
    before = planning.suite_hash(course, ASSIGNMENT)
    (course.root / "course.toml").write_text(
        f'[assignments.{ASSIGNMENT}]\ndue = 2027-03-09T23:59:00+09:00\n')
    assert planning.suite_hash(course, ASSIGNMENT) != before


def test_the_suite_hash_names_files_by_their_place_in_the_course(tmp_path):
    # the same bytes under another name (a renamed test file) is another suite
    course = _course_copy(tmp_path)
    before = planning.suite_hash(course, ASSIGNMENT)
    suite = course.autograder / ASSIGNMENT
    (suite / "probes.py").rename(suite / "probes2.py")
    assert planning.suite_hash(course, ASSIGNMENT) != before
    (suite / "probes2.py").rename(suite / "probes.py")
    assert planning.suite_hash(course, ASSIGNMENT) == before


@pytest.mark.parametrize("text, expected", [("1/1", (1, 1)), ("3/5", (3, 5)), ("5/5", (5, 5)), (" 2/ 4", (2, 4))])
def test_a_good_shard_spec_is_read(text, expected):
    assert planning.parse_shard(text) == expected


@pytest.mark.parametrize("text, words", [("0/3", "I must be between 1 and N"), ("4/3", "I must be between 1 and N"),
                                         ("1/2/3", "expected I/N, e.g. 2/5"), ("", "expected I/N"),
                                         ("-1/3", "I must be between")])
def test_a_bad_shard_spec_says_what_is_wrong(text, words):
    with pytest.raises(CourseError, match=f"--shard {text!r}: {words}"):
        planning.parse_shard(text)


def test_one_shard_holds_everyone():
    assert all(planning.in_shard(s, 1, 1) for s in ("a", "b", "s999", ""))


def test_a_refused_folder_does_not_stop_the_planning_of_the_next(tmp_path):
    refused = Job("=x", tmp_path / "x.ipynb", None, refused="not a student id")
    plan = planning.plan([refused, _job(tmp_path, "amy")], force=False, settle=0)
    assert list(plan.refused) == [0] and plan.todo == [1]


def test_a_linked_folder_below_the_graders_folder_is_never_read_or_kept(tmp_path):
    # submitted/amy is a link to somewhere else: with `below` set the notebook is not read, so
    # its old result is not kept even though the bytes match
    elsewhere = _job(tmp_path / "elsewhere", "amy")
    submitted = tmp_path / "submitted"
    submitted.mkdir()
    (submitted / "amy").symlink_to(elsewhere.notebook.parent)
    job = Job("amy", submitted / "amy" / "a.ipynb", tmp_path / "out" / "amy" / "a", below=submitted)
    _results(job, _document(elsewhere))
    assert planning.sha256_of(job.notebook) is not None
    assert planning.sha256_of(job.notebook, submitted) is None
    plan = planning.plan([job], force=False, settle=0)
    assert plan.todo == [0] and plan.kept == {}


def test_a_settle_window_of_one_second_still_waits(tmp_path):
    job = _job(tmp_path, "amy", '{"cells": [')
    just_now = time.time() - 0.2
    os.utime(job.notebook, (just_now, just_now))
    assert list(planning.plan([job], force=False, settle=1).incomplete) == [0]
