"""The sandbox process: confines itself, runs the student's cells, then answers probes.

Forked by `course.sandbox.zygote`, which calls `run(spec)`. It talks to the judge over two
inherited pipe file descriptors with `course.protocol` frames; the student's own stdout/stderr
go to separate pipes. Every reply is plain data.
"""
from __future__ import annotations

import linecache
import os
import signal
import sys
import traceback

from course import protocol
from course.sandbox import isolation
from course.sandbox.describe import describe, real_type_name
from course.sandbox.forbid import forbid
from course.sandbox.integrity import Seal

CELL_FILE = "<cell {index}>"
PROBE_FILE = "<hidden>"


class Timeout(BaseException):
    """Raised in the main thread when a cell or probe overruns (BaseException: `except Exception` won't eat it)."""


class _Alarm:
    def __init__(self, seconds: float):
        self.seconds = seconds

    def _fire(self, signum, frame):
        raise Timeout(f"stopped after {self.seconds:g} s")

    def __enter__(self):
        signal.signal(signal.SIGALRM, self._fire)
        signal.setitimer(signal.ITIMER_REAL, max(self.seconds, 0.001))

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        return False


class StudentNamespace:
    """What probes see as `student`: attribute access to the notebook's globals."""

    def __init__(self, namespace: dict):
        object.__setattr__(self, "_namespace", namespace)

    def __getattr__(self, name):
        try:
            return self._namespace[name]
        except KeyError:
            raise NameError(f"the notebook does not define '{name}'") from None

    def __setattr__(self, name, value):
        # Probes may swap in a reference implementation to test one part in isolation.
        self._namespace[name] = value

    def __contains__(self, name):
        return name in self._namespace


def type_name(value, _real=real_type_name) -> str:
    """"module.Qualname" of value's real type (tensorflow.* shortened to tensorflow); a class that
    names itself after a genuine type ("torch.Tensor", "builtins.float") gets " (look-alike)"."""
    return _real(value)


def to_numpy(value):
    import numpy as np

    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy") and type_name(value).startswith("tensorflow"):
        return value.numpy()
    return np.asarray(value)


class _Shell:
    """Stand-in for get_ipython(): magics and shell escapes are not run by the judge."""

    def run_line_magic(self, name, line, *args, **kwargs):
        print(f"[judge] %{name} ignored", file=sys.stderr)

    def run_cell_magic(self, name, line, body, *args, **kwargs):
        if name in ("time", "capture", "timeit"):
            exec(compile(body, "<magic>", "exec"), _namespace)
        else:
            print(f"[judge] %%{name} cell ignored", file=sys.stderr)

    def system(self, command, *args, **kwargs):
        print(f"[judge] shell command ignored: !{command}", file=sys.stderr)

    getoutput = system


def _display(*objects, **kwargs):
    for obj in objects:
        print(repr(obj))


_namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__, "get_ipython": _Shell, "display": _display}
_probes: dict = {}


def _compile_cell(index: int, source: str):
    if any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()) or "get_ipython" in source:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    filename = CELL_FILE.format(index=index)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return compile(source, filename, "exec")


def describe_error(exc: BaseException) -> dict:
    """Exception summary with only the student's frames (never the probes' source)."""
    everything = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in everything if f.filename.startswith("<cell ")]
    # Raised in the probe's own code (on what the student returned) rather than in a cell: the
    # student's function finished; its result could not be checked (or the probe has a bug).
    ours = [f for f in everything if f.filename.startswith("<cell ") or f.filename == PROBE_FILE]
    origin = "check" if ours and ours[-1].filename == PROBE_FILE else "student"
    where = ""
    if frames:
        last = frames[-1]
        where = f"{last.filename.strip('<>')}, line {last.lineno}"
    trace = "".join(traceback.format_list(frames[-6:]))
    try:
        message = str(exc)
    except BaseException:  # a hostile __str__
        message = "<unprintable exception>"
    kind = "Timeout" if isinstance(exc, Timeout) else type(exc).__name__
    # Cut to the bounds the judge checks (protocol.ERROR_FIELDS): a longer field fails the reply.
    return {"type": kind[:200], "message": message[:2000], "where": where[:200], "trace": trace[:4000],
            "origin": origin}


def _reply_error(fd: int, exc: BaseException) -> None:
    protocol.send(fd, {"ok": False, "error": describe_error(exc)})


def _forget_channel(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


class Tampered(RuntimeError):
    """The notebook rewrote the platform's own code in the sandbox (course.sandbox.integrity)."""


def _serve(fd_in: int, fd_out: int, _given=(type_name, to_numpy, describe, forbid),
           _exec=exec, _compile=compile) -> None:
    # What probes are given is bound here, before any cell runs: a cell that rebinds this
    # module's `describe`/`forbid` (or the default above, read once at the call) changes nothing.
    given = dict(zip(("type_name", "to_numpy", "describe", "forbid"), _given))
    encode, send, receive = protocol.encode, protocol.send, protocol.receive  # likewise for course.protocol.*
    probes, namespace = _probes, _namespace
    # ... and what those tools (and this loop) run is sealed: rewriting any of it in place (a
    # class's methods, a function's code, a global or builtin they use) fails every later check.
    seal = Seal([*_given, encode, send, receive, _serve, describe_error, _compile_cell, Seal])
    broken = seal.broken

    def intact(moment: str) -> None:
        what = broken()
        if what is not None:
            raise Tampered(f"the notebook changed the grader's own code ({what}) {moment}; "
                           f"this check cannot be graded")
    while True:
        if os.getpid() != getattr(_serve, "server_pid", os.getpid()):
            os._exit(1)  # a forked child got back here: it has no business serving
        try:
            request = receive(fd_in)
        except EOFError:
            return
        op = request.get("op")
        if op == "exit":
            return
        try:
            with _Alarm(request.get("timeout", 30.0)):
                if op == "run_cell":
                    _exec(_compile_cell(request["index"], request["source"]), namespace)
                    value = None
                elif op == "load_probes":
                    intact("before the checks were loaded")
                    probes.clear()
                    probes.update(__name__="probes", student=StudentNamespace(namespace), **given)
                    _exec(_compile(request["source"], PROBE_FILE, "exec"), probes)
                    value = None
                elif op == "probe":
                    function = probes.get(request["name"])
                    if not callable(function):
                        raise LookupError(f"unknown probe {request['name']!r}")
                    intact("before this check ran")
                    probes.update(given)    # a tool swapped in the checks' namespace is put back
                    reply = function(*request.get("args", []), **request.get("kwargs", {}))
                    intact("while this check ran")
                    if any(probes.get(name) is not tool for name, tool in given.items()):
                        raise Tampered("the notebook swapped the grader's tools while this check ran; "
                                       "this check cannot be graded")
                    value = encode(reply)
                else:
                    raise LookupError(f"unknown request {op!r}")
        except BaseException as exc:  # noqa: BLE001 - everything the student can raise is reported
            if os.getpid() != _serve.server_pid:
                os._exit(1)
            sys.stdout.flush()
            _reply_error(fd_out, exc)
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        send(fd_out, {"ok": True, "value": value})


def refuse(fd_out: int, message: str) -> None:
    """Tell the judge this sandbox cannot confine itself, and exit without running anything."""
    try:
        protocol.send(fd_out, {"ok": False, "error": {"type": "IsolationError", "message": message[:4000],
                                                      "where": "", "trace": ""}})
    finally:
        os._exit(3)


def run(spec: dict) -> None:
    """Confine this process as the spec says, then serve the judge's requests; never returns."""
    fd_in, fd_out = spec["fd_in"], spec["fd_out"]
    try:
        info = isolation.confine(spec)
        threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
        torch = sys.modules.get("torch")
        if torch is not None:  # preloaded by the zygote before the limit was known
            torch.set_num_threads(threads)
    except BaseException as exc:  # refuse to run student code unconfined
        refuse(fd_out, str(exc))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes raise OSError instead of killing us
    # Processes the student forks never speak for the sandbox: they lose the channel at birth
    # and exit instead of answering when an error brings them back to the request loop.
    os.register_at_fork(after_in_child=lambda: _forget_channel(fd_in, fd_out))
    _serve.server_pid = os.getpid()
    protocol.send(fd_out, {"ok": True, "value": {**info, "uid": os.getuid(), "pid": os.getpid()}})
    try:
        _serve(fd_in, fd_out)
        sys.stdout.flush()
    finally:
        os._exit(0)
