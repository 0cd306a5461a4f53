"""The judge: hidden pytest suites scoring a notebook that runs in a sandbox process."""
import os

from course.judge.check import Failure
from course.judge.submission import SandboxError, StudentError, Submission

__all__ = ["Failure", "SandboxError", "StudentError", "Submission", "self_check"]

SELF_CHECK_ENV = "COURSE_SELF_CHECK"


def self_check() -> bool:
    """True under `course validate`: a suite may then also check its own references (torch
    against finite differences, say), work that cannot change a student's grade and so is
    skipped when grading. Validation grades the solution with the same seeded inputs, so every
    reference a student is graded against has been cross-checked in CI."""
    return os.environ.get(SELF_CHECK_ENV) == "1"
