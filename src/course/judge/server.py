"""`python -m course.judge.server CONFIG_JSON`: a warm judge that forks one process per submission.

The batch starts one server per run. It imports pytest, the platform and the assignment's
heavy libraries once, configures pytest and collects the hidden suite (course.judge.collected),
stays single-threaded, and for each job line on stdin forks a child that grades that one
submission and exits. Nothing of one student's grading reaches the next: each child starts
from the server's pristine memory: imports, the collected suite (no test has run, no fixture
is set up), no notebook, nothing of any student.

Protocol (JSON lines): stdin  {"id", "notebook", "student", "out", "zygote", "hide": [...], "env": {...}}
                       stdout {"id", "pid"} when forked, {"id", "exit"} when reaped.
A child writes its results document to <spool>/<id>.json (atomically) and its stderr to
<spool>/<id>.log; the batch reads them. EOF on stdin (the batch died) kills every child.
"""
from __future__ import annotations

import ast
import functools
import gc
import importlib
import json
import os
import selectors
import signal
import sys
import traceback
from pathlib import Path

from course.paths import Course
from course.sandbox.zygote import PR_SET_PDEATHSIG, _thread_count, exit_code


class Warm:
    """What every judge of the batch shares, prepared in the server before it forks: the
    collected suite's runner (None: each judge runs pytest itself), the assignment's files and
    the sandbox level (None: each judge probes it, and reports why it cannot confine)."""

    def __init__(self, run_suite=None, files=None, level: str | None = None):
        self.run_suite, self.files, self.level = run_suite, files, level

    @classmethod
    def prepare(cls, course: Course, assignment: str, run_suite=None) -> "Warm":
        from course.judge.run import AssignmentFiles
        from course.sandbox.isolation import IsolationError, detect_level

        try:
            level = detect_level()  # runs `unshare`: a process start that every judge would repeat
        except IsolationError:
            level = None
        try:
            files = AssignmentFiles.load(course, assignment)
        except Exception:  # a broken notebook or judge.toml: each judge reports it, as a suite error
            files = None
        return cls(run_suite, files, level)


def _grade_in_child(config: dict, job: dict, warm: Warm) -> int:
    """Runs in the forked child: grade one notebook, spool the document. Returns the exit code."""
    from course.judge import annotate, feedback, results
    from course.judge.messages import course_language
    from course.judge.run import grade_notebook

    spool = Path(config["spool"])
    os.environ.update(job.get("env", {}))
    out = Path(job["out"])
    try:
        result = grade_notebook(Course(Path(config["course"])), config["assignment"], Path(job["notebook"]),
                                student=job["student"], extra_hidden=[Path(p) for p in job.get("hide", [])],
                                zygote=job.get("zygote"), run_suite=warm.run_suite, files=warm.files,
                                level=warm.level, shown_as=job.get("shown"))
        result["extra_data"].update(job.get("extra", {}))
        if job.get("extra", {}).get("device_note"):
            result["output"] += f"\nNote: {job['extra']['device_note']}"
        feedback.write(result, out, language=course_language(Path(config["course"])))
        annotate.write(Path(job["notebook"]), result, out)
    except Exception as exc:  # an instructor-side problem (broken suite): reported, never a score
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                  "trace": traceback.format_exc()[-4000:]}
    # The spool is the batch's scratch (a crash discards it): atomic, not durable.
    results.write_atomic(spool / f"{job['id']}.json", json.dumps(result), durable=False)
    return 0


def _child(config: dict, job: dict, warm: Warm) -> None:
    from course.sandbox.isolation import _libc

    code = 70
    try:
        os.setsid()  # the batch kills the whole group on a timeout
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(number, signal.SIG_DFL)
        log = os.open(Path(config["spool"]) / f"{job['id']}.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)  # nothing a judge prints reaches anyone (events have their own fd, closed here)
        os.dup2(log, 2)
        sys.stdout = open(os.devnull, "w")
        code = _grade_in_child(config, job, warm)
    except BaseException:  # noqa: BLE001 - the log tells the batch what happened
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


class Server:
    events = sys.stdout  # the batch reads fork and exit events here (main() gives it its own fd)

    def __init__(self, config: dict, warm: Warm):
        self.config = config
        self.warm = warm
        self.children: dict[int, str] = {}  # pid -> job id
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(0, selectors.EVENT_READ, "job")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "reap")
        self.stdin_open = True
        self.pending = b""  # raw stdin: a buffered reader would hide lines from select()

    def serve(self) -> None:
        # Everything imported so far moves to the permanent generation: a child's collections
        # then scan only what it made, and never write to (copy) the pages it shares with us.
        gc.collect()
        gc.freeze()
        self._emit({"ready": True})
        while self.stdin_open or self.children:
            for key, _ in self.selector.select(timeout=1.0):
                if key.data == "job":
                    self._read_job()
                else:
                    try:
                        while os.read(self.wake_r, 512):
                            pass
                    except BlockingIOError:
                        pass
            self._reap()
        self.events.flush()
        os._exit(0)  # skip interpreter teardown: with torch loaded it took the batch a second

    def _read_job(self) -> None:
        data = os.read(0, 1 << 16)
        if not data:  # the batch is gone (or done): nobody will read our children's results
            self.stdin_open = False
            self.selector.unregister(0)
            for pid in list(self.children):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return
        self.pending += data
        while b"\n" in self.pending:
            line, self.pending = self.pending.split(b"\n", 1)
            self._fork(json.loads(line))

    def _fork(self, job: dict) -> None:
        self.events.flush()
        pid = os.fork()
        if pid == 0:
            self.selector.close()
            signal.set_wakeup_fd(-1)
            for fd in (self.wake_r, self.wake_w, self.events.fileno()):
                os.close(fd)
            _child(self.config, job, self.warm)
        self.children[pid] = job["id"]
        self._emit({"id": job["id"], "pid": pid})

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            job_id = self.children.pop(pid, None)
            if job_id is not None:
                self._emit({"id": job_id, "exit": exit_code(status)})

    @classmethod
    def _emit(cls, event: dict) -> None:
        try:
            cls.events.write(json.dumps(event) + "\n")
            cls.events.flush()
        except BrokenPipeError:
            pass


_SANDBOX_ONLY = ("tensorflow", "keras", "triton")


@functools.lru_cache(maxsize=None)
def _syntax_tree(path: Path) -> ast.Module | None:
    """A suite file parsed once for the server's three scans of it; None when it does not parse
    (the child's collection reports that)."""
    try:
        return ast.parse(path.read_text(), str(path))
    except (OSError, SyntaxError, ValueError):
        return None


def _imported_modules(path: Path, *, top_level: bool) -> list[str] | None:
    """Absolute module names a file imports (at module level only, or anywhere), in order;
    None when it does not parse."""
    tree = _syntax_tree(path)
    if tree is None:
        return None
    names = []
    for node in (tree.body if top_level else ast.walk(tree)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def _sandbox_only(name: str) -> bool:
    return name.split(".")[0] in _SANDBOX_ONLY


def suite_imports(suite: Path) -> list[str]:
    """Absolute top-level imports of the suite's test modules and conftest (tensorflow, keras and
    triton excepted: they stay in sandboxes), in the order they appear."""
    names: list[str] = []
    for path in sorted(suite.glob("test_*.py")) + sorted(suite.glob("conftest.py")):
        for name in _imported_modules(path, top_level=True) or []:
            if not _sandbox_only(name) and name != "__future__" and name not in names:
                names.append(name)
    return names


def collects_in_server(suite: Path) -> bool:
    """Whether the server may configure pytest and collect the suite itself: not when a test
    module or conftest imports a sandbox-only library anywhere (importing tensorflow makes
    threads, and forking a process with threads is unsafe) or does not parse."""
    for path in [*sorted(suite.glob("test_*.py")), *sorted(suite.glob("conftest.py"))]:
        modules = _imported_modules(path, top_level=False)
        if modules is None or any(map(_sandbox_only, modules)):
            return False
    return True


def _calls_backward_with_a_gradient(tree: ast.AST) -> bool:
    """Whether code calls backward/grad with an explicit upstream gradient (`y.backward(G)`,
    `torch.autograd.grad(y, x, grad_outputs=G)`): the only use that pulls in sympy."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        keywords = {k.arg for k in node.keywords}
        if name == "backward" and (node.args or keywords & {"gradient", "grad_tensors"}):
            return True
        if name == "grad" and (len(node.args) >= 3 or "grad_outputs" in keywords):
            return True
    return False


def uses_explicit_gradients(suite: Path) -> bool:
    """Whether the suite's test modules or conftest call backward with a given gradient. An
    unparsable file counts as yes: warming up costs the batch 0.4 s once, missing it costs every
    child that much."""
    for path in [*sorted(suite.glob("test_*.py")), *sorted(suite.glob("conftest.py"))]:
        tree = _syntax_tree(path)
        if tree is None or _calls_backward_with_a_gradient(tree):
            return True
    return False


def warm_up(explicit_gradients: bool = True) -> None:
    """First-use work every judge child would otherwise pay for again (about 1 s with torch):
    pytest's built-in plugins, numpy.random, nbformat's JSON schema (compiled on first
    validation, 0.1 s, when a child annotates its notebook) and, when the suite needs it, what
    torch imports on its first backward with an explicit gradient (torch.fx's symbolic shapes,
    which pull in sympy: 0.4 s, a sixth of the server's start-up, so not for suites without)."""
    import nbformat
    from _pytest.config import default_plugins

    nbformat.v4.new_output("stream", name="stdout", text="")  # compiles the schema that validates outputs
    for name in [*default_plugins, "_argcomplete"]:  # _argcomplete: imported when pytest parses its arguments
        try:
            importlib.import_module(f"_pytest.{name}")
        except ImportError:
            pass
    if "numpy" in sys.modules:
        importlib.import_module("numpy.random")
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        x = torch.ones(2, dtype=torch.float64, requires_grad=True)
        (x * x).sum().backward()
        if explicit_gradients:
            (x * x).backward(torch.ones_like(x))
            torch.autograd.grad((x * x).sum(), x, grad_outputs=torch.ones((), dtype=torch.float64))


def main() -> None:
    config = json.loads(sys.argv[1])
    from course.sandbox.isolation import _libc

    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the batch died: so do we
    # Events get a descriptor of their own; fd 1 goes to /dev/null, so that nothing printed
    # in the server (pytest's terminal, a test module's print at import) can garble them.
    Server.events = os.fdopen(os.dup(1), "w")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    # The judge computes expected values with numpy/torch; tensorflow and triton stay in sandboxes.
    judge_side = [m for m in config.get("preload", []) if not _sandbox_only(m)]
    for name in ["pytest", "course.judge.run", "course.judge.feedback", "course.judge.annotate", *judge_side]:
        importlib.import_module(name)
    # What the hidden suite imports (torch for 02's float64 references, say) would otherwise be
    # imported again by every child: seconds per submission.
    course = Course(Path(config["course"]))
    suite = course.autograder / config["assignment"]
    for name in suite_imports(suite):
        try:
            importlib.import_module(name)
        except Exception:  # the child's own import reports it, as a suite error
            pass
    warm_up(uses_explicit_gradients(suite))
    if _thread_count() != 1:
        raise SystemExit("the judge server started threads while importing; forking would be unsafe")
    if collects_in_server(suite):
        from course.judge.collected import CollectedSuite

        scratch = Path(config["spool"]) / "pytest"
        scratch.mkdir(exist_ok=True)
        collected = CollectedSuite(suite, int(config.get("threads", 1)), scratch)
        collected.serve_inside(lambda: Server(config, Warm.prepare(course, config["assignment"],
                                                                   collected.run_suite)).serve())
        if collected.refused:
            raise SystemExit(collected.refused)
    # pytest stopped before its test loop (or the suite needs a sandbox-only library): each
    # child runs pytest from the start, and reports what broke as a suite error.
    Server(config, Warm.prepare(course, config["assignment"])).serve()


if __name__ == "__main__":
    main()
