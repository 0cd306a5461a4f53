# One machine with GPUs: JupyterHub with DockerSpawner and the student image (images/student).
#
#   docker network create course-hub
#   docker volume create course-exchange
#   docker build -t course-student:latest -f images/student/Dockerfile .
#   COURSE_ID=dl101 jupyterhub -f hub/docker/jupyterhub_config.py     # on the host, as root
#
# Each student gets a container from the student image on the `course-hub` network, their own
# home volume, the shared nbgrader exchange volume, memory and CPU limits, and, on a GPU
# profile, one GPU through a Docker device request (the NVIDIA container toolkit must be
# installed). Inside, the notebook runs as a uid of its own (NB_USER / NB_UID, handled by the
# image's start script), so nbgrader records submissions under the hub user name and the
# exchange's file permissions separate students as they do on the embedded hub.
# Accounts, passwords and formgrader work as in hub/jupyterhub_config.py (the embedded hub).
import os

from docker.types import DeviceRequest
from dockerspawner import DockerSpawner

c = get_config()  # noqa: F821 - provided by traitlets when jupyterhub loads this file

COURSE_ID = os.environ.get("COURSE_ID", "dl101")
IMAGE = os.environ.get("STUDENT_IMAGE", "course-student:latest")
NETWORK = os.environ.get("HUB_NETWORK", "course-hub")
EXCHANGE_VOLUME = os.environ.get("EXCHANGE_VOLUME", "course-exchange")
CPU_IDLE = int(os.environ.get("CPU_IDLE_TIMEOUT", "3600"))      # a CPU server idle this long stops
GPU_IDLE = int(os.environ.get("GPU_IDLE_TIMEOUT", "7200"))      # GPU profiles get longer

# name -> what a profile changes; the first is the default
PROFILES = {
    "cpu": {"label": "CPU: 2 cores, 8 GB", "cpu_limit": 2.0, "mem_limit": "8G", "gpus": 0, "idle": CPU_IDLE},
    "gpu": {"label": "1 GPU, 8 cores, 32 GB", "cpu_limit": 8.0, "mem_limit": "32G", "gpus": 1, "idle": GPU_IDLE},
}


class CourseDockerSpawner(DockerSpawner):
    """DockerSpawner with CPU / GPU profiles and a notebook uid per hub user."""

    def _options_form_default(self):
        options = "".join(f'<option value="{name}">{p["label"]}</option>' for name, p in PROFILES.items())
        return f'<label for="profile">Server</label><select name="profile" id="profile">{options}</select>'

    def options_from_form(self, formdata):
        profile = (formdata.get("profile") or ["cpu"])[0]
        return {"profile": profile if profile in PROFILES else "cpu"}

    def apply_profile(self):
        profile = PROFILES[self.user_options.get("profile", "cpu")]
        self.cpu_limit = profile["cpu_limit"]
        self.mem_limit = profile["mem_limit"]
        host_config = dict(self.extra_host_config)
        host_config.pop("device_requests", None)
        if profile["gpus"]:
            host_config["device_requests"] = [DeviceRequest(count=profile["gpus"], capabilities=[["gpu"]])]
        self.extra_host_config = host_config
        # the server stops itself after the profile's idle time (the hub's culler is the backstop)
        self.args = [f"--ServerApp.shutdown_no_activity_timeout={profile['idle']}",
                     f"--MappingKernelManager.cull_idle_timeout={profile['idle']}",
                     "--MappingKernelManager.cull_interval=300"]
        uid = str(20000 + self.user.id)          # unique per hub user, stable across restarts
        self.environment = {**self.environment, "NB_USER": self.user.name, "NB_UID": uid,
                            "NB_GID": "100", "CHOWN_HOME": "yes", "COURSE_PROFILE": self.user_options.get("profile", "cpu")}

    async def start(self):
        self.apply_profile()
        return await super().start()


c.JupyterHub.spawner_class = CourseDockerSpawner
c.DockerSpawner.image = IMAGE
c.DockerSpawner.allowed_images = [IMAGE]
c.DockerSpawner.network_name = NETWORK
c.DockerSpawner.use_internal_ip = True
c.DockerSpawner.remove = True
c.DockerSpawner.name_template = "course-{username}"
# start as root so the image's start script can switch to NB_USER / NB_UID
c.DockerSpawner.extra_create_kwargs = {"user": "root"}
c.DockerSpawner.extra_host_config = {"shm_size": "2g", "pids_limit": 1024}   # /dev/shm for PyTorch loaders
c.DockerSpawner.notebook_dir = "/home/{username}"
c.DockerSpawner.volumes = {
    "course-home-{username}": "/home/{username}",
    EXCHANGE_VOLUME: "/srv/nbgrader/exchange",
}
c.DockerSpawner.environment = {"JUPYTERHUB_DEFAULT_URL": "/lab", "COURSE_ID": COURSE_ID}
c.DockerSpawner.cmd = ["start-notebook.py"]
c.DockerSpawner.start_timeout = 300
c.DockerSpawner.http_timeout = 180
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", "read:users:groups!user"]

# the hub listens on the network the containers join
c.JupyterHub.hub_ip = "0.0.0.0"
c.JupyterHub.hub_connect_ip = os.environ.get("HUB_CONNECT_IP", "course-hub")

c.JupyterHub.services = [
    {"name": "idle-culler",
     "command": ["python3", "-m", "jupyterhub_idle_culler", f"--timeout={max(CPU_IDLE, GPU_IDLE)}",
                 "--cull-every=300"]},
]
c.JupyterHub.load_roles = [
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
]
