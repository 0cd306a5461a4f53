"""Suite-local pytest setting (workaround, see below); no fixtures, no tests.

The judge runs pytest with its default traceback style, so every failed test has pytest build a
long traceback (it re-parses this suite's source for every frame) that nobody reads: the
student's feedback comes from the exception itself (course.judge.plugin.describe_failure). With
~50 tests, a submission that fails most of them (the release, a broken attention) paid ~5.6 s of
extra CPU for that. Turning tracebacks off changes no score and no feedback message.
"""


def pytest_configure(config):
    config.option.tbstyle = "no"
