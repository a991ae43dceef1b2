"""Phase 3, self-boosting exploration (paper Sec. 4.3): LAM2 retries what the expert failed -> LAM3.

LAM2 acts in the environment on the train tasks the expert could not solve, a few sampled attempts
per task; the task's checker decides success. LAM3 continues from LAM2 and is fine-tuned on the
expert's successes plus LAM2's new ones (one trajectory per newly solved task). Every attempt is
kept (``lam2_exploration_trajectories``): the successes are training data here, and the attempts
are data for later analysis.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from pydantic import Field

from lam_kedro.agent.schema import InstantiatedTask, Trajectory
from lam_kedro.env.document import Document
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.config import Params
from lam_kedro.pipelines.trajectories.rollout import load_documents
from lam_kedro.training.exploration import (
    ExplorationParams,
    expert_failure_check,
    exploration_by_family,
    explore,
    first_successes,
    model_policy_factory,
    select_tasks,
    summarize_exploration,
)
from lam_kedro.training.params import RowSplit, SFTTrainingParams

logger = logging.getLogger(__name__)


class Phase3Exploration(ExplorationParams):
    """``phase3.exploration``: ``ExplorationParams`` plus how many expert-failed tasks are explored
    (defaults: ``conf/base/parameters_phase3.yml``)."""

    DECODE: ClassVar[dict[str, Any]] = {"constrained": True, "do_sample": True, "temperature": 0.8,
                                        "max_new_tokens": 96}

    max_tasks: int | None = Field(120, ge=0, description="expert-failed tasks explored (null: all)")
    attempts: int = Field(2, ge=1, description="sampled attempts per task")
    max_steps: int = Field(15, ge=1, description="episode step limit")


class Phase3Training(SFTTrainingParams):
    """``params:phase3.training`` (defaults: ``conf/base/parameters_phase3.yml``)."""

    seed: int = 0
    eval_fraction: float = Field(0.1, ge=0, lt=1)
    max_train_rows: int | None = Field(800, ge=0)
    max_eval_rows: int | None = Field(64, ge=0)


class Phase3Params(Params):
    """``params:phase3``."""

    exploration: Phase3Exploration = Field(default_factory=Phase3Exploration)
    training: Phase3Training


def explore_failed_tasks(
    lam2: ModelBundle,
    exploration_tasks: list[InstantiatedTask],
    templates: dict[str, Callable[[], Document]],
    params: dict[str, Any],
    world: dict[str, Any] | None = None,
) -> tuple[list[Trajectory], dict[str, Any]]:
    """Every LAM2 attempt at the expert-failed tasks (in ``world``, ``params:world``), and the headline
    numbers of the exploration.

    ``params`` (``phase3.exploration``, ``Phase3Exploration``): ``attempts``, ``max_tasks`` (null:
    all), ``max_steps``, ``seed``, ``stop_on_success`` and ``decode``, the ``DecodeConfig`` of
    ``model.policy.lam_policy`` (sampled within the action grammar by default).
    """
    p = Phase3Exploration.parse(params, "params:phase3.exploration")
    tasks = select_tasks(exploration_tasks, p.max_tasks, p.seed)
    make_policy = model_policy_factory(lam2, tasks, p.decode, name="lam2")
    greedy = (model_policy_factory(lam2, tasks, p.decode.model_copy(update={"do_sample": False}), name="lam2")
              if p.greedy_first else None)
    trajectories = explore(tasks, load_documents(templates), make_policy, attempts=p.attempts,
                           max_steps=p.max_steps, seed=p.seed, stop_on_success=p.stop_on_success,
                           desc="phase3 exploration", first_policy=greedy, world=world)
    summary = {**summarize_exploration(tasks, trajectories), "available_tasks": len(exploration_tasks)}
    logger.info("phase3: LAM2 solved %d of %d expert-failed tasks", summary["exploration_solved"],
                summary["exploration_tasks"])
    return trajectories, summary


def lam3_rows(train_trajectories: list[Trajectory], new: list[Trajectory], info: dict[str, Any],
              split: RowSplit) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Phase 3's (train, eval) rows: every step of the new successes ``new`` (what Phase 3 adds: a
    seeded sample of all rows would keep about 800 of 11,000, so a handful of them) plus a seeded
    sample of the expert's steps up to ``max_train_rows`` in all (the new steps are all kept even when
    they alone exceed it; no expert step is added then); the eval rows are the expert's."""
    from lam_kedro.model.formatting import step_rows, train_eval_split

    new_rows = step_rows(new, info)
    cap = split.max_train_rows
    train_rows, eval_rows = train_eval_split(step_rows(train_trajectories, info), split.eval_fraction, split.seed,
                                             None if cap is None else max(0, cap - len(new_rows)), split.max_eval_rows)
    return new_rows + train_rows, eval_rows


def train_lam3(
    lam2: ModelBundle,
    train_trajectories: list[Trajectory],
    lam2_exploration_trajectories: list[Trajectory],
    params: dict[str, Any],
    checkpoints: Path,
) -> tuple[ModelBundle, dict[str, list[dict[str, float]]]]:
    """LAM3: LAM2 fine-tuned on LAM2's first success on each new task (every step) plus the expert's
    successes (a seeded sample up to ``max_train_rows`` in all; eval rows are the expert's).

    ``params`` (``phase3.training``) is ``train_sft``'s block (``sft``, ``lora``, ...) plus
    ``eval_fraction``, ``max_train_rows``, ``max_eval_rows`` and ``seed`` for the row split.
    """
    from lam_kedro.training.sft import train_sft

    p = Phase3Training.parse(params, "params:phase3.training")
    new = first_successes(lam2_exploration_trajectories)
    train_rows, eval_rows = lam3_rows(train_trajectories, new, lam2.info, p)
    logger.info("phase3: %d expert + %d new successful trajectories -> %d train / %d eval rows",
                len(train_trajectories), len(new), len(train_rows), len(eval_rows))
    lam3, curves = train_sft(lam2, train_rows, eval_rows, p, generation="lam3", checkpoints=checkpoints)
    lam3.info["phase3"] = {"expert_trajectories": len(train_trajectories), "new_trajectories": len(new)}
    return lam3, curves


def report_phase3(summary: dict[str, Any], lam3: ModelBundle, lam2_exploration_trajectories: list[Trajectory],
                  expert_trajectories: list[Trajectory], train_trajectories: list[Trajectory]
                  ) -> tuple[dict[str, Any], dict[str, dict[str, float]], pd.DataFrame]:
    """Phase 3's report (JSON), its MLflow metrics (``phase3.exploration_solved``, ``phase3.sft.*``) and
    the exploration per task family (CSV: explored, expert_failed, solved, success_rate, attempts).

    The SFT part is ``training_report``'s, with the names every generation uses; the exploration
    numbers sit beside it, so one file says what LAM2 found and what LAM3 learned from it.
    ``expert_check`` verifies against the expert's own episodes that every explored task is one
    the expert failed (``expert_failure_check``), and says so with the count.
    """
    from lam_kedro.training.sft import training_report

    report, metrics = training_report(lam3)
    check = expert_failure_check((t.task.task_id for t in lam2_exploration_trajectories), expert_trajectories,
                                 train_trajectories)
    failed_ids = check.pop("expert_failed_ids")
    families = exploration_by_family(lam2_exploration_trajectories, failed_ids)
    if not check["all_expert_failures"]:
        logger.warning("phase3: %s", check["note"])
    report = {**summary, **report, "new_trajectories": lam3.info.get("phase3", {}).get("new_trajectories", 0),
              "explored_expert_failed": check["expert_failed"], "expert_check": check,
              "families": {r["family"]: {k: v for k, v in r.items() if k != "family"} for r in families}}
    keys = ("exploration_tasks", "exploration_solved", "exploration_success_rate", "attempts", "successful_attempts",
            "avg_steps", "invalid_rate")
    metrics = {**{k: {"value": float(summary[k]), "step": 0} for k in keys},
               "explored_expert_failed": {"value": float(check["expert_failed"]), "step": 0}, **metrics}
    columns = ["family", "explored", "expert_failed", "solved", "success_rate", "attempts", "successful_attempts"]
    return report, metrics, pd.DataFrame(families, columns=columns)
