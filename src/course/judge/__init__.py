"""The judge: hidden pytest suites scoring a notebook that runs in a sandbox process."""
from course.judge.check import Failure
from course.judge.submission import SandboxError, StudentError, Submission

__all__ = ["Failure", "SandboxError", "StudentError", "Submission"]
