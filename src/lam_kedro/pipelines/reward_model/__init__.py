"""`kedro run --pipelines reward_model`: LAM3 rollouts, step labels +1 / -1, a LoRA scalar-head reward model."""

from lam_kedro.pipelines.reward_model.pipeline import create_pipeline

__all__ = ["create_pipeline"]
