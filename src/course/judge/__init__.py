"""The judge: hidden pytest suites scoring a notebook that runs in a sandbox process."""
import importlib
import os

__all__ = ["Failure", "SandboxError", "StudentError", "Submission", "self_check"]

SELF_CHECK_ENV = "COURSE_SELF_CHECK"

# Imported on first use (PEP 562): `course grade` reads course.judge.config and launches the
# judge server before it pays for numpy and nbformat, which these pull in.
_LAZY = {"Failure": "course.judge.check", "SandboxError": "course.judge.submission",
         "StudentError": "course.judge.submission", "Submission": "course.judge.submission"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'course.judge' has no attribute {name!r}")


def self_check() -> bool:
    """True under `course validate`: a suite may then also check its own references (torch
    against finite differences, say), work that cannot change a student's grade and so is
    skipped when grading. Validation grades the solution with the same seeded inputs, so every
    reference a student is graded against has been cross-checked in CI."""
    return os.environ.get(SELF_CHECK_ENV) == "1"
