"""The roster (`course roster add`): every bad line named, nothing half-applied; and the Python
that students' servers run when the project lives under a private directory."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import bcrypt
import pytest

from course.hub import embedded as hub, enrolment, roster

root_only = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("useradd") is None,
                               reason="creates system users: run as root")


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text)
    return path


def test_parse_reads_members(tmp_path):
    path = write(tmp_path, "id,name,email,role\nann1,Ann Lee,ann@example.org,student\n"
                           "ivy,Ivy Ng,ivy@example.org,Instructor\n\nted,Ted,,ta\n")
    members = roster.parse(path)
    assert [(m.id, m.role, m.grades) for m in members] == [("ann1", "student", False), ("ivy", "instructor", True),
                                                          ("ted", "ta", True)]


def test_parse_names_every_bad_line(tmp_path):
    path = write(tmp_path, "id,name,email,role\n"
                           "Ann Lee,Ann,ann@example.org,student\n"      # line 2: bad id
                           "bob,Bob,bob@example.org,teacher\n"          # line 3: bad role
                           "cat,Cat,cat@example.org,student\n"
                           "cat,Cat again,cat2@example.org,student\n"   # line 5: repeats line 4
                           "root,Root,root@example.org,student\n"       # line 6: a system account
                           "dan,Dan,not-an-email,student\n"             # line 7: bad email
                           "grader-dl101,G,g@example.org,ta\n")         # line 8: reserved
    with pytest.raises(roster.RosterError) as info:
        roster.parse(path, reserved={"grader-dl101"})
    message = str(info.value)
    lines = {int(part.split(" line ")[1].split(":")[0]): part for part in message.splitlines()[1:]}
    expected = {2: "bad id 'Ann Lee'", 3: "bad role 'teacher'", 5: "id 'cat' repeats line 4",
                6: "system account", 7: "bad email", 8: "reserved"}
    assert sorted(lines) == sorted(expected), message
    for line, words in expected.items():
        assert words in lines[line], message


def test_parse_rejects_a_missing_column(tmp_path):
    with pytest.raises(roster.RosterError, match="line 1: .*missing role"):
        roster.parse(write(tmp_path, "id,name,email\nann,Ann,a@example.org\n"))


@pytest.fixture
def fake_accounts(monkeypatch):
    """System accounts in memory (no useradd): these tests are about passwords and codes."""
    users: set[str] = set()
    monkeypatch.setattr(roster.os, "geteuid", lambda: 0)
    monkeypatch.setattr(roster, "user_exists", lambda name: name in users)
    monkeypatch.setattr(roster, "create_system_user", lambda name, home_base, comment="": users.add(name))
    monkeypatch.setattr(roster, "remove_system_user", lambda name, keep_home=False: users.discard(name))
    return users


def codes_file(state: Path) -> list[dict]:
    import csv
    with open(enrolment.codes_path(state), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def matches(state: Path, name: str, password: str) -> bool:
    stored = enrolment.stored_hash(enrolment.passwords_path(state), name)
    return stored is not None and bcrypt.checkpw(password.encode(), stored)


def test_add_gives_each_new_member_a_code_only_root_reads_and_keeps_existing_passwords(tmp_path, fake_accounts):
    state = tmp_path / "state"
    state.mkdir()
    issued: dict[str, str] = {}
    roster.add(state, write(tmp_path, "id,name,email,role\nann,Ann Lee,ann@example.org,student\n"
                                      "ivy,Ivy Ng,ivy@example.org,instructor\n"), tmp_path, issued=issued)
    assert sorted(issued) == ["ann", "ivy"] and issued["ann"] != issued["ivy"]
    path = enrolment.codes_path(state)
    assert path == state / "enrolment-codes.csv" and os.stat(path).st_mode & 0o777 == 0o600
    rows = codes_file(state)
    assert [(r["id"], r["name"], r["email"], r["code"]) for r in rows] == [
        ("ann", "Ann Lee", "ann@example.org", issued["ann"]), ("ivy", "Ivy Ng", "ivy@example.org", issued["ivy"])]
    assert matches(state, "ann", issued["ann"]) and matches(state, "ivy", issued["ivy"])
    assert not matches(state, "ann", issued["ivy"])
    for path in state.glob("passwords.dbm*"):
        assert os.stat(path).st_mode & 0o777 == 0o600, path

    # ann chose her own password since; a second add (ann again, with bob new) leaves it alone
    enrolment.store_hashes(enrolment.passwords_path(state), {"ann": enrolment.hash_password("ann-chose-this")})
    ann_hash = enrolment.stored_hash(enrolment.passwords_path(state), "ann")
    ivy_hash = enrolment.stored_hash(enrolment.passwords_path(state), "ivy")
    again: dict[str, str] = {}
    roster.add(state, write(tmp_path, "id,name,email,role\nann,Ann Lee,ann@example.org,ta\n"
                                      "ivy,Ivy Ng,ivy@example.org,instructor\nbob,Bob,,student\n"), tmp_path,
               issued=again)
    assert list(again) == ["bob"]
    assert enrolment.stored_hash(enrolment.passwords_path(state), "ann") == ann_hash
    assert enrolment.stored_hash(enrolment.passwords_path(state), "ivy") == ivy_hash    # her code still works
    assert matches(state, "ann", "ann-chose-this") and matches(state, "bob", again["bob"])
    ids = [r["id"] for r in codes_file(state)]
    assert ids == ["ann", "ivy", "bob"], ids                                            # each member once
    assert {r["id"]: r["code"] for r in codes_file(state)} == {**issued, **again}


def test_reset_code_replaces_a_lost_code_and_remove_forgets_password_and_code(tmp_path, fake_accounts):
    state = tmp_path / "state"
    state.mkdir()
    issued: dict[str, str] = {}
    roster.add(state, write(tmp_path, "id,name,email,role\nann,Ann,,student\nbob,Bob,,student\n"), tmp_path,
               issued=issued)
    enrolment.store_hashes(enrolment.passwords_path(state), {"ann": enrolment.hash_password("ann-chose-this")})
    bob_hash = enrolment.stored_hash(enrolment.passwords_path(state), "bob")

    new = roster.reset_code(state, "ann")
    assert new not in (issued["ann"], "ann-chose-this") and len(new) == enrolment.CODE_LENGTH
    assert matches(state, "ann", new)
    assert not matches(state, "ann", "ann-chose-this") and not matches(state, "ann", issued["ann"])
    assert {r["id"]: r["code"] for r in codes_file(state)} == {"ann": new, "bob": issued["bob"]}
    assert enrolment.stored_hash(enrolment.passwords_path(state), "bob") == bob_hash    # others untouched
    assert os.stat(enrolment.codes_path(state)).st_mode & 0o777 == 0o600
    with pytest.raises(roster.RosterError, match="not on the roster.*mallory"):
        roster.reset_code(state, "mallory")

    roster.remove(state, ["ann"], delete_homes=False)
    assert enrolment.stored_hash(enrolment.passwords_path(state), "ann") is None
    assert [r["id"] for r in codes_file(state)] == ["bob"]
    # back on the roster later: a fresh code, not the old password
    again: dict[str, str] = {}
    roster.add(state, write(tmp_path, "id,name,email,role\nann,Ann,,student\n"), tmp_path, issued=again)
    assert list(again) == ["ann"] and again["ann"] != new and matches(state, "ann", again["ann"])


def test_roster_add_and_reset_code_say_where_the_codes_are_and_never_print_them(tmp_path, fake_accounts,
                                                                                monkeypatch, capsys):
    from course import cli

    state = tmp_path / "state"
    monkeypatch.setenv("COURSE_ROOT", str(Path(__file__).parent / "fixtures" / "course"))
    csv_path = write(tmp_path, "id,name,email,role\nann,Ann,,student\nivy,Ivy,,instructor\n")
    assert cli.main(["roster", "add", str(csv_path), "--state", str(state), "--home-base", str(tmp_path)]) in (0, None)
    assert cli.main(["roster", "reset-code", "ann", "--state", str(state)]) in (0, None)
    out = capsys.readouterr().out
    assert str(enrolment.codes_path(state)) in out and "2 issued" in out, out
    for row in codes_file(state):
        assert row["code"] not in out
    assert matches(state, "ann", codes_file(state)[0]["code"])


@root_only
def test_add_is_all_or_nothing(tmp_path, monkeypatch):
    prefix = "r" + secrets.token_hex(3)
    state, homes = tmp_path / "state", tmp_path / "homes"
    state.mkdir()
    homes.mkdir()
    first = write(tmp_path, f"id,name,email,role\n{prefix}a,A,a@example.org,student\n")
    created = []
    try:
        roster.add(state, first, homes)
        created.append(f"{prefix}a")
        before = roster.roster_file(state).read_text()
        assert oct((homes / f"{prefix}a").stat().st_mode & 0o777) == "0o700"

        # a bad row anywhere: nothing is created, the recorded roster is unchanged
        bad = write(tmp_path, f"id,name,email,role\n{prefix}b,B,b@example.org,student\n{prefix}c,C,c@x.org,boss\n")
        with pytest.raises(roster.RosterError, match="line 3: bad role"):
            roster.add(state, bad, homes)
        assert not roster.user_exists(f"{prefix}b")
        assert roster.roster_file(state).read_text() == before

        # a failure while creating users: the ones this call created are removed again
        real = roster.create_system_user
        calls = []

        def flaky(name, home_base, comment=""):
            calls.append(name)
            if len(calls) == 2:
                raise roster.RosterError("useradd failed (simulated)")
            real(name, home_base, comment)

        monkeypatch.setattr(roster, "create_system_user", flaky)
        two = write(tmp_path, f"id,name,email,role\n{prefix}d,D,d@example.org,student\n{prefix}e,E,e@x.org,ta\n")
        with pytest.raises(roster.RosterError, match="simulated"):
            roster.add(state, two, homes)
        assert not roster.user_exists(f"{prefix}d") and not (homes / f"{prefix}d").exists()
        assert roster.roster_file(state).read_text() == before
        assert list(json.loads(before)["members"][0]) == ["id", "name", "email", "role"]
    finally:
        for name in [f"{prefix}{x}" for x in "abcde"]:
            if roster.user_exists(name):
                roster.remove_system_user(name)


@root_only
def test_student_python_works_from_a_private_directory(tmp_path):
    """A project under a 0700 directory (like /root in CI): students get a hard-linked copy
    of its environment, on an interpreter they can run."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    venv = private / "venv"
    base = hub._python_others_can_run(f"{sys.version_info.major}.{sys.version_info.minor}")
    if base is None:
        pytest.skip("no Python of this version that other users can run")
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "course_marker.py").write_text("WHERE = 'copied'\n")
    state = Path(tempfile.mkdtemp(prefix="course-hub-state-"))   # pytest's tmp is private itself
    os.chmod(state, 0o755)
    try:
        check_copy(state, venv)
    finally:
        shutil.rmtree(state)


def check_copy(state: Path, venv: Path) -> None:
    python = hub.student_python(state, prefix=venv)
    assert python == state / "venv" / "bin" / "python"
    done = subprocess.run(["runuser", "-u", "nobody", "--", str(python), "-c",
                           "import sys, course_marker; print(sys.prefix, course_marker.WHERE)"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(state / "venv"), "copied"]
    # the original's pyvenv.cfg was not written through the hard link
    assert str(state) not in (venv / "pyvenv.cfg").read_text()
    # a second call reuses the copy
    assert hub.student_python(state, prefix=venv) == python


@pytest.mark.skipif(os.geteuid() != 0, reason="changes file owners: run as root")
def test_root_releases_into_an_exchange_the_grader_owns_and_gives_it_back(tmp_path):
    # A second `make hub` (or feedback released after start) runs nbgrader as root on folders
    # `own_exchange` gave the grader; nbgrader insists its caller owns them.
    from conftest import ASSIGNMENT, FIXTURE_COURSE

    course_dir, exchange_root = tmp_path / "course", tmp_path / "exchange"
    shutil.copytree(FIXTURE_COURSE / "release", course_dir / "release")
    top = exchange_root / "dl101"
    for folder in (top / "outbound", top / "inbound", top / "feedback"):
        folder.mkdir(parents=True)
    os.chmod(top / "inbound", 0o2733)
    grader = 65534  # nobody: anyone but us
    for folder in (top, top / "outbound", top / "inbound", top / "feedback"):
        os.chown(folder, grader, grader)
    before = {p: (os.stat(p).st_uid, oct(os.stat(p).st_mode)) for p in (top, top / "inbound", top / "outbound")}

    hub.exchange("ReleaseAssignment", course_dir, "dl101", exchange_root, ASSIGNMENT, force=True)

    assert (top / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    assert {p: (os.stat(p).st_uid, oct(os.stat(p).st_mode)) for p in before} == before


@root_only
def test_remove_deletes_only_the_users_the_platform_created(tmp_path):
    prefix = "r" + secrets.token_hex(3)
    state, homes = tmp_path / "state", tmp_path / "homes"
    state.mkdir()
    homes.mkdir()
    pre = f"{prefix}pre"            # an account that existed before the roster (an instructor's own)
    roster.create_system_user(pre, homes)
    try:
        roster.add(state, write(tmp_path, f"id,name,email,role\n{prefix}a,A,,student\n{prefix}b,B,,student\n"
                                          f"{pre},Pre,,instructor\n"), homes)
        with pytest.raises(roster.RosterError, match=f"not on the roster.*{prefix}zz"):
            roster.remove(state, [f"{prefix}a", f"{prefix}zz"], delete_homes=False)
        assert roster.user_exists(f"{prefix}a") and f"{prefix}a" in roster.load(state)

        removed, deleted = roster.remove(state, [f"{prefix}a", pre], delete_homes=False)
        assert [m.id for m in removed] == [f"{prefix}a", pre] and deleted == [f"{prefix}a"]
        assert not roster.user_exists(f"{prefix}a") and (homes / f"{prefix}a").is_dir()   # work kept
        assert roster.user_exists(pre)
        assert set(roster.load(state)) == {f"{prefix}b"}
        _, deleted = roster.remove(state, [f"{prefix}b"], delete_homes=True)
        assert deleted == [f"{prefix}b"] and not (homes / f"{prefix}b").exists()
        assert roster.created_users(state) == set()
    finally:
        for name in (f"{prefix}a", f"{prefix}b", pre):
            if roster.user_exists(name):
                roster.remove_system_user(name)


@root_only
def test_hub_teardown_asks_then_removes_users_and_state(tmp_path):
    prefix = "r" + secrets.token_hex(3)
    root = Path(tempfile.mkdtemp(prefix="course-teardown-"))
    state, homes = root / "state", root / "homes"
    state.mkdir()
    homes.mkdir()
    course_dir = Path(__file__).parent / "fixtures" / "course"
    hub.Settings(course_id=f"{prefix}c", course_root=str(course_dir), state=str(state),
                 port=1).save()   # a hub that is not running (port 1 answers nothing)
    pre = f"{prefix}pre"
    roster.create_system_user(pre, homes)
    try:
        roster.add(state, write(tmp_path, f"id,name,email,role\n{prefix}a,A,,student\n{pre},P,,ta\n"), homes)
        assert [r["id"] for r in codes_file(state)] == [f"{prefix}a", pre]
        course = [str(Path(sys.executable).parent / "course"), "hub", "teardown", "--state", str(state)]
        refused = subprocess.run(course, cwd=course_dir, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert refused.returncode != 0 and "--yes" in refused.stderr, refused.stderr
        assert state.exists() and roster.user_exists(f"{prefix}a")
        done = subprocess.run(course + ["--yes"], cwd=course_dir, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert f"{prefix}a" in done.stdout and f"kept (accounts that existed before the roster): {pre}" in done.stdout
        assert "enrolment codes" in done.stdout and not enrolment.codes_path(state).exists()
        assert not state.exists() and not roster.user_exists(f"{prefix}a") and not (homes / f"{prefix}a").exists()
        assert roster.user_exists(pre)
    finally:
        for name in (f"{prefix}a", pre):
            if roster.user_exists(name):
                roster.remove_system_user(name)
        shutil.rmtree(root, ignore_errors=True)
