"""Online evaluation: every actor (LAM generations, the expert, a random policy, an LLM endpoint) runs the
held-out tasks through ``run_episode`` in the simulated Word (or the world ``params:world`` names: LibreOffice
Writer); the task's checker alone decides success.

An actor is described by a picklable ``ActorSpec`` and built once inside each worker process
(``build_policy``); the episodes run in ``agent.rollout.rollout``, so a rollout runs the same in
a child process as in the parent and results keep task order: ``workers`` changes the speed,
never the data (latencies aside, which are measurements).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lam_kedro.agent.rollout import SharedPolicy, rollout
from lam_kedro.agent.schema import InstantiatedTask, Trajectory
from lam_kedro.agent.seeds import unit_hash
from lam_kedro.env.document import Document
from lam_kedro.env.worlds import WorldParams, make_world, world_params
from lam_kedro.model.policy import DecodeConfig, decode_config, lam_policy

__all__ = ["ONLINE_METRICS", "ActorSpec", "build_policy", "online_family_table", "online_metrics", "rollout_actor",
           "select_held_out", "task_coverage"]

#: Metric names, the same for every actor.
ONLINE_METRICS: tuple[str, ...] = (
    "task_success_rate",
    "avg_steps",
    "avg_steps_success",
    "completion_time_s",
    "step_latency_mean",
    "step_latency_p50",
    "step_latency_p95",
    "invalid_action_rate",
)

ACTOR_KINDS = ("lam", "expert", "random", "llm")


@dataclass(frozen=True)
class ActorSpec:
    """Who acts, as plain data: ``kind`` is ``lam`` (``load_bundle`` + ``decode``, a ``DecodeConfig`` or
    its mapping), ``expert`` (the plan-following expert), ``random`` (``seed``) or ``llm`` (``llm`` endpoint config)."""

    kind: str
    name: str
    load_bundle: Callable[[], Any] | None = None
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    seed: int = 0
    llm: Mapping[str, Any] = field(default_factory=dict)
    use_task_plan: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"actor {self.name!r}: kind must be one of {ACTOR_KINDS}, not {self.kind!r}")
        if self.kind == "lam" and self.load_bundle is None:
            raise ValueError(f"actor {self.name!r}: kind 'lam' needs load_bundle")
        object.__setattr__(self, "decode", decode_config(self.decode, f"actor {self.name}: decode"))


def build_policy(spec: ActorSpec, plans: Mapping[str, Sequence[str]], app: str = "word") -> Any:
    """The policy ``spec`` describes; ``plans`` maps task_id to the task's plan (the first
    ``<Previous Plans:>``, as in training, when ``use_task_plan``). A LAM is
    ``model.policy.lam_policy``, the policy Phase 3 explores with and serving answers with. In
    another ``app`` than Word (``writer``) the expert plays its family's recipe there."""
    from lam_kedro.agent.policies import RandomPolicy, ScriptedPolicy, TextPolicy

    def plan_for(task: Any) -> Sequence[str]:
        return plans.get(task.task_id, ()) if spec.use_task_plan else ()

    if spec.kind == "expert" and app != "word":
        return ScriptedPolicy(spec.name, app)
    if spec.kind == "expert":
        from lam_kedro.agent.expert import make_expert

        return make_expert({"kind": "plan", "name": spec.name}, plans)
    if spec.kind == "random":
        return RandomPolicy(seed=spec.seed, name=spec.name)
    if spec.kind == "llm":
        from lam_kedro.agent.llm_client import ChatClient, LLMConfig

        cfg = {k: v for k, v in spec.llm.items() if v is not None and k != "name"}
        client = ChatClient(LLMConfig(**{**cfg, "enabled": True}))
        return TextPolicy(client.complete, name=spec.name, plan_for=plan_for)
    bundle = spec.load_bundle()  # type: ignore[misc]
    return lam_policy(bundle, spec.decode, name=spec.name, plan_for=plan_for)


def _worker_policy(spec: ActorSpec, plans: Mapping[str, Sequence[str]], threads: int | None, app: str = "word"
                   ) -> Any:
    """``build_policy`` in a worker; a LAM shares the cores with the other workers (``threads``)
    instead of oversubscribing them."""
    if threads and spec.kind == "lam":
        import torch

        torch.set_num_threads(threads)
    return build_policy(spec, plans, app)


def rollout_actor(spec: ActorSpec, tasks: Sequence[InstantiatedTask], documents: dict[str, Document],
                  max_steps: int = 30, workers: int = 1, chunk_size: int = 8, progress: bool = True,
                  world: WorldParams | Mapping[str, Any] | None = None) -> list[Trajectory]:
    """One trajectory per task for ``spec``'s actor, in task order, in ``world`` (default: the simulated
    Word); ``workers`` > 1 fans out over processes."""
    plans = {t.task_id: list(t.plan) for t in tasks}
    used = {t.template for t in tasks}
    docs = {name: doc for name, doc in documents.items() if name in used}
    threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None
    w = world_params(world)
    return rollout(tasks, functools.partial(make_world, w.model_dump(), max_steps, docs),
                   SharedPolicy(functools.partial(_worker_policy, spec, plans, threads, w.backend)), seed=spec.seed,
                   max_steps=max_steps, workers=workers, chunk_size=chunk_size, desc=f"online {spec.name}",
                   progress=progress, postfix="success")


def online_metrics(trajectories: Sequence[Trajectory]) -> dict[str, float]:
    """Task success rate (the checker's verdict), steps, time per task, step latency, invalid actions.

    ``avg_steps`` counts every task; ``avg_steps_success`` only the solved ones (left out when none
    was solved: there is no such average, and 0 would read as "instant"). Latency is the
    policy's decision time per step (``Step.latency_s``), the part a model changes. An invalid
    action is a step with an error: output that did not parse, or an action the environment refused.
    """
    n = len(trajectories)
    if not n:
        return {"tasks": 0.0}
    steps = [t.outcome.steps for t in trajectories]
    ok = [t.outcome.steps for t in trajectories if t.outcome.success]
    latencies = [s.latency_s for t in trajectories for s in t.steps if s.latency_s is not None]
    invalid = sum(s.error is not None for t in trajectories for s in t.steps)
    metrics = {
        "task_success_rate": round(sum(t.outcome.success for t in trajectories) / n, 6),
        "avg_steps": round(float(np.mean(steps)), 4),
        "avg_steps_success": round(float(np.mean(ok)), 4) if ok else None,
        "completion_time_s": round(float(np.mean([t.outcome.duration_s for t in trajectories])), 6),
        "step_latency_mean": round(float(np.mean(latencies)), 6) if latencies else 0.0,
        "step_latency_p50": round(float(np.percentile(latencies, 50)), 6) if latencies else 0.0,
        "step_latency_p95": round(float(np.percentile(latencies, 95)), 6) if latencies else 0.0,
        "invalid_action_rate": round(invalid / max(1, sum(steps)), 6),
        "tasks": float(n),
    }
    return {k: v for k, v in metrics.items() if v is not None}  # no solved task: no steps-per-solve


def online_family_table(trajectories: Iterable[Trajectory]) -> list[dict[str, Any]]:
    """``[{family, actor, tasks, successes, success_rate, steps, invalid_action_rate}]``, by family then actor.

    ``invalid_action_rate`` is ``online_metrics``' (steps with an error / steps) within the family.
    """
    counts: dict[tuple[str, str], list[int]] = {}
    for t in trajectories:
        c = counts.setdefault((t.task.family or "", t.actor), [0, 0, 0, 0])
        c[0] += 1
        c[1] += int(t.outcome.success)
        c[2] += t.outcome.steps
        c[3] += sum(s.error is not None for s in t.steps)
    return [{"family": fam, "actor": actor, "tasks": n, "successes": s, "success_rate": round(s / n, 6),
             "steps": steps, "invalid_action_rate": round(bad / max(1, steps), 6)}
            for (fam, actor), (n, s, steps, bad) in sorted(counts.items())]


def select_held_out(tasks: Sequence[InstantiatedTask], max_tasks: int | None, selection: str = "stratified",
                    min_per_family: int = 1, seed: int = 0) -> list[InstantiatedTask]:
    """``max_tasks`` of ``tasks`` (all of them when ``None`` or enough), in their original order.

    ``first``: the first ``max_tasks``. ``stratified``: every family first (its ``min_per_family``
    seed-chosen tasks, or all it has), then the rest filled in one seeded order over all remaining
    tasks, so the fill keeps the families' proportions in expectation. When ``max_tasks`` is below
    families x ``min_per_family``, the families' first tasks are taken round by round in the seeded
    order and some families are left out (``task_coverage`` says which).
    """
    tasks = list(tasks)
    if max_tasks is None or max_tasks >= len(tasks):
        return tasks
    if selection == "first":
        return tasks[:max_tasks]
    if selection != "stratified":
        raise ValueError(f"online.selection must be 'stratified' or 'first', not {selection!r}")
    order = sorted(range(len(tasks)), key=lambda i: unit_hash(seed, "online", tasks[i].task_id))
    rank: dict[int, int] = {}
    seen: dict[str, int] = {}
    for i in order:
        fam = tasks[i].family or ""
        rank[i] = seen.get(fam, 0)
        seen[fam] = rank[i] + 1
    # (round, seeded position): round r < min_per_family holds each family's r-th task; the fill is one round
    position = {i: k for k, i in enumerate(order)}
    key = {i: (min(rank[i], min_per_family), position[i]) for i in order}
    chosen = set(sorted(order, key=key.__getitem__)[:max_tasks])
    return [t for i, t in enumerate(tasks) if i in chosen]


def task_coverage(selected: Sequence[InstantiatedTask], available: Sequence[InstantiatedTask],
                  selection: str) -> dict[str, Any]:
    """How the evaluated tasks cover the held-out set: counts, families, and the families left out."""
    families = sorted({t.family or "" for t in available})
    covered = {t.family or "" for t in selected}
    return {"tasks": len(selected), "held_out_tasks": len(available), "families": len(covered),
            "held_out_families": len(families), "missing_families": [f for f in families if f not in covered],
            "selection": selection if len(selected) < len(available) else "all"}
