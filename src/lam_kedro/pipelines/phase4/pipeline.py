"""Wiring of Phase 4: LAM3's rollouts -> step rows -> RM rewards -> offline PPO (or KTO) -> LAM4 -> registry."""

from kedro.pipeline import Pipeline, node

from lam_kedro.pipelines.phase4.nodes import report_phase4, score_steps, select_steps, train_lam4


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(select_steps, ["lam3_rollouts", "params:phase4"], "phase4_step_rows", name="select_phase4_steps"),
            node(score_steps, ["reward_model", "phase4_step_rows", "params:phase4"], "phase4_steps",
                 name="score_phase4_steps"),
            node(train_lam4, ["lam3", "phase4_steps", "params:phase4"], ["lam4", "phase4_curves"], name="train_lam4"),
            node(report_phase4, ["lam4", "phase4_steps"], ["phase4_report", "phase4_metrics"], name="report_phase4"),
        ]
    )
