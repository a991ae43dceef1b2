"""Kedro datasets of our own: JSONL of schema objects, .docx folders, model and checkpoint folders, the MLflow
registry (a model folder registered as it is saved)."""

from lam_kedro.datasets.checkpoints import CheckpointsDataset
from lam_kedro.datasets.docx_folder import DocxFolderDataset
from lam_kedro.datasets.hf_model import HFModelDataset
from lam_kedro.datasets.jsonl import JSONLDataset
from lam_kedro.datasets.mlflow_alias import MlflowAliasDataset, MlflowGenerationMetricsDataset
from lam_kedro.datasets.mlflow_registry import MlflowRegisteredModelDataset

__all__ = [
    "CheckpointsDataset",
    "DocxFolderDataset",
    "HFModelDataset",
    "JSONLDataset",
    "MlflowAliasDataset",
    "MlflowGenerationMetricsDataset",
    "MlflowRegisteredModelDataset",
]
