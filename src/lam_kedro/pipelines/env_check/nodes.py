"""Check the environment end to end: sample tasks over the templates, roll out, summarise.

The scripted policy must solve every task (a failure is a bug in a family or the UI, and the
report names it); the random policy is the floor every trained LAM must clear.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from pydantic import Field
from tqdm.auto import tqdm

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import RandomPolicy, ScriptedPolicy
from lam_kedro.agent.schema import Trajectory
from lam_kedro.env import WordEnv, families
from lam_kedro.env.document import Document
from lam_kedro.env.tasks.registry import make_task
from lam_kedro.env.types import Task
from lam_kedro.model.config import Params


class EnvCheckParams(Params):
    """``params:env_check`` (defaults: ``conf/base/parameters_env_check.yml``)."""

    templates_per_family: int = Field(3, ge=1, description="tasks per family, each on a different suitable template")
    max_steps: int = Field(30, ge=1, description="the episode's step limit (truncation)")
    seed: int = 0


def make_env_tasks(
    templates: dict[str, Callable[[], Document]], template_index: list[dict[str, Any]], params: dict[str, Any]
) -> list[Task]:
    """Up to ``templates_per_family`` tasks per family, each on a different template that suits it."""
    p = EnvCheckParams.parse(params, "params:env_check")
    docs = {row["name"]: templates[row["name"]]() for row in template_index}
    tasks: list[Task] = []
    for i, (_, family) in enumerate(sorted(families().items())):
        made = 0
        for j, (template_name, doc) in enumerate(docs.items()):
            if made >= p.templates_per_family:
                break
            task = make_task(family, template_name, doc, seed=p.seed + 1000 * i + j)
            if task is not None:
                tasks.append(task)
                made += 1
    return tasks


def _rollouts(
    tasks: list[Task], templates: dict[str, Callable[[], Document]], make_policy: Callable[[], Any], max_steps: int
) -> list[Trajectory]:
    env = WordEnv(max_steps=max_steps, templates={name: load() for name, load in templates.items()})
    policy = make_policy()
    return [
        run_episode(env, policy, task, seed=k)
        for k, task in enumerate(tqdm(tasks, desc=f"{policy.name} rollouts", unit="task"))
    ]


def rollout_scripted(tasks: list[Task], templates: dict[str, Callable[[], Document]], params: dict[str, Any]):
    return _rollouts(tasks, templates, ScriptedPolicy, EnvCheckParams.parse(params, "params:env_check").max_steps)


def rollout_random(tasks: list[Task], templates: dict[str, Callable[[], Document]], params: dict[str, Any]):
    p = EnvCheckParams.parse(params, "params:env_check")
    return _rollouts(tasks, templates, lambda: RandomPolicy(seed=p.seed), p.max_steps)


def summarize_rollouts(
    scripted: list[Trajectory], random: list[Trajectory]
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]], pd.DataFrame]:
    """Headline metrics (for MLflow, and as a JSON file for `dvc metrics show`) and per-family success."""
    rows = []
    for actor, trajs in (("scripted", scripted), ("random", random)):
        for t in trajs:
            rows.append(
                {
                    "actor": actor,
                    "family": t.task.family,
                    "success": t.outcome.success,
                    "steps": t.outcome.steps,
                    "invalid_actions": t.outcome.invalid_actions,
                }
            )
    frame = pd.DataFrame(rows)
    table = (
        frame.pivot_table(index="family", columns="actor", values=["success", "steps"], aggfunc="mean")
        .round(3)
        .reset_index()
    )
    table.columns = ["_".join(c for c in col if c) for col in table.columns]
    summary: dict[str, dict[str, float]] = {}
    for actor, group in frame.groupby("actor"):
        summary[str(actor)] = {
            "tasks": int(len(group)),
            "success_rate": round(float(group["success"].mean()), 4),
            "avg_steps": round(float(group["steps"].mean()), 3),
            "invalid_rate": round(float(group["invalid_actions"].sum() / max(1, group["steps"].sum())), 4),
        }
    metrics = {
        f"{actor}.{name}": {"value": float(value), "step": 0}
        for actor, values in summary.items()
        for name, value in values.items()
    }
    return metrics, summary, table
