"""`kedro run --pipelines phase2`: SFT on the expert's successful steps, from LAM1 -> LAM2."""

from lam_kedro.pipelines.phase2.pipeline import create_pipeline

__all__ = ["create_pipeline"]
