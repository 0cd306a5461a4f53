"""The embedded JupyterHub (`make hub`, `course hub start`): one machine, real system users.

Everything the hub and the people on it need lives in one state directory (default
/var/lib/course-hub/<course_id>, or $COURSE_HUB_STATE), never inside the repository, so it works
when the repository sits under a private (0700) directory such as /root:

    <state>/hub.json             settings the hub config reads (ports, paths, tokens; 0600)
    <state>/roster.json          the course roster (`course roster add`; 0600)
    <state>/jupyterhub.sqlite    the hub database and cookie secret
    <state>/passwords.dbm*       the members' password hashes (an enrolment code's, then theirs)
    <state>/enrolment-codes.csv  one-time enrolment codes for the instructor to hand out (0600)
    <state>/exchange/            nbgrader's exchange (world-writable, sticky: nbgrader's model)
    <state>/course/              the grader account's nbgrader course directory (0700): the
                                 release, gradebook.db, submitted/, autograded/, feedback/
    <state>/jupyter/student/     Jupyter config for student servers (JUPYTER_CONFIG_PATH):
                                 exchange, course id, formgrader and create_assignment disabled
    <state>/venv/                only when the project's .venv is not reachable by other users:
                                 a hard-linked copy of it that student servers run from

Students and staff are system users (homes 0700 under --home-base, default /home); the grader
account `grader-<course_id>` runs formgrader as a hub service; instructors and TAs reach it
through the `formgrade-<course_id>` group's role (access:services), not as hub admins.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course.hub import enrolment, roster as roster_mod
from course.paths import Course, CourseError, course_id as read_course_id

REPO = Path(__file__).resolve().parents[3]
HUB_CONFIG = REPO / "hub" / "jupyterhub_config.py"
CHP = REPO / "node_modules" / ".bin" / "configurable-http-proxy"
STAMP = ".installed"  # make install touches .venv/.installed


@dataclass
class Settings:
    course_id: str
    course_root: str          # the repository (source/, release/, autograder/)
    state: str
    home_base: str = "/home"
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    formgrader_port: int = 8002
    student_python: str = ""
    service_python: str = ""
    cli_token: str = ""
    proxy_token: str = ""
    idle_timeout: int = 3600          # seconds without activity before a server is culled
    cull_every: int = 300
    interrupt_timeout: int = 10       # LocalProcessSpawner SIGINT -> SIGTERM -> SIGKILL steps
    mem_limit: int = 3 * 2**30        # bytes per server (kernels included), where cgroups exist
    cpu_limit: float = 1.0            # CPUs per server, where cgroups exist
    fenced: bool = True               # servers start in a mount namespace without the secrets
    extra: dict = field(default_factory=dict)

    @property
    def grader(self) -> str:
        return f"grader-{self.course_id}"

    @property
    def formgrade_group(self) -> str:
        return f"formgrade-{self.course_id}"

    @property
    def student_group(self) -> str:
        return f"nbgrader-{self.course_id}"

    @property
    def service(self) -> str:
        """formgrader's hub service name: /services/<course_id>/formgrader."""
        return self.course_id

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.ip in ("", "0.0.0.0") else self.ip
        return f"http://{host}:{self.port}"

    @property
    def exchange(self) -> Path:
        return Path(self.state) / "exchange"

    @property
    def course_dir(self) -> Path:
        return Path(self.state) / "course"

    @property
    def student_config(self) -> Path:
        return Path(self.state) / "jupyter" / "student"

    @property
    def fence_plan(self) -> Path:
        return Path(self.state) / "fence.json"

    def save(self) -> None:
        path = Path(self.state) / "hub.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    @classmethod
    def load(cls, state: Path) -> "Settings":
        path = Path(state) / "hub.json"
        if not path.exists():
            raise CourseError(f"{state}: no hub here yet (run `course hub start` or `make hub` first)")
        return cls(**json.loads(path.read_text()))


def default_state(course: Course) -> Path:
    if os.environ.get("COURSE_HUB_STATE"):
        return Path(os.environ["COURSE_HUB_STATE"]).resolve()
    return Path("/var/lib/course-hub") / read_course_id(course.root)


# ---------------------------------------------------------------------------------------------
# preparing the state directory

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def others_can_reach(path: Path) -> bool:
    """Can an unprivileged other user traverse to (and execute) path?"""
    path = Path(path).resolve()
    for folder in reversed(path.parents):
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    mode = path.stat().st_mode
    return bool(mode & stat.S_IROTH) and (bool(mode & stat.S_IXOTH) or not path.is_dir())


def _python_others_can_run(version: str) -> Path | None:
    """An interpreter of this Python version that unprivileged users can execute."""
    candidates = [Path(sys.base_prefix) / "bin" / f"python{version}",
                  Path(f"/usr/bin/python{version}"), Path(f"/usr/local/bin/python{version}")]
    for candidate in candidates:
        if candidate.exists() and others_can_reach(candidate.resolve()):
            return candidate.resolve()
    return None


def student_python(state: Path, prefix: Path | None = None) -> Path:
    """The Python that student servers and the grader service run.

    The project's .venv when other users can reach it and its interpreter; otherwise (a
    repository or a pyenv under /root, say) a hard-linked copy under <state>/venv (same files,
    no extra disk, a reachable path) whose interpreter is one others can run: the base one,
    else the system's python of the same version.
    """
    prefix = Path(prefix or sys.prefix)
    python = prefix / "bin" / "python"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = prefix / "lib" / f"python{version}" / "site-packages"
    interpreter_ok = others_can_reach(python.resolve())
    packages_ok = others_can_reach(prefix / "pyvenv.cfg") and others_can_reach(site_packages)
    if interpreter_ok and packages_ok:
        return python
    interpreter = python.resolve() if interpreter_ok else _python_others_can_run(version)
    if interpreter is None:
        raise CourseError(
            f"student servers run as their own users, and no Python {version} that they can execute "
            f"was found ({python.resolve()} is in a private directory). Install the system's "
            f"python{version} (apt-get install python{version}) or make that directory traversable.")
    copy = Path(state) / "venv"
    marker = copy / ".course-copy"
    stamp = prefix / STAMP
    fingerprint = f"{prefix.resolve()}|{interpreter}|{packages_ok}|{stamp.stat().st_mtime if stamp.exists() else 0}"
    if marker.exists() and marker.read_text() == fingerprint:
        return copy / "bin" / "python"
    shutil.rmtree(copy, ignore_errors=True)
    if packages_ok:
        # only the interpreter is private (a pyenv under /root): a small venv on a reachable
        # interpreter that adds the project's site-packages (and runs their .pth files)
        target = copy / "lib" / f"python{version}" / "site-packages"
        target.mkdir(parents=True)
        (copy / "bin").mkdir()
        (target / "_course_project.pth").write_text(f"import site; site.addsitedir({str(site_packages)!r})\n")
        # Jupyter finds server extensions (etc/jupyter) and JupyterLab (share/jupyter) by sys.prefix
        for shared in ("etc", "share"):
            if (prefix / shared).is_dir():
                (copy / shared).symlink_to(prefix / shared)
        lines = []
    else:
        # the packages are private too (a repository under /root): a hard-linked copy
        done = subprocess.run(["cp", "-al", str(prefix), str(copy)], capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(copy, ignore_errors=True)
            raise CourseError(
                f"student servers cannot reach {prefix}, and a hard-linked copy under {copy} failed "
                f"({done.stderr.strip()}): put the hub state on the same filesystem "
                f"(COURSE_HUB_STATE=...) or make {prefix} reachable by other users")
        cfg = copy / "pyvenv.cfg"
        lines = [line for line in cfg.read_text().splitlines()
                 if not line.startswith(("home", "executable", "command"))]
        cfg.unlink()  # a hard link to the original: never write through it
    for name in ("python", "python3", f"python{version}"):
        link = copy / "bin" / name
        if link.is_symlink() or link.exists():
            link.unlink()   # a link (or a hard-linked copy) of the private interpreter
        link.symlink_to(interpreter)
    if not lines:
        lines = ["include-system-site-packages = false", f"version = {version}"]
    (copy / "pyvenv.cfg").write_text("\n".join([f"home = {interpreter.parent}", *lines,
                                                 f"executable = {interpreter}"]) + "\n")
    small = [copy / "bin", copy / "lib", copy / "lib" / f"python{version}",
             copy / "lib" / f"python{version}" / "site-packages"] if packages_ok else []
    for folder in [copy, *small]:
        os.chmod(folder, 0o755)
    marker.write_text(fingerprint)
    return copy / "bin" / "python"


def _chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def _nbgrader_config(settings: Settings, *, student: bool) -> str:
    lines = [
        "# written by `course hub`: nbgrader on the course hub",
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.course_id = {settings.course_id!r}",
        f"c.Exchange.root = {str(settings.exchange)!r}",
        "c.Exchange.path_includes_course = False",
    ]
    if not student:
        lines += [
            f"c.CourseDirectory.root = {str(settings.course_dir)!r}",
            'c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]',
            # formgrader's Collect button skips forged entries and links (course/inbound.py, copied)
            "import sys",
            f"sys.path.insert(0, {str(Path(settings.state) / 'jupyter' / 'grader')!r})",
            "from course_inbound import screened_collect",
            f"c.ExchangeFactory.collect = screened_collect({roster_mod.ID.pattern!r})",
        ]
    return "\n".join(lines) + "\n"


STUDENT_SERVER_CONFIG = """\
# written by `course hub`: students get the assignment list, never formgrader or create_assignment
c = get_config()  # noqa: F821
# update(), not assignment: the other extensions (jupyterlab...) stay enabled. Left out because
# students never use them: jupyter_lsp (no language server is installed; ~10 MB and ~1 s of
# start-up per server) and notebook 7's /tree pages (students work in /lab).
c.ServerApp.jpserver_extensions.update({
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
    # nbgrader's assignment list, loaded by course_submit_guard (course/hub/student/), which
    # wraps its Submit: an untouched assignment asks for confirmation first
    "nbgrader.server_extensions.assignment_list": False,
    "course_submit_guard": True,
    "nbgrader.server_extensions.validate_assignment": True,
    "jupyter_lsp": False,
    "notebook": False,
})
"""


def _student_server_config(guard_dir: Path, language: str) -> str:
    """STUDENT_SERVER_CONFIG, and where the submit guard lives and which language it speaks."""
    return STUDENT_SERVER_CONFIG + (
        "import sys\n"
        f"sys.path.insert(0, {str(guard_dir)!r})   # copied by `course hub`: the repository is fenced off\n"
        f"c.SubmitGuard.language = {language!r}\n"
        "c.SubmitGuard.window = 600.0   # seconds within which a second Submit sends an untouched assignment\n")


# formgrader renders students' notebooks on the hub's origin: besides the sanitised copy it is
# given (course.judge.sanitize), its pages may load and send nothing beyond this server, embed no
# plugins, and change no base URL or form target. Its own pages use inline scripts, so 'unsafe-inline'
# stays: this is the second line of defence, not the first.
FORMGRADER_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
                  "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
                  "connect-src 'self'; object-src 'none'; frame-src 'self'; frame-ancestors 'self'; "
                  "base-uri 'self'; form-action 'self'")
GRADER_SERVER_CONFIG = f"""\
# written by `course hub`: formgrader's server (the grader account's hub service)
c = get_config()  # noqa: F821
c.ServerApp.tornado_settings = {{"headers": {{"Content-Security-Policy": {FORMGRADER_CSP!r}}}}}
"""
STUDENT_PAGE_CONFIG = {"disabledExtensions": {
    "@jupyter/nbgrader:formgrader": True,
    "@jupyter/nbgrader:create-assignment": True,
    "@jupyter/nbgrader:course-list": True,
    "@jupyter-notebook/lab-extension": True,          # links to notebook 7's pages, off above
    "@jupyterlab/apputils-extension:announcements": True,   # the news pop-up
}}


def prepare(course: Course, state: Path, *, home_base: Path = Path("/home"), ip: str = "127.0.0.1",
            port: int = 8000, idle_timeout: int = 3600, interrupt_timeout: int = 10,
            mem_limit: int = Settings.mem_limit, cpu_limit: float = Settings.cpu_limit) -> Settings:
    """Create or refresh the state directory, the grader account and the released course."""
    roster_mod.require_root("the course hub")
    if not CHP.exists():
        raise CourseError(f"{CHP} is missing: run `npm ci` in {REPO} (make hub does)")
    state = Path(state).resolve()
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, STATE_MODE)
    cid = read_course_id(course.root)
    try:
        old = Settings.load(state)
    except CourseError:
        old = None
    fixed_ports = port != 0  # port 0: every port picked free (tests, several hubs on one machine)
    settings = Settings(
        course_id=cid, course_root=str(course.root), state=str(state), home_base=str(home_base),
        ip=ip, port=port or _free_port(),
        hub_port=8081 if fixed_ports else _free_port(),
        proxy_api_port=8001 if fixed_ports else _free_port(),
        formgrader_port=8002 if fixed_ports else _free_port(),
        cli_token=old.cli_token if old else secrets.token_hex(32),
        proxy_token=old.proxy_token if old else secrets.token_hex(32),
        idle_timeout=idle_timeout, interrupt_timeout=interrupt_timeout,
        mem_limit=mem_limit, cpu_limit=cpu_limit,
    )
    Path(home_base).mkdir(parents=True, exist_ok=True)
    python = student_python(state)
    settings.student_python = settings.service_python = str(python)
    if not roster_mod.user_exists(settings.grader):
        roster_mod.create_system_user(settings.grader, home_base, f"nbgrader grader for {cid}")
        roster_mod.record_created(state, [settings.grader])

    # the exchange: anyone may write (submit), the sticky bit keeps people to their own entries
    settings.exchange.mkdir(exist_ok=True)
    os.chmod(settings.exchange, 0o1777)

    # the grader's course directory: the release and the gradebook, private to the grader
    cdir = settings.course_dir
    cdir.mkdir(exist_ok=True)
    for sub in ("source", "release"):
        src = course.root / sub
        if src.is_dir():
            shutil.copytree(src, cdir / sub, dirs_exist_ok=True)
    _write(cdir / "nbgrader_config.py", _nbgrader_config(settings, student=False))
    _write(settings.student_config / "nbgrader_config.py", _nbgrader_config(settings, student=True))
    from course.hub import student
    from course.judge.messages import course_language

    guard_dir, _ = student.install(settings.student_config)
    _write(settings.student_config / "jupyter_server_config.py",
           _student_server_config(guard_dir, course_language(course.root)))
    _write(settings.student_config / "labconfig" / "page_config.json", json.dumps(STUDENT_PAGE_CONFIG))
    _write(state / "jupyter" / "grader" / "jupyter_server_config.py", GRADER_SERVER_CONFIG)
    _write(state / "jupyter" / "grader" / "course_inbound.py", (Path(__file__).parents[1] / "inbound.py").read_text())
    os.chmod(state / "jupyter" / "grader", 0o755)
    for folder in (settings.student_config.parent, settings.student_config,
                   settings.student_config / "labconfig"):
        os.chmod(folder, 0o755)
    settings.save()
    release_assignments(settings, course)
    sync_gradebook_students(settings)
    _chown_tree(cdir, settings.grader)
    os.chmod(cdir, 0o700)
    own_exchange(settings)
    settings.fenced = set_up_fence(settings, course)
    settings.save()
    protect_state(settings)
    return settings


# ---------------------------------------------------------------------------------------------
# what students' servers can see

STATE_MODE = 0o711   # students traverse to exchange/, jupyter/student/, venv/; they list nothing


def protect_state(settings: Settings) -> None:
    """The state directory's own files (hub database, cookie secret, passwords, roster, hub.json,
    pid files) are root's alone, whatever the umask that created them."""
    state = Path(settings.state)
    os.chmod(state, STATE_MODE)
    for path in state.iterdir():
        if path.is_file() and not path.is_symlink():
            os.chmod(path, 0o600)
    db = state / "jupyterhub.sqlite"
    if not db.exists():          # SQLite keeps the mode of an existing (empty) file
        db.touch(mode=0o600)


def fence_masks_and_binds(settings: Settings) -> tuple[list[str], list[dict]]:
    """Hidden: the repository (wherever the code and the course live) and the state directory.
    Put back: the Python servers run, the exchange, the students' Jupyter config, and homes
    that happen to live under a hidden directory."""
    course_root = Path(settings.course_root).resolve()
    masks = sorted({str(repository_top(course_root)), str(REPO), str(Path(settings.state))})
    python_prefix = Path(settings.student_python).parent.parent     # <venv>/bin/python
    # the project's .venv too: <state>/venv may be a small venv that adds its site-packages
    binds = [{"path": str(python_prefix)}, {"path": sys.prefix},
             {"path": str(settings.exchange), "writable": True},
             {"path": str(settings.student_config)},
             {"path": str(Path(settings.home_base).resolve()), "writable": True}]
    return masks, binds


def repository_top(path: Path) -> Path:
    """The git repository that holds the course (its solutions, autograder/ and any roster file
    sit there even when the course is a subfolder), else the course folder itself."""
    for folder in [path, *path.parents]:
        if (folder / ".git").exists():
            return folder
    return path


def secret_paths(settings: Settings) -> list[Path]:
    root, state = Path(settings.course_root), Path(settings.state)
    top = repository_top(root.resolve())
    return [root / "autograder", root / "source", root / "solutions", root / "roster.csv",
            top / "autograder", top / "solutions", top / "roster.csv", REPO / "autograder", state / "roster.json", state / "jupyterhub.sqlite", state / "hub.json",
            state / "passwords.dbm", state / "passwords.dbm.dat", enrolment.codes_path(state), settings.course_dir, state / "fence.json"]


FENCE_CHECK = """
import json, os, sys
seen = {}
for path in sys.argv[1:]:
    try:
        os.stat(path)
        seen[path] = "visible"
    except OSError:
        pass
print(json.dumps(seen))
"""


def set_up_fence(settings: Settings, course: Course) -> bool:
    """Write the fence plan and prove it as the grader account: through the fence, none of the
    secrets exists and the exchange does. If mount namespaces are not available here, the hub
    runs unfenced only when no secret is reachable by other users anyway; else it refuses."""
    from course.hub import spawner as hub_spawner

    masks, binds = fence_masks_and_binds(settings)
    cgroups = hub_spawner.cgroup_plan(settings.course_id, settings.mem_limit, settings.cpu_limit)
    hub_spawner.write_plan(settings.fence_plan, masks, binds, cgroups)
    secrets_ = [p for p in secret_paths(settings) if p.exists()]
    cmd = [sys.executable, "-I", "-S", str(hub_spawner.FENCE), str(settings.fence_plan), "--",
           settings.student_python, "-I", "-c", FENCE_CHECK, *map(str, secrets_), str(settings.exchange)]
    env = {"JUPYTERHUB_USER": settings.grader, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    seen = {}
    if done.returncode == 0:
        try:
            seen = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            done = subprocess.CompletedProcess(cmd, 1, done.stdout, "unreadable check output")
    fenced = done.returncode == 0 and str(settings.exchange) in seen and len(seen) == 1
    for group in cgroups.values():    # the check's own cgroup: empty again
        with contextlib.suppress(OSError):
            (Path(group["parent"]) / settings.grader).rmdir()
    if fenced:
        return True
    why = (done.stderr.strip().splitlines() or ["?"])[-1] if done.returncode else \
        f"these stayed visible: {', '.join(p for p in seen if p != str(settings.exchange))}"
    exposed = [p for p in secrets_ if others_can_reach(p)]
    if exposed:
        private = " and ".join(sorted({str(Path(settings.course_root).resolve()), str(REPO)}))
        raise CourseError(
            f"students' servers could read {', '.join(map(str, exposed))}: the fence that hides the "
            f"repository from them (a mount namespace) could not be set up ({why}). Either run the hub "
            f"as root where mount namespaces work, or make the repository private to root: "
            f"chmod 0700 {private}")
    print(f"warning: students' servers run without the fence ({why}); the repository is private "
          f"to root, so they still cannot read it", file=sys.stderr)
    (settings.fence_plan).unlink()
    return False


def own_exchange(settings: Settings) -> None:
    """The grader account owns the course's exchange folders (nbgrader's model: formgrader
    collects from inbound/, which only its owner may list); students keep their submissions."""
    entry = pwd.getpwnam(settings.grader)
    top = settings.exchange / settings.course_id
    if not top.is_dir():
        return
    folders = [top, top / "inbound", top / "feedback"]
    outbound = top / "outbound"
    if outbound.is_dir():
        folders += [outbound, *outbound.rglob("*")]
    for path in folders:
        if path.exists():
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def exchange(action: str, course_dir: Path, course_id: str, exchange_root: Path, assignment: str,
             **options) -> None:
    """Run one of nbgrader's default exchange steps in-process (ReleaseAssignment, Collect,
    ReleaseFeedback): the same code as `nbgrader <step>`, without a second start-up."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import default as steps
    from nbgrader.exchange.abc.exchange import ExchangeError
    from traitlets.config import Config

    cfg = Config()
    cfg.CourseDirectory.root = str(course_dir)
    cfg.CourseDirectory.course_id = course_id
    cfg.CourseDirectory.assignment_id = assignment
    cfg.Exchange.root = str(exchange_root)
    cls = getattr(steps, f"Exchange{action}")
    if action == "Collect":  # the same screening and trusted timestamps as formgrader's Collect button
        from course.inbound import screened_collect
        from course.hub.roster import ID

        cls = screened_collect(ID.pattern)
    for key, value in options.items():
        cfg[cls.__name__][key] = value
    coursedir = CourseDirectory(config=cfg)
    try:
        with _lent_to_caller(Path(exchange_root) / course_id):
            cls(coursedir=coursedir, authenticator=Authenticator(config=cfg), config=cfg).start()
    except ExchangeError as exc:
        raise CourseError(f"nbgrader {action} of {assignment} failed: {exc}") from None


@contextlib.contextmanager
def _lent_to_caller(top: Path):
    """nbgrader refuses to write into exchange folders its caller does not own ("You don't own
    the directory"), but after `own_exchange` the grader account owns them and `course hub`
    runs as root: so a second `make hub` with a changed release, or feedback released after
    start, failed. Root lends itself the folders for the step and gives them back as they were."""
    folders = [p for p in (top, top / "inbound", top / "outbound", top / "feedback") if p.is_dir()]
    if os.geteuid() != 0 or not folders:
        yield
        return
    before = {path: os.stat(path) for path in folders}
    for path in folders:
        os.chown(path, os.getuid(), os.getgid(), follow_symlinks=False)
    try:
        yield
    finally:
        for path, was in before.items():
            if path.is_dir():
                os.chown(path, was.st_uid, was.st_gid, follow_symlinks=False)
                os.chmod(path, stat.S_IMODE(was.st_mode))  # chown may clear the setgid bit


def scheduled(course: Course, now: datetime.datetime | None = None) -> tuple[list[str], dict]:
    """The assignments open at `now` by course.toml (all of them without one), and the schedule."""
    from course import schedule

    plan = schedule.load(course.root, course.assignments())
    return plan.open_now(course.assignments(), now), plan


def release_assignments(settings: Settings, course: Course, now: datetime.datetime | None = None) -> list[str]:
    """The assignments open by course.toml into the exchange's outbound (what students fetch),
    each with its due date in the gradebook. One not open yet is not released; one released
    before stays released (the schedule only ever adds)."""
    from nbgrader.api import Gradebook

    from course import gradebook, notebook as nb

    db_url = f"sqlite:///{settings.course_dir / 'gradebook.db'}"
    opened, plan = scheduled(course, now)
    released = []
    for assignment in opened:
        release = settings.course_dir / "release" / assignment
        if not release.is_dir():
            continue
        # formgrader lists the assignments of the gradebook: mirror each one from its source
        with Gradebook(db_url, course_id=settings.course_id) as gb:
            gradebook.ensure_assignment(gb, assignment, nb.load(course.source_notebook(assignment)),
                                        plan.of(assignment).due)
        outbound = settings.exchange / settings.course_id / "outbound" / assignment
        if not _same_tree(release, outbound):
            exchange("ReleaseAssignment", settings.course_dir, settings.course_id, settings.exchange,
                     assignment, force=True)
        released.append(assignment)
    return released


def released_names(settings: Settings) -> set[str]:
    outbound = settings.exchange / settings.course_id / "outbound"
    return {p.name for p in outbound.iterdir() if p.is_dir()} if outbound.is_dir() else set()


def _same_tree(a: Path, b: Path) -> bool:
    if not b.is_dir():
        return False
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return files_a == files_b and all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)


def sync_gradebook_students(settings: Settings) -> None:
    from nbgrader.api import Gradebook

    members = roster_mod.load(Path(settings.state)).values()
    with Gradebook(f"sqlite:///{settings.course_dir / 'gradebook.db'}", course_id=settings.course_id) as gb:
        for m in members:
            if m.role == "student":
                first, _, last = m.name.partition(" ")
                gb.update_or_create_student(m.id, first_name=first or None, last_name=last or None,
                                            email=m.email or None)


# ---------------------------------------------------------------------------------------------
# the JupyterHub configuration (hub/jupyterhub_config.py calls this)

def configure(c, settings: Settings) -> None:
    """Fill a traitlets config object for the embedded hub from the state directory."""
    state = Path(settings.state)
    members = roster_mod.load(state)
    staff = sorted(m.id for m in members.values() if m.grades)
    students = sorted(m.id for m in members.values() if m.role == "student")

    c.JupyterHub.ip = settings.ip
    c.JupyterHub.port = settings.port
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = settings.hub_port
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.cleanup_proxy = True
    c.ConfigurableHTTPProxy.command = [str(CHP)]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
    c.ConfigurableHTTPProxy.auth_token = settings.proxy_token
    c.ConfigurableHTTPProxy.should_start = True

    c.JupyterHub.authenticator_class = "course.hub.auth.RosterFirstUseAuthenticator"
    c.RosterFirstUseAuthenticator.state = str(state)
    c.FirstUseAuthenticator.dbm_path = str(state / "passwords.dbm")
    c.FirstUseAuthenticator.create_users = False
    c.FirstUseAuthenticator.min_password_length = 8
    c.Authenticator.allowed_users = set(students) | set(staff)
    c.Authenticator.admin_users = set()

    c.JupyterHub.spawner_class = "course.hub.spawner.CourseSpawner"
    if settings.fenced and settings.fence_plan.exists():
        c.CourseSpawner.fence_plan = str(settings.fence_plan)
        c.CourseSpawner.cgroups = json.loads(settings.fence_plan.read_text())["cgroups"]
    c.Spawner.cmd = [settings.student_python, "-m", "jupyterhub.singleuser"]
    c.Spawner.default_url = "/lab"
    c.Spawner.notebook_dir = "~"
    c.Spawner.environment = {"JUPYTER_CONFIG_PATH": str(settings.student_config),
                             # the course's lab extension (course.hub.student.install)
                             "JUPYTER_PATH": str(settings.student_config / "data"),
                             "PATH": f"{Path(settings.student_python).parent}:/usr/local/bin:/usr/bin:/bin"}
    # nbgrader's assignment list asks the hub which groups its user is in
    c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server",
                                     "read:users:groups!user"]
    c.Spawner.start_timeout = 180
    c.Spawner.http_timeout = 180
    c.LocalProcessSpawner.interrupt_timeout = settings.interrupt_timeout
    c.LocalProcessSpawner.term_timeout = settings.interrupt_timeout
    c.LocalProcessSpawner.kill_timeout = settings.interrupt_timeout

    fg_env = {"JUPYTER_CONFIG_PATH": str(state / "jupyter" / "grader"),
              "JUPYTERHUB_DEFAULT_URL": "/formgrader",
              "PATH": f"{Path(settings.service_python).parent}:/usr/local/bin:/usr/bin:/bin"}
    c.JupyterHub.services = [
        {"name": "course-cli", "api_token": settings.cli_token},
        {"name": "idle-culler",
         "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                     f"--timeout={settings.idle_timeout}", f"--cull-every={settings.cull_every}"]},
        {"name": settings.service, "url": f"http://127.0.0.1:{settings.formgrader_port}",
         "user": settings.grader, "cwd": str(settings.course_dir), "oauth_no_confirm": True,
         "environment": fg_env,
         "command": [settings.service_python, "-m", "jupyterhub.singleuser",
                     f"--port={settings.formgrader_port}", "--ServerApp.ip=127.0.0.1",
                     f"--ServerApp.root_dir={settings.course_dir}"]},
    ]
    c.JupyterHub.load_groups = {
        settings.formgrade_group: {"users": staff + [settings.grader]},
        settings.student_group: {"users": students},
    }
    c.JupyterHub.load_roles = [
        {"name": settings.formgrade_group, "groups": [settings.formgrade_group],
         "scopes": [f"access:services!service={settings.service}"]},
        {"name": f"{settings.service}-service", "services": [settings.service],
         "scopes": ["list:users", "read:users:groups", "list:groups", "read:groups"]},
        {"name": "course-cli", "services": ["course-cli"],
         "scopes": ["admin:users", "admin:groups", "admin:servers", "list:users", "read:users"]},
        {"name": "idle-culler", "services": ["idle-culler"],
         "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
    ]
    c.JupyterHub.template_vars = {"announcement_login": (
        f"{settings.course_id}: log in with your roster id and the enrolment code your instructor "
        f"gave you; then change it at /hub/auth/change-password (8 characters or more). "
        f"No code? Ask your instructor.")}


def configure_from_env(c) -> Settings:
    state = os.environ.get("COURSE_HUB_STATE")
    if not state:
        raise RuntimeError("COURSE_HUB_STATE is not set: start the hub with `course hub start`")
    settings = Settings.load(Path(state))
    configure(c, settings)
    return settings


# ---------------------------------------------------------------------------------------------
# talking to the running hub

def api(settings: Settings, method: str, path: str, body=None, timeout: float = 10):
    url = f"{settings.url}/hub/api{path}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Authorization": f"token {settings.cli_token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        text = response.read()
    return json.loads(text) if text else None


def running(settings: Settings) -> bool:
    try:
        api(settings, "GET", "/", timeout=3)
        return True
    except (urllib.error.URLError, OSError):
        return False


def unsync_roster(settings: Settings, removed: list[str]) -> str:
    """Stop the servers of removed members and delete them from a running hub (which forgets
    their passwords too); a no-op when it is not running."""
    if not running(settings):
        return "the hub is not running: it reads the roster when it starts"
    existing = {u["name"] for u in api(settings, "GET", "/users")}
    gone = [name for name in removed if name in existing]
    for name in gone:
        with contextlib.suppress(urllib.error.HTTPError):
            api(settings, "DELETE", f"/users/{name}/server", timeout=60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and api(settings, "GET", f"/users/{name}")["servers"]:
            time.sleep(0.3)
        api(settings, "DELETE", f"/users/{name}")
    return f"the running hub stopped and forgot {len(gone)} user(s)"


def teardown_plan(settings: Settings) -> dict:
    """What `course hub teardown` removes: the system users the platform created (roster members
    and the grader account, with their homes), the servers' cgroups and the state directory."""
    ours = roster_mod.created_users(Path(settings.state))
    members = roster_mod.load(Path(settings.state))
    users = sorted(name for name in ours if roster_mod.user_exists(name))
    kept = sorted(m for m in members if m not in ours and roster_mod.user_exists(m))
    groups = []
    if settings.fence_plan.exists():
        groups = [spec["parent"] for spec in json.loads(settings.fence_plan.read_text())["cgroups"].values()]
    return {"users": users, "kept_users": kept, "cgroups": groups, "state": settings.state}


def teardown(settings: Settings, plan: dict) -> None:
    if running(settings):
        raise CourseError(f"the hub of {settings.course_id} is running at {settings.url}: stop it "
                          f"(Ctrl-C) before tearing it down")
    for name in plan["users"]:
        roster_mod.remove_system_user(name)
    for group in plan["cgroups"]:
        for sub in sorted(Path(group).glob("*/"), reverse=True):
            with contextlib.suppress(OSError):
                sub.rmdir()
        with contextlib.suppress(OSError):
            Path(group).rmdir()
    shutil.rmtree(plan["state"])


def sync_roster(settings: Settings, added: list[roster_mod.Member]) -> str:
    """Add roster members and their groups to a running hub; a no-op when it is not running."""
    if not running(settings):
        return "the hub is not running: it reads the roster when it starts"
    names = [m.id for m in added]
    existing = {u["name"] for u in api(settings, "GET", "/users")}
    new = [n for n in names if n not in existing]
    if new:
        api(settings, "POST", "/users", {"usernames": new})
    for group, members in ((settings.formgrade_group, [m.id for m in added if m.grades]),
                           (settings.student_group, [m.id for m in added if m.role == "student"])):
        if members:
            api(settings, "POST", f"/groups/{group}/users", {"users": members})
    return f"the running hub now has {len(new)} new user(s)"


# ---------------------------------------------------------------------------------------------
# starting and stopping

def hub_env(settings: Settings) -> dict:
    env = dict(os.environ)
    env["COURSE_HUB_STATE"] = settings.state
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(CHP.parent), env.get("PATH", "")])
    env["CONFIGPROXY_AUTH_TOKEN"] = settings.proxy_token
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def launch(settings: Settings, log=None) -> subprocess.Popen:
    """Start jupyterhub (which starts the proxy and services) in its own process group."""
    cmd = [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(HUB_CONFIG)]
    return subprocess.Popen(cmd, cwd=settings.state, env=hub_env(settings), stdout=log,
                            stderr=subprocess.STDOUT if log else None, start_new_session=True,
                            preexec_fn=_default_signals)


HUB_NICENESS = -5   # the hub and its proxy before students' kernels (servers go back to 0)


def _default_signals() -> None:
    # a shell's background job starts with SIGINT ignored, and children inherit that
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # 40 students importing torch must not starve the hub's event loop (logins, API, proxy
    # routes); fence.py puts each student's server back at 0
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, HUB_NICENESS)


def wait_ready(settings: Settings, process: subprocess.Popen, timeout: float = 120) -> float:
    """Until the hub answers and the proxy has its route. Both are asked directly (the hub on
    its own port, the proxy on its REST API): a request through the proxy before the hub has
    added its route prints a red 404 in the proxy's log, dozens of them at every start."""
    start = time.monotonic()
    checks = [(f"http://127.0.0.1:{settings.hub_port}/hub/api/", {}, lambda body: True),
              (f"http://127.0.0.1:{settings.proxy_api_port}/api/routes",
               {"Authorization": f"token {settings.proxy_token}"},
               lambda body: any(route.rstrip("/") in ("", "/hub") for route in json.loads(body)))]
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise CourseError(f"jupyterhub exited with status {process.returncode}")
        url, headers, ok = checks[0]
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2) as reply:
                if ok(reply.read()):
                    checks.pop(0)
                    if not checks:
                        return time.monotonic() - start
                    continue
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.25)
    raise CourseError(f"jupyterhub did not answer at {settings.url} within {timeout:.0f} s")


def become_subreaper() -> None:
    """Processes the hub leaves behind (servers, services, the proxy: each in its own session)
    are re-parented to this process instead of init, so stop() can find and end them."""
    import ctypes

    PR_SET_CHILD_SUBREAPER = 36
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def wait_reaping(process: subprocess.Popen, tick=None, every: float = 60.0) -> int:
    """Wait for jupyterhub while reaping every process adopted as subreaper (kernels whose
    server died, a service's children): without this each one stays <defunct>. `tick` runs
    every `every` seconds meanwhile (the schedule's releases); its errors are printed, never fatal."""
    next_tick = time.monotonic() + every
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return process.poll() or 0
        if pid == process.pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode
        if pid:
            continue
        if tick and time.monotonic() >= next_tick:
            next_tick = time.monotonic() + every
            try:
                tick()
            except Exception as exc:  # noqa: BLE001 - a failed release must not stop the hub
                print(f"course hub: scheduled release failed: {exc}", file=sys.stderr, flush=True)
        time.sleep(0.2)


def reap_all() -> int:
    """Reap the zombies among this process's children now; returns how many."""
    reaped = 0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped += 1


def stop(process: subprocess.Popen, timeout: float = 10, grace: float = 3,
         pid_file: Path | None = None) -> None:
    """Ctrl-C: SIGTERM to the hub and, at the same moment, to everything under it (servers,
    kernels, services, the proxy). JupyterHub alone stops services and then servers one step
    at a time (11-16 s with a few servers); all at once, each server's own shutdown runs in
    parallel and the hub's cleanup finds them gone. What is left after `grace` is killed."""
    import psutil

    def everyone() -> list:
        return [p for p in psutil.Process().children(recursive=True) if p.pid != process.pid]

    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    _signal_all(everyone(), signal.SIGTERM)
    _wait_hub(process, timeout, pid_file)
    alive = _wait_gone(everyone, grace)
    if alive:
        _signal_all(alive, signal.SIGKILL)
        _wait_gone(everyone, 5)


def _wait_hub(process: subprocess.Popen, timeout: float, pid_file: Path | None) -> None:
    """JupyterHub removes its pid file as the last step of its cleanup, then takes 2-3 s more to
    exit (thread pools, the interpreter): past that point it is safe to end it at once."""
    deadline = time.monotonic() + timeout
    cleaned_up = None
    while process.poll() is None and time.monotonic() < deadline:
        if pid_file is not None and not pid_file.exists():
            cleaned_up = cleaned_up or time.monotonic()
            if time.monotonic() - cleaned_up > 0.3:
                break
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
        process.wait()


def _wait_gone(everyone, timeout: float) -> list:
    """Reap (as subreaper, kernels come to us as zombies) until nothing is left or timeout."""
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        reap_all()
        alive = []
        for proc in everyone():
            try:
                if proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def _signal_all(procs: list, sig: int) -> None:
    import psutil

    for proc in procs:
        try:
            proc.send_signal(sig)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass


def start(course: Course, state: Path, *, home_base: Path, ip: str, port: int,
          interrupt_timeout: int = 10, mem_limit: int = Settings.mem_limit,
          cpu_limit: float = Settings.cpu_limit) -> int:
    """`make hub`: prepare, start, print the URL and first-login instructions, stop on Ctrl-C."""
    t0 = time.monotonic()
    settings = prepare(course, state, home_base=home_base, ip=ip, port=port,
                       interrupt_timeout=interrupt_timeout, mem_limit=mem_limit, cpu_limit=cpu_limit)
    become_subreaper()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)   # Ctrl-C, even if started with it ignored
    process = launch(settings)
    try:
        wait_ready(settings, process)
        protect_state(settings)      # files the hub created at start (database, cookie secret)
        members = roster_mod.load(Path(settings.state))
        print(f"\nJupyterHub for {settings.course_id} is up at {settings.url}/ "
              f"({time.monotonic() - t0:.1f} s)\n"
              f"  state: {settings.state}\n"
              f"  roster: {len(members)} member(s); add more with `.venv/bin/course roster add roster.csv`\n"
              f"          (columns id,name,email,role; role student, instructor or ta)\n"
              f"  first login: your roster id and your enrolment code (root's {enrolment.codes_path(settings.state)};\n"
              f"               `course roster reset-code ID` for a lost one), then change it at\n"
              f"               {settings.url}/hub/auth/change-password; instructors and TAs find formgrader at "
              f"{settings.url}/services/{settings.service}/formgrader\n"
              f"  grading: `.venv/bin/course hub grade NN_slug` collects, grades and releases feedback\n"
              f"  limits per server: {_limits_line(settings)}\n"
              f"Ctrl-C stops the hub, every server and the proxy.\n", flush=True)
        def release_what_opened():
            before = released_names(settings)
            release_assignments(settings, course)
            _chown_tree(settings.course_dir, settings.grader)   # the gradebook rows root just wrote
            own_exchange(settings)
            for name in sorted(released_names(settings) - before):
                print(f"course hub: {name} opened and was released", flush=True)

        return wait_reaping(process, tick=release_what_opened, every=float(os.environ.get("COURSE_HUB_TICK", "60")))
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)    # a second Ctrl-C must not cut the cleanup short
        print("\nstopping the hub...", flush=True)
        return 0
    finally:
        stop(process, pid_file=Path(settings.state) / "jupyterhub.pid")


def _limits_line(settings: Settings) -> str:
    if not settings.fenced:
        return "none (no fence: see the warning above)"
    cgroups = json.loads(settings.fence_plan.read_text())["cgroups"]
    parts = []
    if "memory" in cgroups:
        parts.append(f"{settings.mem_limit / 2**30:g} GiB of memory")
    if "cpu" in cgroups:
        parts.append(f"{settings.cpu_limit:g} CPU")
    return ", ".join(parts) or "none (this machine has no writable cgroup v1 memory/cpu hierarchy)"


# ---------------------------------------------------------------------------------------------
# instructor steps on the hub's course directory

def collect(settings: Settings, assignment: str) -> None:
    from course.inbound import screen_inbound  # forged entries and links never reach nbgrader's copy

    for line in screen_inbound(settings.exchange / settings.course_id / "inbound", assignment,
                               Path(settings.state) / "rejected" / assignment):
        print(f"not collected: {line}")
    exchange("Collect", settings.course_dir, settings.course_id, settings.exchange, assignment, update=True)
    _chown_tree(settings.course_dir, settings.grader)


def grade(settings: Settings, assignment: str, jobs: int, student: str | None = None, force: bool = False) -> int:
    """`course grade` over the hub's submitted/ (or one student's folder), into its autograded/
    and gradebook; `force` regrades what is up to date."""
    cdir = settings.course_dir
    if not (cdir / "submitted").is_dir():
        raise CourseError(f"nothing collected yet in {cdir / 'submitted'}")
    target = cdir / "submitted"
    if student is not None:
        if not roster_mod.ID.match(student):
            raise CourseError(f"--student {student!r} is not a roster id")
        target = target / student
        if not (target / assignment).is_dir():
            raise CourseError(f"{student} has no collected submission of {assignment} in {cdir / 'submitted'}")
    cmd = [str(Path(sys.executable).parent / "course"), "grade", assignment, str(target),
           "-j", str(jobs), "--out", str(cdir / "autograded"), "--db", f"sqlite:///{cdir / 'gradebook.db'}",
           *(["--force"] if force else [])]
    done = subprocess.run(cmd, cwd=settings.course_root,
                          env=dict(os.environ, COURSE_ROOT=settings.course_root))
    _chown_tree(cdir, settings.grader)
    return done.returncode
