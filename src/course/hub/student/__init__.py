"""What students' servers load on the course hub, beyond nbgrader.

- submit_guard.py: a Jupyter server extension (nbgrader's assignment list whose Submit asks for
  confirmation when no answer cell was changed);
- labextension/remoteEntry.js: the course's JupyterLab extension (opens the assignment list at
  start, "(view feedback)" opens the page), hand-written, no build step.

Students' servers cannot import the repository (the fence hides it), so `course hub` copies both
into the student area of its state directory with `install()`. The student image (Docker and
Kubernetes hubs, images/student/Dockerfile) runs this file as a script instead, which installs
both into the image's Python prefix with `install_into_prefix()`:

    python __init__.py --prefix /opt/conda --language ko
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).parent
GUARD_MODULE = "course_submit_guard"       # the name students' servers import it by
LAB_EXTENSION = "course-student-ui"        # the name in remoteEntry.js (window._JUPYTERLAB[...])


def install(student_area: Path) -> tuple[Path, Path]:
    """Copy the server extension to <area>/python/ and the lab extension to
    <area>/data/labextensions/course-student-ui/; returns (the python folder, the Jupyter data
    folder) for sys.path and JUPYTER_PATH. The script's name carries its content hash, so a
    browser never runs a cached older copy."""
    python = student_area / "python"
    data = student_area / "data"
    python.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "submit_guard.py", python / f"{GUARD_MODULE}.py")

    script = (HERE / "labextension" / "remoteEntry.js").read_bytes()
    name = f"remoteEntry.{hashlib.sha256(script).hexdigest()[:16]}.js"
    target = data / "labextensions" / LAB_EXTENSION
    shutil.rmtree(target, ignore_errors=True)
    (target / "static").mkdir(parents=True)
    (target / "static" / name).write_bytes(script)
    (target / "package.json").write_text(json.dumps({
        "name": LAB_EXTENSION, "version": "1.0.0",
        "description": "The course hub's student UI: assignment list at start, feedback pages",
        "jupyterlab": {"_build": {"load": f"static/{name}", "extension": "./extension"}},
    }, indent=1) + "\n")
    for root in (python, data):
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    return python, data


# Sorted after nbgrader.json in the same config.d folder, so it wins: nbgrader's own assignment
# list is loaded by the guard (wrapped), never by itself as well.
PREFIX_CONFIG = "zz-course-student.json"


def install_into_prefix(prefix: Path, language: str) -> None:
    """For an image: the guard into <prefix>'s site-packages, the lab extension into
    <prefix>/share/jupyter/labextensions, and the server config that loads the guard in place of
    nbgrader's assignment list into <prefix>/etc/jupyter/jupyter_server_config.d/."""
    prefix = Path(prefix)
    staging = prefix / "share" / "course-student-staging"
    python, data = install(staging)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = prefix / "lib" / version / "site-packages"
    site_packages.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(python / f"{GUARD_MODULE}.py", site_packages / f"{GUARD_MODULE}.py")
    labextensions = prefix / "share" / "jupyter" / "labextensions"
    labextensions.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(labextensions / LAB_EXTENSION, ignore_errors=True)
    shutil.copytree(data / "labextensions" / LAB_EXTENSION, labextensions / LAB_EXTENSION)
    shutil.rmtree(staging)
    config = prefix / "etc" / "jupyter" / "jupyter_server_config.d"
    config.mkdir(parents=True, exist_ok=True)
    (config / PREFIX_CONFIG).write_text(json.dumps({
        "ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.assignment_list": False,
                                              GUARD_MODULE: True}},
        "SubmitGuard": {"language": language, "window": 600.0},
    }, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install the course's student UI into a Python prefix (an image).")
    parser.add_argument("--prefix", type=Path, default=Path(sys.prefix))
    parser.add_argument("--language", choices=("ko", "en"), default="ko")
    args = parser.parse_args(argv)
    install_into_prefix(args.prefix, args.language)
    print(f"course student UI installed into {args.prefix} ({args.language})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
