"""``scripts/setup_writer.sh``: quiet when LibreOffice is installed, installs what is missing with
apt-get (and says so), and where it cannot install says why with exit status 3.

The branches that would install are run with stand-ins for ``dpkg-query`` and ``apt-get`` on
``PATH`` (a test must not install packages); the installed branch runs against this machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "setup_writer.sh"


def _run(path: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": path, **env})


def _tool(folder: Path, name: str, body: str) -> None:
    tool = folder / name
    tool.write_text("#!/bin/sh\n" + body + "\n")
    tool.chmod(0o755)


def _bin_with(tmp_path: Path, *names: str) -> Path:
    """A folder holding the real tools the script needs besides the stand-ins (``id``, ``env``...)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("id", "env", "cat", "sh", "bash", *names):
        real = shutil.which(name)
        if real:
            (folder / name).symlink_to(real)
    return folder


def _installed(package: str) -> bool:
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return done.stdout == "install ok installed"


def test_installed_packages_are_reported_and_nothing_is_installed() -> None:
    if shutil.which("dpkg-query") is None or not all(
            _installed(p) for p in ("libreoffice-writer", "python3-uno", "xvfb")):
        pytest.skip("LibreOffice Writer, python3-uno and Xvfb are not all installed from Debian packages here")
    done = _run(os.environ["PATH"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "setup_writer: LibreOffice Writer, python3-uno and Xvfb are installed"


def test_missing_packages_are_installed_with_apt_get_and_it_says_so(tmp_path: Path) -> None:
    folder = _bin_with(tmp_path)
    log = tmp_path / "apt.log"
    _tool(folder, "dpkg-query", 'case "$3" in xvfb) printf "install ok installed";; *) exit 1;; esac')
    _tool(folder, "apt-get", f'echo "$@" >> {log}')
    _tool(folder, "id", "echo 0")  # as root (a user's run would go through sudo: the next test)
    done = _run(str(folder))
    assert done.returncode == 0, done.stderr
    assert "installing libreoffice-writer python3-uno with apt-get" in done.stdout
    assert "install -y -q libreoffice-writer python3-uno" in log.read_text()


def test_without_apt_get_it_says_why_and_exits_3(tmp_path: Path) -> None:
    folder = _bin_with(tmp_path)
    _tool(folder, "dpkg-query", "exit 1")
    done = _run(str(folder))
    assert done.returncode == 3
    assert "cannot install libreoffice-writer python3-uno xvfb: no apt-get here" in done.stderr


def test_a_user_installs_through_password_less_sudo(tmp_path: Path) -> None:
    folder = _bin_with(tmp_path, "true")
    log = tmp_path / "apt.log"
    _tool(folder, "dpkg-query", "exit 1")
    _tool(folder, "apt-get", f'echo "$@" >> {log}')
    _tool(folder, "id", "echo 1000")
    _tool(folder, "sudo", f'[ "$1" = -n ] && shift; echo sudo >> {log}; exec "$@"')
    done = _run(str(folder))
    assert done.returncode == 0, done.stderr
    assert "sudo" in log.read_text() and "install -y -q libreoffice-writer python3-uno xvfb" in log.read_text()


def test_a_user_without_sudo_is_told_what_to_run_and_exits_3(tmp_path: Path) -> None:
    folder = _bin_with(tmp_path)
    _tool(folder, "dpkg-query", "exit 1")
    _tool(folder, "apt-get", "exit 1")
    _tool(folder, "id", "echo 1000")
    done = _run(str(folder))
    assert done.returncode == 3
    assert "run: sudo apt-get install -y libreoffice-writer python3-uno xvfb" in done.stderr
