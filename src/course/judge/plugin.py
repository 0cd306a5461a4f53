"""pytest plugin loaded into the judge: the `sub` fixture, the `part` marker, outcome capture."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

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
