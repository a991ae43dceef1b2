"""Wiring of the base_model pipeline: build or convert the base, then describe it."""

from kedro.pipeline import Pipeline, node

from lam_kedro.pipelines.base_model.nodes import build_base_model, describe_base_model


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                build_base_model,
                ["task_plans_train", "train_trajectories", "params:base_model"],
                "base_model",
                name="build_base_model",
            ),
            node(
                describe_base_model,
                ["base_model", "train_trajectories", "params:base_model"],
                "base_model_summary",
                name="describe_base_model",
            ),
        ]
    )
