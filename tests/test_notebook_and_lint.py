import copy

import nbformat
import pytest

from conftest import ASSIGNMENT, FIXTURE_COURSE
from course import lint, mutants, notebook as nb
from course.paths import Course, CourseError

SOURCE = FIXTURE_COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE = FIXTURE_COURSE / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


@pytest.mark.parametrize("raw,problem", [
    (b"\x89PNG\r\n", "not a notebook (not valid JSON"),
    (b'{"cells": 3}', "not a notebook (no list of cells)"),
    (b'{"cells": [{"cell_type": "weird", "source": ""}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
     "cell of unknown type"),
])
def test_load_names_the_file_and_the_problem(tmp_path, raw, problem):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(raw)
    with pytest.raises(nb.NotebookError) as info:
        nb.load(path)
    assert str(info.value).startswith(f"{path}: ") and problem in str(info.value)


def test_parts_come_from_graded_cells():
    assert nb.parts(nb.load(SOURCE)) == [nb.Part("add", 2.0), nb.Part("norm", 1.0)]


def test_cells_to_run_restores_locked_cells_and_skips_graded_ones():
    reference = nb.load(RELEASE)
    submitted = copy.deepcopy(reference)
    for cell in submitted.cells:
        if nb.grade_id(cell) == "imports":
            cell.source = "import numpy as np\nnp.allclose = lambda *a, **k: True"
        if nb.grade_id(cell) == "norm":
            cell.source = "pass"
    submitted.cells = [c for c in submitted.cells if nb.grade_id(c) != "add_impl"]
    submitted.cells.append(nbformat.v4.new_code_cell("x = 1"))
    cells, notes = nb.cells_to_run(submitted, reference)
    sources = [c.source for c in cells]
    assert sources[0] == "import numpy as np", "the original read-only cell runs, not the edit"
    assert "x = 1" in sources and not any(nb.grade_id(c) in ("add", "norm") for c in submitted.cells
                                          if c.source in sources and nb.is_graded_test(c))
    assert any("read-only cell 'imports'" in n for n in notes)
    assert any("graded cell 'norm'" in n for n in notes)
    assert any("'add_impl' is missing" in n for n in notes)


@pytest.mark.parametrize("how", ["metadata_stripped", "renamed", "renamed_to_a_solution_id", "deleted",
                                 "moved_to_the_end"])
def test_a_read_only_cell_the_submission_lacks_still_runs_from_the_release_in_its_place(how):
    reference = nb.load(RELEASE)
    submitted = copy.deepcopy(reference)
    [imports] = [c for c in submitted.cells if nb.grade_id(c) == "imports"]
    if how == "metadata_stripped":   # an edited copy that passes for the student's own cell
        imports.metadata.pop("nbgrader")
        imports.source = "import numpy as np\nnp.allclose = lambda *a, **k: True"
    elif how == "renamed":          # an id the release does not know: no longer "the" read-only cell
        imports.metadata["nbgrader"]["grade_id"] = "my_imports"
        imports.source = "import numpy as np\nnp.allclose = lambda *a, **k: True"
    elif how == "renamed_to_a_solution_id":  # passes for the student's own answer cell
        imports.metadata["nbgrader"]["grade_id"] = "add_impl"
        imports.metadata["nbgrader"].update(solution=True, locked=False)
        imports.source = "import numpy as np\nnp.allclose = lambda *a, **k: True"
    elif how == "deleted":
        submitted.cells.remove(imports)
    else:
        submitted.cells.remove(imports)
        submitted.cells.append(imports)
    cells, notes = nb.cells_to_run(submitted, reference)
    original = next(c for c in reference.cells if nb.grade_id(c) == "imports").source
    ran = [c.source for c in cells]
    assert ran.count(original) == 1
    first_solution = next(i for i, c in enumerate(cells) if c.grade_id == "add_impl")
    assert ran.index(original) < first_solution, "the original runs where the release has it"
    if how != "moved_to_the_end":
        assert any("read-only cell 'imports' is missing" in n for n in notes)


def test_demo_cells_are_skipped_only_when_the_reference_locks_them():
    reference = nb.load(RELEASE)
    imports = next(c for c in reference.cells if nb.grade_id(c) == "imports")
    imports.metadata["tags"] = ["demo"]
    submitted = copy.deepcopy(reference)
    for cell in submitted.cells:
        if nb.grade_id(cell) == "add_impl":
            cell.metadata["tags"] = ["demo"]      # a student tagging their own cell skips nothing
    cells, _ = nb.cells_to_run(submitted, reference)
    ran = {c.grade_id for c in cells}
    assert "imports" not in ran and "add_impl" in ran


def _write(tmp_path, notebook):
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    return path


def _source():
    return nb.load(SOURCE)


@pytest.mark.parametrize("change,problem", [
    (lambda n: n.cells[3].metadata["nbgrader"].update(grade_id="add_impl"), "duplicate grade_id (first used in cell 3)"),
    (lambda n: n.cells[3].metadata["nbgrader"].pop("points"), "graded cell without positive points"),
    (lambda n: setattr(n.cells[2], "source", n.cells[2].source.replace("### END SOLUTION", "")),
     "solution markers unbalanced (1 BEGIN, 0 END)"),
    (lambda n: n.cells[1].update(execution_count=3, outputs=[nbformat.v4.new_output("stream", text="hi")]),
     "outputs left in"),
    (lambda n: setattr(n.cells[2], "source", "def add(a, b):\n    return a + b"), "solution cell without"),
    (lambda n: setattr(n.cells[3], "source", "assert add(1, 2 == 3"), "Python syntax error on line 1"),
    (lambda n: n.cells[2].metadata.update(tags=["demo"]), "tag 'demo' is only for read-only code cells"),
    (lambda n: setattr(n.cells[1], "source", "import matplotlib.pyplot as plt\nplt.plot([1, 2])"),
     "read-only cell draws a plot; tag it 'demo'"),
])
def test_lint_finds_each_malformation(tmp_path, change, problem):
    notebook = _source()
    change(notebook)
    problems = lint.lint_notebook(_write(tmp_path, notebook), "nb.ipynb")
    assert any(problem in p and p.startswith("nb.ipynb: cell ") for p in problems), problems


def test_lint_accepts_the_fixture():
    assert lint.lint_assignment(Course(FIXTURE_COURSE), ASSIGNMENT) == []


def test_mutant_header_is_required(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("# mutant: forgot the rest\ndef add(a, b): pass\n")
    with pytest.raises(CourseError, match=r"bad.py: header line\(s\) missing: # replaces:, # breaks:"):
        mutants.parse(path)


def test_mutant_replaces_exactly_its_cell():
    mutant = mutants.parse(FIXTURE_COURSE / "autograder" / ASSIGNMENT / "mutants" / "norm_no_sqrt.py")
    assert mutant.replaces == "norm_impl" and mutant.breaks == ("norm",)
    mutated = mutants.apply(_source(), mutant)
    changed = [nb.grade_id(a) for a, b in zip(_source().cells, mutated.cells) if a.source != b.source]
    assert changed == ["norm_impl"]


def test_lint_accepts_a_plot_in_a_demo_cell(tmp_path):
    notebook = _source()
    notebook.cells[1].source = "import matplotlib.pyplot as plt\nplt.plot([1, 2])"
    notebook.cells[1].metadata["tags"] = ["demo"]
    assert lint.lint_notebook(_write(tmp_path, notebook), "nb.ipynb") == []


def test_a_notebook_of_millions_of_tiny_json_values_is_refused_before_parsing():
    # Under the 32 MiB limit, but 10 million empty objects would take a gigabyte to parse.
    bomb = b'{"cells": [], "nbformat": 4, "metadata": {"x": [' + b"{}," * 3_000_000 + b"{}]}}"
    with pytest.raises(nb.NotebookError, match=r"x.ipynb: not a notebook \(about \d+ JSON values"):
        nb.parse_submission(bomb, "x.ipynb")
    fine = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = [" + "1, " * 10_000 + "]")] * 50)
    assert len(nb.parse_submission(nbformat.writes(fine).encode(), "y.ipynb").cells) == 50
