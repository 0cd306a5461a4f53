"""pytest plugin loaded into the judge: the `sub` fixture, the `part` marker, outcome capture."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from _pytest.outcomes import skip
from _pytest.reports import TestReport

from course.judge.check import Failure


@dataclass
class Outcome:
    name: str
    part: str | None
    weight: float
    passed: bool
    message: str


def describe_failure(exc: BaseException) -> str:
    """A message safe for the student: never the test's source or expected values."""
    if isinstance(exc, Failure):
        return str(exc)
    if isinstance(exc, AssertionError):  # --assert=plain: only the author's message, if any
        return str(exc) or "a hidden check failed"
    return f"the hidden test could not use your result ({type(exc).__name__})"


SUBMISSION = pytest.StashKey()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item, call):
    """pytest's report without what only a terminal reads: the formatted traceback of a failure
    (the judge runs with --tb=no and reads the exception itself, in JudgePlugin) and the item's
    keywords. pytest's own costs a judge about 7% of its time on a failing submission. The
    hook wrappers (skipping's xfail, tmp_path's bookkeeping, JudgePlugin) still wrap this one."""
    excinfo = call.excinfo
    if excinfo is None:
        outcome, longrepr = "passed", None
    elif isinstance(excinfo.value, skip.Exception):
        outcome, longrepr = "skipped", (str(item.path), (item.location[1] or 0) + 1, str(excinfo.value.msg))
    else:
        outcome, longrepr = "failed", excinfo.typename
    return TestReport(item.nodeid, item.location, {}, outcome, longrepr, call.when, (), call.duration,
                      call.start, call.stop, user_properties=item.user_properties)


@pytest.fixture(scope="session")
def sub(request):
    """The student's submission (course.judge.Submission), shared by every hidden test."""
    return request.config.stash[SUBMISSION]


class JudgePlugin:
    def __init__(self, submission):
        self.submission = submission
        self.outcomes: dict[str, Outcome] = {}
        self.collect_errors: list[str] = []

    def pytest_configure(self, config):
        config.stash[SUBMISSION] = self.submission
        config.addinivalue_line("markers", "part(grade_id, weight=1.0): the graded part a hidden test scores")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = (yield).get_result()
        marker = item.get_closest_marker("part")
        part = marker.args[0] if marker and marker.args else None
        weight = float(marker.kwargs.get("weight", 1.0)) if marker else 1.0
        if item.nodeid not in self.outcomes:
            self.outcomes[item.nodeid] = Outcome(item.name, part, weight, True, "")
        outcome = self.outcomes[item.nodeid]
        if report.failed and outcome.passed:
            outcome.passed = False
            outcome.message = describe_failure(call.excinfo.value) if call.excinfo else "failed"
        elif report.skipped and outcome.passed:
            outcome.passed = False
            outcome.message = "skipped"

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")
