"""Confinement applied by the sandbox process to itself before it runs any student code.

Three levels, chosen by `detect_level()` in the judge and recorded in every results.json:

- "namespaces": the judge runs as root and `unshare` works. The sandbox gets new pid, mount,
  network, IPC and UTS namespaces, joins its memory and pids cgroups (`cgroups.py`), pivots
  into an allow-list root (`rootfs.py`: only the Python environment, the platform package,
  /usr and a minimal /etc and /dev, read-only; a size-capped tmpfs scratch), then drops to an
  unprivileged per-sandbox uid (so RLIMIT_NPROC applies and nothing owned by the grader is
  writable) and re-arms its parent-death signal (the uid change clears it).
- "userns": not root but unprivileged user namespaces are allowed. Same namespaces and root,
  no cgroups, then every capability is dropped so the root cannot be undone.
- "rlimits": neither. Only resource limits, a new session and the scratch directory hold; the
  network and the file system are not fenced. The README says so.

Resource limits (address space, CPU time, processes, file size, open files, no core dumps)
and the system-call filter (`seccomp.py`) apply at every level. `confine` returns what held,
and the judge records it in results.json (`extra_data.sandbox`).
"""
from __future__ import annotations

import ctypes
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

from course.sandbox import rootfs, seccomp
from course.sandbox.rootfs import IsolationError, _libc, mount as _mount  # noqa: F401 - re-exported

MS_REC = 0x4000
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
_LAST_CAP = 40


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
    flags = ["--pid", "--fork", "--mount", "--net", "--ipc", "--uts"]
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


def arm_parent_death_signal() -> None:
    """SIGKILL when the parent (A) dies. A uid change clears it, so it is armed after the drop;
    the seccomp filter then keeps student code from clearing it."""
    if _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise IsolationError(f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(ctypes.get_errno())}")


def apply_rlimits(limits: dict) -> None:
    mib = 2**20
    wanted = {
        resource.RLIMIT_AS: limits["memory_mb"] * mib,
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_NPROC: limits["max_processes"],
        resource.RLIMIT_FSIZE: limits["file_size_mb"] * mib,
        resource.RLIMIT_NOFILE: 512,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_MSGQUEUE: 0,
    }
    for which, value in wanted.items():
        resource.setrlimit(which, (value, value))


def _wait_for_cgroups(fd: int) -> None:
    """A writes b"1" once this process is in its cgroups (zygote._join_cgroups)."""
    chunks = []
    while chunk := os.read(fd, 512):
        chunks.append(chunk)
    os.close(fd)
    answer = b"".join(chunks)
    if answer != b"1":
        raise IsolationError(f"could not join the sandbox's cgroups: {answer[1:].decode(errors='replace') or 'no answer'}")


def confine(spec: dict) -> dict:
    """Apply the spec the judge computed; return what held. Raises IsolationError rather than
    run unconfined. Runs in B, as root of its fresh namespaces, before any student code."""
    level = spec["level"]
    info = {"level": level}
    if level in ("namespaces", "userns"):
        _mount("none", "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks to the host
        _libc.sethostname(b"sandbox", 7)
        keep = rootfs.keep_paths(spec)
        try:
            if spec.get("root") == "deny-list":
                raise rootfs.PivotImpossible("asked for by the judge")
            rootfs.build_root(spec, keep)
            info["root"] = "allow-list (pivot_root)"
        except rootfs.PivotImpossible as exc:
            rootfs.deny_list_root(spec, keep)
            info["root"] = f"deny-list masks ({exc})"
        info["namespaces"] = ["mount", "pid", "net", "ipc", "uts"] + (["user"] if level == "userns" else [])
    else:
        info["root"] = "host (not fenced)"
        info["namespaces"] = []
    if spec.get("cgroups_joined_fd") is not None:
        _wait_for_cgroups(spec["cgroups_joined_fd"])
    if level == "namespaces" and spec.get("uid") is not None:
        drop_to_uid(spec["uid"])
    elif level == "userns":
        drop_capabilities()
    if level != "rlimits":
        arm_parent_death_signal()
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    apply_rlimits(spec["limits"])
    try:
        info["seccomp"] = seccomp.install()
    except seccomp.SeccompError as exc:
        raise IsolationError(f"the system-call filter could not be installed: {exc}") from None
    os.chdir(spec["scratch"])
    sys.path[:] = [p for p in sys.path if p not in ("", ".")]
    tempfile.tempdir = None  # the zygote's imports cached its own TMPDIR: use the sandbox's
    return info
