"""Real Microsoft Word on Windows through UI Automation (pywinauto): the optional backend.

``UIAWordEnv`` has ``WordEnv``'s ``reset`` / ``step`` contract and gives the same
``Observation`` (title, labelled controls, document text) and takes the same ``Action``, so a
policy, the agent loop and a served LAM drive either one. Install with the ``windows`` extra on
Windows (``pip install "lam-kedro[windows]"``).

``tree`` turns a control-tree snapshot into an observation, ``dispatch`` turns an action into
one call on a control; both are plain Python, tested here against recorded trees. ``live``
(pywinauto, Word's COM model) is imported only when a live environment is built, so this
package imports on any platform.
"""

from __future__ import annotations

from lam_kedro.env.uia.availability import INSTALL_HINT, UIABackendUnavailable, require_pywinauto
from lam_kedro.env.uia.backend import UIAWordEnv, WordSession, prepare_document
from lam_kedro.env.uia.dispatch import (
    ControlTarget,
    bind,
    dispatch,
    escape_keys,
    pywinauto_keys,
    try_dispatch,
)
from lam_kedro.env.uia.tree import (
    DEFAULT_CONTROL_TYPES,
    ControlNode,
    env_control_type,
    find_dialog,
    load_tree,
    observation_from_tree,
    save_tree,
)

__all__ = [
    "DEFAULT_CONTROL_TYPES",
    "INSTALL_HINT",
    "ControlNode",
    "ControlTarget",
    "UIABackendUnavailable",
    "UIAWordEnv",
    "WordSession",
    "bind",
    "dispatch",
    "env_control_type",
    "escape_keys",
    "find_dialog",
    "load_tree",
    "observation_from_tree",
    "prepare_document",
    "pywinauto_keys",
    "require_pywinauto",
    "save_tree",
    "try_dispatch",
]
