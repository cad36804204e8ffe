"""The built wheel is complete: installed into a fresh venv, ``hybridmem demo`` runs from outside
the repository (the demo set and the relevance parameters are package data)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from .test_demo import check_demo_tables

ROOT = Path(__file__).resolve().parent.parent


def run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_the_wheel_runs_the_demo_from_outside_the_repo(tmp_path: Path) -> None:
    # Build from a copy of what the wheel is made of, so nothing is written into the checkout.
    src = tmp_path / "src"
    shutil.copytree(ROOT / "hybridmem", src / "hybridmem",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q")
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", ".", cwd=src)
    (wheel,) = (tmp_path / "dist").glob("hybridmem-*.whl")

    # A fresh venv holding only the wheel; its dependencies (torch, faiss, the model packages...)
    # come from this interpreter's site-packages, appended to its path (not installed again).
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    py = bin_dir / Path(sys.executable).name
    fresh_site = Path(run(py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                          cwd=tmp_path).strip())  # fmt: skip
    run(*pip, "--python", py, "install", "--no-deps", wheel, cwd=tmp_path)
    (fresh_site / "test-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["HF_HUB_OFFLINE"] = "1"
    where = run(py, "-c", "import hybridmem; print(hybridmem.__file__)", cwd=away, env=env)
    assert Path(where.strip()).is_relative_to(fresh_site)
    check_demo_tables(run(bin_dir / "hybridmem", "demo", cwd=away, env=env))
