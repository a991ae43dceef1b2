"""`kedro run --pipelines phase4`: offline PPO on LAM3's failed trajectories with the RM's step rewards -> LAM4."""

from lam_kedro.pipelines.phase4.pipeline import create_pipeline

__all__ = ["create_pipeline"]
