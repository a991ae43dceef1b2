"""Wiring of the reward model: LAM3 rollouts -> labelled steps -> LoRA scalar head on LAM3 -> registry."""

from kedro.pipeline import Pipeline, node

from lam_kedro.pipelines.reward_model.nodes import build_reward_examples, collect_lam3_rollouts, train_reward


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                collect_lam3_rollouts,
                ["lam3", "exploration_tasks", "train_trajectories", "templates", "params:reward_model.rollouts",
                 "params:world"],
                ["lam3_rollouts", "lam3_rollouts_summary"],
                name="collect_lam3_rollouts",
            ),
            node(
                build_reward_examples,
                ["train_trajectories", "lam3_rollouts", "params:reward_model.data"],
                "reward_examples",
                name="build_reward_examples",
            ),
            node(
                train_reward,
                ["lam3", "reward_examples", "lam3_rollouts_summary", "params:reward_model.training"],
                ["reward_model", "reward_model_metrics", "reward_model_steps", "reward_model_report"],
                name="train_reward_model",
            ),
        ]
    )
