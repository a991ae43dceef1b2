"""Kedro datasets of our own: JSONL files of schema objects and folders of .docx documents."""

from lam_kedro.datasets.docx_folder import DocxFolderDataset
from lam_kedro.datasets.jsonl import JSONLDataset

__all__ = ["DocxFolderDataset", "JSONLDataset"]
