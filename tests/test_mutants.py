"""Mutants and alternatives as edits of a solution cell (course.mutants)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ASSIGNMENT, FIXTURE_COURSE
from course import mutants, notebook as nb
from course.paths import Course, CourseError

REPO = Path(__file__).resolve().parents[1]
CELL = "def f(x):\n    y = x + 1\n    y = y * 2\n    return y\n\ndef g(x):\n    return x\n    ### END"


def _write(tmp_path, text, name="m.py"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _header(kind="mutant"):
    return (f"# {kind}: demo\n# replaces: f_impl\n" + ("# breaks: f\n" if kind == "mutant" else ""))


def test_edits_replace_each_snippet_where_it_matches_once(tmp_path):
    path = _write(tmp_path, _header() + "# replace:\n    y = x + 1\n# with:\n    y = x - 1\n    y = -y\n\n"
                                        "# replace:\n    return x\n    ### END\n# with:\n")
    mutant = mutants.parse(path)
    assert [e.line for e in mutant.edits] == [4, 10]
    assert mutants.cell_source(CELL, mutant) == CELL.replace("    y = x + 1", "    y = x - 1\n    y = -y").replace(
        "\n    return x\n    ### END", "")


@pytest.mark.parametrize("snippet, why", [
    ("    y = x + 2", "snippet 1 ('# replace:' at line 4, first line 'y = x + 2') matches no lines of solution cell 'f_impl'"),
    ("    return y\n", None),
    ("def", "matches no lines"),   # whole lines only, never part of one
])
def test_a_snippet_that_does_not_match_exactly_once_is_refused_with_file_and_snippet(tmp_path, snippet, why):
    path = _write(tmp_path, _header() + f"# replace:\n{snippet}\n# with:\n    pass\n")
    if why is None:  # unique: applies
        assert "pass" in mutants.cell_source(CELL, mutants.parse(path))
        return
    with pytest.raises(CourseError, match=str(path).replace(".", r"\.")) as error:
        mutants.cell_source(CELL, mutants.parse(path))
    assert why in str(error.value)


def test_a_snippet_matching_twice_names_the_places(tmp_path):
    path = _write(tmp_path, _header() + "# replace:\n    return y\n# with:\n    return 0\n")
    cell = CELL + "\n    return y"
    with pytest.raises(CourseError, match=r"matches 2 places \(cell lines 4, 9\).*add a line of context"):
        mutants.cell_source(cell, mutants.parse(path))


def test_overlapping_snippets_are_refused(tmp_path):
    path = _write(tmp_path, _header() + "# replace:\n    y = x + 1\n    y = y * 2\n# with:\n\n"
                                        "# replace:\n    y = y * 2\n    return y\n# with:\n")
    with pytest.raises(CourseError, match="snippets 1 and 2 overlap"):
        mutants.cell_source(CELL, mutants.parse(path))


@pytest.mark.parametrize("body, message", [
    ("def f(x):\n    return 0\n", "a mutant holds '# replace:' / '# with:' snippet pairs"),
    ("# replace:\n    y = x + 1\n", "has no '# with:' after it"),
    ("# with:\n    y = 0\n", "'# with:' without a '# replace:'"),
    ("# replace:\n\n# with:\n    y = 0\n", "empty '# replace:' snippet"),
    ("", "nothing after the header"),
])
def test_malformed_mutants_are_refused_with_the_file_and_line(tmp_path, body, message):
    path = _write(tmp_path, _header() + body)
    with pytest.raises(CourseError, match=r"m\.py") as error:
        mutants.parse(path)
    assert message in str(error.value)


def test_loses_declares_a_smaller_share_with_a_reason(tmp_path):
    body = "# replace:\n    return y\n# with:\n    return 0\n"
    mutant = mutants.parse(_write(tmp_path, _header() + "# loses: 0.3 off by one step, a near miss\n" + body))
    assert (mutant.loses, mutant.loses_reason) == (0.3, "off by one step, a near miss")
    assert mutants.parse(_write(tmp_path, _header() + body, "d.py")).loses == mutants.DEFAULT_LOSES == 0.5
    for bad in ("0.3", "1.5 too much", "half of it"):
        with pytest.raises(CourseError, match="expected a share in"):
            mutants.parse(_write(tmp_path, _header() + f"# loses: {bad}\n" + body, "bad.py"))


def test_alternatives_are_whole_cells_or_edits_and_never_break_anything(tmp_path):
    whole = mutants.parse(_write(tmp_path, _header("alternative") + "# another way: loops\ndef f(x):\n    return 2 * (x + 1)\n"),
                          "alternative")
    assert mutants.cell_source(CELL, whole) == "# another way: loops\ndef f(x):\n    return 2 * (x + 1)"
    edits = mutants.parse(_write(tmp_path, _header("alternative") + "# replace:\n    y = y * 2\n# with:\n    y = 2 * y\n", "e.py"),
                          "alternative")
    assert "    y = 2 * y" in mutants.cell_source(CELL, edits)
    with pytest.raises(CourseError, match=r"unknown header '# breaks:' for a alternative"):
        mutants.parse(_write(tmp_path, _header("mutant").replace("mutant:", "alternative:") + "def f(x): pass\n", "b.py"),
                      "alternative")


def test_every_mutant_and_alternative_of_the_course_applies_to_its_solution_cell():
    """Fails as soon as a solution changes under a mutant: every file names its snippet."""
    course = Course(REPO)
    problems, count = [], 0
    for assignment in course.assignments():
        source = nb.load(course.source_notebook(assignment))
        for kind in ("mutant", "alternative"):
            for mutant in mutants.load_all(course.autograder / assignment, kind):
                count += 1
                try:
                    mutated = mutants.apply(source, mutant)
                except CourseError as exc:
                    problems.append(str(exc))
                    continue
                if kind == "mutant" and nbformat_same(source, mutated):
                    problems.append(f"{mutant.path}: changes nothing")
    assert count >= 180 and not problems, "\n".join(problems)


def nbformat_same(a, b) -> bool:
    return [c.source for c in a.cells] == [c.source for c in b.cells]


def test_the_converter_turns_a_whole_cell_mutant_into_the_edits_that_give_the_same_code(tmp_path):
    course = tmp_path / "course"
    subprocess.run(["cp", "-r", str(FIXTURE_COURSE), str(course)], check=True)
    path = course / "autograder" / ASSIGNMENT / "mutants" / "whole.py"
    path.write_text("# mutant: squared norm\n# replaces: norm_impl\n# breaks: norm\n"
                    'def norm(x):\n    """Shorter docstring."""\n    x = np.asarray(x, dtype=float)\n'
                    "    return float((x * x).sum())  # BUG: no sqrt\n")
    subprocess.run([sys.executable, str(REPO / "tools" / "mutant_edits.py"), str(path)], check=True, capture_output=True)
    assert path.read_text().split("# breaks: norm\n")[1] == (
        "# replace:\n    return float(np.sqrt((x * x).sum()))\n# with:\n    return float((x * x).sum())  # BUG: no sqrt\n")
