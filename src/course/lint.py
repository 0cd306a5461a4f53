"""`course lint`: malformed source notebooks and suites, each problem naming file, cell and fault."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from course import mutants, notebook as nb
from course.paths import Course, CourseError

_GRADE_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_PLOTS = re.compile(r"\bplt\.|\bmatplotlib\b|\.imshow\(|%matplotlib")


def lint_notebook(path: Path, display: str | None = None) -> list[str]:
    name = display or str(path)
    try:
        notebook = nb.load(path)
    except nb.NotebookError as exc:
        return [str(exc)]
    problems = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(notebook.cells, start=1):
        cid = nb.grade_id(cell)
        where = f"{name}: cell {index}" + (f" ('{cid}')" if cid else "")
        meta = nb.nbgrader_meta(cell)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            problems.append(f"{where}: outputs left in (clear them before committing)")
        source = cell.source
        begins, ends = source.count(nb.BEGIN_SOLUTION), source.count(nb.END_SOLUTION)
        if begins != ends or _markers_out_of_order(source):
            problems.append(f"{where}: solution markers unbalanced ({begins} BEGIN, {ends} END)")
        if nb.DEMO_TAG in nb.tags(cell) and not (cell.cell_type == "code" and nb.is_locked(cell)):
            problems.append(f"{where}: tag '{nb.DEMO_TAG}' is only for read-only code cells (the judge skips them)")
        elif (cell.cell_type == "code" and nb.is_locked(cell) and not nb.is_graded_test(cell)
              and nb.DEMO_TAG not in nb.tags(cell) and _PLOTS.search(source)):
            # The judge would draw the figure for every student: grading time, no grade.
            problems.append(f"{where}: read-only cell draws a plot; tag it '{nb.DEMO_TAG}' so the judge skips it "
                            "(and define nothing a graded part needs in it)")
        if not meta:
            if begins:
                problems.append(f"{where}: solution markers in a cell nbgrader does not track (no metadata.nbgrader)")
            continue
        if meta.get("schema_version") != 3:
            problems.append(f"{where}: nbgrader schema_version {meta.get('schema_version')!r}, expected 3")
        if not cid:
            problems.append(f"{where}: nbgrader cell without grade_id")
            continue
        if not _GRADE_ID.match(cid):
            problems.append(f"{where}: grade_id may hold only letters, digits, '_' and '-'")
        if cid in seen:
            problems.append(f"{where}: duplicate grade_id (first used in cell {seen[cid]})")
        seen.setdefault(cid, index)
        if meta.get("grade"):
            points = meta.get("points")
            if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
                problems.append(f"{where}: graded cell without positive points")
        if nb.is_solution(cell) and cell.cell_type == "code" and not begins:
            problems.append(f"{where}: solution cell without '{nb.BEGIN_SOLUTION}' markers")
        if begins and not nb.is_solution(cell):
            problems.append(f"{where}: solution markers in a cell that is not a solution cell")
        if cell.cell_type == "code" and (nb.is_solution(cell) or nb.is_graded_test(cell) or meta.get("locked")):
            try:
                ast.parse(source.replace(nb.BEGIN_SOLUTION, "").replace(nb.END_SOLUTION, ""))
            except SyntaxError as exc:
                problems.append(f"{where}: Python syntax error on line {exc.lineno}: {exc.msg}")
    if not nb.parts(notebook):
        problems.append(f"{name}: no graded cells (grade: true with points)")
    return problems


def _markers_out_of_order(source: str) -> bool:
    depth = 0
    for line in source.splitlines():
        if nb.BEGIN_SOLUTION in line:
            depth += 1
        elif nb.END_SOLUTION in line:
            depth -= 1
        if depth not in (0, 1):
            return True
    return depth != 0


def lint_suite(course: Course, assignment: str) -> list[str]:
    suite = course.autograder / assignment
    if not suite.is_dir():
        return [f"autograder/{assignment}: missing hidden suite folder"]
    problems = []
    if not (suite / "probes.py").is_file():
        problems.append(f"autograder/{assignment}/probes.py: missing")
    if not list(suite.glob("test_*.py")):
        problems.append(f"autograder/{assignment}: no test_*.py files")
    try:
        source = nb.load(course.source_notebook(assignment))
    except (nb.NotebookError, CourseError):
        return problems
    parts = {p.grade_id for p in nb.parts(source)}
    solutions = {nb.grade_id(c) for c in source.cells if nb.is_solution(c)}
    for path in sorted((suite / "mutants").glob("*.py")):
        try:
            mutant = mutants.parse(path)
        except CourseError as exc:
            problems.append(str(exc))
            continue
        where = f"autograder/{assignment}/mutants/{path.name}"
        if mutant.replaces not in solutions:
            problems.append(f"{where}: replaces '{mutant.replaces}', which is not a solution cell of the notebook")
        unknown = [b for b in mutant.breaks if b not in parts]
        if unknown:
            problems.append(f"{where}: breaks unknown part(s) {', '.join(unknown)}")
    return problems


def lint_assignment(course: Course, assignment: str) -> list[str]:
    path = course.source_notebook(assignment)
    return lint_notebook(path, str(path.relative_to(course.root))) + lint_suite(course, assignment)
