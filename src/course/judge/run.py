"""Grade one notebook: run it in a sandbox, run the hidden suite against it, score the parts."""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from course import notebook as nb
from course.judge import results
from course.judge.config import JudgeConfig
from course.judge import plugin as plugin_module
from course.judge.plugin import JudgePlugin
from course.judge.submission import Submission
from course.paths import Course, CourseError


class SuiteError(CourseError):
    """The hidden suite itself is broken (collection error, unknown part): an instructor problem."""


# Masking these would take the system away from the sandbox; they are never hidden.
_SYSTEM = {"/", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev", "/opt", "/var", "/run"}


def hidden_paths(course: Course, extra: list[Path]) -> list[str]:
    """Directories the sandbox must not see: the course, homes, temp space, submissions, outputs."""
    paths = [course.root, Path("/root"), Path("/home"), Path(tempfile.gettempdir()), Path("/var/tmp"), *extra]
    resolved = {str(p.resolve()) for p in paths if p.exists()}
    return sorted(resolved - _SYSTEM)


def reference_notebook(course: Course, assignment: str):
    """What the student was given: the release (locked cells, graded cells), else the source."""
    path = course.release_notebook(assignment)
    return nb.load(path if path.exists() else course.source_notebook(assignment))


@dataclass(frozen=True)
class AssignmentFiles:
    """What grading reads of the course, the same for every student of an assignment: the
    judge server loads it once per batch, before it forks a judge per student."""
    config: JudgeConfig
    parts: list           # graded parts and points, from the source notebook
    reference: object     # the release notebook (what the student was given), else the source
    probes: str           # probes.py, run in the sandbox
    shipped: list[Path]   # data files of the release, copied into each sandbox's scratch

    @classmethod
    def load(cls, course: Course, assignment: str) -> "AssignmentFiles":
        suite = course.autograder / assignment
        shipped = course.release / assignment
        return cls(config=JudgeConfig.load(suite),
                   parts=nb.parts(nb.load(course.source_notebook(assignment))),
                   reference=reference_notebook(course, assignment),
                   probes=(suite / "probes.py").read_text() if (suite / "probes.py").exists() else "",
                   shipped=[p for p in shipped.iterdir() if p.suffix != ".ipynb"] if shipped.is_dir() else [])


def grade_notebook(course: Course, assignment: str, path: Path, *, student: str,
                   extra_hidden: list[Path] = (), level: str | None = None, zygote: str | None = None,
                   run_suite=None, files: AssignmentFiles | None = None, shown_as: str | None = None) -> dict:
    """Grade one notebook. run_suite(suite, submission, config) -> JudgePlugin runs the hidden
    tests; by default a whole pytest run (the judge server passes its pre-collected session's,
    and the assignment's files it loaded once). `path` is normally the batch's snapshot of the
    submission; `shown_as` names the student's file in messages."""
    started = time.monotonic()
    suite = course.autograder / assignment
    files = files or AssignmentFiles.load(course, assignment)
    shown = shown_as or nb.printable(path)
    meta = {"assignment": assignment, "student": student, "notebook": shown}
    try:
        raw = nb.read_submission(Path(path))  # read once: the hash and the grade are of the same bytes
        meta["notebook_sha256"] = hashlib.sha256(raw).hexdigest()
        submitted = nb.parse_submission(raw, shown)
    except nb.NotebookError as exc:
        message = str(exc).replace(nb.printable(path), shown, 1)
        return results.unreadable(files.parts, meta, message, time.monotonic() - started)

    cells, notes = nb.cells_to_run(submitted, files.reference)
    submission = Submission(cells=cells, probes_source=files.probes, config=files.config,
                            files=[*files.shipped, Path(path)],  # the data files, then the notebook itself
                            hide=hidden_paths(course, [*extra_hidden, Path(path).parent]), level=level,
                            zygote=zygote, notebook_bytes=raw)
    try:
        submission.run_notebook()
        plugin = (run_suite or _run_suite)(suite, submission, files.config)
    finally:
        submission.close()
    outcomes = list(plugin.outcomes.values())
    _check_suite(suite, plugin, outcomes, files.parts)
    meta.update(sandbox=submission.confinement, sandbox_starts=submission.starts,
                cell_seconds=round(submission.cell_seconds, 3))
    return results.build(files.parts, outcomes, meta, cell_errors=submission.cell_errors, notes=notes,
                         notebook_output=submission.notebook_output, elapsed=time.monotonic() - started)


# pytest plugins the judge has no use for, each a cost on every submission: unraisableexception
# runs gc.collect() several times at session end (~0.5 s), logging swaps handlers around every
# test phase, debugging imports pdb and readline, faulthandler and the rest touch stderr or
# files. Tests report through JudgePlugin.
_LEAN = [arg for name in ("unraisableexception", "threadexception", "logging", "faulthandler", "doctest",
                          "junitxml", "pastebin", "stepwise", "legacypath", "debugging")
         for arg in ("-p", f"no:{name}")]


def pytest_args(suite: Path, scratch: Path) -> list[str]:
    """pytest's command line for the hidden suite: its own empty ini (the course's pytest
    settings are not the judge's), no cache, no traceback, the lean plugin set."""
    ini = scratch / "pytest.ini"
    ini.write_text("[pytest]\n")
    # --capture=no: the judge server serves from inside pytest's session, and its log (stderr)
    # must not vanish into a capture file; a child's stdout goes to /dev/null anyway.
    return [str(suite), "-q", "-c", str(ini), "--rootdir", str(suite), "-p", "no:cacheprovider",
            "--assert=plain", "--tb=no", "--capture=no", "--basetemp", str(scratch / "tmp"), *_LEAN]


def prepare_pytest(threads: int) -> None:
    """The process settings pytest runs the hidden suite under."""
    _limit_threads(threads)
    # No third-party pytest plugins in the judge: scanning every installed distribution's entry
    # points costs each submission a fraction of a second, and none of them has a say in a grade.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"


def _run_suite(suite: Path, submission: Submission, config: JudgeConfig) -> JudgePlugin:
    """pytest from the start: configuration, collection, the tests (the judge server's fallback)."""
    plugin = JudgePlugin(submission)
    prepare_pytest(config.threads)
    with tempfile.TemporaryDirectory(prefix="course-pytest-") as scratch:
        with contextlib.redirect_stdout(io.StringIO()):
            code = pytest.main(pytest_args(suite, Path(scratch)), plugins=[plugin, plugin_module])
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise SuiteError(f"{suite}: pytest could not run the hidden suite (exit code {int(code)})")
    return plugin


def _limit_threads(threads: int) -> None:
    """Thread counts for the judge's own numpy/torch/TF, read when the suite imports them."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[name] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def _check_suite(suite: Path, plugin: JudgePlugin, outcomes, parts) -> None:
    if plugin.collect_errors:
        raise SuiteError(f"{suite}: the hidden suite does not import:\n" + "\n".join(plugin.collect_errors))
    known = {p.grade_id for p in parts}
    unmarked = sorted(o.name for o in outcomes if o.part is None)
    if unmarked:
        raise SuiteError(f"{suite}: test(s) without @pytest.mark.part: {', '.join(unmarked)}")
    unknown = sorted({o.part for o in outcomes} - known)
    if unknown:
        raise SuiteError(f"{suite}: tests mark part(s) {', '.join(unknown)} that the notebook does not grade")
    untested = [p.grade_id for p in parts if not any(o.part == p.grade_id for o in outcomes)]
    if untested:
        raise SuiteError(f"{suite}: graded part(s) {', '.join(untested)} have no hidden tests")
