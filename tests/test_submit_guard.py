"""The students' submit guard (course/hub/student/submit_guard.py): an assignment whose answer cells
are all as released is not submitted at the first press; a second press within the window is.

No hub: the guard's functions on a fetched folder and a release folder in tmp_path, and nbgrader's
own assignment-list manager (wrapped by the guard) submitting into an exchange in tmp_path.
Decided: anything the guard cannot compare (a notebook missing or unreadable, no release) submits
at once; the judge reports a missing or broken notebook in the feedback.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from course.hub import student
from course.hub.student.submit_guard import MESSAGES, SubmitGuard, answer_cells, guarded_manager_class, untouched

RELEASE = Path(__file__).parent / "fixtures" / "course" / "release" / "00_demo"
NOTEBOOK = "00_demo.ipynb"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def fetched_copy(tmp_path: Path) -> tuple[Path, Path]:
    """(fetched, release): a student's untouched copy of the fixture release."""
    release = tmp_path / "release" / "00_demo"
    shutil.copytree(RELEASE, release)
    fetched = tmp_path / "home" / "00_demo"
    shutil.copytree(RELEASE, fetched)
    return fetched, release


def edit(notebook: Path, grade_id: str, source) -> None:
    data = json.loads(notebook.read_text())
    cells = data["cells"]
    for cell in cells:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            if source is None:
                cells.remove(cell)
            else:
                cell["source"] = source
            break
    else:
        raise AssertionError(grade_id)
    notebook.write_text(json.dumps(data))


def test_the_fixture_release_has_answer_cells():
    assert set(answer_cells(json.loads((RELEASE / NOTEBOOK).read_text()))) == {"add_impl", "norm_impl"}


def test_an_untouched_assignment_needs_a_second_press_within_the_window(tmp_path):
    fetched, release = fetched_copy(tmp_path)
    clock = Clock()
    guard = SubmitGuard(clock=clock, language="ko", window=600)
    first = guard.check("c", "00_demo", fetched, release)
    assert first == MESSAGES["ko"].format(assignment="00_demo", minutes=10)
    assert "제출하지 않았습니다" in first and "10분" in first
    clock.now += 599
    assert guard.check("c", "00_demo", fetched, release) is None      # confirmed: submits
    # the confirmation is used up: pressing again (a resubmission) asks again
    assert guard.check("c", "00_demo", fetched, release) is not None


def test_a_press_after_the_window_asks_again(tmp_path):
    fetched, release = fetched_copy(tmp_path)
    clock = Clock()
    guard = SubmitGuard(clock=clock, window=600)
    assert guard.check("c", "00_demo", fetched, release) is not None
    clock.now += 601
    assert guard.check("c", "00_demo", fetched, release) is not None   # too late: asks again
    clock.now += 10
    assert guard.check("c", "00_demo", fetched, release) is None        # in time after that one


def test_confirmations_are_per_assignment(tmp_path):
    fetched, release = fetched_copy(tmp_path)
    guard = SubmitGuard(clock=Clock())
    assert guard.check("c", "00_demo", fetched, release) is not None
    assert guard.check("c", "other", fetched, release) is not None     # the first press of another
    assert guard.check("other_course", "00_demo", fetched, release) is not None


@pytest.mark.parametrize("change", [
    "def add(a, b):\n    return a + b\n",            # an answer written
    ["def add(a, b):\n", "    return a + b\n"],      # as nbformat's list of lines
    None,                                            # the answer cell deleted
])
def test_a_changed_answer_cell_submits_at_once(tmp_path, change):
    fetched, release = fetched_copy(tmp_path)
    edit(fetched / NOTEBOOK, "add_impl", change)
    assert not untouched(fetched, release)
    assert SubmitGuard(clock=Clock()).check("c", "00_demo", fetched, release) is None


def test_whitespace_alone_is_no_answer(tmp_path):
    fetched, release = fetched_copy(tmp_path)
    original = answer_cells(json.loads((release / NOTEBOOK).read_text()))["norm_impl"]
    edit(fetched / NOTEBOOK, "norm_impl", "\n" + original + "\n\n   ")
    assert untouched(fetched, release)


def test_a_change_in_a_read_only_cell_is_not_an_answer(tmp_path):
    fetched, release = fetched_copy(tmp_path)
    edit(fetched / NOTEBOOK, "imports", "import numpy as np\nprint('hi')")
    assert untouched(fetched, release)


def test_a_pending_confirmation_is_dropped_once_the_student_writes_an_answer(tmp_path):
    fetched, release = fetched_copy(tmp_path)
    clock = Clock()
    guard = SubmitGuard(clock=clock)
    assert guard.check("c", "00_demo", fetched, release) is not None
    edit(fetched / NOTEBOOK, "add_impl", "def add(a, b):\n    return a + b\n")
    assert guard.check("c", "00_demo", fetched, release) is None
    shutil.copyfile(release / NOTEBOOK, fetched / NOTEBOOK)             # back to the release
    assert guard.check("c", "00_demo", fetched, release) is not None    # a first press again


def test_every_notebook_counts(tmp_path):
    """Two notebooks: one answered is enough to submit at once; both untouched asks."""
    fetched, release = fetched_copy(tmp_path)
    for folder in (fetched, release):
        (folder / "part2").mkdir()
        shutil.copyfile(RELEASE / NOTEBOOK, folder / "part2" / "second.ipynb")
    assert untouched(fetched, release)
    edit(fetched / "part2" / "second.ipynb", "norm_impl", "def norm(x):\n    return 5\n")
    assert not untouched(fetched, release)


@pytest.mark.parametrize("damage", ["missing", "not json", "not utf-8", "a list", "no release"])
def test_what_cannot_be_compared_does_not_block_a_submit(tmp_path, damage):
    fetched, release = fetched_copy(tmp_path)
    notebook = fetched / NOTEBOOK
    if damage == "missing":
        notebook.unlink()
    elif damage == "not json":
        notebook.write_text("{ this is not a notebook")
    elif damage == "not utf-8":
        notebook.write_bytes(b"\xff\xfe\x00garbage")
    elif damage == "a list":
        notebook.write_text("[1, 2, 3]")
    else:
        shutil.rmtree(release)
    assert not untouched(fetched, release)
    assert SubmitGuard(clock=Clock()).check("c", "00_demo", fetched, release) is None


def test_a_release_without_answer_cells_is_never_untouched(tmp_path):
    fetched, release = fetched_copy(tmp_path)
    for folder in (fetched, release):
        data = json.loads((folder / NOTEBOOK).read_text())
        data["cells"] = [c for c in data["cells"] if not c["metadata"]["nbgrader"].get("solution")]
        (folder / NOTEBOOK).write_text(json.dumps(data))
    assert not untouched(fetched, release)


def test_english_message():
    text = SubmitGuard(clock=Clock(), language="en", window=300).message("07_attention")
    assert text.startswith("Nothing was submitted") and "07_attention" in text and "5 minutes" in text


# --------------------------------------------------------------------------------------------
# nbgrader's own manager, wrapped: what the assignment list's Submit button calls

@pytest.fixture
def manager(tmp_path, monkeypatch):
    """nbgrader's assignment-list manager (guarded) over an exchange and a home in tmp_path,
    the 00_demo release in outbound/ and fetched into the home, untouched."""
    exchange, home, config = tmp_path / "exchange", tmp_path / "home", tmp_path / "config"
    (exchange / "c" / "inbound").mkdir(parents=True)
    shutil.copytree(RELEASE, exchange / "c" / "outbound" / "00_demo")
    shutil.copytree(RELEASE, home / "00_demo")
    config.mkdir()
    (config / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'c'\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        "c.Exchange.path_includes_course = False\n")
    for name, value in (("JUPYTER_CONFIG_DIR", config), ("JUPYTER_CONFIG_PATH", config),
                        ("JUPYTER_DATA_DIR", tmp_path / "data"), ("JUPYTER_PATH", tmp_path / "data")):
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("JUPYTER_NO_CONFIG", "")
    monkeypatch.chdir(home)
    made = guarded_manager_class()()
    made.root_dir = str(home)
    made.guard = SubmitGuard(clock=Clock(), language="ko")
    made.inbound = exchange / "c" / "inbound"
    made.home = home
    return made


def test_nbgrader_submit_of_an_untouched_assignment_asks_then_submits(manager):
    first = manager.submit_assignment("c", "00_demo")
    assert first == {"success": False, "value": manager.guard.message("00_demo")}
    assert list(manager.inbound.iterdir()) == []                 # nothing submitted
    second = manager.submit_assignment("c", "00_demo")
    assert second == {"success": True}, second
    assert len(list(manager.inbound.iterdir())) == 1


def test_nbgrader_submit_of_an_answered_assignment_goes_through_at_once(manager):
    edit(manager.home / "00_demo" / NOTEBOOK, "norm_impl", "def norm(x):\n    return sum(v * v for v in x) ** 0.5\n")
    assert manager.submit_assignment("c", "00_demo") == {"success": True}
    assert len(list(manager.inbound.iterdir())) == 1


def test_nbgrader_reports_its_own_errors_when_nothing_was_fetched(manager):
    """No fetched folder: the guard cannot compare, so nbgrader's submit runs and says why."""
    shutil.rmtree(manager.home / "00_demo")
    reply = manager.submit_assignment("c", "00_demo")
    assert reply["success"] is False and "ExchangeError" in reply["value"], reply
    assert manager.guard.message("00_demo") not in reply["value"]


# --------------------------------------------------------------------------------------------
# what `course hub` copies for students' servers

def test_install_writes_a_lab_extension_jupyterlab_loads_and_the_guard_module(tmp_path):
    from jupyterlab_server.config import get_federated_extensions

    python, data = student.install(tmp_path / "student")
    assert (python / "course_submit_guard.py").read_text() == (Path(student.__file__).parent / "submit_guard.py").read_text()
    found = get_federated_extensions([str(data / "labextensions")])
    build = found["course-student-ui"]["jupyterlab"]["_build"]
    assert build["extension"] == "./extension"
    script = data / "labextensions" / "course-student-ui" / build["load"]
    assert script.read_bytes() == (Path(student.__file__).parent / "labextension" / "remoteEntry.js").read_bytes()
    assert "window._JUPYTERLAB[NAME]" in script.read_text()
    # a second install (every `make hub`) replaces it; no stale script stays behind
    student.install(tmp_path / "student")
    assert [p.name for p in script.parent.iterdir()] == [script.name]
