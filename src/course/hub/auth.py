"""Roster members log in with the password stored for them; nobody sets one by logging in.

FirstUseAuthenticator stores a bcrypt hash of the first password a user types. Roster ids are
not secret (home folders, /etc/passwd), so that let a student claim a classmate's or the
instructor's account before its owner logged in. Here only ids in the course roster
(state/roster.json, read on every login, so `course roster add` takes effect at once) may log
in, and only with the password stored for them: the one-time enrolment code `course roster add`
issued (course.hub.enrolment), or the password they chose since at /hub/auth/change-password.
A member with nothing stored is refused with a message saying to ask for a code. The grader
account and services never log in.

bcrypt costs ~0.25-0.45 s of CPU per check by design. FirstUseAuthenticator runs it on the hub's
event loop, so ten students logging in at once froze every other request for seconds. Here the
hash runs in a thread pool (bcrypt releases the GIL) whose threads are niced, so on a small
machine the event loop keeps its core share while a login storm queues behind it; a password
change hashes there too.
"""
from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bcrypt
from firstuseauthenticator import FirstUseAuthenticator
from firstuseauthenticator.firstuseauthenticator import CustomLoginHandler, ResetPasswordHandler
from tornado import web
from traitlets import Integer, Unicode

from course.hub import enrolment, roster

# Niceness of the hashing threads: below the event loop, so /hub/api answers during a storm.
HASH_NICENESS = 10
BCRYPT_LIMIT = 72        # bytes; bcrypt 5 raises beyond it
NO_CODE = ("{name} has no password yet: ask your instructor for your enrolment code "
           "(`course roster reset-code {name}` issues a new one).")


def _nice_thread() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)
    except OSError:
        pass


class ChangePasswordHandler(ResetPasswordHandler):
    """FirstUseAuthenticator's change-password page, with the hash off the event loop."""

    @web.authenticated
    async def post(self):
        new_password = self.get_body_argument("password", strip=False)
        msg = await self.authenticator.change_password(self.current_user.name, new_password)
        self._register_template_path()
        html = await self.render_template("reset.html", result=True, result_message=msg,
                                          alert="success" if "success" in msg else "danger")
        self.finish(html)


class RosterFirstUseAuthenticator(FirstUseAuthenticator):
    state = Unicode("", config=True, help="the course hub's state directory (holds roster.json)")
    hash_threads = Integer(0, config=True,
                           help="threads hashing passwords at once (0: the number of CPUs)")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._executor = ThreadPoolExecutor(max_workers=self.hash_threads or os.cpu_count() or 1,
                                            thread_name_prefix="bcrypt", initializer=_nice_thread)
        self._dbm_lock = threading.Lock()   # one thread in the store at a time (flock: processes)

    async def authenticate(self, handler, data):
        name = self.normalize_username(data.get("username", ""))
        password = data.get("password", "")
        if name not in roster.load(Path(self.state)):
            self.log.warning("login refused: %r is not on the course roster", name)
            return None
        # the hub's database is only touched on the event loop's thread
        if not self.create_users and not self._user_exists(name):
            return None
        if len(password.encode("utf8")) > BCRYPT_LIMIT:
            return None
        loop = asyncio.get_running_loop()
        verdict = await loop.run_in_executor(self._executor, self._check, name, password)
        if verdict == "none":
            handler.custom_login_error = NO_CODE.format(name=name)
            self.log.warning("login refused: %r has no stored password (no enrolment code)", name)
            return None
        return name if verdict == "ok" else None

    def _stored(self, name: str) -> bytes | None:
        with self._dbm_lock:
            return enrolment.stored_hash(self.dbm_path, name)

    def _check(self, name: str, password: str) -> str:
        """In a worker thread: 'ok', 'wrong' or 'none' (no password stored: never set here)."""
        stored = self._stored(name)
        if stored is None:
            return "none"
        return "ok" if bcrypt.checkpw(password.encode("utf8"), stored) else "wrong"

    async def change_password(self, name: str, new_password: str) -> str:
        """The change-password page: a message saying whether it changed."""
        if not self._validate_password(new_password):
            return (f"Password too short! Please choose a password at least "
                    f"{self.min_password_length} characters long.")
        if len(new_password.encode("utf8")) > BCRYPT_LIMIT:
            return f"Password too long: at most {BCRYPT_LIMIT} bytes."
        loop = asyncio.get_running_loop()
        hashed = await loop.run_in_executor(self._executor, enrolment.hash_password, new_password)
        with self._dbm_lock:
            enrolment.store_hashes(self.dbm_path, {name: hashed})
        self.log.info("%s changed their password", name)
        return "Your password has been changed successfully!"

    def reset_password(self, username, new_password):
        """FirstUseAuthenticator's synchronous API (not reached through the page above)."""
        if not self._validate_password(new_password) or len(new_password.encode("utf8")) > BCRYPT_LIMIT:
            return (f"Password too short! Please choose a password at least "
                    f"{self.min_password_length} characters long.")
        with self._dbm_lock:
            enrolment.store_hashes(self.dbm_path, {username: enrolment.hash_password(new_password)})
        return "Your password has been changed successfully!"

    def delete_user(self, user):
        with self._dbm_lock:
            enrolment.forget(self.dbm_path, [user.name])

    def get_handlers(self, app):
        return [(r"/login", CustomLoginHandler), (r"/auth/change-password", ChangePasswordHandler)]
