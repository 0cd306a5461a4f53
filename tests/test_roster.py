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

import pytest

from course.hub import embedded as hub, roster

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
        course = [str(Path(sys.executable).parent / "course"), "hub", "teardown", "--state", str(state)]
        refused = subprocess.run(course, cwd=course_dir, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert refused.returncode != 0 and "--yes" in refused.stderr, refused.stderr
        assert state.exists() and roster.user_exists(f"{prefix}a")
        done = subprocess.run(course + ["--yes"], cwd=course_dir, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert f"{prefix}a" in done.stdout and f"kept (accounts that existed before the roster): {pre}" in done.stdout
        assert not state.exists() and not roster.user_exists(f"{prefix}a") and not (homes / f"{prefix}a").exists()
        assert roster.user_exists(pre)
    finally:
        for name in (f"{prefix}a", pre):
            if roster.user_exists(name):
                roster.remove_system_user(name)
        shutil.rmtree(root, ignore_errors=True)
