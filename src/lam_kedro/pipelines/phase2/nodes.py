"""Phase 2 (paper Sec. 4.2): supervised fine-tuning on the expert's successful steps, from LAM1 -> LAM2."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import Field

from lam_kedro.agent.schema import Trajectory
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.config import Params
from lam_kedro.training.params import SFTTrainingParams

logger = logging.getLogger(__name__)


class Phase2Training(SFTTrainingParams):
    """``params:phase2.training`` (defaults: ``conf/base/parameters_phase2.yml``)."""

    seed: int = 0
    eval_fraction: float = Field(0.05, ge=0, lt=1)
    max_train_rows: int | None = Field(None, ge=0)
    max_eval_rows: int | None = Field(128, ge=0)


class Phase2Params(Params):
    """``params:phase2``."""

    training: Phase2Training


def train_lam2(
    lam1: ModelBundle, train_trajectories: list[Trajectory], params: dict[str, Any],
    checkpoints: Path,
) -> tuple[ModelBundle, dict[str, list[dict[str, float]]]]:
    """LAM2: LAM1 taught to act, one step sample (prompt -> action JSON) per expert step.

    The prompts are ``agent.prompt.step_examples``: the four slots of the paper's App. C, with
    the previous actions and plan as a served policy will see them (``history_slots``).
    ``params`` (``phase2.training``) is ``train_sft``'s block plus the row split's keys; ``checkpoints``
    (the catalog's ``lam2_checkpoints``) is the folder a killed run resumes from.
    """
    from lam_kedro.model.formatting import step_rows, train_eval_split
    from lam_kedro.training.sft import train_sft

    p = Phase2Training.parse(params, "params:phase2.training")
    rows = step_rows(train_trajectories, lam1.info)
    train_rows, eval_rows = train_eval_split(rows, p.eval_fraction, p.seed, p.max_train_rows, p.max_eval_rows)
    logger.info("phase2: %d trajectories, %d steps -> %d train / %d eval rows", len(train_trajectories), len(rows),
                len(train_rows), len(eval_rows))
    return train_sft(lam1, train_rows, eval_rows, p, generation="lam2", checkpoints=checkpoints)


def report_phase2(lam2: ModelBundle) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Phase 2's report (JSON, a DVC metric) and its summary metrics (``phase2.sft.*``)."""
    from lam_kedro.training.sft import training_report

    return training_report(lam2)
