"""The hub's authenticator without a hub: roster-only first-use passwords, hashed off the event
loop (issue 22: bcrypt on the loop froze the hub for every login)."""
from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest

from course.hub import roster
from course.hub.auth import RosterFirstUseAuthenticator


@pytest.fixture
def auth(tmp_path):
    roster.save(tmp_path, {n: roster.Member(n, n.title(), "", "student") for n in ("ann", "bob", "cat")})
    return RosterFirstUseAuthenticator(state=str(tmp_path), dbm_path=str(tmp_path / "passwords.dbm"),
                                       create_users=True, min_password_length=8)


def login(auth, name, password, handler=None):
    return auth.authenticate(handler or SimpleNamespace(), {"username": name, "password": password})


def test_roster_only_first_password_sticks(auth):
    async def flow():
        assert await login(auth, "mallory", "long-enough-1") is None          # not on the roster
        handler = SimpleNamespace()
        assert await login(auth, "ann", "short", handler) is None             # too short, not stored
        assert "at least 8" in handler.custom_login_error
        assert await login(auth, "ann", "first-password") == "ann"
        assert await login(auth, "ann", "other-password") is None
        assert await login(auth, "ann", "first-password") == "ann"
        assert await login(auth, "ann", "x" * 80) is None                     # beyond bcrypt's 72 bytes
    asyncio.run(flow())


def test_concurrent_first_logins_one_password_wins(auth):
    async def flow():
        return await asyncio.gather(*(login(auth, "bob", f"password-{i}") for i in range(4)))
    results = asyncio.run(flow())
    assert results.count("bob") == 1, results      # the first stored hash decides; the others fail
    winner = f"password-{results.index('bob')}"
    assert asyncio.run(login(auth, "bob", winner)) == "bob"


def test_hashing_leaves_the_event_loop_free(auth):
    """Six logins at once (~0.3 s of bcrypt each) while a ticker runs every 10 ms: the loop's
    longest stall stays far below one hash (it was the sum of them all on the loop)."""
    async def flow():
        gaps, done = [], False

        async def ticker():
            last = time.monotonic()
            while not done:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        task = asyncio.create_task(ticker())
        t0 = time.monotonic()
        names = ["ann", "bob", "cat"]
        await asyncio.gather(*(login(auth, names[i % 3], "first-password") for i in range(6)))
        hashing = time.monotonic() - t0
        done = True
        await task
        return hashing, max(gaps)

    hashing, stall = asyncio.run(flow())
    assert hashing > 0.5, hashing              # the work really happened
    assert stall < 0.25, f"event loop stalled {stall * 1000:.0f} ms while hashing for {hashing:.1f} s"
