"""GPUs for assignments that want one: at most one sandbox per device, pinned with CUDA_VISIBLE_DEVICES.

CPU assignments see no GPU at all (CUDA_VISIBLE_DEVICES=""), so they cannot crowd a device.
With no GPU on the grader, a GPU assignment runs on the CPU and its results say so.
"""
from __future__ import annotations

import os
import shutil
import subprocess

NO_GPU_NOTE = "no GPU on this grader: graded on the CPU"


def detect() -> list[str]:
    """Device indexes: COURSE_GPUS="0,1" (empty: none) overrides what nvidia-smi lists."""
    forced = os.environ.get("COURSE_GPUS")
    if forced is not None:
        return [d.strip() for d in forced.split(",") if d.strip()]
    if not shutil.which("nvidia-smi"):
        return []
    try:
        listing = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in listing.stdout.splitlines() if line.strip().isdigit()] if listing.returncode == 0 else []


class DevicePool:
    def __init__(self, wants_gpu: bool, devices: list[str]):
        self.wants_gpu = wants_gpu
        self.free = list(devices) if wants_gpu else []
        self.total = len(self.free)

    def slots(self, parallel: int) -> int:
        """Judges at once: one per GPU for a GPU assignment, else `parallel` on the cores."""
        return min(parallel, self.total) if self.total else parallel

    def acquire(self) -> str | None:
        if not self.total:
            return None
        if not self.free:
            raise RuntimeError("no free GPU: the caller must not exceed slots()")
        return self.free.pop(0)

    def release(self, device: str | None) -> None:
        if device is not None:
            self.free.append(device)

    @staticmethod
    def env(device: str | None) -> dict[str, str]:
        return {"CUDA_VISIBLE_DEVICES": device or ""}

    def describe(self, device: str | None) -> dict[str, str]:
        if device is not None:
            return {"device": f"cuda:{device}"}
        if self.wants_gpu:
            return {"device": "cpu", "device_note": NO_GPU_NOTE}
        return {"device": "cpu"}
