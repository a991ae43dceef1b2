"""A ``ModelBundle`` as a Hugging Face model folder: weights, tokenizer and ``lam_info.json``.

Every training phase writes its generation through this dataset (``data/06_models/<generation>``),
so a folder is both what DVC tracks and what the MLflow registry dataset logs.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from lam_kedro.model.bundle import ModelBundle


class HFModelDataset(AbstractDataset[ModelBundle, ModelBundle]):
    """Save/load a ``ModelBundle`` at ``path``.

    ``task`` (``causal_lm`` | ``seq_cls``) picks the model class on load; left out, it comes from
    ``lam_info.json`` or the saved architecture. ``dtype`` overrides the saved dtype on load.
    """

    def __init__(self, path: str, task: str | None = None, dtype: str | None = None,
                 metadata: dict[str, Any] | None = None):
        self._path = PurePosixPath(path)
        self._task = task
        self._dtype = dtype
        self.metadata = metadata

    def _load(self) -> ModelBundle:
        from lam_kedro.model.loading import load_bundle

        try:
            return load_bundle(Path(self._path), self._task, self._dtype)
        except FileNotFoundError as err:
            raise DatasetError(f"HFModelDataset: {err}; run the pipeline that writes it first") from err

    def _save(self, data: ModelBundle) -> None:
        from lam_kedro.model.loading import save_bundle

        if not isinstance(data, ModelBundle):
            raise DatasetError(f"HFModelDataset({self._path}) saves a ModelBundle, got {type(data).__name__}")
        save_bundle(data, Path(self._path))

    def _exists(self) -> bool:
        return (Path(self._path) / "config.json").is_file()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "task": self._task, "dtype": self._dtype}
