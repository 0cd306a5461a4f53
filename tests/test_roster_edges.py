"""Edges of the roster rules: the id and email syntax at their limits, what a row may leave out,
the header's spelling, the system-account line, and the recorded files (their content and mode).
No system user is created here: the account lookups are replaced where a rule depends on them."""
from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
from pathlib import Path

import pytest

from course.hub import roster
from course.paths import CourseError


def _csv(tmp_path, text: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(tmp_path, rows: str, **kwargs) -> str:
    with pytest.raises(roster.RosterError) as info:
        roster.parse(_csv(tmp_path, "id,name,email,role\n" + rows), **kwargs)
    return str(info.value)


@pytest.mark.parametrize("member_id", ["a", "a" * 32, "z9", "ann-lee", "ann_lee", "a0-_"])
def test_ids_the_rule_accepts(tmp_path, member_id):
    assert [m.id for m in roster.parse(_csv(tmp_path, f"id,name,email,role\n{member_id},N,,student\n"))] == [member_id]


@pytest.mark.parametrize("member_id", ["a" * 33, "Ann", "aNN", "1ann", "_ann", "-ann", "ann.lee", "ann+1",
                                       "ann lee", "an/n", "ann\u00e9", "\u0430nn"])
def test_ids_the_rule_refuses(tmp_path, member_id):
    message = _problems(tmp_path, f'"{member_id}",N,,student\n')
    assert f"line 2: bad id {member_id!r}" in message and "at most 32 characters" in message


def test_an_empty_id_is_a_bad_id_not_a_skipped_row(tmp_path):
    assert "line 2: bad id ''" in _problems(tmp_path, ",Nobody,,student\n")


@pytest.mark.parametrize("email, good", [("a@b", True), ("first.last+tag@example.org", True), ("", True),
                                         ("a@b@c", False), ("a b@c", False), ("@b", False), ("a@", False),
                                         ('"a,b@c"', False), ("ab", False)])
def test_the_email_may_be_empty_or_one_address(tmp_path, email, good):
    text = f"id,name,email,role\nann,Ann,{email},student\n"
    if good:
        assert roster.parse(_csv(tmp_path, text))[0].email == email
    else:
        with pytest.raises(roster.RosterError, match="line 2: bad email"):
            roster.parse(_csv(tmp_path, text))


def test_a_name_with_a_colon_or_a_line_break_is_refused(tmp_path):
    message = _problems(tmp_path, 'ann,"Ann: Lee",,student\nbob,"Bob\nJones",,student\n')
    assert "line 2: the name may not contain ':'" in message
    assert "line 4: the name may not contain ':'" in message  # the quoted break ends on line 4


def test_header_spelling_and_order_do_not_matter_and_values_are_trimmed(tmp_path):
    path = _csv(tmp_path, "\ufeff Role ,EMAIL,Name,ID,extra\n  student , a@b.org , Ann Lee , ann ,x\n"
                          " , , , , \n,,,,\nTA,,Ted,ted,\n")
    assert roster.parse(path) == [roster.Member("ann", "Ann Lee", "a@b.org", "student"),
                                  roster.Member("ted", "Ted", "", "ta")]


def test_every_role_and_only_those(tmp_path):
    members = roster.parse(_csv(tmp_path, "id,name,email,role\na,,,Student\nb,,,INSTRUCTOR\nc,,,ta\n"))
    assert [(m.role, m.grades) for m in members] == [("student", False), ("instructor", True), ("ta", True)]
    message = _problems(tmp_path, "d,,,\ne,,,admin\n")
    assert "line 2: bad role ''" in message and "line 3: bad role 'admin' (one of student, instructor, ta)" in message


def test_a_file_with_a_header_and_no_rows_or_no_header_is_refused(tmp_path):
    with pytest.raises(roster.RosterError, match=r"roster.csv: no rows$"):
        roster.parse(_csv(tmp_path, "id,name,email,role\n\n,,,\n"))
    with pytest.raises(roster.RosterError, match="line 1: the header must name the columns id, name, email, role; "
                                                 "missing id, name, email, role"):
        roster.parse(_csv(tmp_path, ""))
    with pytest.raises(roster.RosterError, match="missing email, role$"):
        roster.parse(_csv(tmp_path, "id,name\nann,Ann\n"))


def test_an_unreadable_file_is_named(tmp_path):
    with pytest.raises(roster.RosterError, match=r"missing.csv: cannot read the roster"):
        roster.parse(tmp_path / "missing.csv")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(b"id,name,email,role\nann,J\xf6rg,,student\n")
    with pytest.raises(roster.RosterError, match="latin1.csv: cannot read the roster"):
        roster.parse(bad)


def test_every_problem_is_listed_and_nothing_is_returned(tmp_path):
    message = _problems(tmp_path, "ann,,,student\nann,,,boss\nBad,,bad,student\n", reserved={"grader"})
    assert message.splitlines()[0] == "the roster was not applied:"
    assert message.splitlines()[1:] == [
        f"  {tmp_path / 'roster.csv'} line 3: id 'ann' repeats line 2",
        f"  {tmp_path / 'roster.csv'} line 3: bad role 'boss' (one of student, instructor, ta)",
        f"  {tmp_path / 'roster.csv'} line 4: bad id 'Bad' (lower-case letters, digits, '-' and '_', "
        f"starting with a letter, at most 32 characters)",
        f"  {tmp_path / 'roster.csv'} line 4: bad email 'bad'",
    ]


def test_a_reserved_id_is_refused_before_any_account_lookup(tmp_path, monkeypatch):
    monkeypatch.setattr(roster.pwd, "getpwnam", lambda name: pytest.fail(f"looked up {name}"))
    assert "line 2: id 'grader' is reserved for the platform" in _problems(tmp_path, "grader,,,ta\n",
                                                                           reserved={"grader"})


def _account(uid: int):
    return pwd.struct_passwd(("x", "x", uid, uid, "", "/nonexistent", "/bin/false"))


@pytest.mark.parametrize("uid, refused", [(0, True), (999, True), (1000, False), (65534, False)])
def test_only_system_accounts_below_uid_1000_are_refused(tmp_path, monkeypatch, uid, refused):
    monkeypatch.setattr(roster.pwd, "getpwnam", lambda name: _account(uid))
    text = "id,name,email,role\nann,,,student\n"
    if refused:
        with pytest.raises(roster.RosterError, match=f"line 2: id 'ann' is a system account \\(uid {uid}\\)"):
            roster.parse(_csv(tmp_path, text))
    else:
        assert [m.id for m in roster.parse(_csv(tmp_path, text))] == ["ann"]


def test_the_recorded_roster_round_trips_and_only_its_owner_reads_it(tmp_path):
    assert roster.load(tmp_path) == {}
    members = {"ann": roster.Member("ann", "Ann", "a@b", "student"), "ivy": roster.Member("ivy", "Ivy", "", "ta")}
    roster.save(tmp_path, members)
    assert roster.load(tmp_path) == members
    assert os.stat(roster.roster_file(tmp_path)).st_mode & 0o777 == 0o600
    assert roster.roster_file(tmp_path) == tmp_path / "roster.json"
    assert not list(tmp_path.glob("*.tmp"))
    assert json.loads(roster.roster_file(tmp_path).read_text())["members"][1] == {
        "id": "ivy", "name": "Ivy", "email": "", "role": "ta"}


def test_created_users_are_added_and_taken_away_as_sets(tmp_path):
    assert roster.created_users(tmp_path) == set()
    roster.record_created(tmp_path, ["b", "a"])
    roster.record_created(tmp_path, ["a", "c"])
    assert roster.created_users(tmp_path) == {"a", "b", "c"}
    assert json.loads(roster.created_file(tmp_path).read_text()) == ["a", "b", "c"]
    roster.record_created(tmp_path, ["b", "zz"], add=False)
    assert roster.created_users(tmp_path) == {"a", "c"}
    assert os.stat(roster.created_file(tmp_path)).st_mode & 0o777 == 0o600
    assert roster.created_file(tmp_path) == tmp_path / "created_users.json"


def test_only_root_may_change_the_roster(tmp_path, monkeypatch):
    monkeypatch.setattr(roster.os, "geteuid", lambda: 1000)
    for what, call in (("course roster add", lambda: roster.add(tmp_path, tmp_path / "r.csv", tmp_path)),
                       ("course roster remove", lambda: roster.remove(tmp_path, ["ann"], delete_homes=False))):
        with pytest.raises(CourseError, match=f"^{what} creates system users and runs servers as them: run it "
                                              f"as root \\(for example `sudo make hub`\\)$"):
            call()


class _FakeAccounts:
    """The system accounts, in memory: what add and remove would have created and deleted."""

    def __init__(self, monkeypatch, existing=()):
        self.users = set(existing)
        self.log = []
        monkeypatch.setattr(roster.os, "geteuid", lambda: 0)
        monkeypatch.setattr(roster, "user_exists", lambda name: name in self.users)
        monkeypatch.setattr(roster, "create_system_user", self.create)
        monkeypatch.setattr(roster, "remove_system_user", self.remove)

    def create(self, name, home_base, comment=""):
        self.users.add(name)
        self.log.append(("create", name, comment))

    def remove(self, name, keep_home=False):
        self.users.discard(name)
        self.log.append(("remove", name, keep_home))


def test_add_creates_only_missing_accounts_updates_rows_and_reports_to_the_hub(tmp_path, monkeypatch):
    accounts = _FakeAccounts(monkeypatch, existing={"ivy"})
    seen = []
    roster.save(tmp_path, {"old": roster.Member("old", "Old", "", "student"),
                           "ann": roster.Member("ann", "Ann Before", "", "student")})
    rows = roster.add(tmp_path, _csv(tmp_path, "id,name,email,role\nann,Ann After,,ta\nivy,Ivy,,instructor\n"),
                      tmp_path / "homes", on_applied=lambda added, everyone: seen.append((added, dict(everyone))))
    assert [m.id for m in rows] == ["ann", "ivy"]
    assert accounts.log == [("create", "ann", "Ann After")]
    recorded = roster.load(tmp_path)
    assert list(recorded) == ["old", "ann", "ivy"] and recorded["ann"].role == "ta"
    assert roster.created_users(tmp_path) == {"ann"}
    assert seen == [(rows, recorded)]


def test_remove_keeps_homes_unless_asked_and_only_deletes_accounts_it_made(tmp_path, monkeypatch):
    accounts = _FakeAccounts(monkeypatch, existing={"mine", "theirs", "gone", "stay"})
    roster.save(tmp_path, {i: roster.Member(i, "", "", "student") for i in ("mine", "theirs", "gone", "stay")})
    roster.record_created(tmp_path, ["mine", "gone", "stay"])
    accounts.users.discard("gone")  # deleted by hand meanwhile
    removed, deleted = roster.remove(tmp_path, ["mine", "theirs", "gone"], delete_homes=False)
    assert [m.id for m in removed] == ["mine", "theirs", "gone"] and deleted == ["mine"]
    assert accounts.log == [("remove", "mine", True)]
    assert list(roster.load(tmp_path)) == ["stay"]
    assert roster.created_users(tmp_path) == {"gone", "stay"}
    _, deleted = roster.remove(tmp_path, ["stay"], delete_homes=True)
    assert deleted == ["stay"] and accounts.log[-1] == ("remove", "stay", False)


def test_remove_of_an_unknown_id_changes_nothing(tmp_path, monkeypatch):
    _FakeAccounts(monkeypatch, existing={"ann"})
    roster.save(tmp_path, {"ann": roster.Member("ann", "", "", "student")})
    before = roster.roster_file(tmp_path).read_text()
    with pytest.raises(roster.RosterError, match=r"not on the roster in .*roster.json: bob, cy$"):
        roster.remove(tmp_path, ["ann", "bob", "cy"], delete_homes=True)
    assert roster.roster_file(tmp_path).read_text() == before


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("useradd") is None, reason="creates a system user: run as root")
def test_a_system_user_gets_a_private_home_bash_and_a_comment_that_cannot_break_passwd(tmp_path):
    name = "r" + secrets.token_hex(4)
    comment = "Kim: " + "x" * 80  # a ':' would add a field to /etc/passwd; 60 characters at most are kept
    try:
        roster.create_system_user(name, tmp_path, comment)
        entry = pwd.getpwnam(name)
        assert entry.pw_gecos == ("Kim  " + "x" * 80)[:60] and entry.pw_shell == "/bin/bash"
        assert entry.pw_dir == str(tmp_path / name) and os.stat(tmp_path / name).st_mode & 0o777 == 0o700
        with pytest.raises(roster.RosterError, match=f"^useradd {name} failed: .*{name}.*exists"):
            roster.create_system_user(name, tmp_path)
    finally:
        roster.remove_system_user(name)
    assert not roster.user_exists(name)


def test_add_refuses_a_reserved_id_before_creating_anyone(tmp_path, monkeypatch):
    accounts = _FakeAccounts(monkeypatch)
    with pytest.raises(roster.RosterError, match="line 3: id 'grader' is reserved for the platform"):
        roster.add(tmp_path, _csv(tmp_path, "id,name,email,role\nann,,,student\ngrader,,,ta\n"), tmp_path,
                   reserved={"grader"})
    assert accounts.log == [] and roster.load(tmp_path) == {}
