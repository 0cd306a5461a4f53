"""pytest plugin loaded into the judge: the `sub` fixture, the `part` marker, outcome capture."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from _pytest.outcomes import skip
from _pytest.reports import TestReport

from course.judge.check import Failure


@dataclass
class Outcome:
    """One case: a test function, or one parametrization of it."""
    name: str                    # pytest's name of the case: test_mask[nq3_nk7]
    part: str | None
    weight: float
    passed: bool
    message: str
    check: str = ""              # the test function (module::name): its cases form one check
    title: str = ""              # the first line of the function's docstring, for the student
    not_attempted: bool = False  # failed only because the student's code raised NotImplementedError


@dataclass
class Check:
    """A property the suite checks: every case of one test function. It passes only if every
    case passes, and it carries the weight of its `part` mark once, however many cases it has."""
    name: str                    # the test function's name
    title: str
    part: str | None
    weight: float
    cases: list[Outcome]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.cases)

    @property
    def failed(self) -> list[Outcome]:
        return [c for c in self.cases if not c.passed]

    @property
    def not_attempted(self) -> bool:
        return bool(self.cases) and all(c.not_attempted for c in self.cases)

    @property
    def message(self) -> str:
        """What failed, case by case (one case: its message alone)."""
        failed = self.failed
        if len(self.cases) == 1:
            return failed[0].message if failed else ""
        return "\n".join(f"[{_case_id(c.name)}] {c.message}" for c in failed)


def _case_id(name: str) -> str:
    return name[name.index("[") + 1:-1] if name.endswith("]") and "[" in name else name


def group_checks(outcomes) -> list[Check]:
    """Cases grouped into checks by test function (and part), in the order pytest ran them."""
    checks: dict[tuple, Check] = {}
    for outcome in outcomes:
        function = outcome.check or outcome.name
        key = (function, outcome.part)
        if key not in checks:
            checks[key] = Check(function.rpartition("::")[2], outcome.title, outcome.part, outcome.weight, [])
        check = checks[key]
        check.weight = max(check.weight, outcome.weight)
        check.cases.append(outcome)
    return list(checks.values())


def _title(item) -> str:
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    return next((line.strip() for line in doc.strip().splitlines() if line.strip()), "")


# The sandbox's "your code raised NotImplementedError: ...", also as a suite rewords it
# ("f(3) raised NotImplementedError: ...") and as Triton's interpreter wraps it in a kernel
# ("raised InterpreterError: NotImplementedError()").
_NOT_IMPLEMENTED = re.compile(r"\braised (?:InterpreterError: )?NotImplementedError(?::|\(\))")


def _not_implemented(exc) -> bool:
    """The student's code raised NotImplementedError, as the release's stubs do."""
    try:
        return isinstance(exc, AssertionError) and bool(_NOT_IMPLEMENTED.search(str(exc)))
    except Exception:  # noqa: BLE001 - a message that cannot be read is not "not attempted"
        return False


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
            self.outcomes[item.nodeid] = Outcome(item.name, part, weight, True, "",
                                                 check=item.nodeid.partition("[")[0], title=_title(item))
        outcome = self.outcomes[item.nodeid]
        if report.failed and outcome.passed:
            outcome.passed = False
            outcome.message = describe_failure(call.excinfo.value) if call.excinfo else "failed"
            outcome.not_attempted = bool(call.excinfo) and _not_implemented(call.excinfo.value)
        elif report.skipped and outcome.passed:
            outcome.passed = False
            outcome.message = "skipped"

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")
