"""Fixtures shared by the whole suite: where the repo and ../shared are, a throwaway project copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout; tests that need it skip with the reason when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (it exists beside the checkout in CI, not on a user's machine)")
    return SHARED


def _copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "dvc.yaml", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "conf", dest / "conf", ignore=shutil.ignore_patterns("credentials*"))
    shutil.copytree(REPO / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for keep in (REPO / "data").rglob(".gitkeep"):  # the folders a fresh clone has
        (dest / keep.relative_to(REPO)).parent.mkdir(parents=True, exist_ok=True)
    return dest


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project (conf, src, dvc.yaml) in a temp folder, with cwd set to it.

    Runs write data/, mlflow.db and DVC state there, never into the checkout.
    """
    dest = _copy_project(tmp_path / "project")
    monkeypatch.chdir(dest)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return dest


def run_cli(
    args: list[str], cwd: Path, timeout: int = 600, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a console script of the venv (kedro, dvc, lam) and fail with its output if it fails."""
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        **(env or {}),
        "KEDRO_DISABLE_TELEMETRY": "1",
        "DVC_NO_ANALYTICS": "1",
        "MPLBACKEND": "Agg",
        "COLUMNS": "400",  # rich would wrap long error lines at 80 columns
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    proc = subprocess.run(
        [str(bin_dir / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0 and check:
        raise AssertionError(f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc
