"""Judge-side handle on one sandbox process: start it confined, send requests, enforce deadlines.

A request that is not answered in time, a process that dies, or a reply that is not a
well-formed frame all raise SandboxError; the caller decides whether to restart.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from course import protocol
from course.sandbox import cgroups
from course.sandbox.cgroups import SandboxCgroups

_GRACE_SECONDS = 3.0  # the sandbox's own alarm fires first; this covers code that ignores it


class SandboxError(Exception):
    """The sandbox hung, died, or answered with something that is not a plain-data frame."""


@dataclass
class Limits:
    memory_mb: int = 4096
    cpu_seconds: int = 600
    max_processes: int = 256
    file_size_mb: int = 64
    output_bytes: int = 64 * 1024
    scratch_mb: int = 512   # the sandbox's tmpfs working folder (charged to its memory cgroup)
    shm_mb: int = 256       # its private /dev/shm


@dataclass
class SandboxSpec:
    level: str
    scratch: Path
    hide: list[str]
    keep: list[str]
    limits: Limits
    env: dict[str, str] = field(default_factory=dict)
    uid: int | None = None
    root: str = "allow-list"  # "deny-list": the fallback for kernels that refuse pivot_root (tests force it)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _OutputSink:
    """Drains the student's stdout/stderr; keeps the first `cap` bytes while capturing."""

    def __init__(self, cap: int):
        self.cap = cap
        self.capturing = True
        self.kept = bytearray()
        self.dropped = 0
        self._lock = threading.Lock()

    def drain(self, fd: int) -> None:
        """Runs in its own thread until every writer is gone; the descriptor is this thread's to
        close (closing it from another thread while this one reads was a deadlock). It waits
        for data outside the lock and reads it under the lock, so `settle` (empty pipe, then the
        lock) knows that whatever was written is kept."""
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        try:
            while True:
                poller.poll()
                with self._lock:
                    try:
                        chunk = os.read(fd, 65536)
                    except InterruptedError:
                        continue
                    except OSError:
                        break
                    if not chunk:
                        break
                    room = self.cap - len(self.kept) if self.capturing else 0
                    self.kept += chunk[: max(room, 0)]
                    self.dropped += len(chunk) - max(min(room, len(chunk)), 0)
        finally:
            os.close(fd)

    def text(self) -> str:
        with self._lock:
            body = self.kept.decode("utf-8", "replace")
            if self.dropped:
                body += f"\n[... {self.dropped} more bytes of output not kept]"
            return body


class Sandbox:
    def __init__(self, spec: SandboxSpec):
        self.spec = spec
        self.output = _OutputSink(spec.limits.output_bytes)
        self._process: ForkedSandbox | None = None
        self._to_child = self._from_child = -1
        self._received = bytearray()  # read from the sandbox, not yet consumed
        self.cgroups: SandboxCgroups | None = None
        self._drains: list[tuple[threading.Thread, int]] = []
        self.info: dict = {}

    # -- life cycle -------------------------------------------------------------------------
    def start(self, zygote: "Zygote", timeout: float = 60.0) -> None:
        """Ask the zygote for a fresh sandbox and wait until it has confined itself."""
        child_in, self._to_child = os.pipe()
        self._from_child, child_out = os.pipe()
        os.set_blocking(self._to_child, False)  # a full pipe must not block past the deadline
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        if self.spec.level == "namespaces":
            self.cgroups = SandboxCgroups.create(self.spec.limits.memory_mb, self.spec.limits.max_processes,
                                                 tag=zygote_tag(zygote.address))
        spec = {
            "level": self.spec.level,
            "scratch": str(self.spec.scratch),
            "hide": self.spec.hide,
            "keep": self.spec.keep,
            "uid": self.spec.uid,
            "root": self.spec.root,
            "cgroups": self.cgroups.procs_files() if self.cgroups else [],
            "limits": self.spec.limits.__dict__,
            "env": self.spec.env,
        }
        deadline = time.monotonic() + timeout
        try:
            self._process = zygote.fork(spec, [child_in, child_out, out_w, err_w], deadline)
        except BaseException:
            for fd in (out_r, err_r):
                os.close(fd)
            self.close()
            raise
        finally:
            for fd in (child_in, child_out, out_w, err_w):
                os.close(fd)
        for fd in (out_r, err_r):
            thread = threading.Thread(target=self.output.drain, args=(fd,), daemon=True)
            thread.start()
            self._drains.append((thread, fd))
        reply = self._read_reply(deadline)
        if not reply["ok"]:
            self.close()
            raise SandboxError(f"sandbox refused to start: {reply['error'].get('message', '?')}")
        try:
            info = _check_info(reply["value"])
        except SandboxError:
            self.close()
            raise
        self.info = {**info, **(self.cgroups.describe() if self.cgroups else {"cgroup": "none"})}

    def settle(self, timeout: float = 1.0) -> None:
        """Wait until output written before the last reply has been drained from the pipes."""
        deadline = time.monotonic() + timeout
        for thread, fd in self._drains:
            while thread.is_alive() and time.monotonic() < deadline:
                try:
                    pending, _, _ = select.select([fd], [], [], 0)
                except (ValueError, OSError):  # closed meanwhile
                    break
                if not pending:
                    break
                time.sleep(0.005)
        with self.output._lock:  # a chunk read just before the pipe looked empty is kept by now
            pass

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def close(self) -> None:
        """End every process of the sandbox, then let go of its pipes and groups. The order
        matters: kill first (A ends B's pid namespace; the cgroups catch anything else), then
        the drain threads see end-of-file and close their own pipes (joined with a timeout,
        never closed under a thread reading them), then the request pipes, then the groups."""
        if self._process is not None:
            self._process.kill()
        if self.cgroups is not None:
            self.cgroups.remove()
        deadline = time.monotonic() + 2.0
        for thread, _ in self._drains:
            thread.join(max(deadline - time.monotonic(), 0))
        self._drains = [(t, fd) for t, fd in self._drains if t.is_alive()]  # left to end on their own
        for fd in (self._to_child, self._from_child):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._to_child = self._from_child = -1

    # -- requests ---------------------------------------------------------------------------
    def request(self, message: dict, timeout: float) -> dict:
        """Send one request; the sandbox's alarm gets `timeout`, the judge waits a little longer."""
        if not self.alive():
            raise SandboxError(self._death_reason())
        deadline = time.monotonic() + timeout + _GRACE_SECONDS
        self._write(protocol.frame({**message, "timeout": timeout}), deadline)
        return self._read_reply(deadline)

    def _write(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:  # the pipe takes a probe's request at once; select only when it is full
            try:
                view = view[os.write(self._to_child, view):]
                continue
            except BlockingIOError:
                pass
            except BrokenPipeError:
                raise SandboxError(self._death_reason()) from None
            left = deadline - time.monotonic()
            if left <= 0:
                self._fail_timeout()
            select.select([], [self._to_child], [], left)

    def _read(self, size: int, deadline: float) -> bytes:
        """`size` bytes from the sandbox. Reads take whatever is there (a reply's header and body
        usually come in one read); what is beyond `size` stays in the buffer for the next call."""
        while len(self._received) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                self._fail_timeout()
            readable, _, _ = select.select([self._from_child], [], [], left)
            if not readable:
                continue
            chunk = os.read(self._from_child, max(size - len(self._received), 1 << 16))
            if not chunk:
                raise SandboxError(self._death_reason())
            self._received += chunk
        data = bytes(self._received[:size])
        del self._received[:size]
        return data

    def _read_reply(self, deadline: float) -> dict:
        try:
            size = protocol.parse_header(self._read(4, deadline))
            return protocol.check_reply(protocol.parse_body(self._read(size, deadline)))
        except protocol.ProtocolError as exc:
            self.close()
            raise SandboxError(f"the sandbox sent a malformed reply ({exc}); it was restarted") from None

    def _fail_timeout(self):
        self.close()
        raise SandboxError("timed out")

    def _death_reason(self) -> str:
        if self._process is None:
            return "the sandbox is not running"
        code = self._process.wait(timeout=5)
        if code is None:
            self.close()
            return "the sandbox stopped answering"
        self.close()
        if code < 0 or code >= 128:
            number = -code if code < 0 else code - 128
            name = _signal_name(number)
            hint = {
                "SIGKILL": " (the memory, CPU-time or process limit, or a hard kill)",
                "SIGXCPU": " (the CPU-time limit)",
                "SIGSEGV": " (a crash in native code)",
            }.get(name, "")
            return f"the sandbox process was killed by {name}{hint}"
        return f"the sandbox process exited with status {code} (os._exit, sys.exit or a crash)"


_INFO_FIELDS = {"level": str, "root": str, "seccomp": str, "namespaces": list, "uid": int, "pid": int}


def _check_info(value) -> dict:
    """The sandbox's first reply (sent by our code, before any student code ran), checked anyway."""
    if not isinstance(value, dict) or set(value) != set(_INFO_FIELDS):
        raise SandboxError("the sandbox's start reply is malformed")
    for key, kind in _INFO_FIELDS.items():
        if type(value[key]) is not kind or (kind is str and len(value[key]) > 500):
            raise SandboxError(f"the sandbox's start reply has a malformed {key!r}")
    return value


class ForkedSandbox:
    """A sandbox forked by the zygote: its pid (a session leader), its fate from the zygote."""

    def __init__(self, pid: int, conn: socket.socket, level: str = "namespaces"):
        self.pid = pid
        self.level = level
        self.returncode: int | None = None
        self._conn = conn

    def poll(self) -> int | None:
        return self.wait(0)

    def wait(self, timeout: float) -> int | None:
        """The exit code (128 + signal when killed), or None if still running after `timeout`."""
        if self.returncode is None:
            ready, _, _ = select.select([self._conn], [], [], timeout)
            if ready:
                try:
                    message = self._conn.recv(4096)
                except OSError:
                    message = b""
                # No message at all: the zygote died, and its sandboxes with it (parent-death signal).
                self.returncode = _exit_status(message) if message else 137
                self._conn.close()
        return self.returncode

    def kill(self) -> None:
        """SIGTERM to A, which SIGKILLs B and so B's whole pid namespace, then reports. At the
        rlimits level (no A), or if A does not report in time, SIGKILL to A's process group."""
        if self.poll() is not None:  # read a pending exit first: A's pid may be free for reuse by now
            return
        if self.level != "rlimits":
            _signal(os.kill, self.pid, signal.SIGTERM)
            if self.wait(5) is not None:
                return
        _signal(os.killpg, self.pid, signal.SIGKILL)
        self.wait(10)  # the zygote reports the exit once the kernel has reaped it


def _signal(how, pid: int, number: int) -> None:
    try:
        how(pid, number)
    except (ProcessLookupError, PermissionError):
        pass


def _exit_status(message: bytes) -> int:
    """The zygote's {"exit": N}; anything else (it should never be) counts as a hard kill."""
    try:
        code = json.loads(message).get("exit")
    except (ValueError, AttributeError, RecursionError):
        return 137
    return code if type(code) is int and 0 <= code <= 255 else 137


class Zygote:
    """Judge-side handle on a `course.sandbox.zygote` process: the parent of every sandbox.

    One per batch (shared by its judge processes through the socket address) or one per
    submission when graded alone. `env` is the sandbox environment minus per-scratch entries:
    thread counts must be right before torch is imported.
    """

    def __init__(self, preload: list[str], env: dict[str, str]):
        self.preload, self.env = list(preload), dict(env)
        self.address: str | None = None
        self._process: subprocess.Popen | None = None
        self._folder: str | None = None

    def start(self, timeout: float = 180.0) -> "Zygote":
        return self.launch().wait_ready(timeout)

    def launch(self) -> "Zygote":
        """Start the process without waiting for its imports (the batch starts its judge server
        meanwhile); `wait_ready` before the first fork."""
        cgroups.remove_stale()  # what a batch killed with -9 left
        self._folder = tempfile.mkdtemp(prefix="course-zygote-")  # 0700: only the judge connects
        self.address = os.path.join(self._folder, "socket")
        log = open(os.path.join(self._folder, "zygote.log"), "wb")
        config = json.dumps({"socket": self.address, "preload": self.preload})
        # Started from the calling thread: the zygote dies with it (parent-death signal).
        self._process = subprocess.Popen([sys.executable, "-I", "-m", "course.sandbox.zygote", config],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                                         env=self.env, cwd=self._folder, start_new_session=True)
        log.close()
        return self

    def wait_ready(self, timeout: float = 180.0) -> "Zygote":
        ready, _, _ = select.select([self._process.stdout], [], [], timeout)
        line = self._process.stdout.readline() if ready else b""
        self._process.stdout.close()
        try:
            reply = json.loads(line)
        except ValueError:
            reply = {"ok": False, "error": f"no answer within {timeout:g} s" if not ready else "it exited"}
        if not reply.get("ok"):
            tail = self._log_tail()
            self.close()
            raise SandboxError(f"the sandbox zygote did not start ({reply.get('error')}){tail}")
        return self

    def _log_tail(self) -> str:
        try:
            text = open(os.path.join(self._folder, "zygote.log"), "rb").read()[-1500:].decode("utf-8", "replace")
        except OSError:
            return ""
        return f": {text.strip()}" if text.strip() else ""

    def fork(self, spec: dict, fds: list[int], deadline: float) -> ForkedSandbox:
        return fork_from(self.address, spec, fds, deadline)

    def close(self) -> None:
        if self._process is not None:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._process.wait()
            self._process = None
        if self._folder:
            # Its sandboxes' A processes got SIGTERM (parent-death signal) and end them; groups
            # that a killed judge left behind are emptied and removed here.
            cgroups.remove_tagged(zygote_tag(self.address))
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


class ZygoteAddress:
    """A zygote someone else started (the batch): only its socket is known here."""

    def __init__(self, address: str):
        self.address = address

    def fork(self, spec: dict, fds: list[int], deadline: float) -> ForkedSandbox:
        return fork_from(self.address, spec, fds, deadline)

    def close(self) -> None:
        pass


def zygote_tag(address: str | None) -> str:
    """The random part of the zygote's folder (course-zygote-XXXX/socket): names its sandboxes' cgroups."""
    return os.path.basename(os.path.dirname(address or "")).removeprefix("course-zygote-")


def fork_from(address: str, spec: dict, fds: list[int], deadline: float) -> ForkedSandbox:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.settimeout(max(deadline - time.monotonic(), 0.1))
        conn.connect(address)
        socket.send_fds(conn, [json.dumps(spec).encode()], fds)
        reply = conn.recv(4096)
        conn.settimeout(None)
        pid = json.loads(reply)["pid"]
        if type(pid) is not int or pid <= 1:
            raise ValueError(f"not a process id: {pid!r}")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        conn.close()
        raise SandboxError(f"the sandbox zygote did not fork a sandbox ({exc or type(exc).__name__})") from None
    return ForkedSandbox(pid, conn, spec.get("level", "namespaces"))


def prepare_scratch(base: Path, files_from: list[Path], uid: int | None) -> Path:
    """A fresh working directory holding copies of the given files, owned by the sandbox uid."""
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="course-sandbox-", dir=base))
    for source in files_from:
        target = scratch / source.name
        if source.is_dir():
            shutil.copytree(source, target, symlinks=False)
        elif source.is_file():
            shutil.copyfile(source, target)
    if uid is not None:
        for root, dirs, files in os.walk(scratch):
            for name in [*dirs, *files]:
                os.chown(os.path.join(root, name), uid, uid, follow_symlinks=False)
        os.chown(scratch, uid, uid)
    scratch.chmod(0o700)
    return scratch
