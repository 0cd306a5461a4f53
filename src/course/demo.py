"""`course demo` (make demo): release the course and grade a small generated class end to end.

Students: ada hands in the solution, ben the untouched release, chloe/dmitri/eun one known
mistake each (the first mutants), farid a notebook whose first solution cell never ends.
"""
from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import nbformat

from course import batch, mutants, notebook as nb, release
from course.paths import Course, course_id


def _hostile(source):
    notebook = copy.deepcopy(source)
    first = next(c for c in notebook.cells if nb.is_solution(c) and c.cell_type == "code")
    first.source = "while True:\n    pass\n"
    return notebook


def build_class(course: Course, assignment: str, submitted: Path) -> None:
    source = nb.load(course.source_notebook(assignment))
    notebooks = {"ada": source, "ben": nb.load(course.release_notebook(assignment)), "farid": _hostile(source)}
    for student, mutant in zip(("chloe", "dmitri", "eun"), mutants.load_all(course.autograder / assignment)):
        notebooks[student] = mutants.apply(source, mutant)
    for student, notebook in notebooks.items():
        folder = submitted / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / f"{assignment}.ipynb")


def run(course: Course, out: Path, parallel: int) -> int:
    out = out.resolve()
    db_url = f"sqlite:///{out / 'gradebook.db'}"
    (out / "gradebook.db").unlink(missing_ok=True)
    for assignment in course.assignments():
        release.release(course, assignment)
        print(f"released {assignment}: release/{assignment}, solutions/{assignment}")
    for assignment in course.assignments():
        build_class(course, assignment, out / "submitted")
        jobs = batch.discover(assignment, [out / "submitted"], out / "autograded")
        print(f"\n{assignment}: grading {len(jobs)} submissions with -j {parallel}")
        print(batch.table(batch.grade(course, assignment, jobs, parallel=parallel, db_url=db_url, force=True)))
    csv_path = out / "grades.csv"
    subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "export", f"--db={db_url}", f"--to={csv_path}",
                    f"--CourseDirectory.course_id={course_id(course.root)}", "--log-level=WARN"],
                   cwd=course.root, check=True)
    print(f"\ngradebook: {out / 'gradebook.db'}\nCSV export: {csv_path}")
    print(f"feedback:  {out / 'autograded'}/<student>/<assignment>/feedback.html")
    return 0
