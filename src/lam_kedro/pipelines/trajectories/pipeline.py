"""Wiring of the trajectories pipeline (the task-action half of data collection)."""

from kedro.pipeline import Pipeline, node

from lam_kedro.pipelines.trajectories.nodes import (
    instantiate_tasks,
    run_expert,
    split_trajectories,
    summarize_trajectories,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                instantiate_tasks,
                ["task_plans_train", "task_plans_test", "templates", "template_index", "params:trajectories",
                 "params:world"],
                ["instantiated_tasks", "trajectory_splits", "instantiation_quarantine"],
                name="instantiate_tasks",
            ),
            node(
                run_expert,
                ["instantiated_tasks", "templates", "params:trajectories", "params:world"],
                "expert_trajectories",
                name="run_expert",
            ),
            node(
                split_trajectories,
                ["expert_trajectories", "trajectory_splits", "params:trajectories"],
                ["train_trajectories", "test_trajectories", "exploration_tasks"],
                name="split_trajectories",
            ),
            node(
                summarize_trajectories,
                ["expert_trajectories", "trajectory_splits", "instantiation_quarantine"],
                ["trajectories_stats", "trajectories_family_stats", "trajectories_metrics", "trajectories_plot"],
                name="summarize_trajectories",
            ),
        ]
    )
