"""`kedro run --pipelines env_check`: every task family solved by its script, and a random baseline."""

from lam_kedro.pipelines.env_check.pipeline import create_pipeline

__all__ = ["create_pipeline"]
