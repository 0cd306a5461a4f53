"""What students' servers load on the course hub, beyond nbgrader.

- submit_guard.py: a Jupyter server extension (nbgrader's assignment list whose Submit asks for
  confirmation when no answer cell was changed);
- labextension/remoteEntry.js: the course's JupyterLab extension (opens the assignment list at
  start, "(view feedback)" opens the page), hand-written, no build step.

Students' servers cannot import the repository (the fence hides it), so `course hub` copies both
into the student area of its state directory with `install()`.
"""
from __future__ import annotations

import hashlib
import json
import shutil
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
