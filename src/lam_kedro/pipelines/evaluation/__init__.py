"""`kedro run --pipelines evaluation`: offline, planning and online evaluation of every LAM generation."""

from lam_kedro.pipelines.evaluation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
