"""`kedro run --pipelines templates`: the .docx templates tasks are instantiated on."""

from lam_kedro.pipelines.templates.pipeline import create_pipeline

__all__ = ["create_pipeline"]
