"""First-use passwords for roster members only.

FirstUseAuthenticator stores a bcrypt hash of the first password a user types. On its own it
would let anyone who knows a hub user name set that user's password first, so only ids in the
course roster (state/roster.json, read on every login, so `course roster add` takes effect at
once) may log in; the grader account and services never can.
"""
from __future__ import annotations

from pathlib import Path

from firstuseauthenticator import FirstUseAuthenticator
from traitlets import Unicode

from course import roster


class RosterFirstUseAuthenticator(FirstUseAuthenticator):
    state = Unicode("", config=True, help="the course hub's state directory (holds roster.json)")

    async def authenticate(self, handler, data):
        name = self.normalize_username(data.get("username", ""))
        if name not in roster.load(Path(self.state)):
            self.log.warning("login refused: %r is not on the course roster", name)
            return None
        return await super().authenticate(handler, data)
