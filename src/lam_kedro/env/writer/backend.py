"""``WriterEnv``: LibreOffice Writer behind the same ``reset`` / ``step`` contract as ``WordEnv``.

The episode's rules are ``EpisodeEnv``'s; this module is the backend: ``_open`` copies the task's
.docx and opens the copy in Writer, ``_observe`` reads the window (``WriterWindow.nodes``) into
labelled controls, ``_execute`` runs one action through ``dispatch``, ``_final_document`` stores
the document as .docx and reads it back with the environment's reader, so the task family's
checker judges it exactly as it judges the simulated Word's.

The checker's "before" is the task's document as Writer writes it back without an edit (opened,
stored, read), not the template file: Writer's export names fonts and styles its own way, and a
checker that asks "did nothing else change?" must compare Writer with Writer.

An office that crashes or hangs mid-episode is killed and restarted; the episode ends there,
truncated and failed with ``info["env_error"]`` saying what happened (the run goes on with the
next episode in a fresh office, and the trajectory records why this one stopped).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from lam_kedro.env.actions import ActionError
from lam_kedro.env.document import Document
from lam_kedro.env.docx_io import load_docx
from lam_kedro.env.episode import DocumentUnavailable, EpisodeEnv
from lam_kedro.env.types import Action, Control, Observation, Task
from lam_kedro.env.uia.backend import prepare_document
from lam_kedro.env.writer.a11y import Node
from lam_kedro.env.writer.dispatch import dispatch
from lam_kedro.env.writer.office import Office, OfficeDied, OfficeStuck, _uno_error
from lam_kedro.env.writer.window import WriterWindow

__all__ = ["WriterEnv"]


def _vanished(err: BaseException) -> bool:
    """An error reading the window that a control gone mid-read gives (a missing accessible
    child's attribute, or the office's own exception), not a bug of ours."""
    return isinstance(err, AttributeError) or _uno_error(err)


def _open_and_save(win: WriterWindow, path: Path, saved: Path) -> None:
    win.open(path)
    win.save(saved)


class WriterEnv(EpisodeEnv):
    """LibreOffice Writer driven one UFO AppAgent call at a time.

    ``office``: an ``Office`` to share (a test module's, a worker's); by default the env starts
    its own (``virtual_display``: see ``Office``) and ``close`` stops it. After each action the
    env waits until the office's event queue is empty, plus ``settle_s`` (0 by default: the
    tests pass without it); ``max_controls``
    caps the observation's control list. ``templates`` maps a task's ``template`` name to its document
    (the pipeline's templates dataset, as ``WordEnv`` takes it); other templates are a .docx path or a
    built-in template's name.
    """

    def __init__(self, max_steps: int = 30, office: Office | None = None, work_dir: str | Path | None = None,
                 virtual_display: bool | None = None, settle_s: float = 0.0, max_controls: int = 200,
                 templates: Mapping[str, Document] | None = None) -> None:
        super().__init__(max_steps)
        self.templates = dict(templates or {})
        self._owns_office = office is None
        self.office = office if office is not None else Office(virtual_display=virtual_display)
        self.work_dir = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="lam-writer-"))
        self._own_work_dir = work_dir is None
        self.settle_s = settle_s
        self.max_controls = max_controls
        self.window: WriterWindow | None = None
        self.path: Path | None = None
        self.env_errors = 0
        self._nodes: dict[str, Node] = {}
        self._open_failed = False

    # ------------------------------------------------------------------ the backend (EpisodeEnv's hooks)

    def _win(self) -> WriterWindow:
        """The window on the running office (started, or restarted after a crash, here: at ``reset``)."""
        if not self.office.alive():
            self.office.start()
            self.window = None
        if self.window is None:
            self.window = self.office.call(lambda: WriterWindow(self.office, settle_s=self.settle_s))
        return self.window

    def _live(self) -> WriterWindow:
        """The window of the episode in flight; ``OfficeDied`` when its office is gone (never a fresh
        office in the middle of an episode: its document would not be the episode's)."""
        self.office.check()
        if self.window is None or self.window.doc is None:
            raise OfficeDied("the office running this episode was restarted; its document is gone")
        return self.window

    def _open(self, task: Task) -> Any:
        """Open a fresh copy of the task's .docx in Writer; its state as Writer saves it unedited."""
        self.path = prepare_document(task.template, self.work_dir, task.task_id, self.templates.get(task.template))
        saved = self.work_dir / f"{self.path.stem}.before.docx"
        for attempt in (1, 2):  # a crashed office is restarted once
            try:
                self.office.call(partial(_open_and_save, self._win(), self.path, saved), timeout_s=60)
                break
            except OfficeDied:  # crashed, hung (killed already) or stuck: a fresh office opens the task
                self.env_errors += 1
                self.window = None
                if attempt == 2:
                    self._open_failed = True  # retried here already: reset does not retry again
                    raise
                self.office.close()
        return load_docx(saved)

    def _observe(self, error: str | None) -> Observation:
        win = self._live()

        def read() -> tuple[str, list[Node], str, str]:
            return win.title, win.nodes()[: self.max_controls], win.text(), win.selection()

        first: BaseException | None = None
        for attempt in (1, 2):  # the window may change while it is read (a dialog rebuilding): read again
            try:
                title, nodes, text, selection = self.office.call(read)
                break
            except OfficeDied:
                raise
            except Exception as err:
                if not _vanished(err):
                    raise
                if attempt == 2:
                    raise OfficeStuck(f"the window cannot be read ({type(first).__name__}: {first}; then "
                                      f"{type(err).__name__}: {err})") from None
                first = err
                self.office.call(win.settle)
        self._nodes = {str(i): node for i, node in enumerate(nodes, start=1)}
        controls = tuple(Control(label, n.control_text, n.control_type) for label, n in self._nodes.items())
        return Observation(title=title, controls=controls, document=text, selection=selection, error=error)

    def _execute(self, act: Action) -> Any:
        win = self._live()
        try:
            return self.office.call(lambda: dispatch(act, self._nodes, win))
        except (ActionError, OfficeDied):
            raise
        except Exception as err:  # the office refused the call: the agent reads why, the episode goes on
            raise ActionError(f"{act.function} on control {act.control_label} failed in Writer: "
                              f"{type(err).__name__}: {err}") from err

    def _final_document(self) -> Any:
        """Store the live document as .docx and read it back."""
        assert self.path is not None
        out = self.work_dir / f"{self.path.stem}.after.docx"
        win = self._live()
        try:
            self.office.call(lambda: win.save(out), timeout_s=60)
            return load_docx(out)
        except OfficeDied:
            raise
        except Exception as err:
            raise DocumentUnavailable(f"Writer could not save the document as .docx: {type(err).__name__}: {err}") from err

    # ------------------------------------------------------------------ a crashed office ends the episode

    def reset(self, task: Task, seed: int | None = None) -> tuple[Observation, dict[str, Any]]:
        """``EpisodeEnv.reset``; an office that dies or sticks while the task opens is restarted
        once (counted in ``env_errors``)."""
        self._open_failed = False
        try:
            return super().reset(task, seed)
        except OfficeDied:
            if self._open_failed:  # opening the task failed twice already (counted there)
                raise
            self.env_errors += 1  # the task opened, but its first observation could not be read
            self.window = None
            self.office.close()
            return super().reset(task, seed)

    def step(self, action: Action | dict[str, Any]) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """``EpisodeEnv.step``; an office that dies during it is restarted and the episode ends,
        truncated, failed, with ``info["env_error"]``."""
        try:
            return super().step(action)
        except OfficeDied as err:
            return self._environment_error(err)

    def _environment_error(self, err: OfficeDied) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        assert self.task is not None
        self.env_errors += 1
        self.window = None
        self.done = True
        message = f"environment error: {err}"
        self.office.restart()
        info = {"task_id": self.task.task_id, "step": self.steps, "invalid_actions": self.invalid_actions,
                "result": None, "success": False, "check_reason": message, "env_error": message}
        obs = Observation(title="LibreOffice Writer", controls=(), document="", error=message)
        return obs, 0.0, False, True, info

    def save(self, path: str | Path) -> None:
        """Write the current document as .docx to ``path``."""
        win = self._live()
        self.office.call(lambda: win.save(Path(path)), timeout_s=60)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the document; stop the office if this env started it; remove its own work folder."""
        if self.window is not None and self.office.alive():
            with contextlib.suppress(OfficeDied):  # a dead office has closed it anyway
                self.office.call(self.window.close_document)
        self.window = None
        if self._owns_office:
            self.office.close()
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        self.task = None

    def __enter__(self) -> WriterEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
