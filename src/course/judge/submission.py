"""The `sub` fixture: one student's notebook, run in a sandbox, answering probes.

Cells run once in order. A cell that hangs or kills the process is stopped, the sandbox is
restarted, the cells before it are replayed and the next cell runs. A probe that hangs or
crashes fails its test; the next probe gets a fresh sandbox with the notebook replayed.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from course.judge.check import Failure
from course.judge.config import JudgeConfig
from course.notebook import CodeCell
from course.sandbox import isolation
from course.sandbox.launcher import (Limits, Sandbox, SandboxError as _LauncherError, SandboxSpec, Zygote,
                                     ZygoteAddress, prepare_scratch)

_MAX_STARTS = 8


class StudentError(Failure):
    """The student's code raised while a probe ran."""


class SandboxError(Failure):
    """The sandbox hung, crashed or misbehaved during a probe."""


class JudgeError(RuntimeError):
    """The sandbox could not start before any student code ran: the grader's problem, never a grade."""


def _format_error(error: dict) -> str:
    where = f" ({error['where']})" if error.get("where") else ""
    if error.get("type") == "Timeout":
        return f"your code did not finish in time{where}"
    if error.get("origin") == "check":
        return (f"your code ran, but checking what it returned raised {error.get('type', 'Error')}: "
                f"{error.get('message', '')} (a wrong type or shape?)")
    return f"your code raised {error.get('type', 'Error')}: {error.get('message', '')}{where}"


def base_env(config: JudgeConfig) -> dict[str, str]:
    """The sandbox environment, minus what names its scratch folder (the zygote's too)."""
    threads = str(config.threads)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": threads,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", ""),
    }
    env.update(config.env)
    return env


def sandbox_env(config: JudgeConfig, scratch: Path) -> dict[str, str]:
    return {**base_env(config), "HOME": str(scratch), "TMPDIR": str(scratch),
            "MPLCONFIGDIR": str(scratch / ".matplotlib")}


def start_zygote(config: JudgeConfig, wait: bool = True) -> Zygote:
    """The warm parent for this assignment's sandboxes (its preload, its thread counts). With
    wait=False it is only launched: call `wait_ready()` before the first sandbox."""
    folder = tempfile.gettempdir()
    zygote = Zygote(list(config.preload), {**base_env(config), "HOME": folder, "TMPDIR": folder}).launch()
    return zygote.wait_ready() if wait else zygote


class Submission:
    def __init__(self, *, cells: list[CodeCell], probes_source: str, config: JudgeConfig,
                 files: list[Path], hide: list[str], level: str | None = None, zygote: str | None = None,
                 notebook_bytes: bytes | None = None):
        self.cells = cells
        self.probes_source = probes_source
        self.config = config
        self.level = level or isolation.detect_level()
        self.cell_errors: list[dict] = []
        self.starts = 0  # sandboxes started so far (1 when nothing crashed)
        self.notebook_output = ""
        self.cell_seconds = 0.0  # the student's own cells, first run only (benchmarks subtract it)
        self.seed = submission_seed(cells, notebook_bytes)
        self.confinement: dict = {"level": self.level}  # what the last sandbox reported held (results.json)
        self._files = files
        self._hide = hide
        self._uid = 200000 + os.getpid() % 1_000_000 if self.level == "namespaces" else None
        self._deadline = time.monotonic() + config.total_timeout
        self._done: list[CodeCell] = []     # cells already run, replayed after a restart
        self._skipped: set[int] = set()     # cells that hung or crashed: never replayed
        self._sandbox: Sandbox | None = None
        self._zygote = ZygoteAddress(zygote) if zygote else None  # else our own, started on first use
        self._own_zygote: Zygote | None = None
        self._probes_loaded = False
        self._scratch_base = Path(tempfile.mkdtemp(prefix="course-judge-"))
        os.chmod(self._scratch_base, 0o711)  # the sandbox uid must reach its scratch inside
        if self._uid is not None:
            _check_reachable(self._scratch_base)

    # -- running the notebook -----------------------------------------------------------------
    def run_notebook(self) -> None:
        for cell in self.cells:
            try:
                self._ensure_sandbox(for_probes=False)
                started = time.monotonic()
                try:
                    reply = self._sandbox.request({"op": "run_cell", "index": cell.index, "source": cell.source},
                                                  self._time_for(self.config.cell_timeout))
                finally:
                    self.cell_seconds += time.monotonic() - started
            except SandboxError as exc:  # out of time or restarts: the rest of the notebook does not run
                self.cell_errors.append({"cell": cell.index, "grade_id": cell.grade_id, "type": "Stopped",
                                         "message": f"{exc}; this and later cells did not run",
                                         "where": f"cell {cell.index}"})
                break
            except _LauncherError as exc:
                self._skipped.add(cell.index)
                reason = f"stopped after {self.config.cell_timeout:g} s" if "timed out" in str(exc) else str(exc)
                self.cell_errors.append({"cell": cell.index, "grade_id": cell.grade_id, "type": "Stopped",
                                         "message": reason, "where": f"cell {cell.index}"})
                self.notebook_output += self._sandbox_output()
                self._sandbox = None
                continue
            if not reply.get("ok"):
                error = reply.get("error") or {}
                self.cell_errors.append({"cell": cell.index, "grade_id": cell.grade_id, **_clean(error)})
            self._done.append(cell)
        self.notebook_output += self._sandbox_output()

    def _sandbox_output(self) -> str:
        if self._sandbox is None:
            return ""
        self._sandbox.settle()
        return self._sandbox.output.text()

    # -- probes ---------------------------------------------------------------------------------
    def probe(self, name: str, *args, timeout: float | None = None, **kwargs):
        self._ensure_sandbox(for_probes=True)
        try:
            reply = self._sandbox.request({"op": "probe", "name": name, "args": list(args), "kwargs": kwargs},
                                          self._time_for(timeout or self.config.probe_timeout))
        except _LauncherError as exc:
            self._sandbox = None
            if "timed out" in str(exc):
                raise SandboxError(f"your code did not finish within {timeout or self.config.probe_timeout:g} s") from None
            raise SandboxError(str(exc)) from None
        if not reply.get("ok"):
            raise StudentError(_format_error(reply.get("error") or {}))
        return reply.get("value")

    # -- sandbox life cycle -------------------------------------------------------------------
    def _time_for(self, wanted: float) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise SandboxError(f"the submission used up its total time budget ({self.config.total_timeout:g} s)")
        return min(wanted, left)

    def _ensure_sandbox(self, for_probes: bool) -> None:
        while self._sandbox is None or not self._sandbox.alive():
            if self._sandbox is not None:
                if not for_probes:  # it died between cells: keep what its cells printed
                    self.notebook_output += self._sandbox_output()
                self._sandbox.close()
                self._sandbox = None
            if self.starts >= _MAX_STARTS:
                raise SandboxError("the sandbox crashed too many times; remaining tests fail")
            self._sandbox = self._start()
            self.starts += 1
            if not self._replay():
                continue
            self._probes_loaded = False
        if for_probes and not self._probes_loaded:
            self._sandbox.output.capturing = False  # output during probes could echo hidden inputs
            try:
                reply = self._sandbox.request({"op": "load_probes", "source": self.probes_source},
                                              self._time_for(self.config.probe_timeout))
            except _LauncherError as exc:
                self._sandbox = None
                raise SandboxError(f"the sandbox failed while loading the checks: {exc}") from None
            if not reply.get("ok"):
                raise SandboxError("the checks could not start: " + _format_error(reply.get("error") or {}))
            self._probes_loaded = True

    def _start(self) -> Sandbox:
        scratch = prepare_scratch(self._scratch_base, self._files, self._uid)
        limits = Limits(memory_mb=self.config.memory_mb, max_processes=self.config.max_processes,
                        file_size_mb=self.config.file_size_mb, output_bytes=self.config.output_kb * 1024,
                        cpu_seconds=int(self.config.total_timeout) + 30)
        keep = [sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parents[2])]
        spec = SandboxSpec(level=self.level, scratch=scratch, hide=self._hide, keep=keep, limits=limits,
                           env=sandbox_env(self.config, scratch), uid=self._uid)
        sandbox = Sandbox(spec)
        try:
            if self._zygote is None:
                self._own_zygote = self._zygote = start_zygote(self.config)
            sandbox.start(self._zygote, timeout=self._time_for(60.0))
        except _LauncherError as exc:
            raise JudgeError(f"the sandbox did not start ({exc}); no student code had run") from None
        self.confinement = {k: v for k, v in sandbox.info.items() if k != "pid"}
        return sandbox

    def _replay(self) -> bool:
        """Re-run the cells done so far in a new sandbox; False if one of them now fails hard."""
        self._sandbox.output.capturing = False  # their output was kept the first time
        for cell in self._done:
            if cell.index in self._skipped:
                continue
            try:
                self._sandbox.request({"op": "run_cell", "index": cell.index, "source": cell.source},
                                      self._time_for(self.config.cell_timeout))
            except _LauncherError:
                self._skipped.add(cell.index)
                self._sandbox = None
                return False
        self._sandbox.output.capturing = True
        return True

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
        if self._own_zygote is not None:
            self._own_zygote.close()
            self._own_zygote = None
        shutil.rmtree(self._scratch_base, ignore_errors=True)


def submission_seed(cells: list[CodeCell], notebook_bytes: bytes | None = None) -> int:
    """A seed for a test's inputs, drawn from the submitted file, every byte of it: the same file
    always gets the same inputs (regrades agree), and any other file, even one that differs only
    in a markdown cell or its metadata, gets other inputs, so an answer table gathered from
    earlier feedback (and kept, say, in a markdown cell the sandbox can read) is for other inputs.
    Without the bytes (a notebook built in memory), the code of the cells that run. Use it as
    `np.random.default_rng([sub.seed, CASE])`."""
    digest = hashlib.sha256()
    if notebook_bytes is not None:
        digest.update(notebook_bytes)
        return int.from_bytes(digest.digest()[:4], "big")
    for cell in cells:
        digest.update(cell.source.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return int.from_bytes(digest.digest()[:4], "big")


def _check_reachable(folder: Path) -> None:
    """The sandbox drops to another uid: every folder above its scratch must let others pass."""
    for parent in folder.parents:
        if not os.stat(parent).st_mode & 0o001:
            shutil.rmtree(folder, ignore_errors=True)
            raise JudgeError(f"the sandbox cannot reach its scratch folder under {parent} (mode "
                             f"{oct(os.stat(parent).st_mode & 0o777)}, not searchable by other users); "
                             "set TMPDIR to a folder such as /tmp")


def _clean(error: dict) -> dict:
    """Keep only the string fields we show; a hostile sandbox may send anything."""
    return {key: str(error.get(key, ""))[:4000] for key in ("type", "message", "where", "trace")}
