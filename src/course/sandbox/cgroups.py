"""Per-sandbox control groups: aggregate memory and process limits, and a kill that nothing escapes.

The judge creates one group per sandbox (per controller on cgroup v1, one directory on v2),
the zygote's A moves B into it before B drops root (it cannot leave: the groups belong to
root; see zygote._join_cgroups), and the judge kills whatever is still in it and removes it
when the sandbox closes.
Groups are created below the judge's own, so the limits of the machine's grader still hold.

cgroup v1 (this machine, hybrid hierarchies): `memory` and `pids` controllers. cgroup v2: one
group with `memory.max`, `memory.swap.max`, `pids.max`, killed through `cgroup.kill`, when the
judge's group delegates those controllers. Neither writable: no group, and `describe()` says so.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

_ROOT = Path("/sys/fs/cgroup")
_PREFIX = "course-sandbox-"


def _own_paths() -> dict[str, str]:
    """controller name (or "" for the v2 hierarchy) -> this process's group path."""
    paths = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def _v1_mounts() -> dict[str, Path]:
    """controller -> mount point of its v1 hierarchy."""
    mounts = {}
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return mounts
    for line in lines:
        fields = line.split()
        if len(fields) >= 4 and fields[2] == "cgroup":
            for option in fields[3].split(","):
                mounts.setdefault(option, Path(fields[1]))
    return mounts


def _v2_mount() -> Path | None:
    """The unified hierarchy, if it holds the memory and pids controllers."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) >= 3 and fields[2] == "cgroup2":
            controllers = Path(fields[1]) / "cgroup.controllers"
            try:
                if {"memory", "pids"} <= set(controllers.read_text().split()):
                    return Path(fields[1])
            except OSError:
                continue
    return None


def _write(path: Path, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


class SandboxCgroups:
    """The groups of one sandbox. `version` is "v1", "v2" or "none"."""

    def __init__(self, version: str, groups: list[Path], enforced: dict[str, str], reason: str = ""):
        self.version = version
        self.groups = groups
        self.name = groups[0].name if groups else None
        self.enforced = enforced
        self.reason = reason

    @classmethod
    def create(cls, memory_mb: int, max_processes: int, tag: str = "") -> "SandboxCgroups":
        """`tag` names the zygote the sandbox comes from: `remove_tagged(tag)` then finds every
        group of its sandboxes, even those of a judge that was killed before it could clean up."""
        name = f"{_PREFIX}{_safe(tag)}-{os.getpid()}-{time.monotonic_ns()}"
        if os.geteuid() != 0:
            return cls("none", [], {}, "the judge is not root")
        own = _own_paths()
        v1 = _v1_mounts()
        if "memory" in v1 or "pids" in v1:
            return cls._create_v1(name, own, v1, memory_mb, max_processes)
        v2 = _v2_mount()
        if v2 is not None:
            return cls._create_v2(name, v2 / own.get("", "/").lstrip("/"), memory_mb, max_processes)
        return cls("none", [], {}, "no memory or pids cgroup controller is mounted")

    @classmethod
    def _create_v1(cls, name, own, mounts, memory_mb, max_processes) -> "SandboxCgroups":
        groups, enforced = [], {}
        settings = {"memory": [("memory.limit_in_bytes", str(memory_mb * 2**20)),
                               ("memory.memsw.limit_in_bytes", str(memory_mb * 2**20))],  # no swap either
                    "pids": [("pids.max", str(max_processes))]}
        for controller, files in settings.items():
            if controller not in mounts:
                continue
            group = mounts[controller] / own.get(controller, "/").lstrip("/") / name
            try:
                group.mkdir()
            except OSError:
                continue
            groups.append(group)
            for filename, value in files:
                try:
                    _write(group / filename, value)
                    enforced[filename] = value
                except OSError:
                    pass  # memsw exists only with swap accounting
        instance = cls("v1" if groups else "none", groups, enforced,
                       "" if groups else "the cgroup v1 hierarchies are not writable")
        if "memory.limit_in_bytes" not in enforced or "pids.max" not in enforced:
            instance.reason = "some cgroup v1 limits could not be set"
        return instance

    @classmethod
    def _create_v2(cls, name, parent: Path, memory_mb, max_processes) -> "SandboxCgroups":
        try:
            delegated = set((parent / "cgroup.subtree_control").read_text().split())
        except OSError:
            delegated = set()
        if not {"memory", "pids"} <= delegated:
            try:  # allowed only when the judge's group holds no process itself
                _write(parent / "cgroup.subtree_control", "+memory +pids")
            except OSError:
                return cls("none", [], {}, f"cgroup v2: {parent} does not delegate memory and pids")
        group = parent / name
        try:
            group.mkdir()
        except OSError as exc:
            return cls("none", [], {}, f"cgroup v2: cannot create a group ({exc.strerror})")
        enforced = {}
        for filename, value in (("memory.max", str(memory_mb * 2**20)), ("memory.swap.max", "0"),
                                ("pids.max", str(max_processes))):
            try:
                _write(group / filename, value)
                enforced[filename] = value
            except OSError:
                pass
        return cls("v2", [group], enforced)

    # -- what A writes B's pid into ----------------------------------------------------------------
    def procs_files(self) -> list[str]:
        return [str(group / "cgroup.procs") for group in self.groups]

    # -- what the judge does after ----------------------------------------------------------------
    def pids(self) -> set[int]:
        found = set()
        for group in self.groups:
            try:
                found |= {int(p) for p in (group / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                pass
        return found

    def kill_all(self, timeout: float = 5.0) -> bool:
        """SIGKILL every process in the groups until none is left. True when they are empty."""
        deadline = time.monotonic() + timeout
        while True:
            left = self.pids()
            if not left:
                return True
            if time.monotonic() > deadline:
                return False
            for group in self.groups:
                if (group / "cgroup.kill").exists():
                    try:
                        _write(group / "cgroup.kill", "1")
                    except OSError:
                        pass
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.005)

    def remove(self, timeout: float = 5.0) -> bool:
        """Kill what is left, then remove the groups. True when every one is gone."""
        self.kill_all(timeout)
        deadline = time.monotonic() + timeout
        for group in self.groups:
            while True:
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.01)  # the last processes are still being reaped
        gone = all(not group.exists() for group in self.groups)
        if gone:
            self.groups = []
        return gone

    def describe(self) -> dict:
        return {"cgroup": self.version, "cgroup_limits": dict(self.enforced), "cgroup_name": self.name,
                **({"cgroup_note": self.reason} if self.reason else {})}


def _safe(tag: str) -> str:
    return "".join(c for c in tag if c.isalnum())[:32] or "x"


def remove_tagged(tag: str, timeout: float = 5.0) -> list[Path]:
    """Kill the processes of every group created with `tag` and remove the groups (the batch,
    when it closes its zygote). Returns the groups that could not be removed."""
    groups = [p for p in leftover_groups() if p.name.startswith(f"{_PREFIX}{_safe(tag)}-")]
    leftover = SandboxCgroups("v1", groups, {})
    leftover.remove(timeout)
    return [p for p in groups if p.exists()]


def remove_stale() -> list[Path]:
    """Remove the empty groups of judges that are gone (a `course grade` killed with -9 never
    cleans up; its sandboxes died with it, their groups stayed). A group in use is never empty,
    and its creator (the pid in its name) is alive. Returns what was removed."""
    removed = []
    for group in leftover_groups():
        fields = group.name[len(_PREFIX):].split("-")
        try:
            creator = int(fields[-2])
        except (IndexError, ValueError):
            continue
        if os.path.exists(f"/proc/{creator}"):
            continue
        try:
            if (group / "cgroup.procs").read_text().strip():
                continue
            group.rmdir()
            removed.append(group)
        except OSError:
            continue
    return removed


def leftover_groups() -> list[Path]:
    """Sandbox groups that still exist on this machine (the tests' check that none is left)."""
    found = []
    own = _own_paths()
    for controller, mount in _v1_mounts().items():
        if controller in ("memory", "pids"):
            for parent in {mount, mount / own.get(controller, "/").lstrip("/")}:
                found += [p for p in parent.glob(f"{_PREFIX}*")]
    v2 = _v2_mount()
    if v2 is not None:
        found += list((v2 / own.get("", "/").lstrip("/")).glob(f"{_PREFIX}*"))
    return sorted(set(found))
