"""Wiring of Phase 1: train LAM1, register it, report; LAM1 goes to a folder (DVC) and the registry."""

from kedro.pipeline import Pipeline, node

from lam_kedro.pipelines.phase1.nodes import report_phase1, train_lam1


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(train_lam1, ["base_model", "task_plans_train", "params:phase1.training", "lam1_checkpoints"],
                 ["lam1", "phase1_curves"], name="train_lam1", tags=["train"]),
            node(report_phase1, "lam1", ["phase1_report", "phase1_metrics"], name="report_phase1"),
        ]
    )
