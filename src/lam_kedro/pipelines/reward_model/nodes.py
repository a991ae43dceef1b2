"""The reward model (paper Sec. 4.4): LAM3 rollouts, +1 / -1 step labels, LoRA on LAM3 with a scalar head.

LAM3 acts on a configured task set (the expert-failed tasks and a sample of train tasks); its
rollouts, successes and failures alike, are ``lam3_rollouts``, which Phase 4 also reads (its
failed trajectories are Phase 4's data). The reward data is every step of the expert's successes
and of LAM3's rollouts, labelled by the checker's verdict on the whole trajectory. Held-out tasks
measure whether the score's sign and ranking separate success from failure steps.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any, ClassVar

import pandas as pd
from pydantic import Field

from lam_kedro.agent.schema import InstantiatedTask, Trajectory
from lam_kedro.agent.seeds import unit_hash
from lam_kedro.env.document import Document
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.config import Params
from lam_kedro.pipelines.trajectories.rollout import load_documents
from lam_kedro.training.exploration import (
    ExplorationParams,
    explore,
    model_policy_factory,
    select_tasks,
    summarize_exploration,
)
from lam_kedro.training.params import RewardTrainingParams
from lam_kedro.training.reward import reward_rows, source_heldout_metrics, train_reward_model

logger = logging.getLogger(__name__)


class RolloutParams(ExplorationParams):
    """``reward_model.rollouts``: ``ExplorationParams`` (one attempt per task, all kept by default)
    plus the task set: up to ``exploration_tasks`` expert-failed tasks and ``train_tasks`` solved ones
    (defaults: ``conf/base/parameters_reward_model.yml``)."""

    DECODE: ClassVar[dict[str, Any]] = {"constrained": True, "do_sample": True, "temperature": 0.8,
                                        "max_new_tokens": 96}

    attempts: int = Field(1, ge=1)
    stop_on_success: bool = False
    max_steps: int = Field(15, ge=1, description="episode step limit")
    exploration_tasks: int | None = Field(40, ge=0, description="expert-failed tasks (null: all)")
    train_tasks: int | None = Field(400, ge=0, description="train tasks the expert solved, seed-chosen (null: all)")


class RewardData(Params):
    """``reward_model.data``: which expert successes join LAM3's rollouts as +1 examples."""

    seed: int = 0
    max_expert_trajectories: int | None = Field(0, ge=0, description="expert successes from train_trajectories "
                                                                     "(null: all; 0: LAM3's own rollouts only)")


class RewardModelParams(Params):
    """``params:reward_model``."""

    rollouts: RolloutParams = Field(default_factory=RolloutParams)
    data: RewardData = Field(default_factory=RewardData)
    training: RewardTrainingParams = Field(default_factory=RewardTrainingParams)


def rollout_task_set(exploration_tasks: list[InstantiatedTask], train_trajectories: list[Trajectory],
                     params: dict[str, Any] | RolloutParams) -> list[InstantiatedTask]:
    """The tasks LAM3 is run on: up to ``exploration_tasks`` expert-failed tasks plus up to
    ``train_tasks`` tasks the expert solved (seed-chosen), each task once."""
    p = RolloutParams.parse(params, "params:reward_model.rollouts")
    failed = select_tasks(exploration_tasks, p.exploration_tasks, p.seed)
    solved = select_tasks([t.task for t in train_trajectories], p.train_tasks, p.seed)
    seen: set[str] = set()
    out = []
    for task in [*failed, *solved]:
        if task.task_id not in seen:
            seen.add(task.task_id)
            out.append(task)
    return out


def collect_lam3_rollouts(
    lam3: ModelBundle,
    exploration_tasks: list[InstantiatedTask],
    train_trajectories: list[Trajectory],
    templates: dict[str, Callable[[], Document]],
    params: dict[str, Any],
    world: dict[str, Any] | None = None,
) -> tuple[list[Trajectory], dict[str, Any]]:
    """LAM3's rollouts on the task set (``params``: ``reward_model.rollouts``, ``RolloutParams``) and
    their summary; LAM3 acts through ``model.policy.lam_policy`` with the block's ``decode``, in
    ``world`` (``params:world``)."""
    p = RolloutParams.parse(params, "params:reward_model.rollouts")
    tasks = rollout_task_set(exploration_tasks, train_trajectories, p)
    make_policy = model_policy_factory(lam3, tasks, p.decode, name="lam3")
    greedy = (model_policy_factory(lam3, tasks, p.decode.model_copy(update={"do_sample": False}), name="lam3")
              if p.greedy_first else None)
    trajectories = explore(tasks, load_documents(templates), make_policy, attempts=p.attempts,
                           max_steps=p.max_steps, seed=p.seed, stop_on_success=p.stop_on_success,
                           desc="lam3 rollouts", first_policy=greedy, world=world)
    s = summarize_exploration(tasks, trajectories)
    summary = {"tasks": s["exploration_tasks"], "tasks_solved": s["exploration_solved"],
               "task_success_rate": s["exploration_success_rate"], "trajectories": s["attempts"],
               "successes": s["successful_attempts"], "failures": s["attempts"] - s["successful_attempts"],
               "avg_steps": s["avg_steps"], "invalid_rate": s["invalid_rate"]}
    logger.info("reward_model: LAM3 solved %d of %d tasks (%d failed trajectories)", summary["tasks_solved"],
                summary["tasks"], summary["failures"])
    return trajectories, summary


def build_reward_examples(train_trajectories: list[Trajectory], lam3_rollouts: list[Trajectory],
                          params: dict[str, Any]) -> list[dict[str, Any]]:
    """Step rows labelled +1 (a step of a success) or -1 (of a failure): the expert's successes
    (at most ``max_expert_trajectories``, seed-chosen) and every LAM3 rollout."""
    p = RewardData.parse(params, "params:reward_model.data")
    seed, cap = p.seed, p.max_expert_trajectories
    expert = list(train_trajectories)
    if cap is not None and len(expert) > cap:
        expert = sorted(expert, key=lambda t: unit_hash(seed, "expert", t.trajectory_id))[:cap]
    rows = reward_rows(expert, "expert") + reward_rows(lam3_rollouts, "lam3")
    if not rows:
        raise ValueError("no reward-model rows: train_trajectories and lam3_rollouts are both empty")
    return rows


def train_reward(lam3: ModelBundle, reward_examples: list[dict[str, Any]], rollout_summary: dict[str, Any],
                 params: dict[str, Any]) -> tuple[ModelBundle, dict[str, Any], pd.DataFrame, dict[str, Any]]:
    """Train the reward model; return ``(model, MLflow metrics, per-step table, report)``.

    The per-step table has every row's split and, for held-out rows, its score; the report is
    the headline JSON (held-out accuracy and AUC, data sizes, LAM3's rollout numbers).
    """
    bundle, log, metrics, scored = train_reward_model(lam3, reward_examples, params)
    held = {(r["trajectory_id"], r["step"]): r["score"] for r in scored}
    table = pd.DataFrame([{"task_id": r["task_id"], "trajectory_id": r["trajectory_id"], "step": r["step"],
                           "source": r["source"], "label": r["label"],
                           "split": "heldout" if (r["trajectory_id"], r["step"]) in held else "train",
                           "score": held.get((r["trajectory_id"], r["step"]))} for r in reward_examples],
                         columns=["task_id", "trajectory_id", "step", "source", "label", "split", "score"])
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}
    own = source_heldout_metrics(scored, "lam3")
    logger.info("reward_model on LAM3's own held-out rollouts: accuracy %s, AUC %s per step, AUC %s per "
                "trajectory (%s)", own["accuracy"], own["auc"], own.get("trajectory_auc"), own["note"])
    report = {**clean, "lam3_heldout_accuracy": own["accuracy"], "lam3_heldout_auc": own["auc"],
              "lam3_heldout_trajectory_auc": own.get("trajectory_auc"), "lam3_heldout": own,
              "rows": len(reward_examples), "lam3_rollouts": rollout_summary,
              "lora": bundle.info.get("lora"), "merged_lora": True}
    mlflow_metrics: dict[str, Any] = {k: {"value": float(v), "step": 0} for k, v in clean.items() if v is not None}
    mlflow_metrics.update({f"lam3_heldout_{k}": {"value": float(own[k]), "step": 0}
                           for k in ("accuracy", "auc", "trajectory_accuracy", "trajectory_auc")
                           if own.get(k) is not None})
    mlflow_metrics.update({f"lam3_rollouts.{k}": {"value": float(v), "step": 0} for k, v in rollout_summary.items()})
    curve = [{"step": int(e["step"]), "value": float(e["loss"])} for e in log if "loss" in e and "step" in e]
    if curve:
        mlflow_metrics["loss"] = curve
    return bundle, mlflow_metrics, table, report
