"""The sandbox process: confines itself, runs the student's cells, then answers probes.

Forked by `course.sandbox.zygote`, which calls `run(spec)`. It talks to the judge over two
inherited pipe file descriptors with `course.protocol` frames; the student's own stdout/stderr
go to separate pipes. Every reply is plain data.
"""
from __future__ import annotations

import linecache
import operator
import os
import signal
import sys
import traceback

from course import protocol
from course.sandbox import audit, isolation
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


def _tampered(seal: Seal, moment: str) -> str:
    """The message (a courtesy: the check itself does not run this)."""
    try:
        what = seal.broken() or "a tool of the checks, or a trace/profile hook"
    except BaseException:  # noqa: BLE001
        what = "?"
    return f"the notebook changed the grader's own code ({what}) {moment}; this check cannot be graded"


def _seal_holds(tables, names, given, lookup, _all=all, _map=map, _is=operator.is_, _eq=operator.eq,
                _call=operator.call, _len=len, _gettrace=sys.gettrace, _getprofile=sys.getprofile,
                _errors=(KeyError, ValueError, TypeError)) -> bool:
    """Every sealed binding holds (course.sandbox.integrity.Seal.tables), `lookup(name)` is still
    each given tool, and no trace or profile hook is set. It reads no global and has no closure
    (a notebook can rebind those); its code and defaults are what the audit hook refuses to let
    anyone change (course.sandbox.audit), and the serve loop holds it in its own defaults."""
    getters, holders, values, sized, sizes = tables
    try:
        return (_all(_map(_is, _map(_call, getters, holders), values))
                and _all(_map(_eq, _map(_len, sized), sizes))
                and _all(_map(_is, _map(lookup, names), given))
                and _gettrace() is None and _getprofile() is None)
    except _errors:
        return False


def _serve(fd_in: int, fd_out: int, _given=(type_name, to_numpy, describe, forbid),
           _exec=exec, _compile=compile, _holds=_seal_holds) -> None:
    # Everything this loop relies on is bound here, in its own local variables, before any cell
    # runs (no Python code can rebind another function's locals): the tools probes get, the
    # protocol, and the seal of the platform's code (course.sandbox.integrity), checked by
    # _seal_holds, which runs C callables only over what it is given.
    names = ("type_name", "to_numpy", "describe", "forbid")
    encode, send, receive = protocol.encode, protocol.send, protocol.receive
    probes, namespace = _probes, _namespace
    probes_get, probes_update = probes.get, probes.update
    seal = Seal([*_given, encode, send, receive, _serve, _holds, describe_error, _compile_cell, Seal])
    tables = seal.tables()   # (no nested function may use these: closure cells can be rewritten)
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
                    if not _holds(tables, (), (), probes_get):
                        raise Tampered(_tampered(seal, "before the checks were loaded"))
                    probes.clear()
                    probes_update(zip(names, _given), __name__="probes", student=StudentNamespace(namespace))
                    _exec(_compile(request["source"], PROBE_FILE, "exec"), probes)
                    value = None
                elif op == "probe":
                    function = probes.get(request["name"])
                    if not callable(function):
                        raise LookupError(f"unknown probe {request['name']!r}")
                    probes_update(zip(names, _given))   # a tool swapped in the checks' namespace is put back
                    if not _holds(tables, names, _given, probes_get):
                        raise Tampered(_tampered(seal, "before this check ran"))
                    reply = function(*request.get("args", []), **request.get("kwargs", {}))
                    if not _holds(tables, names, _given, probes_get):
                        raise Tampered(_tampered(seal, "while this check ran"))
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
    audit.install()   # after the platform set itself up, before any cell: see course.sandbox.audit
    protocol.send(fd_out, {"ok": True, "value": {**info, "uid": os.getuid(), "pid": os.getpid()}})
    try:
        _serve(fd_in, fd_out)
        sys.stdout.flush()
    finally:
        os._exit(0)
