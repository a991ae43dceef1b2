"""``WordEnv``: the simulated Word behind Gymnasium's ``reset`` / ``step`` contract.

The environment is the thin shell around ``WordUI``: it opens a task's template, validates and
runs each action (through ``actions``) and builds the observation; the episode's rules (steps,
invalid actions, FINISH / FAIL, the checker's reward) are ``EpisodeEnv``'s, shared with the
other backends. Nothing in ``step`` touches the disk; the observation reuses the cached control
tuple and the document's cached text, so a step costs microseconds and rollouts run at
thousands of steps per second.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from lam_kedro.env.action_table import READ_ONLY
from lam_kedro.env.actions import (
    ActionError,
    check_function,
    validate_args,
)
from lam_kedro.env.document import Document
from lam_kedro.env.episode import EpisodeEnv
from lam_kedro.env.types import Action, Observation, Task
from lam_kedro.env.ui import WordUI


def _load_template(name: str) -> Document:
    from lam_kedro.env.templates import load_template

    return load_template(name)


class WordEnv(EpisodeEnv):
    """A simulated Word window that an agent drives one UFO AppAgent call at a time.

    ``reset(task, seed)`` opens the task's template; ``step(action)`` returns
    ``(observation, reward, terminated, truncated, info)``. An invalid action never raises: the
    next observation's ``error`` says what was wrong and ``info["invalid_actions"]`` counts it.
    """

    def __init__(self, max_steps: int = 30, templates: Mapping[str, Document] | None = None,
                 check_feasible: bool = True) -> None:
        """``templates`` maps template names to documents (e.g. loaded by a Kedro catalog); a task
        whose template is not in it is loaded with ``templates.load_template``. With
        ``check_feasible``, ``reset`` refuses (``InfeasibleTask``) a task that needs what the
        document model cannot represent (``feasibility``)."""
        super().__init__(max_steps)
        self.templates: dict[str, Document] = dict(templates or {})
        self.ui: WordUI | None = None
        self._templates: dict[tuple[str, int], Document] = {}
        self.check_feasible = check_feasible
        self._refused: dict[tuple[str, str, str], str | None] = {}
        self._obs_key: tuple | None = None
        self._obs: Observation | None = None

    # ------------------------------------------------------------------ the backend (EpisodeEnv's hooks)

    def _open(self, task: Task) -> Document:
        """Open the task's template in a fresh window (Home tab, caret at the start); the
        simulation has no randomness, so the same task always starts from the same state."""
        doc = self._template(task.template)
        if self.check_feasible and task.family is not None and doc.source is not None and doc.source.unmodeled:
            self._refuse_infeasible(task, doc)
        initial = doc.copy()
        self.ui = WordUI(doc)
        self._obs_key = None
        return initial

    def _refuse_infeasible(self, task: Task, doc: Document) -> None:
        """Raise ``InfeasibleTask`` when the task cannot be done on ``doc`` without flattening it
        (its verdict is kept per task, template and params)."""
        import json

        from lam_kedro.env.feasibility import InfeasibleTask, infeasibility

        key = (task.template, task.family, json.dumps(task.params, sort_keys=True, default=str))
        if key not in self._refused:
            self._refused[key] = infeasibility(task.family, task.params, doc)
        if self._refused[key] is not None:
            raise InfeasibleTask(f"task {task.task_id} on {task.template} is infeasible: {self._refused[key]}")

    def _execute(self, act: Action) -> Any:
        ui = self.ui
        assert ui is not None
        if ui.closed and act.function not in READ_ONLY:
            raise ActionError(f"{act.function} on control {act.control_label!r}: the document is closed")
        spec = ui.resolve(act.control_label)
        check_function(act.function, str(act.control_label), spec)
        args = validate_args(act.function, act.args)
        return ui.run(act.function, spec, args)

    def _final_document(self) -> Document:
        return self.document

    # ------------------------------------------------------------------ views

    def _observe(self, error: str | None) -> Observation:
        ui = self.ui
        assert ui is not None
        doc = ui.doc
        key = (id(doc), doc.version, doc.title, ui.dialog, ui.status_text, ui.tab, ui.menu,
               ui.anchor, ui.caret, ui.table, ui.closed)
        if error is None and key == self._obs_key and self._obs is not None:
            return self._obs
        title = f"{doc.title} - Word" if not ui.closed else "Word"
        obs = Observation(
            title=title,
            controls=ui.controls(),
            document=doc.summary_text() if not ui.closed else "",
            selection=ui.selected_text(),
            error=error,
        )
        if error is None:
            self._obs_key, self._obs = key, obs
        return obs

    @property
    def document(self) -> Document:
        """The live document (what the checker will judge)."""
        if self.ui is None:
            raise RuntimeError("call WordEnv.reset(task) before reading the document")
        return self.ui.doc

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the current document as .docx (the one place the environment touches the disk)."""
        from lam_kedro.env.docx_io import save_docx

        save_docx(self.document, path)
        assert self.ui is not None
        self.ui.mark_saved()

    # ------------------------------------------------------------------ templates

    def _template(self, name: str) -> Document:
        """The template's document, loaded once per name (and file mtime) and copied per reset."""
        given = self.templates.get(name)
        if given is not None:
            return given.copy()
        mtime = os.stat(name).st_mtime_ns if os.path.isfile(name) else 0
        key = (name, mtime)
        doc = self._templates.get(key)
        if doc is None:
            doc = _load_template(name)
            if len(self._templates) > 256:
                self._templates.clear()
            self._templates[key] = doc
        return doc.copy()
