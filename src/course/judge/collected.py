"""The hidden suite configured and collected once, in the judge server; each forked child only
runs the tests.

pytest's start (argument parsing, plugin registration, conftest, collecting about 80 tests) is
the same for every submission of an assignment, and it was a fifth of a judge child's time. The
judge server therefore runs `pytest.main` itself, up to the test loop: there, instead of running
tests, it serves the batch's jobs. Each child it forks inherits the configured session with no
test run and no fixture set up, runs the notebook, then runs every collected item with
`runtestprotocol(log=False)`: setup, call and teardown with their fixtures, markers and the judge's
outcome capture, without the terminal reporting the judge never shows anyone.
"""
from __future__ import annotations

import inspect
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import pytest
from _pytest.runner import runtestprotocol
from _pytest.tmpdir import TempPathFactory

from course.judge import plugin as plugin_module
from course.judge.plugin import SUBMISSION, JudgePlugin
from course.judge.run import pytest_args, prepare_pytest
from course.sandbox.zygote import _thread_count


def _skip_request_signatures() -> None:
    """pytest builds a FixtureDef for `request` every time a fixture asks for it (each
    parametrized argument of each test does), and reads the signature of its `lambda: request`
    each time: 5% of a judge. That lambda takes no arguments, so its answer is always (). This
    says so without inspect.signature; any other function goes to pytest's own reader. Left
    alone when pytest's internals are not what this expects (another pytest version)."""
    from _pytest import fixtures

    init = getattr(getattr(fixtures, "RequestFixtureDef", None), "__init__", None)
    lambdas = [c for c in getattr(getattr(init, "__code__", None), "co_consts", ())
               if inspect.iscode(c) and c.co_name == "<lambda>" and c.co_argcount == 0]
    original = getattr(fixtures, "getfuncargnames", None)
    if len(lambdas) != 1 or original is None or getattr(original, "skips_request", False):
        return
    (request_lambda,) = lambdas

    def getfuncargnames(function, *args, **kwargs):
        if getattr(function, "__code__", None) is request_lambda:
            return ()
        return original(function, *args, **kwargs)

    getfuncargnames.skips_request = True
    fixtures.getfuncargnames = getfuncargnames


class CollectedSuite:
    """pytest plugin and handle: `serve_inside` runs pytest up to its test loop and calls
    `serve` there; forked children then grade with `run_suite`."""

    def __init__(self, suite: Path, threads: int, scratch: Path):
        self.suite, self.threads, self.scratch = suite, threads, scratch
        self.plugin = JudgePlugin(None)
        self.session: pytest.Session | None = None
        self.refused = ""  # why the server must not fork (a test module started a thread)
        self._serve: Callable[[], None] | None = None

    def serve_inside(self, serve: Callable[[], None]) -> int:
        """Configure pytest and collect the suite, then call serve() from pytest's test loop.
        serve() is not expected to return (the server ends with os._exit). When pytest stops
        before its test loop (a usage or internal error) this returns pytest's exit code and
        the caller serves without a session: each child then runs pytest itself and reports it."""
        self._serve = serve
        prepare_pytest(self.threads)
        _skip_request_signatures()
        return int(pytest.main(pytest_args(self.suite, self.scratch), plugins=[self.plugin, plugin_module, self]))

    def pytest_collectreport(self, report) -> None:
        if not self.refused and _thread_count() > 1:
            self.refused = (f"{self.suite / report.nodeid}: importing it started a thread, so the judge server "
                            "cannot fork safely; start threads inside the tests, not at import")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if not self.refused:
            self.session = session
            self._serve()
        return True

    def run_suite(self, suite: Path, submission, config) -> JudgePlugin:
        """In a forked child: every collected test against this submission."""
        session = self.session
        session.config.stash[SUBMISSION] = submission
        self.plugin.submission = submission
        scratch = Path(tempfile.mkdtemp(prefix="course-pytest-"))
        try:
            # tmp_path and tmp_path_factory: a base folder of this child's own, not the server's.
            session.config.option.basetemp = str(scratch / "tmp")
            session.config._tmp_path_factory = TempPathFactory.from_config(session.config, _ispytest=True)
            items = session.items
            for index, item in enumerate(items):
                runtestprotocol(item, log=False, nextitem=items[index + 1] if index + 1 < len(items) else None)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return self.plugin
