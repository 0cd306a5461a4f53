"""Confinement applied by the sandbox process to itself before it runs any student code.

Three levels, chosen by `detect_level()` in the judge and recorded in every results.json:

- "namespaces": the judge runs as root and `unshare` works. The sandbox gets new pid, mount and
  network namespaces, masks the course and home directories with empty tmpfs (only the Python
  environment and the platform package stay visible), joins a pids cgroup when one is writable,
  then drops to an unprivileged per-sandbox uid (so RLIMIT_NPROC applies and nothing owned by
  the grader is writable).
- "userns": not root but unprivileged user namespaces are allowed. Same namespaces and masks,
  then every capability is dropped so the masks cannot be undone.
- "rlimits": neither. Only resource limits, a new session and the scratch directory hold; the
  network and the file system are not fenced. The README says so.

Resource limits (address space, CPU time, processes, file size, open files, no core dumps)
apply at every level.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import shutil
import subprocess
import sys
import tempfile

from course.paths import CourseError

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
_LAST_CAP = 40

# Private tmpfs mounted over /mnt inside the sandbox's mount namespace, to hold bind sources
# while a mask goes up; nothing is written to the host.
_STAGING = "/mnt"

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


class IsolationError(CourseError):
    """The sandbox could not confine itself; it refuses to run student code."""


LEVELS = ("namespaces", "userns", "rlimits")


def detect_level() -> str:
    """Which confinement this machine allows, probed once by the judge.

    The rlimits level lets a submission read the course and signal the grader's processes,
    so it is never chosen silently: COURSE_SANDBOX_LEVEL=rlimits must ask for it.
    """
    forced = os.environ.get("COURSE_SANDBOX_LEVEL")
    if forced:
        if forced not in LEVELS:
            raise IsolationError(f"COURSE_SANDBOX_LEVEL={forced!r}; choose one of {', '.join(LEVELS)}")
        return forced
    flags = ["--pid", "--fork", "--mount", "--net"]
    if os.geteuid() != 0:
        flags = ["--user", "--map-root-user", *flags]
    if shutil.which("unshare") and subprocess.run(["unshare", *flags, "true"], capture_output=True).returncode == 0:
        return "namespaces" if os.geteuid() == 0 else "userns"
    raise IsolationError(
        "this machine allows neither root namespaces nor unprivileged user namespaces, so student code "
        "cannot be fenced off from the course files and the network. Grade as root, enable user "
        "namespaces (sysctl kernel.unprivileged_userns_clone=1), use the grader image, or set "
        "COURSE_SANDBOX_LEVEL=rlimits to grade trusted notebooks with resource limits only.")


def unshare_prefix(level: str) -> list[str]:
    """Command prefix that starts the sandbox in its namespaces (--kill-child: no orphans)."""
    if level == "rlimits":
        return []
    flags = ["--pid", "--fork", "--kill-child", "--mount", "--net", "--mount-proc"]
    if level == "userns":
        flags = ["--user", "--map-root-user", *flags]
    return ["unshare", *flags]


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    result = _libc.mount(
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if result != 0:
        errno = ctypes.get_errno()
        raise IsolationError(f"mount {fstype or 'bind'} on {target} failed: {os.strerror(errno)}")


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def mask(hidden_root: str, keep: list[str]) -> None:
    """Cover `hidden_root` with an empty tmpfs, then bind the `keep` paths below it back in place."""
    if not os.path.isdir(hidden_root):
        return
    kept = sorted({k for k in keep if _is_under(k, hidden_root) and os.path.exists(k)})
    # Drop keeps nested in other keeps: binding the outer one brings them along.
    kept = [k for k in kept if not any(o != k and _is_under(k, o) for o in kept)]
    staging = []
    for path in kept:
        holder = tempfile.mkdtemp(prefix="keep-", dir=_STAGING)
        _mount(path, holder, None, MS_BIND | MS_REC)
        staging.append((path, holder))
    _mount("tmpfs", hidden_root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for path, holder in staging:
        os.makedirs(path, exist_ok=True)
        _mount(holder, path, None, MS_BIND | MS_REC)
        _libc.umount2(holder.encode(), MNT_DETACH)  # the bind above is independent of its holder


def drop_capabilities() -> None:
    """Clear the bounding set and every capability set (userns level)."""
    for cap in range(_LAST_CAP + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)()
    if _libc.capset(ctypes.byref(header), ctypes.byref(data)) != 0:
        raise IsolationError(f"capset failed: {os.strerror(ctypes.get_errno())}")


def drop_to_uid(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise IsolationError("could not drop to the sandbox uid")


def join_cgroup(path: str | None) -> None:
    if path:
        with open(os.path.join(path, "cgroup.procs"), "w") as procs:
            procs.write("0")  # "0" moves the writing process itself


def apply_rlimits(limits: dict) -> None:
    mib = 2**20
    wanted = {
        resource.RLIMIT_AS: limits["memory_mb"] * mib,
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_NPROC: limits["max_processes"],
        resource.RLIMIT_FSIZE: limits["file_size_mb"] * mib,
        resource.RLIMIT_NOFILE: 512,
        resource.RLIMIT_CORE: 0,
    }
    for which, value in wanted.items():
        resource.setrlimit(which, (value, value))


def confine(spec: dict) -> None:
    """Apply the spec the judge computed. Raises IsolationError rather than run unconfined."""
    level = spec["level"]
    scratch = spec["scratch"]
    if level in ("namespaces", "userns"):
        _mount("none", "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks to the host
        _mount("tmpfs", _STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700")
        keep = [os.path.realpath(p) for p in spec["keep"]] + [scratch]
        for hidden in spec["hide"]:
            mask(os.path.realpath(hidden), keep)
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=256m,mode=1777")
    if level == "namespaces":
        join_cgroup(spec.get("cgroup"))
        if spec.get("uid") is not None:
            drop_to_uid(spec["uid"])
    elif level == "userns":
        drop_capabilities()
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    apply_rlimits(spec["limits"])
    os.chdir(scratch)
    sys.path[:] = [p for p in sys.path if p not in ("", ".")]
