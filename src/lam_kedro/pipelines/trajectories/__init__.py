"""`kedro run --pipelines trajectories`: instantiate task plans, run the expert, keep what it solved."""

from lam_kedro.pipelines.trajectories.pipeline import create_pipeline

__all__ = ["create_pipeline"]
