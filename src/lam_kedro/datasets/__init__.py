"""Kedro datasets of our own: JSONL of schema objects, .docx folders, model folders, the MLflow registry."""

from lam_kedro.datasets.docx_folder import DocxFolderDataset
from lam_kedro.datasets.hf_model import HFModelDataset
from lam_kedro.datasets.jsonl import JSONLDataset
from lam_kedro.datasets.mlflow_alias import MlflowAliasDataset, MlflowGenerationMetricsDataset
from lam_kedro.datasets.mlflow_registry import MlflowRegisteredModelDataset

__all__ = [
    "DocxFolderDataset",
    "HFModelDataset",
    "JSONLDataset",
    "MlflowAliasDataset",
    "MlflowGenerationMetricsDataset",
    "MlflowRegisteredModelDataset",
]
