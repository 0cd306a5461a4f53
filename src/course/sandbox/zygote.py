"""The warm parent of sandboxes: imports the heavy libraries once, forks one fresh sandbox per request.

Started by `Zygote.start()` as `python -I -m course.sandbox.zygote CONFIG_JSON`. It stays
single-threaded (fork is only safe then) and never runs student code itself. Each judge
request is one SOCK_SEQPACKET message on a unix socket: a JSON spec plus four descriptors
(requests in, replies out, student stdout, student stderr). For each request it forks:

    zygote ── A: every other descriptor closed, setsid, unshare(mount, net, pid, ipc, uts[, user])
              └── B: pid 1 of the new pid namespace: confine() (cgroups, allow-list root, uid,
                     seccomp), then serve

A stays root, outside the sandbox's namespaces (student code can neither see nor signal it),
waits for B and exits with B's fate (128 + signal), like `unshare --fork`. SIGTERM to A (from
the judge, from the zygote on hang-up, or as A's parent-death signal when the zygote dies)
makes A SIGKILL B; when B dies the kernel kills everything left in its pid namespace, whatever
it did (setsid, double fork, ignored signals). B's own parent-death signal covers A's death.
The zygote answers the judge with A's pid, then later with A's exit status, on the same
connection, which no sandbox holds. A child is never reused: every sandbox starts from the
zygote's pristine memory, which holds imports and nothing else.
"""
from __future__ import annotations

import ctypes
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import sys

PR_SET_PDEATHSIG = 1
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

_FDS_PER_REQUEST = 4


def exit_code(status: int) -> int:
    """waitpid status as a shell would report it: the exit code, or 128 + the signal."""
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def _check(result: int, what: str) -> None:
    if result != 0:
        from course.sandbox.isolation import IsolationError

        raise IsolationError(f"{what} failed: {os.strerror(ctypes.get_errno())}")


def _enter_namespaces(level: str) -> None:
    """Runs in A. After this, A's next child is pid 1 of a fresh pid namespace."""
    from course.sandbox.isolation import _libc

    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    if level == "userns":
        flags |= CLONE_NEWUSER
    _check(_libc.unshare(flags), "unshare")
    if level == "userns":  # map ourselves to root inside, as `unshare --map-root-user` does
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)


def _parent_death_signal(number: int) -> None:
    from course.sandbox.isolation import _libc

    _libc.prctl(PR_SET_PDEATHSIG, number, 0, 0, 0)


def close_other_descriptors(keep: list[int]) -> None:
    """Close every descriptor but stdio and `keep`: nothing the zygote holds (the judge's
    connections, the listener, whatever a preloaded library opened) reaches student code."""
    keep_set = {0, 1, 2, *keep}
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep_set:
            try:
                os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, closed by now


def _supervise(sandbox_pid: int) -> None:
    """A: SIGTERM means "end this sandbox": SIGKILL B, and with it its pid namespace."""
    def end_sandbox(*_):
        try:
            os.kill(sandbox_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, end_sandbox)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
    while True:
        try:
            _, status = os.waitpid(sandbox_pid, 0)
            break
        except ChildProcessError:
            os._exit(137)
    os._exit(exit_code(status))


def _join_cgroups(sandbox_pid: int, procs: list[int], report_fd: int) -> None:
    """A moves B into its cgroups (`procs`: their cgroup.procs, open) while B builds its root (a
    cgroup v1 move waits for an RCU grace period, ~10 ms: in parallel it costs nothing). B
    waits for b"1" before it drops root; anything else and it refuses to run."""
    try:
        for fd in procs:
            os.write(fd, str(sandbox_pid).encode())
        os.write(report_fd, b"1")
    except OSError as exc:
        os.write(report_fd, f"0{exc}".encode()[:512])
    finally:
        for fd in (*procs, report_fd):
            os.close(fd)


def _become_sandbox(spec: dict, fds: list[int]) -> None:
    """Runs in the forked child; never returns."""
    from course.sandbox import child

    child_in, child_out, out_w, err_w = fds
    try:
        close_other_descriptors(fds)
        os.setsid()
        _parent_death_signal(signal.SIGTERM)  # the zygote died: A ends its sandbox (SIGTERM stays blocked until then)
        for number in (signal.SIGCHLD, signal.SIGINT):
            signal.signal(number, signal.SIG_DFL)
        level = spec["level"]
        if level != "rlimits":
            _enter_namespaces(level)
            joined_r, joined_w = os.pipe()
            # Opened before the fork: B's pivot_root changes the root of A too (one mount namespace).
            procs = [os.open(path, os.O_WRONLY | os.O_CLOEXEC) for path in spec.get("cgroups") or []]
            pid = os.fork()
            if pid:  # A: holds nothing of the sandbox's, mirrors B's fate
                for fd in (*fds, joined_r):
                    os.close(fd)
                _join_cgroups(pid, procs, joined_w)
                _supervise(pid)
            for fd in (*procs, joined_w):
                os.close(fd)
            spec = {**spec, "cgroups_joined_fd": joined_r}
            _parent_death_signal(signal.SIGKILL)  # re-armed after the uid drop, in confine()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        for fd in (null, out_w, err_w):
            os.close(fd)
        os.environ.clear()
        os.environ.update(spec["env"])
    except BaseException as exc:  # noqa: BLE001 - report why, never run student code unconfined
        child.refuse(child_out, f"{type(exc).__name__}: {exc}")
    child.run({**spec, "fd_in": child_in, "fd_out": child_out})


class _Server:
    def __init__(self, listener: socket.socket):
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, socket.socket | None] = {}   # A's pid -> the judge's connection
        self.levels: dict[int, str] = {}
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # the wakeup fd does the work
        self.selector.register(listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "reap")

    def serve(self) -> None:
        while True:
            for key, _ in self.selector.select():
                if key.data == "accept":
                    self._accept()
                elif key.data == "reap":
                    self._drain_wakeups()
                    self._reap()
                else:
                    self._hangup(key.fileobj, key.data)

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        try:
            message, fds, _, _ = socket.recv_fds(conn, 1 << 20, _FDS_PER_REQUEST)
            spec = json.loads(message)
        except (OSError, ValueError):
            conn.close()
            return
        if len(fds) != _FDS_PER_REQUEST:
            for fd in fds:
                os.close(fd)
            conn.close()
            return
        if not _valid_spec(spec):
            for fd in fds:
                os.close(fd)
            conn.close()
            return
        # SIGTERM stays blocked in A until it knows its sandbox's pid (_supervise unblocks it).
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
        try:
            pid = os.fork()
        except OSError:
            pid = -1
        if pid == 0:
            try:
                self._close_all_but(conn)
                _become_sandbox(spec, fds)
            finally:
                os._exit(70)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
        if pid < 0:
            for fd in fds:
                os.close(fd)
            conn.close()
            return
        for fd in fds:
            os.close(fd)
        self.children[pid] = conn
        self.levels[pid] = spec["level"]
        self.selector.register(conn, selectors.EVENT_READ, pid)
        self._send(conn, {"pid": pid})

    def _close_all_but(self, conn: socket.socket) -> None:
        """The Python objects first (so that none closes a reused number later), then the rest."""
        conn.close()
        self.selector.close()
        self.listener.close()
        for conn in self.children.values():
            if conn is not None:
                conn.close()
        signal.set_wakeup_fd(-1)
        os.close(self.wake_r)
        os.close(self.wake_w)

    def _drain_wakeups(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            self.levels.pop(pid, None)
            if conn is not None:
                self._send(conn, {"exit": exit_code(status)})
                self.selector.unregister(conn)
                conn.close()

    def _hangup(self, conn: socket.socket, pid: int) -> None:
        """The judge closed its end: nobody will talk to that sandbox again."""
        try:
            if conn.recv(1):
                return
        except OSError:
            pass
        try:
            if self.levels.get(pid) == "rlimits":  # A is the sandbox itself: no namespace to end
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGTERM)  # A kills its sandbox's pid namespace, then exits
        except (ProcessLookupError, PermissionError):
            pass
        self.selector.unregister(conn)
        conn.close()
        self.children[pid] = None  # _reap still collects it, and tells no one

    @staticmethod
    def _send(conn, message: dict) -> None:
        try:
            conn.send(json.dumps(message).encode())
        except OSError:
            pass


def _valid_spec(spec) -> bool:
    """The judge's request, checked before a fork acts on it."""
    return (isinstance(spec, dict) and spec.get("level") in ("namespaces", "userns", "rlimits")
            and isinstance(spec.get("scratch"), str) and isinstance(spec.get("env"), dict)
            and isinstance(spec.get("limits"), dict))


def main() -> None:
    config = json.loads(sys.argv[1])
    _parent_death_signal(signal.SIGKILL)  # the judge died: so do we
    try:
        for name in config.get("preload", []):
            importlib.import_module(name)
        from course.sandbox import child, seccomp  # noqa: F401 - warm too

        try:
            seccomp.compile_filter()  # once here rather than in every sandbox
        except seccomp.SeccompError:
            pass  # each sandbox tries again, and refuses to start if it fails too

        if _thread_count() != 1:
            raise RuntimeError(f"preloading {config.get('preload')} started threads; forking would be unsafe")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(config["socket"])
        os.chmod(config["socket"], 0o600)
        listener.listen(64)
    except BaseException as exc:  # noqa: BLE001 - the judge shows this
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
        os._exit(2)
    print(json.dumps({"ok": True, "pid": os.getpid()}), flush=True)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)  # nothing the children inherit may write into the judge's pipe
    # The preloaded libraries move to the permanent generation: a sandbox's collections then
    # scan only what the student made, and never write to (copy) the pages it shares with us.
    gc.collect()
    gc.freeze()
    _Server(listener).serve()


if __name__ == "__main__":
    main()
