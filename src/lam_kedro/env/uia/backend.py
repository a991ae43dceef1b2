"""``UIAWordEnv``: real Word on Windows behind the same ``reset`` / ``step`` contract as ``WordEnv``.

The episode's rules (step count, invalid actions, the end of the episode, the info keys, the
checker's verdict) are ``EpisodeEnv``'s, the same as the simulated Word's; this module is the
backend: open, observe, execute, hand over the document. Everything that touches Windows sits
behind a ``WordSession``: open a .docx in Word, snapshot the window's
control tree, make a target for a control, save the document, close. The pywinauto session is
``lam_kedro.env.uia.live.PywinautoWordSession``, imported only when a ``UIAWordEnv`` is built
without a session, so this module imports (and is tested) on any platform.

Success is decided as in the simulation: at FINISH / FAIL (or at ``max_steps``) the live
document is saved, read back with the environment's .docx reader, and judged by the task
family's checker against the copy the episode started from.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from lam_kedro.env.episode import DocumentUnavailable, EpisodeEnv
from lam_kedro.env.types import Action, Control, Observation, Task
from lam_kedro.env.uia.availability import require_pywinauto
from lam_kedro.env.uia.dispatch import ControlTarget, bind, dispatch
from lam_kedro.env.uia.tree import DEFAULT_CONTROL_TYPES, ControlNode, observation_from_tree

__all__ = ["UIAWordEnv", "WordSession", "prepare_document"]

class WordSession(Protocol):
    """The live side of ``UIAWordEnv``: one Word window on one .docx file."""

    def open(self, path: Path) -> None:
        """Open ``path`` in Word and wait until its window is ready."""

    def snapshot(self) -> ControlNode:
        """The window's control tree now."""

    def target(self, control: Control, node: ControlNode) -> ControlTarget:
        """What actions on ``control`` (shown for ``node``) are sent to."""

    def save(self) -> Path:
        """Save the open document to its file and return the file's path."""

    def close(self) -> None:
        """Close the document without saving (and Word, if the session started it)."""


_UNSAFE = re.compile(r"[^\w.-]+")


def _load_docx(path: Path) -> Any:
    from lam_kedro.env.docx_io import load_docx

    return load_docx(path)


def prepare_document(template: str, folder: Path, stem: str, document: Any = None) -> Path:
    """A fresh .docx copy of the task's starting document in ``folder``: ``document`` (a ``Document``,
    e.g. the templates dataset's) is written out, a .docx path is copied, a built-in template name is
    written out. Word edits the copy, never the original."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{_UNSAFE.sub('_', stem).strip('_') or 'document'}.docx"
    source = Path(template)
    if document is not None:
        from lam_kedro.env.docx_io import save_docx

        save_docx(document, out)
    elif template.lower().endswith(".docx") and source.is_file():
        shutil.copyfile(source, out)
    else:
        from lam_kedro.env.docx_io import save_docx
        from lam_kedro.env.templates import load_template

        save_docx(load_template(template), out)
    return out


class UIAWordEnv(EpisodeEnv):
    """Microsoft Word driven through UI Automation, one UFO AppAgent call at a time.

    ``reset(task, seed)`` copies the task's document into ``work_dir`` and opens the copy in Word;
    ``step(action)`` returns ``(observation, reward, terminated, truncated, info)`` with the info
    keys of ``WordEnv`` (``task_id``, ``step``, ``invalid_actions``, ``result``, and ``success`` /
    ``check_reason`` when the episode ends). An invalid action or a failed call never raises:
    the next observation's ``error`` says what was wrong.

    ``session`` is the live side; by default a ``PywinautoWordSession`` on ``app_path`` (Word's
    ``WINWORD.EXE``, found in the usual Office folders when not given), which needs Windows and
    pywinauto (``UIABackendUnavailable`` otherwise). ``control_types``, ``max_controls`` and
    ``document_label`` go to ``observation_from_tree``; ``settle_s`` is how long Word is given to
    redraw after an action before the next snapshot.
    """

    def __init__(
        self,
        app_path: str | None = None,
        max_steps: int = 30,
        work_dir: str | Path | None = None,
        control_types: Iterable[str] = DEFAULT_CONTROL_TYPES,
        max_controls: int = 200,
        document_label: str | None = "Document",
        settle_s: float = 0.5,
        timeout_s: float = 60.0,
        session: WordSession | None = None,
    ) -> None:
        super().__init__(max_steps)
        if session is None:
            require_pywinauto()
            from lam_kedro.env.uia.live import PywinautoWordSession

            session = PywinautoWordSession(app_path=app_path, timeout_s=timeout_s)
        self.session: WordSession = session
        self.work_dir = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="lam-uia-"))
        self.control_types = tuple(control_types)
        self.max_controls = max_controls
        self.document_label = document_label
        self.settle_s = settle_s
        self.path: Path | None = None
        self._targets: dict[str, ControlTarget] = {}

    # ------------------------------------------------------------------ the backend (EpisodeEnv's hooks)

    def _open(self, task: Task) -> Any:
        """Open a fresh copy of the task's document in Word; the copy as read before Word opens it."""
        self.session.close()
        self.path = prepare_document(task.template, self.work_dir, task.task_id)
        initial = _load_docx(self.path)
        self.session.open(self.path)
        return initial

    def _execute(self, act: Action) -> Any:
        result = dispatch(act, self._targets)
        if self.settle_s > 0:
            time.sleep(self.settle_s)
        return result

    def _final_document(self) -> Any:
        """Save the live document and read it back."""
        try:
            return _load_docx(self.session.save())
        except Exception as err:  # a save dialog, a crashed Word: the task is not done
            raise DocumentUnavailable(
                f"could not save and read back the document: {type(err).__name__}: {err}") from err

    def _observe(self, error: str | None) -> Observation:
        """Snapshot the window and rebuild the labels the next action refers to."""
        tree = self.session.snapshot()
        obs, nodes = observation_from_tree(
            tree, self.control_types, max_controls=self.max_controls, document_label=self.document_label
        )
        self._targets = bind(obs, nodes, self.session.target)
        return obs if error is None else dataclasses.replace(obs, error=error)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the document (unsaved) and Word, if the session started it."""
        self.session.close()
        self.task = None

    def __enter__(self) -> UIAWordEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
