"""The file system a sandbox sees: an allow-list root built for it, or (where that is impossible)
the host's root with the course folders masked.

Allow-list (`build_root`): a fresh tmpfs holding only what running a notebook needs, bound
read-only — /usr and the /lib*, /bin, /sbin links, the Python environment, the platform
package, a minimal /etc (synthesised passwd and group, the loader cache, certificates, time
zone), a minimal /dev (null, zero, full, random, urandom, a fresh /dev/shm), the sandbox's own
/proc, a size-capped tmpfs scratch holding copies of the files the judge prepared, and a
private size-capped /tmp. Then
`pivot_root` into it and detach the host's root: nothing else of the host is reachable by
path (no /run, /var, /tmp, /home, /root, exchange, unix sockets).

Deny-list (`mask`): kept for machines where `pivot_root` fails (a root on initramfs): empty
tmpfs over each hidden folder, the kept paths bound back.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import sys
import tempfile

from course.paths import CourseError

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
SYS_PIVOT_ROOT = 155  # x86_64

# Where the new root is assembled, inside the sandbox's private mount namespace.
_STAGING = "/mnt"
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Copied (small files, read at import time by the loader, ssl, time and socket modules).
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "nsswitch.conf", "localtime", "timezone", "os-release",
              "mime.types", "protocols", "services", "host.conf", "gai.conf", "ca-certificates.conf")
# Bound read-only (certificates, fonts, the links of /usr/bin/*).
_ETC_DIRS = ("ld.so.conf.d", "ssl", "ca-certificates", "alternatives", "fonts", "pki")
_DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


class IsolationError(CourseError):
    """The sandbox could not confine itself; it refuses to run student code."""


class PivotImpossible(IsolationError):
    """pivot_root is refused here (a root on initramfs): the deny-list masks are the fallback."""


def _fail(what: str) -> None:
    errno = ctypes.get_errno()
    raise IsolationError(f"{what} failed: {os.strerror(errno)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    result = _libc.mount(source.encode() if source else None, target.encode(),
                         fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                         data.encode() if data else None)
    if result != 0:
        _fail(f"mount {fstype or 'bind'} on {target}")


def _bind_read_only(source: str, target: str) -> None:
    """A read-only, nosuid bind of one file or folder (not of the mounts below it)."""
    mount(source, target, None, MS_BIND)
    mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)


def _inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _place(root: str, path: str, seen: set[str]) -> None:
    """Make `path` of the host appear at the same path below `root`: symbolic links stay links
    (the /bin -> usr/bin of merged-/usr systems, a venv's lib64 or a linked ancestor), and what
    they point to is placed too; folders and files are bound read-only."""
    path = os.path.abspath(path)
    if path in seen or not os.path.lexists(path):
        return
    seen.add(path)
    parts = path.strip("/").split("/")
    for depth in range(1, len(parts)):  # an ancestor that is a link: place the link, then its target
        ancestor = "/" + "/".join(parts[:depth])
        if os.path.islink(ancestor):
            _place(root, ancestor, seen)
            _place(root, os.path.join(os.path.realpath(ancestor), *parts[depth:]), seen)
            return
    target = _inside(root, path)
    if os.path.islink(path):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.lexists(target):
            os.symlink(os.readlink(path), target)
        _place(root, os.path.realpath(path), seen)
        return
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "a").close()
    _bind_read_only(path, target)


def _passwd(uid: int) -> tuple[str, str]:
    passwd = f"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\nstudent:x:{uid}:{uid}:student:/nonexistent:/usr/sbin/nologin\n"
    group = f"root:x:0:\nstudent:x:{uid}:\n"
    if uid in (0, 65534):
        passwd = passwd.split("\n", 1)[0] + "\n"
        group = group.split("\n", 1)[0] + "\n"
    passwd += "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    group += "nogroup:x:65534:\n"
    return passwd, group


def _make_etc(root: str, uid: int, seen: set[str]) -> None:
    etc = _inside(root, "/etc")
    os.makedirs(etc, exist_ok=True)
    passwd, group = _passwd(uid)
    files = {"passwd": passwd, "group": group, "hostname": "sandbox\n",
             "hosts": "127.0.0.1 localhost sandbox\n::1 localhost\n"}
    for name, text in files.items():
        with open(os.path.join(etc, name), "w") as handle:
            handle.write(text)
    for name in _ETC_FILES:
        source = os.path.join("/etc", name)
        if os.path.isfile(source):  # follows links (localtime, os-release): the content is what counts
            shutil.copyfile(source, os.path.join(etc, name))
    for name in _ETC_DIRS:
        _place(root, os.path.join("/etc", name), seen)


def _make_dev(root: str, shm_mb: int) -> None:
    dev = _inside(root, "/dev")
    os.makedirs(dev, exist_ok=True)
    names = list(_DEVICES) + sorted(n for n in os.listdir("/dev") if n.startswith("nvidia"))  # GPU sandboxes
    for name in names:
        source = os.path.join("/dev", name)
        if not os.path.exists(source) or os.path.isdir(source):
            continue
        target = os.path.join(dev, name)
        open(target, "a").close()
        mount(source, target, None, MS_BIND)
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC)
    for name, link in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                       ("stderr", "/proc/self/fd/2")):
        os.symlink(link, os.path.join(dev, name))
    os.makedirs(os.path.join(dev, "shm"))
    mount("tmpfs", os.path.join(dev, "shm"), "tmpfs", MS_NOSUID | MS_NODEV, f"size={shm_mb}m,mode=1777")


def _fill_scratch(source: str, target: str, uid: int | None) -> None:
    """Copy what the judge prepared into the sandbox's tmpfs (regular files and folders only)."""
    for entry in os.scandir(source):
        path = os.path.join(target, entry.name)
        if entry.is_dir(follow_symlinks=False):
            os.mkdir(path)
            _fill_scratch(entry.path, path, uid)
        elif entry.is_file(follow_symlinks=False):
            shutil.copyfile(entry.path, path)
        else:
            continue
        if uid is not None:
            os.chown(path, uid, uid)


def build_root(spec: dict, keep: list[str]) -> None:
    """Assemble the allow-list root and pivot into it. Runs as root in the sandbox's new mount
    and pid namespaces; afterwards the host's root is detached and `scratch` is the only
    writable place besides /tmp and /dev/shm (all three tmpfs, charged to its memory cgroup). Raises PivotImpossible before anything is lost when the
    kernel refuses pivot_root here."""
    limits = spec["limits"]
    uid = spec.get("uid")
    scratch = spec["scratch"]
    root = _STAGING
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0755")
    # A private /tmp (code that ignores TMPDIR: torch's inductor cache...); the scratch may live
    # below it. Mounted before the kept paths are bound: a Python environment or course checked
    # out under /tmp must stay visible over it (lazy imports found nothing there otherwise).
    os.makedirs(_inside(root, "/tmp"), exist_ok=True)
    mount("tmpfs", _inside(root, "/tmp"), "tmpfs", MS_NOSUID | MS_NODEV,
          f"size={limits.get('scratch_mb', 512)}m,mode=1777")
    seen: set[str] = set()
    for path in (*_SYSTEM_DIRS, *keep):
        _place(root, path, seen)
    _make_etc(root, uid if uid is not None else 0, seen)
    _make_dev(root, limits.get("shm_mb", 256))
    os.makedirs(_inside(root, "/proc"))
    mount("proc", _inside(root, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    target = _inside(root, scratch)
    os.makedirs(target, mode=0o755)
    owner = f",uid={uid},gid={uid}" if uid is not None else ""
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV,
          f"size={limits.get('scratch_mb', 512)}m,mode=0700{owner}")
    _fill_scratch(scratch, target, uid)
    mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4m,mode=0755")
    os.chdir(root)
    if _libc.syscall(SYS_PIVOT_ROOT, b".", b".") != 0:
        errno = ctypes.get_errno()
        os.chdir("/")
        _libc.umount2(root.encode(), MNT_DETACH)
        raise PivotImpossible(f"pivot_root failed: {os.strerror(errno)}")
    # The old root is now stacked on the new one at "/": detach it, and with it the whole host.
    if _libc.umount2(b".", MNT_DETACH) != 0:
        _fail("detaching the host's root")
    os.chdir("/")


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def mask(hidden_root: str, keep: list[str], shm_mb: int = 256) -> None:
    """Deny-list fallback: cover `hidden_root` with an empty tmpfs, then bind the `keep` paths
    below it back in place."""
    if not os.path.isdir(hidden_root):
        return
    kept = sorted({k for k in keep if _is_under(k, hidden_root) and os.path.exists(k)})
    # Drop keeps nested in other keeps: binding the outer one brings them along.
    kept = [k for k in kept if not any(o != k and _is_under(k, o) for o in kept)]
    staging = []
    for path in kept:
        holder = tempfile.mkdtemp(prefix="keep-", dir=_STAGING)
        mount(path, holder, None, MS_BIND | MS_REC)
        staging.append((path, holder))
    mount("tmpfs", hidden_root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for path, holder in staging:
        os.makedirs(path, exist_ok=True)
        mount(holder, path, None, MS_BIND | MS_REC)
        _libc.umount2(holder.encode(), MNT_DETACH)  # the bind above is independent of its holder


def deny_list_root(spec: dict, keep: list[str]) -> None:
    """The host's root with the judge's hidden folders (and /run, /var, /tmp) masked."""
    mount("tmpfs", _STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700")
    keep = keep + [spec["scratch"]]
    for hidden in [*spec["hide"], "/run", "/var", "/tmp", "/home", "/root", "/dev/mqueue"]:
        mask(os.path.realpath(hidden), keep)
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={spec['limits'].get('shm_mb', 256)}m,mode=1777")
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV)


def keep_paths(spec: dict) -> list[str]:
    """The Python environment and the platform package: what the sandbox's interpreter imports from."""
    wanted = [*spec.get("keep", []), sys.prefix, sys.base_prefix, sys.exec_prefix,
              os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]  # the `course` package
    out = []
    for path in wanted:
        for variant in (os.path.abspath(path), os.path.realpath(path)):
            if variant not in out and os.path.exists(variant):
                out.append(variant)
    return out
