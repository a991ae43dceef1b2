"""Wiring of the env_check pipeline."""

from kedro.pipeline import Pipeline, node

from lam_kedro.pipelines.env_check.nodes import (
    make_env_tasks,
    rollout_random,
    rollout_scripted,
    summarize_rollouts,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                make_env_tasks,
                ["templates", "template_index", "params:env_check"],
                "env_check_tasks",
                name="make_env_tasks",
            ),
            node(
                rollout_scripted,
                ["env_check_tasks", "templates", "params:env_check"],
                "env_check_scripted_trajectories",
                name="rollout_scripted",
            ),
            node(
                rollout_random,
                ["env_check_tasks", "templates", "params:env_check"],
                "env_check_random_trajectories",
                name="rollout_random",
            ),
            node(
                summarize_rollouts,
                ["env_check_scripted_trajectories", "env_check_random_trajectories"],
                ["env_check_metrics", "env_check_summary", "env_check_report"],
                name="summarize_rollouts",
            ),
        ]
    )
