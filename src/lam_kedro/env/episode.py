"""``EpisodeEnv``: the episode rules every backend shares, written once.

A backend (the simulated Word, real Word through UI Automation, LibreOffice Writer next) knows how
to open a task's document, observe the window, execute one action and hand over the document
at the end. Everything else is here and is the same for all of them: the step count, truncation
at ``max_steps``, a bad action becoming an error in the next observation (never an exception),
FINISH / FAIL ending the episode, the task's checker deciding success, and the ``reset`` /
``step`` return values (Gymnasium's shape) with their ``info`` keys.

A task whose ``family`` is ``None`` has no checker (a user's own free-text request): its episode
runs by the same rules and ends with ``success: False`` and ``check_reason: NO_CHECKER``, a
verdict nobody gave, so whoever reads the result judges the document.

This is the environment's side of an episode; the agent's side (observe, decide, record) is
``lam_kedro.agent.episode.run_episode``.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import Any

from lam_kedro.env.actions import ActionError, coerce_action
from lam_kedro.env.document import Document
from lam_kedro.env.types import Action, Observation, Task

__all__ = ["NO_CHECKER", "DocumentUnavailable", "EpisodeEnv", "check_task"]

#: The verdict of a task without a checker (``Task.family`` is ``None``).
NO_CHECKER = "no checker for this task: judge the saved document yourself"


class DocumentUnavailable(RuntimeError):
    """The backend cannot hand over the document to judge (e.g. Word would not save it); the task
    fails with this message as the checker's reason."""


def check_task(task: Task, before: Document, after: Document) -> tuple[bool, str]:
    """``(success, reason)`` of the task family's checker on the document before and after."""
    from lam_kedro.env.tasks import get_family

    result = get_family(task.family).check(before, after, task.params)
    return bool(result.success), result.reason


class EpisodeEnv(ABC):
    """``reset(task, seed)`` / ``step(action)`` over a backend's four hooks.

    A subclass implements ``_open`` (start the task's document and return its starting state,
    the checker's "before"), ``_observe`` (the observation now, carrying ``error``), ``_execute``
    (run one action, raising ``ActionError`` when it is invalid) and ``_final_document`` (the
    document to judge, or ``DocumentUnavailable``), plus ``save`` where the backend can write the
    document. ``step`` returns ``(observation, reward, terminated, truncated, info)``: ``info`` has
    ``task_id``, ``step``, ``invalid_actions`` and ``result`` (what the action returned), and
    ``success`` / ``check_reason`` on the step that ends the episode; the reward is 1.0 when the
    agent said FINISH and the checker agrees, else 0.0.
    """

    def __init__(self, max_steps: int = 30) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {max_steps}")
        self.max_steps = max_steps
        self.task: Task | None = None
        self.initial_document: Any = None
        self.steps = 0
        self.invalid_actions = 0
        self.done = False

    # ------------------------------------------------------------------ the backend's hooks

    @abstractmethod
    def _open(self, task: Task) -> Any:
        """Start ``task``'s document (raising when the task cannot run) and return its starting state."""

    @abstractmethod
    def _observe(self, error: str | None) -> Observation:
        """The observation of the window now, with ``error`` (the last action's) in it."""

    @abstractmethod
    def _execute(self, action: Action) -> Any:
        """Run ``action`` (its ``function`` is set); ``ActionError`` says why it is invalid."""

    @abstractmethod
    def _final_document(self) -> Any:
        """The document as it is now, for the checker; ``DocumentUnavailable`` when it cannot be had."""

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the current document as .docx to ``path``."""
        raise NotImplementedError(f"{type(self).__name__} cannot save its document to a path")

    # ------------------------------------------------------------------ Gymnasium API

    def reset(self, task: Task, seed: int | None = None) -> tuple[Observation, dict[str, Any]]:
        """Open a fresh copy of the task's document. ``seed`` is recorded in ``info``: the backends
        have no seedable randomness, so the same task always starts from the same state."""
        self.initial_document = self._open(task)
        self.task = task
        self.steps = 0
        self.invalid_actions = 0
        self.done = False
        info = {"task_id": task.task_id, "step": 0, "invalid_actions": 0, "result": None, "seed": seed}
        return self._observe(None), info

    def step(self, action: Action | dict[str, Any]) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """Run one action; FINISH / FAIL end the episode and the task's checker scores it."""
        if self.task is None:
            raise RuntimeError(f"call {type(self).__name__}.reset(task) before step()")
        self.steps += 1
        error: str | None = None
        result: Any = None
        status = "CONTINUE"
        try:
            act = coerce_action(action)
            status = act.status
            if self.done:
                raise ActionError("the episode has ended; call reset() to start another")
            if act.function:
                result = self._execute(act)
        except ActionError as err:
            error = str(err)
            self.invalid_actions += 1
        except TypeError as err:  # Action(**d) with a mistyped dict
            error = f"malformed action: {err}"
            self.invalid_actions += 1
        terminated = status in ("FINISH", "FAIL") and not self.done
        truncated = not terminated and not self.done and self.steps >= self.max_steps
        info: dict[str, Any] = {
            "task_id": self.task.task_id,
            "step": self.steps,
            "invalid_actions": self.invalid_actions,
            "result": result,
        }
        reward = 0.0
        if (terminated or truncated) and not self.done:
            self.done = True
            success, reason = self._judge()
            info["success"], info["check_reason"] = success, reason
            if terminated and success:
                reward = 1.0
        return self._observe(error), reward, terminated, truncated, info

    def _judge(self) -> tuple[bool, str]:
        """The checker's verdict on the document now; ``NO_CHECKER`` for a task without one."""
        assert self.task is not None
        if self.task.family is None:
            return False, NO_CHECKER
        try:
            after = self._final_document()
        except DocumentUnavailable as err:
            return False, str(err)
        return check_task(self.task, self.initial_document, after)

    def observation(self) -> Observation:
        """The current observation (without the last step's error)."""
        if self.task is None:
            raise RuntimeError(f"call {type(self).__name__}.reset(task) before observation()")
        return self._observe(None)
