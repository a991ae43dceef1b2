"""`kedro run --pipelines task_plans`: the task-plan half of data collection (paper Sec. 3.1)."""

from lam_kedro.pipelines.task_plans.pipeline import create_pipeline

__all__ = ["create_pipeline"]
