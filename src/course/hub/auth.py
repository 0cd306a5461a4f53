"""First-use passwords for roster members only, checked off the hub's event loop.

FirstUseAuthenticator stores a bcrypt hash of the first password a user types. On its own it
would let anyone who knows a hub user name set that user's password first, so only ids in the
course roster (state/roster.json, read on every login, so `course roster add` takes effect at
once) may log in; the grader account and services never can.

bcrypt costs ~0.25-0.45 s of CPU per check by design. FirstUseAuthenticator runs it on the hub's
event loop, so ten students logging in at once froze every other request for seconds. Here the
hash runs in a thread pool (bcrypt releases the GIL) whose threads are niced, so on a small
machine the event loop keeps its core share while a login storm queues behind it.
"""
from __future__ import annotations

import asyncio
import dbm
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bcrypt
from firstuseauthenticator import FirstUseAuthenticator
from traitlets import Integer, Unicode

from course.hub import roster

# Niceness of the hashing threads: below the event loop, so /hub/api answers during a storm.
HASH_NICENESS = 10


def _nice_thread() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)
    except OSError:
        pass


class RosterFirstUseAuthenticator(FirstUseAuthenticator):
    state = Unicode("", config=True, help="the course hub's state directory (holds roster.json)")
    hash_threads = Integer(0, config=True,
                           help="threads hashing passwords at once (0: the number of CPUs)")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._executor = ThreadPoolExecutor(max_workers=self.hash_threads or os.cpu_count() or 1,
                                            thread_name_prefix="bcrypt", initializer=_nice_thread)
        self._dbm_lock = threading.Lock()   # dbm files are not safe for concurrent writers

    async def authenticate(self, handler, data):
        name = self.normalize_username(data.get("username", ""))
        password = data.get("password", "")
        if name not in roster.load(Path(self.state)):
            self.log.warning("login refused: %r is not on the course roster", name)
            return None
        # the hub's database is only touched on the event loop's thread
        if not self.create_users and not self._user_exists(name):
            return None
        if len(password.encode("utf8")) > 72:   # bcrypt's limit (bcrypt 5 raises beyond it)
            return None
        loop = asyncio.get_running_loop()
        verdict = await loop.run_in_executor(self._executor, self._check_or_set, name, password)
        if verdict == "short":
            handler.custom_login_error = (f"Password too short! Please choose a password at least "
                                          f"{self.min_password_length} characters long.")
            return None
        return name if verdict == "ok" else None

    def _stored(self, name: str) -> bytes | None:
        with self._dbm_lock, dbm.open(self.dbm_path, "c", 0o600) as db:
            return db.get(name.encode("utf8"))

    def _check_or_set(self, name: str, password: str) -> str:
        """In a worker thread: 'ok', 'wrong' or 'short' (a first password under the minimum)."""
        secret = password.encode("utf8")
        stored = self._stored(name)
        if stored is None:
            if not self._validate_password(password):
                return "short"
            hashed = bcrypt.hashpw(secret, bcrypt.gensalt())
            with self._dbm_lock, dbm.open(self.dbm_path, "c", 0o600) as db:
                stored = db.get(name.encode("utf8"))
                if stored is None:      # no concurrent first login won the race
                    db[name] = hashed
                    return "ok"
        return "ok" if bcrypt.checkpw(secret, stored) else "wrong"
