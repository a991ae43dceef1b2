"""Phase 1 (paper Sec. 4.1): supervised fine-tuning task -> plan, from the base model -> LAM1."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import Field

from lam_kedro.agent.schema import TaskPlan
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.config import Params
from lam_kedro.training.params import SFTTrainingParams

logger = logging.getLogger(__name__)


class Phase1Training(SFTTrainingParams):
    """``params:phase1.training`` (defaults: ``conf/base/parameters_phase1.yml``)."""

    seed: int = 0
    eval_fraction: float = Field(0.05, ge=0, lt=1)
    max_train_rows: int | None = Field(None, ge=0)
    max_eval_rows: int | None = Field(128, ge=0)


class Phase1Params(Params):
    """``params:phase1``."""

    training: Phase1Training


def train_lam1(
    base_model: ModelBundle, task_plans_train: list[TaskPlan], params: dict[str, Any],
    checkpoints: Path,
) -> tuple[ModelBundle, dict[str, list[dict[str, float]]]]:
    """LAM1: the base model taught to write the numbered plan for a request (loss on the plan only).

    ``params`` (``phase1.training``) is ``train_sft``'s block (``sft``, ``lora``, ``resume``,
    ``keep_checkpoints``) plus ``eval_fraction``, ``max_train_rows``, ``max_eval_rows`` and
    ``seed`` for the row split. ``checkpoints`` (the catalog's ``lam1_checkpoints``) is the folder a
    killed run resumes from.
    """
    from lam_kedro.model.formatting import plan_rows, train_eval_split
    from lam_kedro.training.sft import train_sft

    p = Phase1Training.parse(params, "params:phase1.training")
    rows = plan_rows(task_plans_train, base_model.info)
    train_rows, eval_rows = train_eval_split(rows, p.eval_fraction, p.seed, p.max_train_rows, p.max_eval_rows)
    logger.info("phase1: %d task-plan pairs -> %d train / %d eval rows", len(rows), len(train_rows), len(eval_rows))
    return train_sft(base_model, train_rows, eval_rows, p, generation="lam1", checkpoints=checkpoints)


def report_phase1(lam1: ModelBundle) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Phase 1's report (JSON, a DVC metric) and its summary metrics (``phase1.sft.*``)."""
    from lam_kedro.training.sft import training_report

    return training_report(lam1)
