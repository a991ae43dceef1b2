"""Phase 2 (paper Sec. 4.2): supervised fine-tuning on the expert's successful steps, from LAM1 -> LAM2."""

from __future__ import annotations

import logging
from typing import Any

from lam_kedro.agent.schema import Trajectory
from lam_kedro.model.bundle import ModelBundle

logger = logging.getLogger(__name__)


def train_lam2(
    lam1: ModelBundle, train_trajectories: list[Trajectory], params: dict[str, Any]
) -> tuple[ModelBundle, dict[str, list[dict[str, float]]]]:
    """LAM2: LAM1 taught to act, one step sample (prompt -> action JSON) per expert step.

    The prompts are ``agent.prompt.step_examples``: the four slots of the paper's App. C, with
    the previous actions and plan as a served policy will see them (``history_slots``).
    ``params`` (``phase2.training``) is ``train_sft``'s block plus the row split's keys.
    """
    from lam_kedro.model.formatting import step_rows, train_eval_split
    from lam_kedro.training.sft import train_sft

    rows = step_rows(train_trajectories, lam1.info)
    train_rows, eval_rows = train_eval_split(rows, float(params.get("eval_fraction", 0.05)), int(params.get("seed", 0)),
                                             params.get("max_train_rows"), params.get("max_eval_rows"))
    logger.info("phase2: %d trajectories, %d steps -> %d train / %d eval rows", len(train_trajectories), len(rows),
                len(train_rows), len(eval_rows))
    return train_sft(lam1, train_rows, eval_rows, params, generation="lam2")


def report_phase2(lam2: ModelBundle) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Phase 2's report (JSON, a DVC metric) and its summary metrics (``phase2.sft.*``)."""
    from lam_kedro.training.sft import training_report

    return training_report(lam2)
