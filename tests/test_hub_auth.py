"""The hub's authenticator without a hub: roster ids log in with their stored password only
(an enrolment code, then the password they chose), never by typing one first; hashing runs off
the event loop (issue 22: bcrypt on the loop froze the hub for every login)."""
from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest

from course.hub import enrolment, roster
from course.hub.auth import ChangePasswordHandler, RosterFirstUseAuthenticator

MEMBERS = {n: roster.Member(n, n.title(), f"{n}@example.org", "instructor" if n == "ivy" else "student")
           for n in ("ann", "bob", "cat", "ivy")}


@pytest.fixture
def auth(tmp_path):
    roster.save(tmp_path, MEMBERS)
    return RosterFirstUseAuthenticator(state=str(tmp_path), dbm_path=str(enrolment.passwords_path(tmp_path)),
                                       create_users=True, min_password_length=8)


def login(auth, name, password, handler=None):
    return asyncio.run(auth.authenticate(handler or SimpleNamespace(), {"username": name, "password": password}))


def test_no_roster_id_is_claimed_by_the_first_password_typed(auth, tmp_path):
    """The red team's takeover: ann, knowing the ids, logs in first as ivy (the instructor) and
    bob with a password she picks. Refused, whether their codes were issued or not, and
    nothing is stored that would let her (or lock the owner out) later."""
    handler = SimpleNamespace()
    assert login(auth, "ivy", "ann-owns-this-1", handler) is None          # no code issued yet
    assert "enrolment code" in handler.custom_login_error and "ivy" in handler.custom_login_error
    assert enrolment.stored_hash(auth.dbm_path, "ivy") is None
    assert login(auth, "ivy", "ann-owns-this-1") is None                   # still not, a second time

    codes = enrolment.issue(tmp_path, MEMBERS.values())
    for name in ("ivy", "bob"):
        before = enrolment.stored_hash(auth.dbm_path, name)
        assert login(auth, name, "ann-owns-this-1") is None
        assert enrolment.stored_hash(auth.dbm_path, name) == before        # her guess was not stored
        assert login(auth, name, codes[name]) == name                      # the owner still gets in


def test_the_enrolment_code_logs_in_and_nothing_else_does(auth, tmp_path):
    codes = enrolment.issue(tmp_path, MEMBERS.values())
    assert sorted(codes) == sorted(MEMBERS) and len(set(codes.values())) == len(codes)
    for code in codes.values():
        assert len(code) == enrolment.CODE_LENGTH and set(code) <= set(enrolment.ALPHABET)
    ann = codes["ann"]
    assert login(auth, "ann", ann) == "ann"
    assert login(auth, "ann", ann) == "ann"                                 # not consumed by a login
    wrong = ann[:-1] + ("2" if ann[-1] != "2" else "3")
    for guess in (wrong, ann.upper(), ann + "x", codes["bob"], "", "x" * 80):
        assert login(auth, "ann", guess) is None, guess
    assert login(auth, "mallory", ann) is None                              # not on the roster
    # a member taken off the roster cannot log in, code or not
    roster.save(tmp_path, {k: v for k, v in MEMBERS.items() if k != "bob"})
    assert login(auth, "bob", codes["bob"]) is None


def test_a_member_changes_the_code_for_a_password_of_their_own(auth, tmp_path):
    codes = enrolment.issue(tmp_path, [MEMBERS["ann"]])

    async def change(new):
        return await auth.change_password("ann", new)

    assert "at least 8" in asyncio.run(change("short"))
    assert "too long" in asyncio.run(change("y" * 73))
    assert login(auth, "ann", codes["ann"]) == "ann"                         # unchanged so far
    assert "success" in asyncio.run(change("ann-chose-this"))
    assert login(auth, "ann", "ann-chose-this") == "ann"
    assert login(auth, "ann", codes["ann"]) is None                          # the code is spent
    # the page FirstUseAuthenticator serves at /hub/auth/change-password is ours (hash off the loop)
    assert dict(auth.get_handlers(None))["/auth/change-password"] is ChangePasswordHandler


def test_hashing_leaves_the_event_loop_free(auth):
    """Six logins at once (~0.3 s of bcrypt each) while a ticker runs every 10 ms: the loop's
    longest stall stays far below one hash (it was the sum of them all on the loop)."""
    names = ["ann", "bob", "cat"]
    enrolment.store_hashes(auth.dbm_path, {n: enrolment.hash_password(f"{n}-password") for n in names})

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
        results = await asyncio.gather(*(auth.authenticate(SimpleNamespace(), {
            "username": names[i % 3], "password": f"{names[i % 3]}-password"}) for i in range(6)))
        hashing = time.monotonic() - t0
        done = True
        await task
        return results, hashing, max(gaps)

    results, hashing, stall = asyncio.run(flow())
    assert results == names * 2
    assert hashing > 0.5, hashing              # the work really happened
    assert stall < 0.25, f"event loop stalled {stall * 1000:.0f} ms while hashing for {hashing:.1f} s"
