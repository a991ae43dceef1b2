"""`kedro run --pipelines base_model`: the model every LAM generation starts from (tiny, SmolLM2, any HF folder)."""

from lam_kedro.pipelines.base_model.pipeline import create_pipeline

__all__ = ["create_pipeline"]
