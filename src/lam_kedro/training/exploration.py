"""Self-boosting exploration (paper Sec. 4.3): a policy retries tasks and the checker keeps what worked.

Phase 3 lets LAM2 act on the train tasks the expert failed, several sampled attempts per task;
the environment's checker (never the agent) decides success, and every attempt is kept as a
trajectory. The reward-model pipeline collects LAM3's rollouts with the same function. Each
attempt gets its own seed derived from ``(seed, task_id, attempt)``, and the policy is built
fresh from that seed, so an attempt's result does not depend on which tasks ran before it or
how the task list is ordered.

The model's policy is ``model.policy.lam_policy``, the one evaluation and serving build, from
the ``decode`` block of ``ExplorationParams``: by default it samples (``do_sample: true``) within
the action grammar, so every attempt is a valid action sequence and differs from the greedy
policy that evaluation measures only by the sampling.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lam_kedro.agent.policies import Policy
from lam_kedro.agent.rollout import PolicyFactory, attempt_seed, rollout
from lam_kedro.agent.schema import InstantiatedTask, Trajectory
from lam_kedro.agent.seeds import unit_hash
from lam_kedro.env.document import Document
from lam_kedro.env.worlds import make_world
from lam_kedro.model.config import config_errors
from lam_kedro.model.policy import DecodeConfig, decode_config, lam_policy

__all__ = [
    "ExplorationParams",
    "PolicyFactory",
    "attempt_seed",
    "explore",
    "exploration_by_family",
    "expert_failure_check",
    "model_policy_factory",
    "first_successes",
    "select_tasks",
    "solved_task_ids",
    "summarize_exploration",
]

logger = logging.getLogger(__name__)



def select_tasks(tasks: Sequence[InstantiatedTask], max_tasks: int | None, seed: int) -> list[InstantiatedTask]:
    """All ``tasks``, or a fixed seed-chosen ``max_tasks`` of them (in their original order).

    Tasks without a family have no checker, so they cannot be explored and are left out.
    """
    runnable = [t for t in tasks if t.family]
    if max_tasks is None or max_tasks >= len(runnable):
        return runnable
    chosen = set(sorted(range(len(runnable)), key=lambda i: unit_hash(seed, runnable[i].task_id))[: max(0, max_tasks)])
    return [t for i, t in enumerate(runnable) if i in chosen]


class ExplorationParams(BaseModel):
    """An exploration's config block (``phase3.exploration``, ``reward_model.rollouts``); unknown keys fail.

    ``decode`` is a ``model.policy.DecodeConfig``; when it leaves ``do_sample`` out, exploration
    samples (``do_sample: true``), within the action grammar unless ``constrained: false``.
    """

    model_config = ConfigDict(extra="forbid")

    #: What ``decode`` holds when the block leaves a key out (a subclass sets its ``conf/base`` values).
    DECODE: ClassVar[dict[str, Any]] = {"do_sample": True}

    seed: int = Field(0, description="task choice and the attempts' seeds")
    attempts: int = Field(3, ge=1, description="attempts per task")
    stop_on_success: bool = Field(True, description="a task stops at its first success")
    max_steps: int = Field(30, ge=1, description="episode step limit")
    greedy_first: bool = Field(False, description="each task's first attempt decodes greedily (as evaluation "
                                                  "does), the later ones sample as `decode` says")
    decode: DecodeConfig = Field(default_factory=DecodeConfig)

    @model_validator(mode="before")
    @classmethod
    def _decode_defaults(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not isinstance(data.get("decode"), DecodeConfig):
            return {**data, "decode": {**cls.DECODE, **(data.get("decode") or {})}}
        return data

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None, where: str) -> ExplorationParams:
        """``raw`` validated; the error names ``where`` and each bad key (sampling keys belong in ``decode``)."""
        if isinstance(raw, cls):
            return raw
        raw = dict(raw or {})
        if isinstance(raw.get("decode"), Mapping) or raw.get("decode") is None:
            raw["decode"] = decode_config({**cls.DECODE, **(raw.get("decode") or {})}, f"{where}.decode")
        try:
            return cls.model_validate(raw)
        except ValidationError as err:
            def unknown(key: str) -> str:
                return "unknown key: move it into the `decode` block" if key in DecodeConfig.model_fields else \
                    "unknown key"

            raise ValueError(f"invalid exploration config: {config_errors(err, where, unknown)}") from err


def model_policy_factory(bundle: Any, tasks: Sequence[InstantiatedTask],
                         decode: DecodeConfig | Mapping[str, Any] | None = None,
                         name: str | None = None) -> PolicyFactory:
    """``seed -> lam_policy(bundle, decode, name, plan_for, seed)``: the LAM as evaluation and serving build it.

    Each attempt's decoder is seeded with the attempt's seed (replacing ``decode.seed``). The policy
    starts from the task's plan (the ``<Previous Plans:>`` slot), as Phase 2 examples and the
    online evaluation do.
    """
    plans = {t.task_id: list(t.plan) for t in tasks}
    cfg = decode_config(decode)

    def make(seed: int) -> Policy:
        return lam_policy(bundle, cfg, name=name, plan_for=lambda task: plans.get(task.task_id, []), seed=seed)

    return make


def explore(
    tasks: Sequence[InstantiatedTask],
    documents: dict[str, Document],
    make_policy: PolicyFactory,
    attempts: int = 3,
    max_steps: int = 30,
    seed: int = 0,
    stop_on_success: bool = True,
    desc: str = "exploration",
    first_policy: PolicyFactory | None = None,
    world: Mapping[str, Any] | None = None,
) -> list[Trajectory]:
    """Up to ``attempts`` episodes per task; with ``stop_on_success`` a task stops at its first success.

    ``first_policy`` (when given) makes each task's first attempt (``greedy_first``: the greedy LAM),
    ``make_policy`` the others. ``world`` (``params:world``) is where the episodes run (default: the
    simulated Word).

    Returns every attempt (successes and failures) in task order, then attempt order. The
    trajectory id is ``<task_id>-<actor>-a<attempt>`` and ``Trajectory.seed`` is the attempt's seed,
    so any single attempt can be replayed on its own.
    """
    out = rollout(tasks, functools.partial(make_world, world, max_steps, documents), make_policy,
                  first_policy=first_policy, seed=seed, seed_per_attempt=True, attempts=attempts,
                  stop_on_success=stop_on_success, max_steps=max_steps, trajectory_id="{task_id}-{actor}-a{attempt}",
                  chunk_size=1, desc=desc, postfix="solved")
    logger.info("%s: %d attempts on %d tasks, %d tasks solved", desc, len(out), len(tasks),
                len(solved_task_ids(out)))
    return out


def solved_task_ids(trajectories: Iterable[Trajectory]) -> set[str]:
    """Ids of the tasks that at least one trajectory solved (as the checker judged it)."""
    return {t.task.task_id for t in trajectories if t.outcome.success}


def first_successes(trajectories: Iterable[Trajectory]) -> list[Trajectory]:
    """One successful trajectory per solved task (its first success), in the input order.

    Phase 3 trains on these: several successes of one task would weigh it more than the others.
    """
    seen: set[str] = set()
    out = []
    for t in trajectories:
        if t.outcome.success and t.task.task_id not in seen:
            seen.add(t.task.task_id)
            out.append(t)
    return out


def summarize_exploration(tasks: Sequence[InstantiatedTask], trajectories: Sequence[Trajectory]) -> dict[str, Any]:
    """Headline numbers of an exploration run (the paper's "496 of 2,284 tasks" line)."""
    solved = solved_task_ids(trajectories)
    n = len(tasks)
    steps = [t.outcome.steps for t in trajectories]
    return {
        "exploration_tasks": n,
        "exploration_solved": len(solved),
        "exploration_success_rate": round(len(solved) / n, 4) if n else 0.0,
        "attempts": len(trajectories),
        "successful_attempts": sum(t.outcome.success for t in trajectories),
        "avg_steps": round(sum(steps) / len(steps), 3) if steps else 0.0,
        "invalid_rate": round(sum(t.outcome.invalid_actions for t in trajectories) / max(1, sum(steps)), 4),
    }


def exploration_by_family(trajectories: Iterable[Trajectory],
                          expert_failed: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Per task family: tasks explored, how many of them the expert failed (``expert_failed``: task
    ids), tasks solved (at least one successful attempt), the success rate, attempts; by family."""
    failed = set(expert_failed) if expert_failed is not None else None
    fams: dict[str, dict[str, Any]] = {}
    for t in trajectories:
        f = fams.setdefault(t.task.family or "", {"tasks": set(), "solved": set(), "attempts": 0, "successes": 0})
        f["tasks"].add(t.task.task_id)
        f["attempts"] += 1
        if t.outcome.success:
            f["solved"].add(t.task.task_id)
            f["successes"] += 1
    rows = []
    for fam, f in sorted(fams.items()):
        n = len(f["tasks"])
        row = {"family": fam, "explored": n, "solved": len(f["solved"]),
               "success_rate": round(len(f["solved"]) / n, 4), "attempts": f["attempts"],
               "successful_attempts": f["successes"]}
        if failed is not None:
            row["expert_failed"] = len(f["tasks"] & failed)
        rows.append(row)
    return rows


def expert_failure_check(explored_task_ids: Iterable[str], expert_trajectories: Iterable[Trajectory],
                         expert_successes: Iterable[Trajectory]) -> dict[str, Any]:
    """Whether every explored task is one the expert failed, with the counts that show it.

    The expert failed a task when it ran it (``expert_trajectories``: every expert episode) and no
    episode of that task is among its accepted successes (``expert_successes``, i.e.
    ``train_trajectories``: the checker's, and the optional LLM judge's, yes).
    """
    explored = sorted(set(explored_task_ids))
    ran = {t.task.task_id for t in expert_trajectories}
    solved = {t.task.task_id for t in expert_successes}
    failed = [i for i in explored if i in ran and i not in solved]
    by_expert = [i for i in explored if i in solved]
    not_run = [i for i in explored if i not in ran and i not in solved]
    ok = len(failed) == len(explored)
    if ok:
        note = f"all {len(explored)} explored tasks are expert failures (the expert ran each and failed it)"
    else:
        note = (f"only {len(failed)} of {len(explored)} explored tasks are expert failures: "
                f"{len(by_expert)} the expert solved, {len(not_run)} it never ran")
    return {"explored": len(explored), "expert_failed": len(failed), "expert_solved": by_expert,
            "expert_not_run": not_run, "all_expert_failures": ok, "note": note, "expert_failed_ids": failed}
