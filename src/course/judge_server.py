"""The batch's handle on `course.judge.server`: launch it, hand it jobs, read its events.

Light on purpose (no numpy, nbformat or pytest here): `course grade` launches the server before
it imports the rest of the batch, so the server's 2 s of imports (torch, the hidden suite)
overlap the batch's own start-up and planning instead of following them.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from course.judge.config import JudgeConfig
from course.paths import Course, CourseError


class JudgeServer:
    """One judge server per batch. `launch` returns at once; `wait_ready` before the first job."""

    def __init__(self, process: subprocess.Popen, spool: Path):
        self.process, self.spool = process, spool
        self._pending = b""
        self._ready = False

    @classmethod
    def launch(cls, course: Course, assignment: str, config: JudgeConfig | None = None) -> "JudgeServer":
        """Start the server for `assignment`. Call from the main thread: the server dies with
        the thread that started it (PR_SET_PDEATHSIG), and its children with it."""
        config = config or JudgeConfig.load(course.autograder / assignment)
        spool = Path(tempfile.mkdtemp(prefix="course-batch-"))  # children's documents and logs
        settings = {"course": str(course.root), "assignment": assignment, "spool": str(spool),
                    "preload": list(config.preload), "threads": config.threads}
        # Thread counts before anything imports numpy: BLAS pools start at import, and fork needs one thread.
        threads = {name: str(config.threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        with open(spool / "server.log", "wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "course.judge.server", json.dumps(settings)],
                                       env={**os.environ, **threads}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=log, start_new_session=True)
        return cls(process, spool)

    def wait_ready(self, timeout: float = 180.0) -> None:
        if self._ready:
            return
        ready = self.events(timeout=timeout)
        if not any(e.get("ready") for e in ready):
            self.close()
            raise CourseError(f"the judge server did not start: {self._log() or 'no output'}")
        self._ready = True

    def submit(self, message: dict) -> None:
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def events(self, timeout: float) -> list[dict]:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return []
        data = os.read(self.process.stdout.fileno(), 1 << 16)
        if not data:
            raise CourseError(f"the judge server exited (status {self.process.wait()}): {self._log()}")
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def _log(self) -> str:
        try:
            return (self.spool / "server.log").read_bytes()[-1500:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def close(self) -> None:
        """EOF on its stdin: the server kills what is left and exits. Then the spool goes. A
        server that never became ready (nothing to grade, say) has no judges: it is stopped
        at once rather than waited for through its imports."""
        if not self._ready and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        shutil.rmtree(self.spool, ignore_errors=True)
