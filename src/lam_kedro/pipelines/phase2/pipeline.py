"""Wiring of Phase 2: train LAM2, register it, report; LAM2 goes to a folder (DVC) and the registry."""

from kedro.pipeline import Pipeline, node

from lam_kedro.pipelines.phase2.nodes import report_phase2, train_lam2


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(train_lam2, ["lam1", "train_trajectories", "params:phase2.training", "lam2_checkpoints"],
                 ["lam2", "phase2_curves"], name="train_lam2", tags=["train"]),
            node(report_phase2, "lam2", ["phase2_report", "phase2_metrics"], name="report_phase2"),
        ]
    )
