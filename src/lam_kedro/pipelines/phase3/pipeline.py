"""Wiring of Phase 3: explore with LAM2, train LAM3, report; LAM3 goes to a folder and the registry."""

from kedro.pipeline import Pipeline, node

from lam_kedro.pipelines.phase3.nodes import explore_failed_tasks, report_phase3, train_lam3


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                explore_failed_tasks,
                ["lam2", "exploration_tasks", "templates", "params:phase3.exploration", "params:world"],
                ["lam2_exploration_trajectories", "phase3_exploration_summary"],
                name="explore_failed_tasks",
            ),
            node(
                train_lam3,
                ["lam2", "train_trajectories", "lam2_exploration_trajectories", "params:phase3.training",
                 "lam3_checkpoints"],
                ["lam3", "phase3_curves"],
                name="train_lam3",
            ),
            node(
                report_phase3,
                ["phase3_exploration_summary", "lam3", "lam2_exploration_trajectories", "expert_trajectories",
                 "train_trajectories"],
                ["phase3_report", "phase3_metrics", "phase3_families"],
                name="report_phase3",
            ),
        ]
    )
