"""A real course hub on loopback for the tests: `course hub start --port 0` in a throw-away
state directory, system users with a unique prefix, HTTP sessions that log in like a browser.

Used by tests/test_hub_live.py and tests/test_hub_browser.py. Teardown stops the hub with
SIGINT (what Ctrl-C does), removes the users and their homes, and reports any process left.

People log in as students do: with the enrolment code `course roster add` wrote to the state's
codes file (read here as root, as the instructor would), or the password they set since at
/hub/auth/change-password (change_password keeps track of it).
"""
from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

from course.hub import enrolment, roster

PASSWORD = "correct-horse-9"    # what a person sets at the change-password page
REPO = Path(__file__).resolve().parents[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.3):
    """Poll predicate() until it returns something truthy; fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (requests.RequestException, OSError, ValueError) as exc:
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


class LiveHub:
    """clone=True: the course is the fixture course inside a `git clone` of this repository, in
    a world-readable directory under /srv (as an instructor might place it), with a roster.csv
    at the clone's top: what the fence must hide from students."""

    def __init__(self, course_source: Path, roles: dict[str, str], clone: bool = False):
        self.prefix = "t" + secrets.token_hex(3)          # unique system user names per run
        if clone:
            Path("/srv").mkdir(exist_ok=True)
            self.root = Path(tempfile.mkdtemp(prefix=f"course-hub-{self.prefix}-", dir="/srv"))
        else:
            self.root = Path(tempfile.mkdtemp(prefix="course-hub-"))
        os.chmod(self.root, 0o755)
        self.clone = self.root / "repo" if clone else None
        if clone:
            subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(self.clone)],
                           check=True, capture_output=True, timeout=120)
            subprocess.run(["chmod", "-R", "a+rX", str(self.clone)], check=True)
            self.course = self.clone / course_source.relative_to(REPO)
        else:
            self.course = self.root / "course"
            shutil.copytree(course_source, self.course)
        # a course id of its own: its grader account and hub groups cannot meet another run's
        config = self.course / "nbgrader_config.py"
        config.write_text(re.sub(r'course_id = "[^"]*"', f'course_id = "{self.prefix}c"', config.read_text()))
        self.state = self.root / "state"
        self.homes = self.root / "homes"
        self.users = {name: f"{self.prefix}{name}" for name in roles}
        self.roles = roles
        self.passwords: dict[str, str] = {}    # name -> the password that logs them in now
        self.log_path = self.root / "hub.log"
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.start_seconds = 0.0
        self.env = dict(os.environ, COURSE_HUB_STATE=str(self.state), COURSE_ROOT=str(self.course))
        self.course_bin = str(Path(sys.executable).parent / "course")

    # -- lifecycle ---------------------------------------------------------------------------
    def add_roster(self) -> subprocess.CompletedProcess:
        csv = (self.clone or self.root) / "roster.csv"
        csv.write_text("id,name,email,role\n" + "".join(
            f"{uid},{name.title()} Person,{uid}@example.org,{self.roles[name]}\n"
            for name, uid in self.users.items()))
        os.chmod(csv, 0o644)   # as a file in a cloned repository would be
        return self.course_cmd("roster", "add", str(csv), "--home-base", str(self.homes))

    def codes(self) -> dict[str, str]:
        """{uid: enrolment code} from the codes file (root's alone)."""
        with open(enrolment.codes_path(self.state), newline="", encoding="utf-8") as f:
            return {row["id"]: row["code"] for row in csv.DictReader(f)}

    def password_of(self, name: str) -> str:
        """name's current password: the one they set, else their enrolment code (a name that is
        on no roster gets PASSWORD)."""
        if name not in self.passwords:
            code = self.codes().get(self.users.get(name, name)) if enrolment.codes_path(self.state).exists() else None
            return code or PASSWORD
        return self.passwords[name]

    def course_cmd(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([self.course_bin, *args], cwd=self.course, env=self.env,
                              capture_output=True, text=True, timeout=300)
        if check and done.returncode != 0:
            raise AssertionError(f"course {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def start(self, timeout: float = 240) -> None:
        t0 = time.monotonic()
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [self.course_bin, "hub", "start", "--port", "0", "--home-base", str(self.homes),
             "--interrupt-timeout", "1"],
            cwd=self.course, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)

        def up():
            if self.process.poll() is not None:
                raise AssertionError(f"course hub start exited {self.process.returncode}:\n{self.tail()}")
            match = re.search(r"is up at (http://\S+)/ ", self.log_path.read_text(errors="replace"))
            return match and match.group(1)

        self.url = wait_for(up, timeout, "the hub to print its URL")
        self.start_seconds = time.monotonic() - t0

    def tail(self, n: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> list[str]:
        """Ctrl-C the hub; return a description of every process left behind (should be none)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.leftovers()

    def leftovers(self) -> list[str]:
        names = set(self.users.values())
        found = []
        for proc in psutil.process_iter(["pid", "username", "cmdline"]):
            try:
                cmdline = " ".join(proc.info["cmdline"] or [])
                if proc.info["username"] in names or str(self.state) in cmdline or (
                        self.url and f":{self.url.rsplit(':', 1)[-1]}" in cmdline and "configurable-http-proxy" in cmdline):
                    found.append(f"{proc.info['pid']} {proc.info['username']} {cmdline[:120]}")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return found

    def cleanup(self) -> None:
        for leftover in self.leftovers():
            try:
                os.kill(int(leftover.split()[0]), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        plan = self.state / "fence.json"
        if plan.exists():   # the servers' cgroups of this run's course (empty once all stopped)
            for spec in json.loads(plan.read_text()).get("cgroups", {}).values():
                parent = Path(spec["parent"])
                for group in [*sorted(parent.glob("*/")), parent]:
                    try:
                        group.rmdir()
                    except OSError:
                        pass
        for uid in [*self.users.values(), f"grader-{self.prefix}c"]:
            if roster.user_exists(uid):
                roster.remove_system_user(uid)
        if hasattr(self, "log"):
            self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def course_id(self) -> str:
        return f"{self.prefix}c"

    # -- HTTP as a person ---------------------------------------------------------------------
    def login(self, name: str, password: str | None = None) -> requests.Session:
        """Log in like a browser, with password or else name's current one (password_of)."""
        password = self.password_of(name) if password is None else password
        session = requests.Session()
        page = session.get(f"{self.url}/hub/login", timeout=30)
        page.raise_for_status()
        xsrf = session.cookies.get("_xsrf", path="/hub/") or session.cookies.get("_xsrf")
        reply = session.post(f"{self.url}/hub/login?next=", timeout=60, allow_redirects=False,
                             data={"username": self.users.get(name, name), "password": password, "_xsrf": xsrf})
        if reply.status_code != 302:
            raise PermissionError(f"login of {name} refused ({reply.status_code})")
        return session

    def login_page(self) -> str:
        page = requests.get(f"{self.url}/hub/login", timeout=30)
        page.raise_for_status()
        return page.text

    def change_password(self, session: requests.Session, name: str, new: str) -> str:
        """FirstUseAuthenticator's change-password page, as a browser submits it; returns the
        page's message. On success name logs in with `new` from now on."""
        page = session.get(f"{self.url}/hub/auth/change-password", timeout=30)
        page.raise_for_status()
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
        reply = session.post(f"{self.url}/hub/auth/change-password", timeout=60,
                             data={"password": new, "_xsrf": xsrf})
        reply.raise_for_status()
        message = re.search(r'role="alert">([^<]*)<', reply.text).group(1)
        if "success" in message:
            self.passwords[name] = new
        return message

    def hub_api(self, session: requests.Session, method: str, path: str, **kwargs) -> requests.Response:
        xsrf = session.cookies.get("_xsrf", path="/hub/")
        return session.request(method, f"{self.url}/hub/api{path}", timeout=60,
                               headers={"X-XSRFToken": xsrf or ""}, **kwargs)

    def spawn(self, session: requests.Session, name: str, timeout: float = 180) -> None:
        uid = self.users[name]
        reply = self.hub_api(session, "POST", f"/users/{uid}/server")
        assert reply.status_code in (201, 202, 400), reply.text   # 400: already running

        def ready():
            model = self.hub_api(session, "GET", f"/users/{uid}").json()
            server = model.get("servers", {}).get("", {})
            return server.get("ready")

        wait_for(ready, timeout, f"{uid}'s server to be ready")
        # the single-user server's OAuth handshake, as a browser would do it
        wait_for(lambda: session.get(f"{self.url}/user/{uid}/lab", timeout=60).ok, 60,
                 f"{uid}'s JupyterLab page")

    def server(self, session: requests.Session, name: str, method: str, path: str, **kwargs):
        uid = self.users[name]
        xsrf = session.cookies.get("_xsrf", path=f"/user/{uid}/") or ""
        return session.request(method, f"{self.url}/user/{uid}{path}", timeout=120,
                               headers={"X-XSRFToken": xsrf}, **kwargs)

    # -- code in a student's kernel ----------------------------------------------------------
    def start_kernel(self, session: requests.Session, name: str) -> str:
        reply = self.server(session, name, "POST", "/api/kernels", json={"name": "python3"})
        assert reply.status_code == 201, reply.text
        return reply.json()["id"]

    def run_code(self, session: requests.Session, name: str, code: str, kernel: str | None = None,
                 timeout: float = 180) -> str:
        """Execute code in a kernel of name's server (over the kernel's websocket, with the
        browser's cookies) and return what it printed; raises if the code raised."""
        import websocket

        kernel = kernel or self.start_kernel(session, name)
        uid = self.users[name]
        ws_url = self.url.replace("http://", "ws://") + f"/user/{uid}/api/kernels/{kernel}/channels"
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        ws = websocket.create_connection(ws_url, timeout=timeout, cookie=cookie, origin=self.url)
        msg_id = secrets.token_hex(8)
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": uid, "session": secrets.token_hex(8),
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
        out, error = [], None
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    out.append(content["text"])
                elif kind == "error":
                    error = f"{content['ename']}: {content['evalue']}"
                elif kind == "status" and content["execution_state"] == "idle":
                    break
        finally:
            ws.close()
        if error:
            raise AssertionError(f"code in {uid}'s kernel raised {error}\n{''.join(out)}")
        return "".join(out)

    def processes_of(self, name: str) -> list[psutil.Process]:
        uid = self.users[name]
        found = []
        for proc in psutil.process_iter(["username"]):
            if proc.info["username"] == uid:
                found.append(proc)
        return found

    def zombies(self) -> list[str]:
        """Zombie children of `course hub start` (the subreaper): each is one it failed to reap."""
        if not self.process:
            return []
        try:
            children = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []
        found = []
        for child in children:
            try:
                if child.status() == psutil.STATUS_ZOMBIE:
                    found.append(f"{child.pid} {child.name()}")
            except psutil.NoSuchProcess:
                pass
        return found

    def settings(self) -> dict:
        return json.loads((self.state / "hub.json").read_text())

    def admin_api(self, method: str, path: str, **kwargs) -> requests.Response:
        token = self.settings()["cli_token"]
        return requests.request(method, f"{self.url}/hub/api{path}", timeout=60,
                                headers={"Authorization": f"token {token}"}, **kwargs)
