"""`make bench-hub`: the embedded hub under a class of simulated students (as root).

A real `course hub start` on loopback (tests' LiveHub: system users with a unique prefix,
removed afterwards). Each simulated student is an asyncio client that does what a browser does:
logs in (form + xsrf), starts a server through the hub's REST API, completes the server's OAuth
handshake (/lab), lists the course's assignments, starts a kernel and, over its websocket, runs
`import numpy, torch` and a matmul. Measured:

- a ramp of 5, 10, 20 and 40 students at once (BENCH_HUB_LEVELS): login-to-ready and kernel
  start + first import, p50/p95; failures; memory per student (PSS from /proc/PID/smaps_rollup
  over every process of the student's uid: server and kernel) and in total;
- hub API latency (an authenticated GET every 50 ms) during a burst of 40 logins;
- the extra memory of a kernel that also imports TensorFlow (three assignments use it);
- 100 spawn/stop cycles (10 students x 10, each with a kernel): processes and zombies left;
- the capacity of this machine: MemAvailable before the hub / memory per student.

Prints a table, writes .bench/bench_hub.json and .bench/bench_hub.png.
"""
from __future__ import annotations

import asyncio
import json
import os
import platform
import secrets
import statistics
import sys
import time
from pathlib import Path

import psutil

# the live hub driver the tests use (tests/hubkit.py): a benchmark, like a test, is its client
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "course"
OUT = REPO / ".bench"
TORCH_CODE = "import numpy, torch\nx = torch.ones(256, 256)\nprint(float((x @ x).sum()))"
TF_CODE = "import tensorflow as tf\nprint(float(tf.reduce_sum(tf.ones((64, 64)))))"
POLL = 0.25


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def pss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def memory_of(user: str) -> dict:
    """PSS of a student's server and kernels (every process of their uid)."""
    server = kernels = 0.0
    for proc in psutil.process_iter(["username", "cmdline"]):
        if proc.info["username"] != user:
            continue
        mb = pss_mb(proc.pid)
        if "ipykernel" in " ".join(proc.info["cmdline"] or []):
            kernels += mb
        else:
            server += mb
    return {"server": server, "kernels": kernels, "total": server + kernels}


def zombies_under(pid: int) -> int:
    try:
        return sum(1 for c in psutil.Process(pid).children(recursive=True)
                   if c.status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return 0


class Student:
    def __init__(self, hub, name: str):
        import aiohttp

        self.hub, self.name, self.uid = hub, name, hub.users[name]
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                          timeout=aiohttp.ClientTimeout(total=600))

    def xsrf(self, path: str) -> str:
        for cookie in self.http.cookie_jar:
            if cookie.key == "_xsrf" and cookie["path"].rstrip("/") == path.rstrip("/"):
                return cookie.value
        return ""

    async def login(self) -> float:
        """With the student's enrolment code (from the codes file `course roster add` wrote)."""
        password = self.hub.password_of(self.name)
        t0 = time.monotonic()
        async with self.http.get(f"{self.hub.url}/hub/login") as r:
            r.raise_for_status()
        form = {"username": self.uid, "password": password, "_xsrf": self.xsrf("/hub/")}
        async with self.http.post(f"{self.hub.url}/hub/login?next=", data=form, allow_redirects=False) as r:
            if r.status != 302:
                raise RuntimeError(f"login of {self.uid}: {r.status}")
        return time.monotonic() - t0

    async def hub_api(self, method: str, path: str):
        async with self.http.request(method, f"{self.hub.url}/hub/api{path}",
                                     headers={"X-XSRFToken": self.xsrf("/hub/")}) as r:
            text = await r.text()
            return r.status, (json.loads(text) if text else None)

    async def spawn(self, timeout: float = 600) -> None:
        # as a browser does after login: /hub/spawn starts the server, then the pending page
        async with self.http.get(f"{self.hub.url}/hub/spawn/{self.uid}", allow_redirects=False) as r:
            if r.status not in (200, 302, 303):
                raise RuntimeError(f"spawn of {self.uid}: {r.status} {(await r.text())[:200]}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, model = await self.hub_api("GET", f"/users/{self.uid}")
            server = (model.get("servers") or {}).get("")
            if server and server.get("ready"):
                break
            gone = not server and not model.get("pending")
            if gone and time.monotonic() - (deadline - timeout) > 10:   # the hub gave up (start_timeout)
                raise RuntimeError(f"{self.uid}'s server failed to start (the hub stopped waiting)")
            await asyncio.sleep(POLL)
        else:
            raise RuntimeError(f"{self.uid}'s server not ready in {timeout:.0f} s")
        async with self.http.get(f"{self.hub.url}/user/{self.uid}/lab") as r:   # OAuth, as a browser
            if r.status != 200:
                raise RuntimeError(f"{self.uid}'s /lab: {r.status}")

    async def server(self, method: str, path: str, **kwargs):
        headers = {"X-XSRFToken": self.xsrf(f"/user/{self.uid}/")}
        async with self.http.request(method, f"{self.hub.url}/user/{self.uid}{path}",
                                     headers=headers, **kwargs) as r:
            text = await r.text()
            if r.status >= 300:
                raise RuntimeError(f"{method} {path} for {self.uid}: {r.status} {text[:200]}")
            return json.loads(text) if text else None

    async def list_assignments(self) -> list:
        listed = await self.server("GET", "/assignments", params={"course_id": self.hub.course_id})
        if not listed.get("success"):
            raise RuntimeError(f"assignment list of {self.uid}: {listed}")
        return listed["value"]

    async def start_kernel(self) -> str:
        return (await self.server("POST", "/api/kernels", json={"name": "python3"}))["id"]

    async def execute(self, kernel: str, code: str, timeout: float = 600) -> str:
        url = self.hub.url.replace("http://", "ws://") + f"/user/{self.uid}/api/kernels/{kernel}/channels"
        msg_id = secrets.token_hex(8)
        out = []
        async with self.http.ws_connect(url, headers={"Origin": self.hub.url}) as ws:
            await ws.send_json({
                "header": {"msg_id": msg_id, "username": self.uid, "session": secrets.token_hex(8),
                           "msg_type": "execute_request", "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": False,
                            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}})
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                msg = await ws.receive_json(timeout=deadline - time.monotonic())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    out.append(msg["content"]["text"])
                elif msg["msg_type"] == "error":
                    raise RuntimeError(f"{self.uid}'s kernel: {msg['content']['ename']}: {msg['content']['evalue']}")
                elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    return "".join(out)
        raise RuntimeError(f"{self.uid}'s kernel did not answer in {timeout:.0f} s")

    async def close(self) -> None:
        await self.http.close()


async def admin(hub, method: str, path: str):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.request(method, f"{hub.url}/hub/api{path}",
                                headers={"Authorization": f"token {hub.token}"}) as r:
            text = await r.text()
            return r.status, (json.loads(text) if text else None)


async def stop_all(hub, uids: list[str]) -> None:
    await asyncio.gather(*(admin(hub, "DELETE", f"/users/{uid}/server") for uid in uids))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        states = await asyncio.gather(*(admin(hub, "GET", f"/users/{uid}") for uid in uids))
        if not any(model["servers"] for _, model in states):
            return
        await asyncio.sleep(0.5)


async def one_student(hub, name: str) -> dict:
    student = Student(hub, name)
    result = {"student": name}
    try:
        t0 = time.monotonic()
        await student.login()
        await student.spawn()
        result["login_to_ready"] = time.monotonic() - t0
        await student.list_assignments()
        t1 = time.monotonic()
        kernel = await student.start_kernel()
        await student.execute(kernel, TORCH_CODE)
        result["kernel_first_import"] = time.monotonic() - t1
        result["kernel"] = kernel
    except Exception as exc:   # a failure is a result of the bench, not its end
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        await student.close()
    return result


async def ramp_level(hub, names: list[str]) -> dict:
    t0 = time.monotonic()
    results = await asyncio.gather(*(one_student(hub, n) for n in names))
    wall = time.monotonic() - t0
    await asyncio.sleep(2)   # let the kernels settle after the import
    ok = [r for r in results if "error" not in r]
    # memory of the students who got to work (a failed spawn has no server to measure)
    memory = [memory_of(hub.users[r["student"]]) for r in ok] or [{"server": 0.0, "kernels": 0.0, "total": 0.0}]
    ready = [r["login_to_ready"] for r in ok]
    kernel = [r["kernel_first_import"] for r in ok]
    level = {
        "students": len(names), "wall_s": wall, "failures": len(results) - len(ok),
        "errors": sorted({r["error"] for r in results if "error" in r})[:5],
        "login_to_ready_p50": pct(ready, 0.5), "login_to_ready_p95": pct(ready, 0.95),
        "kernel_first_import_p50": pct(kernel, 0.5), "kernel_first_import_p95": pct(kernel, 0.95),
        "server_pss_mb": statistics.mean(m["server"] for m in memory),
        "kernel_pss_mb": statistics.mean(m["kernels"] for m in memory),
        "student_pss_mb": statistics.mean(m["total"] for m in memory),
        "total_pss_mb": sum(m["total"] for m in memory),
    }
    await stop_all(hub, [hub.users[n] for n in names])
    return level


async def login_burst(hub, names: list[str]) -> dict:
    """40 logins at once while an authenticated API call runs every 50 ms."""
    latencies, failures = [], 0
    done = asyncio.Event()

    async def poll():
        import aiohttp

        async with aiohttp.ClientSession() as http:
            while not done.is_set():
                t0 = time.monotonic()
                async with http.get(f"{hub.url}/hub/api/users/{hub.users[names[0]]}",
                                    headers={"Authorization": f"token {hub.token}"}) as r:
                    await r.read()
                latencies.append(time.monotonic() - t0)
                await asyncio.sleep(0.05)

    async def login(name):
        nonlocal failures
        student = Student(hub, name)
        try:
            return await student.login()
        except Exception:
            failures += 1
            return None
        finally:
            await student.close()

    poller = asyncio.create_task(poll())
    await asyncio.sleep(0.5)
    t0 = time.monotonic()
    times = [t for t in await asyncio.gather(*(login(n) for n in names)) if t is not None]
    burst = time.monotonic() - t0
    done.set()
    await poller
    return {"logins": len(names), "burst_s": burst, "failures": failures,
            "login_p50": pct(times, 0.5), "login_p95": pct(times, 0.95),
            "api_calls": len(latencies), "api_p50_ms": pct(latencies, 0.5) * 1000,
            "api_p95_ms": pct(latencies, 0.95) * 1000, "api_max_ms": max(latencies) * 1000}


async def tensorflow_cost(hub, name: str) -> dict:
    student = Student(hub, name)
    try:
        await student.login()
        await student.spawn()
        kernel = await student.start_kernel()
        await student.execute(kernel, TORCH_CODE)
        await asyncio.sleep(1)
        before = memory_of(hub.users[name])["kernels"]
        t0 = time.monotonic()
        await student.execute(kernel, TF_CODE)
        seconds = time.monotonic() - t0
        await asyncio.sleep(1)
        after = memory_of(hub.users[name])["kernels"]
        return {"tf_import_s": seconds, "tf_extra_pss_mb": after - before, "torch_kernel_pss_mb": before}
    finally:
        await student.close()
        await stop_all(hub, [hub.users[name]])


async def cycles(hub, names: list[str], per_student: int) -> dict:
    failures = 0

    async def run(name):
        nonlocal failures
        student = Student(hub, name)
        try:
            await student.login()
            for _ in range(per_student):
                try:
                    await student.spawn()
                    await student.start_kernel()
                except Exception:
                    failures += 1
                await stop_all(hub, [student.uid])
        finally:
            await student.close()

    t0 = time.monotonic()
    await asyncio.gather(*(run(n) for n in names))
    wall = time.monotonic() - t0
    await asyncio.sleep(2)
    left = [p.pid for p in psutil.process_iter(["username"]) if p.info["username"] in set(hub.users.values())]
    return {"cycles": len(names) * per_student, "wall_s": wall, "failures": failures,
            "processes_left": len(left), "zombies_under_hub": zombies_under(hub.process.pid),
            "zombies_on_machine": sum(1 for p in psutil.process_iter(["status"])
                                      if p.info["status"] == psutil.STATUS_ZOMBIE)}


def capacity(available_mb: float, student_mb: float, tf_extra_mb: float) -> dict:
    return {"mem_available_mb": available_mb,
            "students_torch": int(available_mb // student_mb) if student_mb else None,
            "students_tensorflow": int(available_mb // (student_mb + tf_extra_mb)) if student_mb else None}


def plot(figures: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = figures["ramp"]
    n = [lv["students"] for lv in levels]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for key, label in (("login_to_ready", "login to ready"), ("kernel_first_import", "kernel + import torch")):
        axes[0].plot(n, [lv[f"{key}_p50"] for lv in levels], "o-", label=f"{label} p50")
        axes[0].plot(n, [lv[f"{key}_p95"] for lv in levels], "o--", label=f"{label} p95")
    axes[0].set(xlabel="students at once", ylabel="seconds", title="time to work")
    axes[0].legend(fontsize=8)
    axes[1].bar([str(x) for x in n], [lv["server_pss_mb"] for lv in levels], label="server")
    axes[1].bar([str(x) for x in n], [lv["kernel_pss_mb"] for lv in levels],
                bottom=[lv["server_pss_mb"] for lv in levels], label="kernel (torch)")
    axes[1].set(xlabel="students at once", ylabel="MB (PSS) per student", title="memory per student")
    axes[1].legend(fontsize=8)
    axes[2].plot(n, [lv["total_pss_mb"] / 1024 for lv in levels], "o-")
    axes[2].set(xlabel="students at once", ylabel="GB (PSS)", title="memory, all students")
    burst = figures["login_burst"]
    fig.suptitle(f"{figures['machine']}: hub API p95 {burst['api_p95_ms']:.0f} ms during {burst['logins']} logins; "
                 f"capacity {figures['capacity']['students_torch']} students on torch, "
                 f"{figures['capacity']['students_tensorflow']} on TensorFlow", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def machine() -> str:
    mem = psutil.virtual_memory().total / 2**30
    return f"{platform.node() or 'this machine'}: {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


async def bench(levels: list[int], cycle_students: int, cycle_each: int, burst_size: int = 40) -> dict:
    from hubkit import LiveHub

    most = max(levels + [cycle_students, burst_size])
    names = [f"s{i:02d}" for i in range(most)]
    available = psutil.virtual_memory().available / 2**20
    hub = LiveHub(FIXTURE, {n: "student" for n in names})
    figures = {"machine": machine(), "load_before": os.getloadavg()}
    try:
        hub.add_roster()
        hub.start(timeout=600)
        hub.token = hub.settings()["cli_token"]
        print(f"hub up in {hub.start_seconds:.1f} s ({len(names)} students on the roster)", flush=True)
        # every login is a bcrypt check of the student's enrolment code; the first burst warms
        # the hub up (first logins create the users' sessions), the second is the one recorded
        burst = await login_burst(hub, names[:burst_size])
        burst = await login_burst(hub, names[:burst_size])
        figures["login_burst"] = burst
        print(f"{burst_size} logins: API p95 {burst['api_p95_ms']:.0f} ms, max {burst['api_max_ms']:.0f} ms", flush=True)
        figures["ramp"] = []
        for n in levels:
            level = await ramp_level(hub, names[:n])
            figures["ramp"].append(level)
            OUT.mkdir(exist_ok=True)
            (OUT / "bench_hub.partial.json").write_text(json.dumps(figures, indent=1) + "\n")
            print(f"{n} students: ready p95 {level['login_to_ready_p95']}, kernel p95 "
                  f"{level['kernel_first_import_p95']}, {level['student_pss_mb']:.0f} MB each, "
                  f"{level['failures']} failures", flush=True)
        figures["tensorflow"] = await tensorflow_cost(hub, names[0])
        print(f"tensorflow: {figures['tensorflow']}", flush=True)
        figures["cycles"] = await cycles(hub, names[:cycle_students], cycle_each)
        print(f"cycles: {figures['cycles']}", flush=True)
        working = [lv for lv in figures["ramp"] if lv["failures"] < lv["students"]]
        biggest = max(working, key=lambda lv: lv["students"] - lv["failures"])
        figures["capacity"] = capacity(available, biggest["student_pss_mb"], figures["tensorflow"]["tf_extra_pss_mb"])
        figures["load_after"] = os.getloadavg()
    finally:
        t0 = time.monotonic()
        left = hub.stop()
        figures["ctrl_c_s"] = time.monotonic() - t0
        figures["left_after_ctrl_c"] = len(left)
        hub.cleanup()
    return figures


def table(figures: dict) -> str:
    fmt = lambda v: "-" if v is None else f"{v:.1f}"   # noqa: E731
    lines = [f"machine: {figures['machine']} (load before {figures['load_before'][0]:.1f})", "",
             "| students | login-to-ready p50 / p95 (s) | kernel + import torch p50 / p95 (s) | "
             "PSS per student (server + kernel, MB) | PSS total (GB) | failures |",
             "|---:|---:|---:|---:|---:|---:|"]
    for lv in figures["ramp"]:
        lines.append(f"| {lv['students']} | {fmt(lv['login_to_ready_p50'])} / {fmt(lv['login_to_ready_p95'])} | "
                     f"{fmt(lv['kernel_first_import_p50'])} / {fmt(lv['kernel_first_import_p95'])} | "
                     f"{lv['student_pss_mb']:.0f} ({lv['server_pss_mb']:.0f} + {lv['kernel_pss_mb']:.0f}) | "
                     f"{lv['total_pss_mb'] / 1024:.1f} | {lv['failures']} |")
    b, tf, cy, cap = figures["login_burst"], figures["tensorflow"], figures["cycles"], figures["capacity"]
    lines += ["",
              f"hub API during {b['logins']} logins at once: p50 {b['api_p50_ms']:.0f} ms, p95 {b['api_p95_ms']:.0f} ms, "
              f"max {b['api_max_ms']:.0f} ms ({b['api_calls']} calls; logins p95 {fmt(b['login_p95'])} s, "
              f"{b['failures']} failed)",
              f"TensorFlow in a kernel: +{tf['tf_extra_pss_mb']:.0f} MB PSS, import {tf['tf_import_s']:.1f} s",
              f"{cy['cycles']} spawn/stop cycles (with a kernel each): {cy['failures']} failures, "
              f"{cy['processes_left']} processes left, {cy['zombies_under_hub']} zombies under the hub "
              f"({cy['zombies_on_machine']} on the machine)",
              f"Ctrl-C: everything stopped in {figures['ctrl_c_s']:.1f} s, {figures['left_after_ctrl_c']} left",
              f"capacity of this machine ({cap['mem_available_mb'] / 1024:.1f} GiB available): "
              f"{cap['students_torch']} students on torch, {cap['students_tensorflow']} on TensorFlow"]
    return "\n".join(lines)


def main() -> int:
    if any(arg in ("-h", "--help") for arg in sys.argv[1:]) or len(sys.argv) > 1:
        print(__doc__.strip() + "\n\nSettings (environment): BENCH_HUB_LEVELS=5,10,20,40, "
              "BENCH_HUB_CYCLES=10x10, BENCH_HUB_BURST=40; no arguments.",
              file=sys.stdout if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help") else sys.stderr)
        return 0 if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help") else 2
    if os.geteuid() != 0:
        print("bench-hub creates system users and runs a hub: run it as root", file=sys.stderr)
        return 2
    levels = [int(x) for x in os.environ.get("BENCH_HUB_LEVELS", "5,10,20,40").split(",")]
    cycle_students, cycle_each = (int(x) for x in os.environ.get("BENCH_HUB_CYCLES", "10x10").split("x"))
    burst = int(os.environ.get("BENCH_HUB_BURST", "40"))
    figures = asyncio.run(bench(levels, cycle_students, cycle_each, burst))
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_hub.json").write_text(json.dumps(figures, indent=1) + "\n")
    plot(figures, OUT / "bench_hub.png")
    print("\n" + table(figures))
    print(f"\nwrote {OUT / 'bench_hub.json'} and {OUT / 'bench_hub.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
