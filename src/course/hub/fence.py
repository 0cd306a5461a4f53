"""The fence around a student's server: `python -I -S fence.py PLAN -- CMD...`, run as root.

The hub spawns every single-user server through this wrapper (CourseSpawner). Before it becomes
the student it
  1. puts itself into the server's cgroups (memory and CPU limits; the hub later ends every
     process left in them, kernels included, when the server stops);
  2. unshares a mount namespace and lays an empty read-only tmpfs over the repository and the
     hub's state directory, then binds back only what a student's server needs (the Python it
     runs, nbgrader's exchange, the students' Jupyter config): autograder/, source/,
     solutions/, the roster, gradebooks and the hub database are not there to read, whatever
     the repository's permissions. /tmp, /var/tmp and /dev/shm are private, empty tmpfs, and
     /proc shows only the student's own processes (hidepid=2). The student cannot undo it (no CAP_SYS_ADMIN; mounts made
     here are locked in any user namespace they create);
  3. drops to the student's uid, gid and groups, and execs the server (same pid, so the
     spawner's signals reach it).

It imports only the standard library and runs with -I -S, so it costs ~20 ms per spawn.
PLAN is a JSON file the hub writes (course.hub.spawner.write_plan). The user comes from
JUPYTERHUB_USER, which the hub itself sets in the server's environment.
"""
from __future__ import annotations

import ctypes
import json
import os
import pwd
import sys

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]


class FenceError(RuntimeError):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise FenceError(f"{what}: {os.strerror(errno)}")


def mount(source, target, fstype, flags: int, data: str | None = None) -> None:
    enc = lambda s: s.encode() if isinstance(s, str) else s   # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)),
           f"mount {source} on {target}")


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def join_cgroups(cgroups: dict, user: str) -> None:
    """Create <parent>/<user> in each controller, set its limit, and move this process in."""
    for controller, spec in cgroups.items():
        group = os.path.join(spec["parent"], user)
        os.makedirs(group, exist_ok=True)
        for name, value in spec.get("limits", {}).items():
            with open(os.path.join(group, name), "w") as f:
                f.write(str(value))
        with open(os.path.join(group, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))


# Shared scratch a student's server gets a private, empty copy of (a writable tmpfs, its pages
# charged to the server's memory cgroup, gone when the server stops): classmates' files there are
# not theirs to read, and nothing piles up in the machine's RAM across restarts.
PRIVATE = {"/tmp": "size=1g", "/var/tmp": "size=256m", "/dev/shm": "size=512m"}


def fence(masks: list[str], binds: list[dict], private: dict = PRIVATE) -> None:
    """A private mount namespace where each mask is an empty read-only tmpfs and each private
    folder an empty writable one, with binds put back."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    mount(None, "/", None, MS_REC | MS_PRIVATE)     # nothing done here leaks to the host
    # handles on what comes back, taken in the new namespace before the masks hide it
    handles = []
    for bind in binds:
        path = bind["path"]
        if not os.path.exists(path):
            continue
        if not any(under(path, m) for m in [*masks, *private]):
            continue
        handles.append((path, os.open(path, os.O_PATH | os.O_CLOEXEC), bool(bind.get("writable"))))
    laid = []
    for mask in sorted(set(masks) | set(private), key=len):
        if any(under(mask, done) for done in laid) or not os.path.isdir(mask):
            continue
        if mask in private:
            mount("tmpfs", mask, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,{private[mask]}")
        else:
            mount("tmpfs", mask, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
        laid.append(mask)
    for path, fd, writable in sorted(handles, key=lambda h: len(h[0])):
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, mode=0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            open(path, "a").close()
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        if not writable:
            mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    for mask in laid:
        if mask not in private:
            mount(None, mask, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755")
    # a /proc of its own where other users' processes are invisible (their command lines name
    # classmates, ports and paths); the pid namespace stays the host's, so the hub still sees
    # and stops everything the server starts
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")


def become(user: str) -> pwd.struct_passwd:
    entry = pwd.getpwnam(user)
    if entry.pw_uid == 0:
        raise FenceError("refusing to run a server as root")
    os.setpriority(os.PRIO_PROCESS, 0, 0)   # the hub runs niced up (-5); students do not
    os.setgroups(os.getgrouplist(user, entry.pw_gid))
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    if os.getuid() != entry.pw_uid or os.geteuid() != entry.pw_uid:
        raise FenceError(f"could not become {user}")
    os.umask(0o022)
    try:
        os.chdir(entry.pw_dir)
    except OSError:
        pass
    return entry


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print("usage: fence.py PLAN -- CMD...", file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        plan = json.load(f)
    user = os.environ.get("JUPYTERHUB_USER", "")
    cmd = argv[3:]
    try:
        pwd.getpwnam(user)
    except KeyError:
        print(f"course hub fence: no system user {user!r}", file=sys.stderr)
        return 2
    try:
        if plan.get("cgroups"):
            join_cgroups(plan["cgroups"], user)
        if plan.get("masks"):
            fence(plan["masks"], plan.get("binds", []))
        become(user)
    except (OSError, FenceError) as exc:
        print(f"course hub fence: cannot start {user}'s server: {exc}", file=sys.stderr)
        return 1
    os.execv(cmd[0], cmd)   # nothing may be imported after become(): the stdlib may be private


if __name__ == "__main__":
    sys.exit(main(sys.argv))
