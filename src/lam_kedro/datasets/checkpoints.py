"""The folder an SFT run writes its checkpoints to, as a catalog entry (paths live in the catalog).

``train_sft`` hands it to TRL as ``output_dir``: checkpoints land there every ``save_steps``, a
killed run resumes from the last one (when a fingerprint says it is the same training), and a
finished run removes the folder unless ``keep_checkpoints``. Loading gives the folder's path (it
need not exist yet); nothing is saved through the dataset, the trainer writes the folder itself.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError

__all__ = ["CheckpointsDataset"]


class CheckpointsDataset(AbstractDataset[None, Path]):
    """``path``: the checkpoint folder of one training (``data/06_models/checkpoints/lam1``)."""

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = PurePosixPath(path)
        self.metadata = metadata

    def _load(self) -> Path:
        return Path(self._path)

    def _save(self, data: None) -> None:
        raise DatasetError(f"CheckpointsDataset({self._path}) is read-only: the trainer writes the folder itself")

    def _exists(self) -> bool:
        return True  # a folder to write to: absent until the first checkpoint, and that is fine

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
