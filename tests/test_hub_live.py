"""The embedded hub, live: real JupyterHub 6.1.1 + configurable-http-proxy on loopback, real
system users from a roster, nbgrader's exchange, the judge, feedback back through the exchange.

Runs as root only (it creates system users and the hub spawns servers as them): CI and
`make test` on this machine run as root.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from course import notebook as nb
from hubkit import PASSWORD, LiveHub, wait_for

FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "course"
ASSIGNMENT = "00_demo"
NODE_CHP = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "configurable-http-proxy"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the hub creates system users: run as root"),
    pytest.mark.skipif(shutil.which("useradd") is None, reason="no useradd"),
    pytest.mark.skipif(not NODE_CHP.exists(), reason="configurable-http-proxy missing: run `npm ci`"),
]


def solved(released: dict) -> dict:
    """The fetched notebook with the solution cells of the source put in (what a student does)."""
    source = {nb.grade_id(c): c.source for c in nb.load(FIXTURE_COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").cells
              if nb.grade_id(c)}
    for cell in released["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in ("add_impl", "norm_impl"):
            cell["source"] = source[gid]
    return released


def as_user(user: str, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", user, "--", *cmd], capture_output=True, text=True)


@pytest.fixture(scope="module")
def hub():
    # the course lives in a world-readable clone of this repository (/srv/...): the fence hides it
    live = LiveHub(FIXTURE_COURSE, {"ann": "student", "bob": "student", "ivy": "instructor"}, clone=True)
    try:
        # a Korean course (course.toml, as this repository's): the feedback and the students'
        # submit guard speak Korean, and the browser test shows that it renders
        (live.course / "course.toml").write_text('[course]\nlanguage = "ko"\n')
        live.add_roster()
        live.start()
        yield live
        t0 = time.monotonic()
        leftovers = live.stop()
        stopped = time.monotonic() - t0
        assert leftovers == [], f"processes left after Ctrl-C: {leftovers}"
        print(f"\nhub stopped (servers, services, proxy) in {stopped:.1f} s")
        assert stopped < 15
    finally:
        live.cleanup()
    assert not any(Path("/etc/passwd").read_text().count(u) for u in live.users.values())


def test_student_submits_instructor_grades_student_fetches_feedback(hub):
    t0 = time.monotonic()
    ann, bob, ivy = (hub.users[n] for n in ("ann", "bob", "ivy"))

    # a name that is not on the roster, and the grader account, cannot log in (first use or not)
    for outsider in ("mallory", f"grader-{hub.course_id}"):
        with pytest.raises(PermissionError):
            hub.login(outsider)

    # nobody claims an account by logging in first (the red team took the instructor's this
    # way): every roster id refuses a password of the caller's choosing, and keeps refusing it
    for name in ("ivy", "bob", "ann", "ivy"):
        with pytest.raises(PermissionError):
            hub.login(name, "ann-owns-this-1")
    login_page = hub.login_page()
    assert "enrolment code" in login_page and "/hub/auth/change-password" in login_page
    # the enrolment code logs in (a wrong one does not); ann changes it for her own password
    code = hub.password_of("ann")
    with pytest.raises(PermissionError):
        hub.login("ann", code[:-1] + ("2" if code[-1] != "2" else "3"))
    student = hub.login("ann")
    assert "at least 8" in hub.change_password(student, "ann", "short")
    assert "success" in hub.change_password(student, "ann", PASSWORD)
    with pytest.raises(PermissionError):
        hub.login("ann", code)
    student = hub.login("ann", PASSWORD)
    hub.spawn(student, "ann")
    spawned = time.monotonic() - t0

    # the student's server runs as the student's own system user, in a private home
    home = hub.homes / ann
    assert oct(home.stat().st_mode & 0o777) == "0o700" and home.owner() == ann
    import psutil
    def serves_ann(process) -> bool:
        try:
            return process.environ().get("JUPYTERHUB_USER") == ann
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False

    servers = [p for p in psutil.process_iter(["username", "cmdline"])
               if any("singleuser" in part or "labhub" in part for part in (p.info["cmdline"] or [])) and serves_ann(p)]
    assert servers, "no Jupyter server process serves ann"
    assert {p.info["username"] for p in servers} == {ann}, [(p.pid, p.info["username"]) for p in servers]

    # the assignment list shows this course only; fetch, solve, upload, submit
    listed = hub.server(student, "ann", "GET", "/assignments", params={"course_id": hub.course_id}).json()
    assert listed["success"], listed
    assert [a["assignment_id"] for a in listed["value"]] == [ASSIGNMENT]
    assert {a["course_id"] for a in listed["value"]} == {hub.course_id}
    courses = hub.server(student, "ann", "GET", "/courses").json()
    assert courses["value"] == [hub.course_id], courses
    # formgrader (an instructor tool) is off on students' servers
    assert hub.server(student, "ann", "GET", "/formgrader").status_code == 404
    fetched = hub.server(student, "ann", "POST", "/assignments/fetch",
                         data={"course_id": hub.course_id, "assignment_id": ASSIGNMENT}).json()
    assert fetched["success"], fetched
    path = f"/api/contents/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    model = hub.server(student, "ann", "GET", path).json()
    reply = hub.server(student, "ann", "PUT", path, json={"type": "notebook", "format": "json",
                                                        "content": solved(model["content"])})
    assert reply.status_code == 200, reply.text
    submitted = hub.server(student, "ann", "POST", "/assignments/submit",
                           data={"course_id": hub.course_id, "assignment_id": ASSIGNMENT}).json()
    assert submitted["success"], submitted

    # the instructor reaches formgrader through the group's role (not as an admin); a student cannot
    instructor = hub.login("ivy")
    assert hub.hub_api(instructor, "GET", f"/users/{ivy}").json()["admin"] is False
    fg = wait_for(lambda: (r := instructor.get(f"{hub.url}/services/{hub.course_id}/formgrader/api/assignments",
                                               timeout=60)).ok and r, 90, "formgrader's assignment list")
    assert ASSIGNMENT in [a["name"] for a in fg.json()]
    # formgrader's pages carry the course's Content-Security-Policy (its HTML pages and its API)
    page = instructor.get(f"{hub.url}/services/{hub.course_id}/formgrader/manage_assignments", timeout=60)
    for response in (fg, page):
        assert response.ok and "object-src 'none'" in response.headers.get("Content-Security-Policy", ""), \
            response.headers.get("Content-Security-Policy")
    denied = student.get(f"{hub.url}/services/{hub.course_id}/formgrader/api/assignments", timeout=60)
    assert denied.status_code == 403 or "formgrader" not in denied.url
    assert ASSIGNMENT not in denied.text, "a student got formgrader's list of assignments"  # whatever the redirect

    # collect (formgrader, as the grader account), grade with the judge, release feedback
    xsrf = instructor.cookies.get("_xsrf", path=f"/services/{hub.course_id}/") or ""
    collected = instructor.post(f"{hub.url}/services/{hub.course_id}/formgrader/api/assignment/{ASSIGNMENT}/collect",
                                headers={"X-XSRFToken": xsrf}, timeout=120).json()
    assert collected["success"], collected
    graded = hub.course_cmd("hub", "grade", ASSIGNMENT, "--no-collect", "-j", "1")
    assert "feedback released to 1 student" in graded.stdout, graded.stdout + graded.stderr
    results = json.loads((hub.state / "course" / "autograded" / ann / ASSIGNMENT / "results.json").read_text())
    assert (results["score"], results["max_score"]) == (3.0, 3.0)
    students = instructor.get(f"{hub.url}/services/{hub.course_id}/formgrader/api/submissions/{ASSIGNMENT}",
                              timeout=60).json()
    assert {s["student"]: s["score"] for s in students}[ann] == 3.0   # the gradebook, as formgrader sees it
    # one student again: kept as it is, then regraded with --force; a bad id is refused
    again = hub.course_cmd("hub", "grade", ASSIGNMENT, "--no-collect", "--no-feedback", "--student", ann)
    assert "kept" in again.stdout or "up to date" in again.stdout, again.stdout + again.stderr
    forced = hub.course_cmd("hub", "grade", ASSIGNMENT, "--no-collect", "--no-feedback", "--student", ann, "--force")
    assert "3 / 3" in forced.stdout and "kept" not in forced.stdout, forced.stdout
    refused = hub.course_cmd("hub", "grade", ASSIGNMENT, "--no-collect", "--student", "../x", check=False)
    assert refused.returncode == 2 and "not a roster id" in refused.stderr
    # the instructor's exports: CSV per part, and the statistics page
    csv_path, stats_path = hub.root / "grades.csv", hub.root / "stats.html"
    hub.course_cmd("hub", "export", "--to", str(csv_path))
    assert {line.split(",")[2] for line in csv_path.read_text().splitlines()[1:] if line.startswith(ann)} == {"add", "norm"}
    hub.course_cmd("hub", "stats", ASSIGNMENT, "--to", str(stats_path))
    assert "1 submissions, 1 graded" in stats_path.read_text()
    # formgrader's page of the submission renders (nbconvert + soupsieve on the service's Python)
    notebooks = instructor.get(f"{hub.url}/services/{hub.course_id}/formgrader/api/submitted_notebooks/"
                               f"{ASSIGNMENT}/{ASSIGNMENT}", timeout=60).json()
    (submission_id,) = [n["id"] for n in notebooks if n["student"] == ann]
    page = instructor.get(f"{hub.url}/services/{hub.course_id}/formgrader/submissions/{submission_id}/",
                          timeout=120)
    assert page.status_code == 200 and "encountered an error" not in page.text, page.text[-2000:]

    # the student fetches the feedback through the exchange
    # the student's HTML export of their notebook (nbconvert on the student servers' Python)
    export = hub.server(student, "ann", "GET", f"/nbconvert/html/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
                        params={"download": "false"})
    assert export.status_code == 200 and "jp-Notebook" in export.text and "norm" in export.text, export.text[-2000:]
    got = hub.server(student, "ann", "POST", "/assignments/fetch_feedback",
                     data={"course_id": hub.course_id, "assignment_id": ASSIGNMENT}).json()
    assert got["success"], got
    pages = list((home / ASSIGNMENT / "feedback").glob("*/*.html"))
    assert len(pages) == 1
    page = pages[0].read_text()
    assert f"<b>{ann}</b>: 점수 <b>3 / 3</b>" in page and "assert_close(" not in page   # no hidden test source

    # a second student can read neither the first's work, submission nor feedback
    inbound = hub.state / "exchange" / hub.course_id / "inbound"
    # each target exists (root sees it), and bob is refused for lack of permission, not absence
    for command, target in [("cat", home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), ("cat", pages[0]),
                            ("ls", inbound), ("ls", hub.state / "exchange" / hub.course_id / "feedback"),
                            ("ls", hub.state / "course")]:
        assert target.exists(), target
        denied = as_user(bob, command, str(target))
        assert denied.returncode != 0 and "Permission denied" in denied.stderr, (target, denied.stderr)
    print(f"\nhub start {hub.start_seconds:.1f} s, first spawn {spawned:.1f} s, "
          f"whole flow {time.monotonic() - t0:.1f} s")


FENCE_PROBE = """
import json, os, pwd
seen = {}
for path in json.loads(%r):
    for what, attempt in (("list", os.listdir), ("read", lambda p: open(p, "rb").read(1))):
        try:
            attempt(path)
            seen.setdefault(path, []).append(what)
        except OSError:
            pass
print(json.dumps({"user": pwd.getpwuid(os.getuid()).pw_name, "seen": seen,
                  "exchange": os.listdir(%r), "home_writable": os.access(os.path.expanduser("~"), os.W_OK)}))
"""


def test_fence_hides_the_repository_and_the_hub_state_from_students(hub):
    """The clone is world-readable, so bob's system user reads it outside the hub; from bob's own
    kernel (his server, his uid) none of the secrets can be listed or read."""
    bob = hub.users["bob"]
    repo = hub.clone
    secrets_ = [repo / "autograder", repo / "solutions", repo / "source", repo / "roster.csv",
                hub.course / "autograder", hub.course / "solutions", hub.course / "source",
                repo / "autograder" / "00_demo" / "test_00_demo.py",
                hub.state / "roster.json", hub.state / "jupyterhub.sqlite", hub.state / "hub.json",
                hub.state / "enrolment-codes.csv", hub.state / "passwords.dbm.dat",
                hub.state / "course", hub.state / "fence.json"]
    readable_outside = [p for p in secrets_[:4] if as_user(bob, "ls", str(p)).returncode == 0]
    assert readable_outside == secrets_[:4], "the clone should be world-readable for this test to mean anything"

    session = hub.login("bob")
    hub.spawn(session, "bob")
    paths = json.dumps([str(p) for p in secrets_])
    seen = json.loads(hub.run_code(session, "bob", FENCE_PROBE % (paths, str(hub.state / "exchange"))))
    assert seen["user"] == bob
    assert seen["seen"] == {}, f"a student's kernel could reach: {seen['seen']}"
    assert hub.course_id in seen["exchange"] and seen["home_writable"]

    # /tmp, /var/tmp and /dev/shm are the server's own: a classmate's scratch is not there, and
    # nothing written there outlives the server
    ann = hub.users["ann"]
    for folder in ("/tmp", "/dev/shm"):
        dropped = Path(folder) / f"dropped-by-ann-{os.getpid()}"
        assert as_user(ann, "sh", "-c", f"echo secret > {dropped}").returncode == 0
        try:
            listed = hub.run_code(session, "bob", f"import os; print(sorted(os.listdir({folder!r})))")
            assert dropped.name not in listed, f"bob's kernel sees ann's {dropped}"
        finally:
            dropped.unlink(missing_ok=True)
    written = hub.run_code(session, "bob", "open('/dev/shm/bob-scratch', 'w').write('x'); print('ok')")
    assert "ok" in written and not Path("/dev/shm/bob-scratch").exists()
    # /proc lists bob's own processes only (other users' command lines name classmates and paths)
    owners = json.loads(hub.run_code(session, "bob", "import os, json; print(json.dumps(sorted({os.stat(f'/proc/{p}').st_uid "
                                                     "for p in os.listdir('/proc') if p.isdigit()})))"))
    assert owners == [pwd.getpwnam(bob).pw_uid], owners

    # the state's own files are root's alone
    assert stat.S_IMODE(hub.state.stat().st_mode) == 0o711
    for name in ("jupyterhub.sqlite", "jupyterhub_cookie_secret", "hub.json", "roster.json", "fence.json",
                 "enrolment-codes.csv"):
        assert stat.S_IMODE((hub.state / name).stat().st_mode) == 0o600, name
    for path in hub.state.glob("passwords.dbm*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # the enrolment codes: bob knows where they are (the state is traversable) and cannot read them
    codes = hub.state / "enrolment-codes.csv"
    assert hub.users["bob"] in codes.read_text()
    assert as_user(bob, "cat", str(codes)).returncode != 0


def _kernels_of(hub, name: str) -> list:
    found = []
    for proc in hub.processes_of(name):
        try:
            if "ipykernel" in " ".join(proc.cmdline()):
                found.append(proc)
        except Exception:
            pass
    return found


def test_stopping_a_server_stops_its_kernels_and_leaves_no_zombie(hub):
    """Issue 22: servers stopped through the API (as the idle culler does) left every kernel
    <defunct> under `course hub start`. Now their kernels end with them and the hub's parent
    reaps what it adopts; the server and its kernels ran in the server's cgroups."""
    bob = hub.users["bob"]
    session = hub.login("bob")
    for cycle in range(2):
        hub.spawn(session, "bob")
        for _ in range(2):
            hub.start_kernel(session, "bob")
        kernels = wait_for(lambda: len(k := _kernels_of(hub, "bob")) >= 2 and k, 120, "bob's kernels")
        settings = hub.settings()
        plan = json.loads((hub.state / "fence.json").read_text())
        if "memory" in plan["cgroups"]:
            group = Path(plan["cgroups"]["memory"]["parent"]) / bob
            pids = set(map(int, (group / "cgroup.procs").read_text().split()))
            assert {k.pid for k in kernels} <= pids, "kernels outside the server's memory cgroup"
            assert int((group / "memory.limit_in_bytes").read_text()) == settings["mem_limit"]
        if "pids" in plan["cgroups"]:   # a fork bomb stops at the server's own process count
            group = Path(plan["cgroups"]["pids"]["parent"]) / bob
            assert {k.pid for k in kernels} <= set(map(int, (group / "cgroup.procs").read_text().split()))
            assert (group / "pids.max").read_text().strip() == "1024"
        reply = hub.admin_api("DELETE", f"/users/{bob}/server")
        assert reply.status_code in (202, 204), reply.text
        wait_for(lambda: not hub.admin_api("GET", f"/users/{bob}").json()["servers"], 60, "bob's server to stop")
        wait_for(lambda: not hub.processes_of("bob"), 30, "bob's processes to end")
        assert hub.zombies() == [], f"cycle {cycle}: zombies under course hub start: {hub.zombies()}"


def test_a_login_storm_leaves_the_hub_api_responsive(hub):
    """Ten logins at once (bcrypt, ~0.3 s of CPU each) while the API is polled: the hashing runs
    in niced threads, so the event loop keeps answering (before: 2-4 s stalls)."""
    names = ["ann", "bob", "ivy"] * 3 + ["ann"]
    latencies, done = [], threading.Event()

    def poll():
        while not done.is_set():
            t0 = time.monotonic()
            assert hub.admin_api("GET", f"/users/{hub.users['ann']}").status_code == 200
            latencies.append(time.monotonic() - t0)
            time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    try:
        with ThreadPoolExecutor(len(names)) as pool:
            sessions = list(pool.map(hub.login, names))
    finally:
        storm = time.monotonic() - t0
        done.set()
        poller.join()
    assert len(sessions) == len(names)
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"\n10 logins in {storm:.2f} s; hub API during them: {len(latencies)} calls, "
          f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    assert p95 < 0.3, f"hub API p95 {p95 * 1000:.0f} ms during the login storm"


def test_roster_added_while_the_hub_runs_can_log_in(hub):
    csv = hub.root / "late.csv"
    late = f"{hub.prefix}late"
    hub.users["late"] = late
    csv.write_text(f"id,name,email,role\n{late},Late Student,late@example.org,student\n")
    hub.course_cmd("roster", "add", str(csv))
    session = hub.login("late")
    groups = hub.hub_api(session, "GET", f"/users/{late}").json()["groups"]
    assert groups == [f"nbgrader-{hub.course_id}"]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-quic"]


# Korean renders (not tofu): with no Korean glyphs, every Hangul syllable and an unassigned code
# point are all drawn as the same .notdef box, so their pixels are identical
KOREAN_RENDERS = """font => {
    const draw = text => {
        const canvas = document.createElement('canvas');
        canvas.width = 200; canvas.height = 50;
        const context = canvas.getContext('2d');
        context.font = '32px ' + font;
        context.fillText(text, 4, 38);
        return canvas.toDataURL();
    };
    const hangul = draw('가나다');
    return {differs_from_unassigned: hangul !== draw('\\u0378\\u0378\\u0378'),
            differs_from_other_hangul: hangul !== draw('라마바')};
}"""


# the page's own fetch of the saved workspace; API requests on the cookie need its _xsrf token
WORKSPACE_JS = """url => fetch(url, {headers: {'X-XSRFToken': (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || ''}})
    .then(async reply => `${reply.status} ${await reply.text()}`)"""


def _inbound_of(hub, uid: str) -> list[str]:
    inbound = hub.state / "exchange" / hub.course_id / "inbound"
    return sorted(p.name for p in inbound.iterdir() if p.name.startswith(f"{uid}+"))


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_browser_student_sees_assignment_instructor_sees_graded_submission(hub):
    """Debian's Chromium driven by playwright, after the flow above has graded ann's submission
    and ann fetched her feedback. Students land on the assignment list with no click and no news
    pop-up; "(view feedback)" opens the Korean feedback page; a reload keeps an open notebook in
    front; bob's untouched notebook is not submitted until he presses Submit a second time."""
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    ann, bob, ivy = hub.users["ann"], hub.users["bob"], hub.users["ivy"]
    if not (hub.state / "course" / "autograded" / ann / ASSIGNMENT / "results.json").exists():
        pytest.fail("runs after test_student_submits_instructor_grades_student_fetches_feedback (same hub)")
    SCREENSHOTS.mkdir(exist_ok=True)
    t0 = time.monotonic()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            def log_in(name):
                page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                page.set_default_timeout(120_000)
                page.goto(f"{hub.url}/hub/login")
                page.fill("#username_input", hub.users[name])
                page.fill("#password_input", hub.password_of(name))
                page.click("#login_submit")
                return page

            def current_tab(page):
                return page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")

            # the student lands on the assignment list, with no click: no Launcher, no news pop-up
            student = log_in("ann")
            student.wait_for_url(f"**/user/{ann}/lab**", timeout=180_000)
            panel = student.locator("#nbgrader-assignment-list")
            expect(current_tab(student)).to_contain_text("Assignments", timeout=120_000)
            expect(panel.locator("#submitted_assignments_list")).to_contain_text(ASSIGNMENT, timeout=120_000)
            expect(student.locator(".jp-Launcher")).to_have_count(0)
            disabled = student.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data')"
                                        ".textContent).disabledExtensions")
            assert "@jupyterlab/apputils-extension:announcements" in disabled
            time.sleep(2)   # the news toast, were it enabled, shows within a second of the start
            expect(student.get_by_text("Jupyter news")).to_have_count(0)
            student.screenshot(path=str(SCREENSHOTS / "hub-1-student-lands-on-assignments.png"))

            # Korean renders in the student's browser (fonts-nanum): in JupyterLab's own font and
            # in the feedback page's
            for font in ("sans-serif", 'system-ui,"Noto Sans CJK KR","Malgun Gothic",sans-serif'):
                rendered = student.evaluate(KOREAN_RENDERS, font)
                assert rendered == {"differs_from_unassigned": True, "differs_from_other_hangul": True}, \
                    f"Korean is drawn as tofu in {font}: install fonts-nanum ({rendered})"

            # "(view feedback)" opens the feedback page (JupyterLab's HTML viewer), in Korean
            panel.locator("a", has_text="view feedback").click()
            expect(current_tab(student)).to_contain_text(".html", timeout=60_000)
            feedback = student.frame_locator(".jp-HTMLViewer iframe").locator("body")
            expect(feedback).to_contain_text("점수", timeout=60_000)
            expect(feedback).to_contain_text("3 / 3")
            student.screenshot(path=str(SCREENSHOTS / "hub-2-student-feedback-ko.png"))

            # a notebook the student opens stays in front, by its address and after a reload
            student.goto(f"{hub.url}/user/{ann}/lab/tree/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
            notebook = student.locator(".jp-NotebookPanel .jp-Notebook")
            expect(notebook).to_contain_text("def add", timeout=120_000)
            expect(current_tab(student)).to_contain_text(f"{ASSIGNMENT}.ipynb")
            # JupyterLab saves the layout to the server 0.75 s after a change: reload once it has
            workspace = f"{hub.url}/user/{ann}/lab/api/workspaces/default"
            saved = ""
            for _ in range(120):
                saved = student.evaluate(WORKSPACE_JS, workspace)
                if f'"current": "notebook:{ASSIGNMENT}/{ASSIGNMENT}.ipynb"' in saved:
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(f"JupyterLab did not save the open notebook in its workspace: {saved[:3000]}")
            student.goto(f"{hub.url}/user/{ann}/lab")
            expect(student.locator(".jp-NotebookPanel .jp-Notebook")).to_contain_text("def add", timeout=120_000)
            time.sleep(2)   # past app.restored, when the landing would open the assignment list
            expect(current_tab(student)).to_contain_text(f"{ASSIGNMENT}.ipynb")
            student.screenshot(path=str(SCREENSHOTS / "hub-3-student-notebook.png"))

            # the instructor: formgrader (through the group's role) lists ann's graded submission
            instructor = log_in("ivy")
            instructor.wait_for_url("**/hub/**")
            instructor.goto(f"{hub.url}/services/{hub.course_id}/formgrader/gradebook/{ASSIGNMENT}/{ASSIGNMENT}")
            # formgrader shows submissions anonymised, with the student's name from the roster
            row = instructor.locator("tr", has_text="Person, Ann")
            expect(row).to_contain_text("3 / 3", timeout=120_000)
            instructor.screenshot(path=str(SCREENSHOTS / "hub-4-instructor-formgrader.png"))

            # bob fetches and submits the notebook untouched: asked first, nothing submitted; the
            # second press submits
            other = log_in("bob")
            other.wait_for_url(f"**/user/{bob}/lab**", timeout=180_000)
            panel = other.locator("#nbgrader-assignment-list")
            expect(current_tab(other)).to_contain_text("Assignments", timeout=120_000)
            panel.locator("#released_assignments_list").get_by_role("button", name="Fetch").click()
            submit = panel.locator("#fetched_assignments_list").get_by_role("button", name="Submit")
            expect(submit).to_be_visible(timeout=60_000)
            submit.click()
            dialog = other.locator(".jp-Dialog")
            expect(dialog).to_contain_text("제출하지 않았습니다", timeout=60_000)
            expect(dialog).to_contain_text("Submit을 한 번 더")
            other.screenshot(path=str(SCREENSHOTS / "hub-5-untouched-submit-asks.png"))
            dialog.get_by_role("button", name="Ok").click()
            expect(dialog).to_have_count(0)
            assert _inbound_of(hub, bob) == [], "an untouched notebook was submitted without confirmation"
            expect(panel.locator("#submitted_assignments_list")).not_to_contain_text(ASSIGNMENT)
            submit.click()
            expect(panel.locator("#submitted_assignments_list")).to_contain_text(ASSIGNMENT, timeout=60_000)
            assert len(_inbound_of(hub, bob)) == 1

            # a student who opens formgrader is turned away
            student.goto(f"{hub.url}/services/{hub.course_id}/formgrader/")
            assert "gradebook" not in student.content().lower() or student.url.endswith("/hub/")
        finally:
            browser.close()
    print(f"\nbrowser test {time.monotonic() - t0:.1f} s; screenshots in {SCREENSHOTS}")
