"""Students' servers: nbgrader's assignment list, where submitting an untouched assignment asks first.

A student who presses Submit on an assignment whose answer cells are all still as released (they
fetched it and never wrote anything) gets nbgrader's own "Invalid Submission" dialog saying that
nothing was submitted and that pressing Submit again within WINDOW seconds submits it anyway; the
second press in time submits. Any change to any answer cell submits at once.

Anything that cannot be compared (a notebook missing, unreadable or not JSON, no release to compare
with, no answer cell at all) submits at once: this is a guard against a slip, not a check of the
work, and the judge already reports a missing or broken notebook in the feedback.

This file is standalone (nbgrader and the standard library only): `course hub` copies it to
<state>/jupyter/student/python/course_submit_guard.py, because students' servers cannot import the
repository (the fence hides it), and loads it as a Jupyter server extension in students' servers
only, in place of nbgrader's `assignment_list` extension, which it loads itself and then wraps.
Configured by the written jupyter_server_config.py: c.SubmitGuard.language, c.SubmitGuard.window.
"""
from __future__ import annotations

import json
import time
import traceback
from pathlib import Path

from traitlets import Float, Unicode
from traitlets.config import LoggingConfigurable

# shown in a <pre> by nbgrader's dialog: one line per sentence
MESSAGES = {
    "ko": "제출하지 않았습니다: {assignment}의 답안 셀이 하나도 바뀌지 않았습니다.\n"
          "그래도 제출하려면 {minutes}분 안에 Submit을 한 번 더 누르세요.",
    "en": "Nothing was submitted: no answer cell of {assignment} was changed.\n"
          "To submit it anyway, press Submit again within {minutes} minutes.",
}


def answer_cells(notebook: dict) -> dict[str, str]:
    """grade_id -> source of each answer (nbgrader solution) cell of a notebook's JSON."""
    found = {}
    for cell in notebook.get("cells", []):
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if meta.get("solution") and meta.get("grade_id"):
            source = cell.get("source", "")
            found[str(meta["grade_id"])] = "".join(source) if isinstance(source, list) else str(source)
    return found


def _notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def untouched(fetched: Path, release: Path) -> bool:
    """True when every answer cell of every released notebook is, in the fetched copy, as released
    (whitespace at either end aside). False, so the submit goes ahead, as soon as one differs or
    is gone, or when anything cannot be read."""
    compared = 0
    try:
        for released_path in _notebooks(release):
            released = answer_cells(json.loads(released_path.read_text(encoding="utf-8")))
            if not released:
                continue
            mine = answer_cells(json.loads((fetched / released_path.relative_to(release)).read_text(encoding="utf-8")))
            if any(mine.get(gid, "\0gone").strip() != source.strip() for gid, source in released.items()):
                return False
            compared += 1
    except (OSError, ValueError, UnicodeDecodeError, AttributeError, TypeError):
        return False
    return compared > 0


class SubmitGuard(LoggingConfigurable):
    """Remembers, per assignment, when an untouched submit was refused; a second press within
    `window` seconds goes through. In memory: a restarted server asks again."""

    language = Unicode("en", help="ko or en: the language of the message").tag(config=True)
    window = Float(600.0, help="seconds within which a second Submit sends an untouched assignment").tag(config=True)

    def __init__(self, clock=time.monotonic, **kwargs):
        super().__init__(**kwargs)
        self.clock = clock
        self.asked: dict[tuple[str, str], float] = {}

    def message(self, assignment: str) -> str:
        text = MESSAGES.get(self.language, MESSAGES["en"])
        return text.format(assignment=assignment, minutes=max(1, round(self.window / 60)))

    def check(self, course_id: str, assignment_id: str, fetched: Path, release: Path) -> str | None:
        """None: submit now. Else the message to show instead of submitting."""
        key = (course_id, assignment_id)
        if not untouched(fetched, release):
            self.asked.pop(key, None)
            return None
        now = self.clock()
        first = self.asked.pop(key, None)
        if first is not None and now - first <= self.window:
            return None               # the second press, in time: the student means it
        self.asked[key] = now
        return self.message(assignment_id)


def guarded_manager_class():
    """nbgrader's AssignmentList with a submit that asks first (imported late: nbgrader is only
    needed inside a server)."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeFactory
    from nbgrader.server_extensions.assignment_list.handlers import AssignmentList

    class GuardedAssignmentList(AssignmentList):
        guard: SubmitGuard

        def submit_paths(self, course_id: str, assignment_id: str) -> tuple[Path, Path]:
            """The folder nbgrader would submit and the release it was fetched from, computed by
            nbgrader's own submit step (same config as its submit_assignment)."""
            with self.get_assignment_dir_config():
                config = self.load_config()
                config.CourseDirectory.course_id = course_id
                config.CourseDirectory.assignment_id = assignment_id
                coursedir = CourseDirectory(config=config)
                submit = ExchangeFactory(config=config).Submit(
                    coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
                submit.init_src()
                submit.init_release()
                return Path(submit.src_path), Path(submit.release_path)

        def submit_assignment(self, course_id, assignment_id):
            try:
                fetched, release = self.submit_paths(course_id, assignment_id)
                refusal = self.guard.check(course_id, assignment_id, fetched, release)
            except Exception:  # noqa: BLE001 - nbgrader's own submit reports what is wrong
                self.log.info("submit guard: no comparison for %s: %s", assignment_id,
                              traceback.format_exc(limit=1).strip().splitlines()[-1])
                refusal = None
            if refusal:
                self.log.info("submit guard: %s is untouched; asked the student to confirm", assignment_id)
                return {"success": False, "value": refusal}
            return super().submit_assignment(course_id, assignment_id)

    return GuardedAssignmentList


def _jupyter_server_extension_points():
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp):
    """Load nbgrader's assignment list (its handlers and manager), then put the guarded manager
    in its place: the handlers look the manager up in the settings at every request."""
    from nbgrader.server_extensions.assignment_list import handlers

    handlers.load_jupyter_server_extension(serverapp)
    manager = guarded_manager_class()(parent=serverapp)
    manager.root_dir = serverapp.root_dir
    manager.guard = SubmitGuard(parent=serverapp)
    serverapp.web_app.settings["assignment_list_manager"] = manager
    serverapp.log.info("course submit guard: untouched submits ask first (%s, %.0f s)",
                       manager.guard.language, manager.guard.window)
