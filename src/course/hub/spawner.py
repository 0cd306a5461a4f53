"""CourseSpawner: LocalProcessSpawner whose servers start fenced and leave nothing behind.

- Each server starts through fence.py (as root): its own cgroups (memory and CPU limits),
  a mount namespace without the repository's secrets or the hub's state, then the student's uid.
- Stopping a server (the API, the idle culler, the hub's own shutdown) also ends every process
  it started: kernels run in sessions of their own (jupyter_client), so the server's death does
  not take them along, and a server stopped by signal never shuts them down. The spawner ends
  what is left in the server's cgroup and the descendants it saw before the stop.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import psutil
from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Dict, Unicode

FENCE = Path(__file__).with_name("fence.py")
CONTROLLERS = ("memory", "cpu", "pids")
# tasks (threads count) per student server, kernels included: a fork bomb stops at its own
# server; TensorFlow kernels start ~100 threads each on a large machine
PIDS_LIMIT = 1024


def own_cgroup(controller: str, proc_cgroup: str = "/proc/self/cgroup") -> Path | None:
    """This process's cgroup v1 directory for a controller, if it is mounted and writable."""
    root = Path("/sys/fs/cgroup") / controller
    if not (root / "cgroup.procs").exists():
        return None
    for line in Path(proc_cgroup).read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            here = root / path.lstrip("/")
            return here if os.access(here, os.W_OK) else None
    return None


def cgroup_plan(course_id: str, mem_limit: int, cpu_limit: float) -> dict:
    """Where the servers' cgroups go (under the hub's own, never beside it) and their limits.
    Empty where the machine has no writable cgroup v1 hierarchy (cgroup v2 only, a container).
    pids: a fork bomb in one student's server cannot take the machine's every process id."""
    plan = {}
    memory, cpu = own_cgroup("memory"), own_cgroup("cpu")
    if memory is not None and mem_limit:
        plan["memory"] = {"parent": str(memory / f"course-hub-{course_id}"),
                          "limits": {"memory.limit_in_bytes": int(mem_limit)}}
    if cpu is not None and cpu_limit:
        period = 100_000
        plan["cpu"] = {"parent": str(cpu / f"course-hub-{course_id}"),
                       "limits": {"cpu.cfs_period_us": period, "cpu.cfs_quota_us": int(cpu_limit * period)}}
    pids = own_cgroup("pids")
    if pids is not None:
        plan["pids"] = {"parent": str(pids / f"course-hub-{course_id}"), "limits": {"pids.max": PIDS_LIMIT}}
    return plan


def write_plan(path: Path, masks: list[str], binds: list[dict], cgroups: dict) -> None:
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps({"masks": masks, "binds": binds, "cgroups": cgroups}, indent=1) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def cgroup_pids(group: Path) -> list[int]:
    try:
        return [int(p) for p in (group / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


async def end_processes(procs: list[psutil.Process], grace: float) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds, each process that is still the same one."""
    alive = []
    for proc in procs:
        try:
            proc.send_signal(signal.SIGTERM)   # psutil checks the pid was not reused
            alive.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    deadline = asyncio.get_running_loop().time() + grace
    while alive and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        alive = [p for p in alive if _running(p)]
    for proc in alive:
        try:
            proc.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class CourseSpawner(LocalProcessSpawner):
    fence_plan = Unicode("", config=True, help="fence.py's plan (JSON); empty: no fence")
    fence_python = Unicode(sys.executable, config=True, help="the interpreter that runs fence.py as root")
    cgroups = Dict(config=True, help="controller -> {'parent': dir} of the servers' cgroups")

    def make_preexec_fn(self, name):
        if not self.fence_plan:
            return super().make_preexec_fn(name)
        return None   # fence.py drops to the user itself, after the fence is up

    async def start(self):
        if self.fence_plan:
            wrapper = [self.fence_python, "-I", "-S", str(FENCE), self.fence_plan, "--"]
            if self.cmd[:len(wrapper)] != wrapper:
                self.cmd = wrapper + list(self.cmd)
        return await super().start()

    def _groups(self) -> list[Path]:
        return [Path(spec["parent"]) / self.user.name for spec in self.cgroups.values()]

    def _left_behind(self, seen: list[psutil.Process]) -> list[psutil.Process]:
        procs = {p.pid: p for p in seen if _running(p)}
        for group in self._groups():
            for pid in cgroup_pids(group):
                if pid not in procs:
                    try:
                        procs[pid] = psutil.Process(pid)
                    except psutil.NoSuchProcess:
                        pass
        return list(procs.values())

    async def stop(self, now=False):
        seen = []
        if self.pid:
            try:
                seen = psutil.Process(self.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                pass
        await super().stop(now=now)
        left = self._left_behind(seen)
        if left:
            self.log.info("ending %d process(es) %s's server left: %s", len(left), self.user.name,
                          ", ".join(str(p.pid) for p in left))
            await end_processes(left, grace=0 if now else min(self.term_timeout, 2))
        for group in self._groups():
            try:
                group.rmdir()   # empty now; the next start makes it again
            except OSError:
                pass
