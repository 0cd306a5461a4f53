"""`course release`: nbgrader turns source/NN_slug into release/NN_slug and solutions/NN_slug.

nbgrader runs in a throw-away copy of the course (its own gradebook, no execution of the
solution: `course validate` runs it instead); the outputs are normalised so that generating
twice gives the same bytes, and only then replace what is committed.
"""
from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from course import notebook as nb
from course.atomic_dir import replace_dir
from course.faults import crash_point
from course.paths import Course, CourseError, course_id, ensure_scripts_on_path

# Cell metadata that nbgrader and Jupyter need; anything else (collapsed, scrolled, execution
# timings, editor state) varies between machines and is dropped.
_CELL_METADATA = ("nbgrader", "deletable", "editable", "tags")
_IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")

_NBGRADER_CONFIG = """c = get_config()
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.solution_directory = "solutions"
c.GenerateSolution.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.ClearMarkScheme",
]
"""

# Both nbgrader apps in one interpreter: half the start-up cost of two `nbgrader` commands.
_RUN_APPS = """
import sys
from nbgrader.apps.generateassignmentapp import GenerateAssignmentApp
from nbgrader.apps.generatesolutionapp import GenerateSolutionApp
root, assignment = sys.argv[1], sys.argv[2]
for app_class in (GenerateAssignmentApp, GenerateSolutionApp):
    app = app_class()
    app.initialize([assignment, "--force", f"--CourseDirectory.root={root}", "--log-level=WARN"])
    app.start()
"""


def normalise(path: Path, drop_markers: bool = False) -> None:
    notebook = nbformat.read(path, as_version=4)
    nb.strip_outputs(notebook)
    if drop_markers:  # the published solution reads as plain code
        for cell in notebook.cells:
            lines = cell.source.splitlines()
            cell.source = "\n".join(l for l in lines if l.strip() not in (nb.BEGIN_SOLUTION, nb.END_SOLUTION))
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for cell in notebook.cells:
        cell.metadata = {k: cell.metadata[k] for k in _CELL_METADATA if k in cell.metadata}
    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")


def generate(course: Course, assignment: str, workspace: Path) -> tuple[Path, Path]:
    """Run nbgrader on a copy of source/<assignment>; returns (release_dir, solutions_dir)."""
    ensure_scripts_on_path()
    course.source_notebook(assignment)  # clear error if the notebook is missing
    shutil.copytree(course.source / assignment, workspace / "source" / assignment, ignore=_IGNORED)
    (workspace / "nbgrader_config.py").write_text(_NBGRADER_CONFIG.format(course_id=course_id(course.root)))
    run = subprocess.run([sys.executable, "-c", _RUN_APPS, str(workspace), assignment],
                         cwd=workspace, capture_output=True, text=True)
    released, solved = workspace / "release" / assignment, workspace / "solutions" / assignment
    if run.returncode != 0 or not released.is_dir() or not solved.is_dir():
        raise CourseError(f"nbgrader could not generate {assignment}:\n{(run.stderr or run.stdout)[-3000:]}")
    for path in released.rglob("*.ipynb"):
        normalise(path)
    for path in solved.rglob("*.ipynb"):
        normalise(path, drop_markers=True)
    return released, solved


def _replace(target: Path, new: Path) -> None:
    """Put the tree `new` at `target`: staged beside it, then swapped in (old tree or new, never neither)."""
    staging = target.with_name(f".{target.name}.new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(new, staging)
    replace_dir(target, staging)


def release(course: Course, assignment: str) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="course-release-") as workspace:
        released, solved = generate(course, assignment, Path(workspace))
        course.release.mkdir(exist_ok=True)
        course.solutions.mkdir(exist_ok=True)
        _replace(course.release / assignment, released)
        crash_point("release.between_trees")
        _replace(course.solutions / assignment, solved)
    return [course.release / assignment, course.solutions / assignment]


def stale(course: Course, assignment: str) -> list[str]:
    """Differences between the committed release/solutions and a fresh generation."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="course-fresh-") as workspace:
        fresh = dict(zip(("release", "solutions"), generate(course, assignment, Path(workspace))))
        for kind, new in fresh.items():
            old = course.root / kind / assignment
            if not old.is_dir():
                problems.append(f"{kind}/{assignment}: missing; run `course release {assignment}`")
                continue
            problems += [f"{kind}/{assignment}/{name}: differs from a fresh nbgrader generation"
                         for name in _tree_differences(old, new)]
    return problems


def _tree_differences(left: Path, right: Path) -> list[str]:
    names = {p.relative_to(left) for p in left.rglob("*") if p.is_file()}
    names |= {p.relative_to(right) for p in right.rglob("*") if p.is_file()}
    return sorted(str(n) for n in names
                  if not ((left / n).is_file() and (right / n).is_file() and filecmp.cmp(left / n, right / n, shallow=False)))
