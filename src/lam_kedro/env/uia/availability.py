"""Whether the UI Automation backend can run here: Windows with pywinauto, or an error saying how to get it.

Its own module so that the live session (``live``) and the environment (``backend``) both use it
without importing each other.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["INSTALL_HINT", "UIABackendUnavailable", "require_pywinauto"]

INSTALL_HINT = 'install lam-kedro[windows] on Windows (pip install "lam-kedro[windows]")'


class UIABackendUnavailable(RuntimeError):
    """The UI Automation backend cannot run here: not Windows, or pywinauto is missing."""


def require_pywinauto(platform: str | None = None) -> Any:
    """The ``pywinauto`` module, or ``UIABackendUnavailable`` saying how to get it.

    ``platform`` defaults to ``sys.platform``; the backend drives real Word through UI
    Automation, which exists on Windows only.
    """
    platform = sys.platform if platform is None else platform
    if platform != "win32":
        raise UIABackendUnavailable(
            f"the UI Automation backend drives Microsoft Word on Windows; this is {platform!r}. "
            f"To use it, {INSTALL_HINT}; elsewhere use the simulated lam_kedro.env.WordEnv."
        )
    try:
        import pywinauto
    except ImportError as err:
        raise UIABackendUnavailable(f"pywinauto is not installed: {INSTALL_HINT}") from err
    return pywinauto
