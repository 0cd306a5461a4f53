"""Suite-local pytest setting (as in 07_attention); no fixtures, no tests.

Turning pytest's tracebacks off changes no score and no feedback message (the student's feedback
comes from the exception itself) but saves the CPU pytest spends re-parsing this suite's source for
every frame of every failed test (seconds for a submission that fails most tests, like the release).
"""


def pytest_configure(config):
    config.option.tbstyle = "no"
