"""The Docker and Kubernetes set-ups, checked without a Docker engine or a cluster (neither
runs here): hadolint on the Dockerfiles, the images' versions against .venv, the DockerSpawner
config loaded through DockerSpawner's traitlets, the Zero to JupyterHub values loaded through
KubeSpawner's traitlets (its profile list applied as the hub would), the grading Job."""
from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from traitlets.config import Config, PyFileConfigLoader

REPO = Path(__file__).resolve().parents[1]
STUDENT = REPO / "images" / "student" / "Dockerfile"
GRADER = REPO / "images" / "grader" / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


def pins() -> dict[str, str]:
    out = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if "==" in line:
            name, version = line.split("==")
            out[re.sub(r"[-_.]+", "-", name).lower()] = version
    return out


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(name: str) -> str:
    return metadata.version(name).split("+")[0]


@pytest.mark.skipif(not HADOLINT.exists() and not shutil.which("hadolint"), reason="hadolint not installed")
@pytest.mark.parametrize("dockerfile", [STUDENT, GRADER], ids=["student", "grader"])
def test_hadolint_passes(dockerfile):
    exe = str(HADOLINT) if HADOLINT.exists() else shutil.which("hadolint")
    done = subprocess.run([exe, str(dockerfile)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_base_images_are_pinned():
    for dockerfile in (STUDENT, GRADER):
        (base,) = re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(), re.M)
        name, _, tag = base.rpartition(":")
        assert name and tag and tag != "latest" and re.search(r"\d", tag), base
    assert "pytorch-notebook:cuda12-python-3.11" in STUDENT.read_text()   # CUDA, and .venv's Python 3.11


def test_student_image_installs_the_versions_of_venv():
    text = STUDENT.read_text().replace("\\\n", " ")
    (install,) = [line for line in text.splitlines() if "pip install" in line]
    assert "-c /tmp/course/requirements.txt" in install        # every version comes from the pins
    args = install.split("pip install", 1)[1].split("&&")[0].split()
    packages = [a for a in args if not a.startswith("-") and "/" not in a]
    assert {"torch", "triton", "nbgrader", "jupyterhub", "jupyterlab"} <= set(packages)
    pinned = pins()
    for package in packages:
        assert normal(package) in pinned, f"{package} is not pinned in requirements.txt"
        assert installed(package) == pinned[normal(package)].split("+")[0], package
    # TensorFlow: the CUDA build of the version .venv has as tensorflow_cpu
    assert "s/^tensorflow_cpu==/tensorflow[and-cuda]==/p" in text
    assert installed("tensorflow_cpu") == pinned["tensorflow-cpu"]
    # the hub and the student servers speak the same JupyterHub version
    assert pinned["jupyterhub"] == installed("jupyterhub") == "6.1.1"
    # formgrader, course list and create_assignment are off for students
    for ext in ("server extension disable --sys-prefix nbgrader.server_extensions.formgrader",
                "labextension disable --level=sys_prefix @jupyter/nbgrader:formgrader",
                "labextension disable --level=sys_prefix @jupyter/nbgrader:create-assignment"):
        assert ext in text
    assert "COPY release/ /srv/course/release/" in text
    # Nothing that grades may enter the students' image: no instruction (comments aside) names it.
    instructions = [line for line in text.replace("\\\n", " ").splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(instructions) > 5
    for secret in ("autograder", "solutions", "source/", "roster"):
        assert not [line for line in instructions if secret in line], secret


def test_grader_image_installs_requirements_and_runs_unprivileged():
    text = GRADER.read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in text
    assert "COPY autograder/ autograder/" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert "--network none" in text
    # what the image would install is what .venv has
    pinned = pins()
    for package in ("torch", "tensorflow_cpu", "nbgrader", "numpy", "pytest", "jupyterhub"):
        assert installed(package) == pinned[normal(package)].split("+")[0]


def test_dockerignore_keeps_venv_and_data_out():
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "node_modules", ".git", "submitted", "autograded"} <= set(ignored)


# ---------------------------------------------------------------------------------------------
# DockerSpawner

def load_docker_config():
    loader = PyFileConfigLoader("jupyterhub_config.py", path=str(REPO / "hub" / "docker"))
    return loader.load_config()


def docker_spawner(config, profile: str):
    cls = config.JupyterHub.spawner_class
    user = SimpleNamespace(name="ann", id=7, url="/user/ann/", escaped_name="ann",
                           settings={}, server=None, orm_user=None)
    spawner = cls(config=config, user=user, hub=SimpleNamespace(url="http://hub:8081/hub/", public_host=""))
    spawner.user_options = spawner.options_from_form({"profile": [profile]})
    spawner.apply_profile()
    return spawner


def test_docker_config_loads_through_dockerspawner():
    from dockerspawner import DockerSpawner

    config = load_docker_config()
    assert issubclass(config.JupyterHub.spawner_class, DockerSpawner)
    cpu = docker_spawner(config, "cpu")
    assert cpu.image == "course-student:latest" and cpu.network_name == "course-hub"
    assert cpu.mem_limit == 8 * 1024 ** 3 and cpu.cpu_limit == 2.0
    assert "device_requests" not in cpu.extra_host_config
    assert cpu.extra_host_config["shm_size"] == "2g"
    assert cpu.volumes == {"course-home-{username}": "/home/{username}",
                           "course-exchange": "/srv/nbgrader/exchange"}
    # a notebook user and uid per hub user: nbgrader's student id is the hub name, not jovyan
    assert cpu.environment["NB_USER"] == "ann" and cpu.environment["NB_UID"] == "20007"
    assert "read:users:groups!user" in cpu.server_token_scopes

    gpu = docker_spawner(config, "gpu")
    (request,) = gpu.extra_host_config["device_requests"]
    assert request["Count"] == 1 and request["Capabilities"] == [["gpu"]]
    assert gpu.mem_limit == 32 * 1024 ** 3
    idle = {s.user_options["profile"]: int(next(a for a in s.args if "shutdown_no_activity" in a).split("=")[1])
            for s in (cpu, gpu)}
    assert idle["gpu"] > idle["cpu"]
    culler = next(s for s in config.JupyterHub.services if s["name"] == "idle-culler")
    assert f"--timeout={idle['gpu']}" in culler["command"]
    # an unknown profile falls back to CPU
    assert docker_spawner(config, "tpu").user_options == {"profile": "cpu"}


# ---------------------------------------------------------------------------------------------
# Zero to JupyterHub on Kubernetes

def values():
    return yaml.safe_load((REPO / "hub" / "k8s" / "values.yaml").read_text())


def kube_config(v) -> Config:
    """The part of z2jh's translation (values -> KubeSpawner traits) that this values file uses."""
    single = v["singleuser"]
    c = Config()
    for cls, traits in v["hub"]["config"].items():
        for trait, value in traits.items():
            c[cls][trait] = value
    c.KubeSpawner.image = f"{single['image']['name']}:{single['image']['tag']}"
    c.KubeSpawner.cpu_limit = float(single["cpu"]["limit"])
    c.KubeSpawner.cpu_guarantee = float(single["cpu"]["guarantee"])
    c.KubeSpawner.mem_limit = single["memory"]["limit"]
    c.KubeSpawner.mem_guarantee = single["memory"]["guarantee"]
    c.KubeSpawner.volumes = single["storage"]["extraVolumes"]
    c.KubeSpawner.volume_mounts = single["storage"]["extraVolumeMounts"]
    c.KubeSpawner.profile_list = single["profileList"]
    c.KubeSpawner.default_url = single["defaultUrl"]
    c.KubeSpawner.start_timeout = single["startTimeout"]
    for snippet in v["hub"]["extraConfig"].values():
        exec(snippet, {"c": c})
    return c


KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none, namespace: course}}]
current-context: none
"""


@pytest.fixture(autouse=True)
def no_cluster(tmp_path, monkeypatch):
    """KubeSpawner reads a kube config when it is created; it never contacts the cluster here."""
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    monkeypatch.setenv("KUBECONFIG", str(path))


def kube_spawner(c: Config, profile: str | None):
    from kubespawner import KubeSpawner

    async def make():
        spawner = KubeSpawner(config=c, _mock=True)   # it wants a running event loop
        spawner.user.id = 7
        spawner.user_options = {"profile": profile} if profile else {}
        await spawner.load_user_options()
        return spawner

    return asyncio.run(make())


def test_k8s_values_load_through_kubespawner():
    v = values()
    c = kube_config(v)
    cpu = kube_spawner(c, None)               # the default profile
    assert cpu.image == "registry.example.org/course-student:2026.11"
    assert cpu.cpu_limit == 2 and cpu.mem_limit == 8 * 1024 ** 3
    assert "nvidia.com/gpu" not in cpu.extra_resource_limits
    assert "read:users:groups!user" in cpu.server_token_scopes
    mounts = {m["name"]: m["mountPath"] for m in cpu.volume_mounts}
    assert mounts == {"exchange": "/srv/nbgrader/exchange", "shm": "/dev/shm"}
    shm = next(vol for vol in cpu.volumes if vol["name"] == "shm")
    assert shm["emptyDir"]["medium"] == "Memory"
    assert cpu.uid(cpu) == 20007 and cpu.environment["NB_USER"] == "{username}"

    gpu = kube_spawner(c, "gpu")
    assert gpu.extra_resource_limits == {"nvidia.com/gpu": "1"}
    assert gpu.extra_resource_guarantees == {"nvidia.com/gpu": "1"}
    assert gpu.mem_limit == 32 * 1024 ** 3
    assert any(t["key"] == "nvidia.com/gpu" for t in gpu.tolerations)
    gpu_idle = int(next(a for a in gpu.args if "shutdown_no_activity" in a).split("=")[1])
    cpu_idle = int(next(a for a in cpu.args if "shutdown_no_activity" in a).split("=")[1])
    assert gpu_idle > cpu_idle and v["cull"]["enabled"] and v["cull"]["timeout"] >= gpu_idle


def test_k8s_values_policy_and_roles():
    v = values()
    policy = v["singleuser"]["networkPolicy"]
    assert policy["enabled"] and policy["egress"] == []
    assert not any(policy["egressAllowRules"][k] for k in ("nonPrivateIPs", "privateIPs", "cloudMetadataServer"))
    role = v["hub"]["loadRoles"]["formgrade-dl101"]
    assert role["groups"] == ["formgrade-dl101"] and role["scopes"] == ["access:services!service=dl101"]
    assert v["hub"]["config"]["Authenticator"]["admin_users"] == []
    # every key this file sets at the top level is one z2jh's chart has
    assert set(v) <= {"hub", "proxy", "singleuser", "scheduling", "prePuller", "ingress", "cull", "debug",
                      "rbac", "fullnameOverride", "nameOverride", "custom", "imagePullSecret", "global"}


def test_grading_job_runs_the_grader_image_without_network():
    job, policy = list(yaml.safe_load_all((REPO / "hub" / "k8s" / "grade-job.yaml").read_text()))
    assert job["kind"] == "Job" and job["apiVersion"] == "batch/v1"
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert "course-grader" in container["image"] and container["args"][:2] == ["grade", "ASSIGNMENT"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert policy["kind"] == "NetworkPolicy" and policy["spec"]["egress"] == [] and policy["spec"]["ingress"] == []
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    # the Job deserialises into the Kubernetes client's models
    from kubernetes_asyncio.client import ApiClient

    async def deserialize():
        async with ApiClient() as client:
            return client.deserialize(SimpleNamespace(data=json.dumps(job)), "V1Job")

    model = asyncio.run(deserialize())
    assert model.spec.template.spec.containers[0].args[0] == "grade"


def test_student_image_installs_the_student_ui_the_way_jupyter_finds_it(tmp_path):
    """The student image runs src/course/hub/student/__init__.py as a script into its prefix:
    run the same command into a throw-away prefix and read it back the way Jupyter does."""
    import json
    import subprocess
    import sys

    text = STUDENT.read_text().replace("\\\n", " ")
    assert "COPY --chown=${NB_UID}:${NB_GID} src/course/hub/student/ /tmp/course-student/" in text
    assert 'python /tmp/course-student/__init__.py --prefix "${CONDA_DIR}"' in text
    assert "labextension disable --level=sys_prefix @jupyterlab/apputils-extension:announcements" in text
    copy = tmp_path / "course-student"
    import shutil

    shutil.copytree(REPO / "src" / "course" / "hub" / "student", copy)
    done = subprocess.run([sys.executable, "-I", str(copy / "__init__.py"), "--prefix", str(tmp_path / "prefix"),
                           "--language", "ko"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    prefix = tmp_path / "prefix"
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert (prefix / "lib" / version / "site-packages" / "course_submit_guard.py").is_file()
    from jupyterlab_server.config import get_federated_extensions

    found = get_federated_extensions([str(prefix / "share" / "jupyter" / "labextensions")])
    build = found["course-student-ui"]["jupyterlab"]["_build"]
    assert build["load"].startswith("static/remoteEntry.") and (prefix / "share" / "jupyter" / "labextensions" / "course-student-ui" / build["load"]).is_file()
    # sorted after nbgrader.json in the same folder: nbgrader's own assignment list stays off
    config_d = prefix / "etc" / "jupyter" / "jupyter_server_config.d"
    (name,) = [p.name for p in config_d.iterdir()]
    assert sorted([name, "nbgrader.json"])[-1] == name
    config = json.loads((config_d / name).read_text())
    assert config["ServerApp"]["jpserver_extensions"] == {"nbgrader.server_extensions.assignment_list": False,
                                                          "course_submit_guard": True}
    assert config["SubmitGuard"]["language"] == "ko"
    assert not (prefix / "share" / "course-student-staging").exists()
