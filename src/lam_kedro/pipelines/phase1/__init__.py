"""`kedro run --pipelines phase1`: SFT task -> plan on the task-plan pairs, from the base model -> LAM1."""

from lam_kedro.pipelines.phase1.pipeline import create_pipeline

__all__ = ["create_pipeline"]
