"""Per-assignment judge settings from autograder/NN_slug/judge.toml."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from course.paths import CourseError


@dataclass(frozen=True)
class JudgeConfig:
    cell_timeout: float = 30.0
    probe_timeout: float = 10.0
    total_timeout: float = 300.0
    memory_mb: int = 4096
    max_processes: int = 256
    file_size_mb: int = 64
    output_kb: int = 64
    threads: int = 1
    # Imported once by the zygote, before any sandbox is forked: free for every submission.
    preload: tuple = ("numpy", "torch")
    gpu: bool = False      # wants a GPU: one sandbox per device at a time, CPU fallback
    env: dict = field(default_factory=dict)

    @classmethod
    def load(cls, suite: Path) -> "JudgeConfig":
        path = suite / "judge.toml"
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CourseError(f"{path}: invalid TOML ({exc})") from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CourseError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        env = data.get("env", {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise CourseError(f"{path}: [env] values must be strings")
        preload = data.get("preload", cls.preload)
        if not isinstance(preload, (list, tuple)) or not all(isinstance(m, str) for m in preload):
            raise CourseError(f"{path}: preload must be a list of module names")
        if "tensorflow" in preload and "triton" in preload:
            raise CourseError(f"{path}: preload cannot hold both tensorflow and triton (their LLVMs clash)")
        data["preload"] = tuple(preload)
        return cls(**data)
