"""``WordEnv``: the simulated Word behind Gymnasium's ``reset`` / ``step`` contract.

The environment is the thin shell around ``WordUI``: it validates each action (through
``actions``), runs it, counts invalid ones, builds the observation, and asks the task's checker
for the reward when the agent says FINISH or FAIL. Nothing in ``step`` touches the disk; the
observation reuses the cached control tuple and the document's cached text, so a step costs
microseconds and rollouts run at thousands of steps per second.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from lam_kedro.env.action_table import READ_ONLY
from lam_kedro.env.actions import (
    ActionError,
    check_function,
    coerce_action,
    validate_args,
)
from lam_kedro.env.document import Document
from lam_kedro.env.types import Action, Observation, Task
from lam_kedro.env.ui import WordUI


def _load_template(name: str) -> Document:
    from lam_kedro.env.templates import load_template

    return load_template(name)


def check_task(task: Task, before: Document, after: Document) -> tuple[bool, str]:
    """``(success, reason)`` of the task family's checker on the document before and after."""
    from lam_kedro.env.tasks import get_family

    result = get_family(task.family).check(before, after, task.params)
    return bool(result.success), result.reason


class EpisodeState(Protocol):
    """What ``episode_step`` keeps on an environment: its task, limits and counters."""

    task: Task | None
    max_steps: int
    steps: int
    invalid_actions: int
    done: bool


def episode_step(
    env: EpisodeState,
    action: Action | dict[str, Any],
    run: Callable[[Action], Any],
    judge: Callable[[], tuple[bool, str]],
) -> tuple[str | None, float, bool, bool, dict[str, Any]]:
    """One step of the episode protocol every Word backend shares (simulated and UI Automation).

    Coerces ``action``, calls ``run(action)`` for a function (an ``ActionError`` becomes the
    returned error and counts as invalid), ends the episode on FINISH / FAIL (terminated) or at
    ``max_steps`` (truncated) and then asks ``judge()`` for ``(success, reason)``. Returns
    ``(error, reward, terminated, truncated, info)``; the caller builds the observation.
    """
    assert env.task is not None
    env.steps += 1
    error: str | None = None
    result: Any = None
    status = "CONTINUE"
    try:
        act = coerce_action(action)
        status = act.status
        if env.done:
            raise ActionError("the episode has ended; call reset() to start another")
        if act.function:
            result = run(act)
    except ActionError as err:
        error = str(err)
        env.invalid_actions += 1
    except TypeError as err:  # Action(**d) with a mistyped dict
        error = f"malformed action: {err}"
        env.invalid_actions += 1
    terminated = status in ("FINISH", "FAIL") and not env.done
    truncated = not terminated and not env.done and env.steps >= env.max_steps
    info: dict[str, Any] = {
        "task_id": env.task.task_id,
        "step": env.steps,
        "invalid_actions": env.invalid_actions,
        "result": result,
    }
    reward = 0.0
    if (terminated or truncated) and not env.done:
        env.done = True
        success, reason = judge()
        info["success"], info["check_reason"] = success, reason
        if terminated and success:
            reward = 1.0
    return error, reward, terminated, truncated, info


class WordEnv:
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
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {max_steps}")
        self.max_steps = max_steps
        self.templates: dict[str, Document] = dict(templates or {})
        self.task: Task | None = None
        self.ui: WordUI | None = None
        self.initial_document: Document | None = None
        self.steps = 0
        self.invalid_actions = 0
        self.done = False
        self._templates: dict[tuple[str, int], Document] = {}
        self.check_feasible = check_feasible
        self._refused: dict[tuple[str, str, str], str | None] = {}
        self._obs_key: tuple | None = None
        self._obs: Observation | None = None

    # ------------------------------------------------------------------ Gymnasium API

    def reset(self, task: Task, seed: int | None = None) -> tuple[Observation, dict[str, Any]]:
        """Open the task's template in a fresh window (Home tab, caret at the start).

        The simulation has no randomness, so ``seed`` is accepted for the Gymnasium contract and
        recorded in ``info``; the same task always starts from the same state.
        """
        doc = self._template(task.template)
        if self.check_feasible and doc.source is not None and doc.source.unmodeled:
            self._refuse_infeasible(task, doc)
        self.task = task
        self.initial_document = doc.copy()
        self.ui = WordUI(doc)
        self.steps = 0
        self.invalid_actions = 0
        self.done = False
        self._obs_key = None
        info = {"task_id": task.task_id, "step": 0, "invalid_actions": 0, "result": None, "seed": seed}
        return self._observe(None), info

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

    def step(self, action: Action | dict[str, Any]) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Run one action; FINISH / FAIL end the episode and score it with the task's checker."""
        if self.ui is None or self.task is None:
            raise RuntimeError("call WordEnv.reset(task) before step()")
        ui, task = self.ui, self.task
        error, reward, terminated, truncated, info = episode_step(
            self, action, lambda act: self._run(ui, act), lambda: check_task(task, self.initial_document, ui.doc)
        )
        return self._observe(error), reward, terminated, truncated, info

    def _run(self, ui: WordUI, act: Action) -> Any:
        if ui.closed and act.function not in READ_ONLY:
            raise ActionError(f"{act.function} on control {act.control_label!r}: the document is closed")
        spec = ui.resolve(act.control_label)
        check_function(act.function, str(act.control_label), spec)
        args = validate_args(act.function, act.args)
        return ui.run(act.function, spec, args)

    # ------------------------------------------------------------------ views

    def observation(self) -> Observation:
        """The current observation (without the last step's error)."""
        if self.ui is None:
            raise RuntimeError("call WordEnv.reset(task) before observation()")
        return self._observe(None)

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
