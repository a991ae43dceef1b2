"""``run_episode``: THE agent loop, shared by data collection, exploration, evaluation and serving.

One loop means what is served is what was evaluated: the same reset, the same recording of
each step (the observation *before* the action, the decision, and what the action did), the
same outcome taken from the environment's checker.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from typing import Any, Protocol

from lam_kedro.agent.policies import Policy, join_errors
from lam_kedro.agent.schema import InstantiatedTask, Outcome, Step, Trajectory
from lam_kedro.env.types import Action, Control, Observation, Task

__all__ = ["run_episode", "Env", "OnStep", "DEFAULT_STEP_CAP"]

#: A last-resort step cap for an environment that has no ``max_steps`` of its own, so a
#: policy that never says FINISH cannot loop forever.
DEFAULT_STEP_CAP = 100

#: ``on_step(step, next_obs, info)``: called after every step, e.g. to print it.
OnStep = Callable[[Step, Observation, dict[str, Any]], None]


class Env(Protocol):
    """The environment contract (Gymnasium's shape) that ``run_episode`` relies on."""

    def reset(self, task: Task, seed: int | None = None) -> tuple[Observation, dict[str, Any]]: ...

    def step(self, action: Action) -> tuple[Observation, float, bool, bool, dict[str, Any]]: ...


class _ObservationDicts:
    """``Observation.to_dict()``, reusing the control list while the env reuses its controls tuple.

    The environment caches one controls tuple per UI state, and converting ~30 controls to dicts
    was most of this loop's own cost; steps in the same UI state share one (read-only) list.
    """

    def __init__(self) -> None:
        self._controls: tuple[Control, ...] | None = None
        self._dicts: list[dict[str, str]] = []

    def __call__(self, obs: Observation) -> dict[str, Any]:
        if obs.controls is not self._controls:
            self._controls, self._dicts = obs.controls, [c.to_dict() for c in obs.controls]
        return {
            "title": obs.title,
            "controls": self._dicts,
            "document": obs.document,
            "selection": obs.selection,
            "error": obs.error,
        }


def run_episode(
    env: Env,
    policy: Policy,
    task: Task | InstantiatedTask,
    max_steps: int | None = None,
    seed: int | None = None,
    on_step: OnStep | None = None,
    trajectory_id: str | None = None,
) -> Trajectory:
    """Run ``policy`` on ``task`` in ``env`` until it terminates or is truncated.

    ``max_steps`` caps the episode below the environment's own limit (the outcome is then
    ``truncated`` with an unchecked, failed result); ``seed`` goes to ``env.reset``.
    ``Step.result`` is ``info["result"]`` of the step (e.g. what ``texts()`` read) and
    ``Step.error`` the next observation's error (the action was invalid) or the policy's own.
    """
    inst = task if isinstance(task, InstantiatedTask) else InstantiatedTask.from_env_task(task)
    env_task = inst.to_env_task()
    cap = max_steps if max_steps is not None else getattr(env, "max_steps", None) or DEFAULT_STEP_CAP

    to_dict = _ObservationDicts()
    start = perf_counter()
    obs, info = env.reset(env_task, seed=seed)
    policy.reset(env_task)
    steps: list[Step] = []
    terminated = truncated = False
    while not (terminated or truncated):
        if len(steps) >= cap:
            truncated = True
            info = {**info, "success": False, "check_reason": f"stopped after max_steps={cap} without FINISH"}
            break
        t0 = perf_counter()
        decision = policy.act(obs)
        latency = perf_counter() - t0
        action = decision.action
        next_obs, _reward, terminated, truncated, info = env.step(action)
        step = Step(
            index=len(steps),
            observation=to_dict(obs),
            thought=decision.thought,
            control_label=str(action.control_label),
            control_name=decision.control_name,
            function=action.function,
            args=dict(action.args),
            status=action.status,
            plan=list(decision.plan),
            result=info.get("result"),
            error=join_errors(decision.error, next_obs.error),
            raw_output=decision.raw_output,
            latency_s=latency,
        )
        steps.append(step)
        if on_step is not None:
            on_step(step, next_obs, info)
        obs = next_obs

    default_reason = (
        "terminated without a check" if terminated else "truncated at the environment's max_steps"
    )
    outcome = Outcome(
        success=bool(info.get("success", False)),
        reason=str(info.get("check_reason") or default_reason),
        terminated=bool(terminated),
        truncated=bool(truncated),
        steps=len(steps),
        invalid_actions=int(info.get("invalid_actions", sum(s.error is not None for s in steps))),
        duration_s=perf_counter() - start,
    )
    return Trajectory(
        trajectory_id=trajectory_id or f"{inst.task_id}-{policy.name}-{seed}",
        task=inst,
        steps=steps,
        outcome=outcome,
        actor=policy.name,
        seed=seed,
    )
