"""Shared fixtures: a throw-away copy of the small fixture course and submission builders."""
from __future__ import annotations

import copy
import shutil
from pathlib import Path

import nbformat
import pytest

from course import notebook as nb
from course.paths import Course, ensure_scripts_on_path

FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "course"
ASSIGNMENT = "00_demo"

ensure_scripts_on_path()

try:  # property tests: no example database written into the checkout (CI starts clean anyway)
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("course", database=None)
    _hypothesis_settings.load_profile("course")
except ImportError:
    pass


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(FIXTURE_COURSE, root, dirs_exist_ok=True)
    return Course(root)


@pytest.fixture
def own_course(tmp_path_factory) -> Course:
    """A course of its own per test, for tests that grade whole classes into it."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(FIXTURE_COURSE, root, dirs_exist_ok=True)
    return Course(root)


def build_notebook(course: Course, *, replace: dict[str, str] | None = None,
                   insert_after: dict[str, str] | None = None, edit=None):
    """The source (solved) notebook with cells replaced / inserted / edited by a callback."""
    notebook = copy.deepcopy(nb.load(course.source_notebook(ASSIGNMENT)))
    cells = []
    for cell in notebook.cells:
        cid = nb.grade_id(cell)
        if replace and cid in replace:
            cell.source = replace[cid]
        cells.append(cell)
        if insert_after and cid in insert_after:
            cells.append(nbformat.v4.new_code_cell(insert_after[cid]))
    notebook.cells = cells
    if edit:
        edit(notebook)
    return notebook


def submit(course: Course, student: str, notebook=None, raw: bytes | None = None) -> Path:
    """Place a submission in nbgrader's submitted/<student>/<assignment>/ layout."""
    folder = course.root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ASSIGNMENT}.ipynb"
    if raw is not None:
        path.write_bytes(raw)
    else:
        nbformat.write(notebook, path)
    return path
