"""Where things live in a course directory (nbgrader's layout plus autograder/)."""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

SLUG = re.compile(r"^\d\d_[a-z0-9_]+$")


class CourseError(Exception):
    """A problem with the course directory or a command's arguments; the message says what."""


@dataclass(frozen=True)
class Course:
    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> "Course":
        """The nearest directory upward holding source/ and autograder/ (or $COURSE_ROOT)."""
        if os.environ.get("COURSE_ROOT"):
            return cls(Path(os.environ["COURSE_ROOT"]).resolve())
        here = (start or Path.cwd()).resolve()
        for candidate in (here, *here.parents):
            if (candidate / "source").is_dir() and (candidate / "autograder").is_dir():
                return cls(candidate)
        raise CourseError(f"no course directory (with source/ and autograder/) at or above {here}")

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def release(self) -> Path:
        return self.root / "release"

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def autograder(self) -> Path:
        return self.root / "autograder"

    @property
    def gradebook_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def assignments(self) -> list[str]:
        return sorted(p.name for p in self.source.iterdir() if p.is_dir() and SLUG.match(p.name))

    def resolve(self, names: list[str] | None) -> list[str]:
        """Assignment names from arguments ('01', '01_tensors'), or all of them."""
        known = self.assignments()
        if not names:
            return known
        chosen = []
        for name in names:
            matches = [a for a in known if a == name or a.split("_", 1)[0] == name]
            if len(matches) != 1:
                raise CourseError(f"unknown assignment {name!r}; known: {', '.join(known) or 'none'}")
            chosen.append(matches[0])
        return chosen

    def source_notebook(self, assignment: str) -> Path:
        path = self.source / assignment / f"{assignment}.ipynb"
        if not path.is_file():
            raise CourseError(f"{path}: missing (each assignment has source/NN_slug/NN_slug.ipynb)")
        return path

    def release_notebook(self, assignment: str) -> Path:
        return self.release / assignment / f"{assignment}.ipynb"


def course_id(root: Path) -> str:
    """The nbgrader course id from root/nbgrader_config.py ('default_course' if unset)."""
    from traitlets.config.loader import PyFileConfigLoader

    if not (root / "nbgrader_config.py").exists():
        return "default_course"
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    return config.CourseDirectory.get("course_id", "default_course") or "default_course"


def ensure_scripts_on_path() -> None:
    """nbgrader's Gradebook shells out to `alembic`: make this environment's scripts findable
    even when the venv is not activated (`.venv/bin/course ...`, tests, workers)."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
