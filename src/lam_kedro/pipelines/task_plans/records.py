"""The task-plan record this pipeline writes, and how to execute one in the simulated Word.

Rows are ``agent.schema.TaskPlan``: the paper's ``{task_id, task, plan}`` plus what makes a row
*executable* later (the ``template`` its params were drawn from, the family ``params``) and the
evolution provenance (``operator``, ``parent_task_id``). A task made of several sub-tasks (a
composition, or a task plus a constraint on the same target) has the environment's family
``sequence`` with params ``{"parts": [{"family", "params"}, ...]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lam_kedro.agent.policies import StepsPolicy
from lam_kedro.env import WordEnv
from lam_kedro.env.document import Document
from lam_kedro.env.feasibility import InfeasibleTask
from lam_kedro.env.tasks import get_family
from lam_kedro.env.types import CheckResult, Task, UIStep

__all__ = ["SEQUENCE", "parts_of", "sequence_params", "solution_of", "ExecutionChecker"]

#: The family name of a task made of several (family, params) parts.
SEQUENCE = "sequence"


def sequence_params(parts: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The ``SEQUENCE`` params of ``(family, params)`` parts."""
    return {"parts": [{"family": f, "params": dict(p)} for f, p in parts]}


def parts_of(family: str, params: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The ``(family, params)`` parts of a row: itself, or the parts of a ``SEQUENCE``."""
    if family == SEQUENCE:
        return [(p["family"], dict(p["params"])) for p in params["parts"]]
    return [(family, dict(params))]


def solution_of(parts: list[tuple[str, dict[str, Any]]]) -> list[UIStep]:
    """The scripted UI steps of every part, in order."""
    return [s for f, p in parts for s in get_family(f).solution(p)]


def check_parts(before: Document, after: Document, parts: list[tuple[str, dict[str, Any]]]) -> CheckResult:
    """The verdict of the family itself, or of the environment's ``sequence`` family for several
    parts (it checks each part against the others replayed, so parts that change different
    things still compose)."""
    if len(parts) == 1:
        family, params = parts[0]
        result = get_family(family).check(before, after, params)
        return result if result.success else CheckResult(False, f"{family}: {result.reason}")
    return get_family(SEQUENCE).check(before, after, sequence_params(parts))


class ExecutionChecker:
    """Plays a row's scripted solution in ``WordEnv`` and judges every part's checker.

    This is what "the evolved task stays executable" means: the (family, params) the row is
    made of can be solved through the UI on its template, and every sub-checker accepts it.
    """

    def __init__(self, docs: Mapping[str, Document], max_steps: int = 60) -> None:
        self.docs = docs
        self.max_steps = max_steps
        self._env = WordEnv(max_steps=max_steps, templates=dict(docs))

    def check(self, template: str, parts: list[tuple[str, dict[str, Any]]]) -> CheckResult:
        if template not in self.docs:
            return CheckResult(False, f"template {template!r} is not in the templates dataset")
        steps = solution_of(parts)
        if len(steps) + 1 > self.max_steps:
            return CheckResult(False, f"solution has {len(steps)} steps, over max_steps={self.max_steps}")
        first_family, first_params = parts[0]
        task = Task("verify", first_family, "verify", first_params, template)
        env, policy = self._env, StepsPolicy(steps, name="verify")
        try:
            obs, _ = env.reset(task)
        except InfeasibleTask as err:  # it would flatten what the template holds: not executable
            return CheckResult(False, str(err))
        policy.reset(task)
        done = False
        while not done:
            decision = policy.act(obs)
            if decision.action.status == "FAIL":
                return CheckResult(False, f"scripted solution stopped: {decision.thought}")
            obs, _, terminated, truncated, _ = env.step(decision.action)
            if obs.error:
                return CheckResult(False, f"scripted step failed: {obs.error}")
            done = terminated or truncated
        assert env.initial_document is not None
        return check_parts(env.initial_document, env.document, parts)
