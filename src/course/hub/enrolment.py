"""One-time enrolment codes and the password store the hub's authenticator reads.

Roster ids are not secret (they are home folders and /etc/passwd entries), so "the first
password typed becomes yours" let any student claim a classmate's or the instructor's account.
Instead `course roster add` gives every member with no password yet a random code and stores
only its bcrypt hash as that member's password, in the same dbm and hash format
FirstUseAuthenticator reads (`<state>/passwords.dbm`). The codes themselves go to a file only
root reads (`<state>/enrolment-codes.csv`, 0600) for the instructor to hand out; a student may
then change the password at /hub/auth/change-password.

The store is a dbm.dumb file (no locking of its own) written by two processes, the hub (password
changes) and `course roster` (codes, removals): every open holds an exclusive flock on a lock
file next to it, so neither loses the other's write.
"""
from __future__ import annotations

import contextlib
import csv
import dbm
import fcntl
import io
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bcrypt

# No 0/o, 1/l/i: read aloud or copied from paper without doubt. 31**12 ~ 2**59 codes.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 12
CODE_COLUMNS = ("id", "name", "email", "code")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def passwords_path(state: Path) -> Path:
    """The authenticator's dbm (its dbm_path; dbm.dumb adds .dat/.dir/.bak)."""
    return Path(state) / "passwords.dbm"


def codes_path(state: Path) -> Path:
    return Path(state) / "enrolment-codes.csv"


# ---------------------------------------------------------------------------------------------
# the password store

@contextlib.contextmanager
def open_store(dbm_path: str | Path):
    """The dbm, opened for reading and writing under an exclusive lock shared with every other
    process that opens it through here."""
    lock = os.open(f"{dbm_path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with dbm.open(str(dbm_path), "c", 0o600) as db:
            yield db
    finally:
        os.close(lock)      # releases the flock


def stored_hash(dbm_path: str | Path, name: str) -> bytes | None:
    with open_store(dbm_path) as db:
        return db.get(name.encode("utf8"))


def hash_password(password: str) -> bytes:
    return bcrypt.hashpw(password.encode("utf8"), bcrypt.gensalt())


def store_hashes(dbm_path: str | Path, hashes: dict[str, bytes]) -> None:
    with open_store(dbm_path) as db:
        for name, hashed in hashes.items():
            db[name.encode("utf8")] = hashed


def forget(dbm_path: str | Path, names) -> None:
    with open_store(dbm_path) as db:
        for name in names:
            with contextlib.suppress(KeyError):
                del db[name.encode("utf8")]


# ---------------------------------------------------------------------------------------------
# the codes file (root's alone)

def read_codes(state: Path) -> dict[str, dict[str, str]]:
    path = codes_path(state)
    if not path.exists():
        return {}
    return {row["id"]: row for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))}


def write_codes(state: Path, rows: dict[str, dict[str, str]]) -> None:
    """Atomically, and 0600 from the moment the file exists (never readable by anyone else)."""
    path = codes_path(state)
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=CODE_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows.values())
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o600)     # whatever the umask
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# what `course roster` does

def issue(state: Path, members, *, replace: bool = False) -> dict[str, str]:
    """New codes for members (roster.Member) without a stored password (every one named, with
    replace: their old password is gone). The codes file is written before the hashes, so a
    crash between the two leaves a member without a password (the next `roster add` or
    `reset-code` issues one), never one whose password nobody knows. Returns {id: code}."""
    dbm_path = passwords_path(state)
    with open_store(dbm_path) as db:
        members = [m for m in members if replace or m.id.encode("utf8") not in db]
    if not members:
        return {}
    codes = {m.id: new_code() for m in members}
    rows = read_codes(state)
    for m in members:
        rows[m.id] = {"id": m.id, "name": m.name, "email": m.email, "code": codes[m.id]}
    write_codes(state, rows)
    # bcrypt (~0.25 s each) releases the GIL: a class of hundreds hashes on every core
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        hashed = dict(zip(codes, pool.map(hash_password, codes.values())))
    store_hashes(dbm_path, hashed)
    return codes


def withdraw(state: Path, ids) -> None:
    """Removed members: their stored password and their code row go."""
    ids = list(ids)
    forget(passwords_path(state), ids)
    rows = read_codes(state)
    if any(i in rows for i in ids):
        write_codes(state, {k: v for k, v in rows.items() if k not in ids})
