"""`kedro run --pipelines phase3`: LAM2 explores the tasks the expert failed; SFT on all successes -> LAM3."""

from lam_kedro.pipelines.phase3.pipeline import create_pipeline

__all__ = ["create_pipeline"]
