"""``GenerationModelsDataset``: every LAM generation's model folder, loaded lazily, missing ones reported.

Evaluation compares whatever generations exist. Loading four models up front would hold them all
in memory, and a generation that was not trained yet would stop the run in Kedro's loader; so this
dataset (like ``PartitionedDataset``) returns ``{generation: loader}``, where a loader builds the
wrapped dataset (``HFModelDataset`` by default) and loads that one model when called, and a
generation the wrapped dataset says does not exist (``exists()``; no ``config.json`` for an HF
folder) maps to ``None``. Loaders are picklable, so a worker process
can load its own copy of the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kedro.io import AbstractDataset, DatasetError

__all__ = ["GenerationLoader", "GenerationModelsDataset"]


class GenerationLoader:
    """Loads one generation's model through the wrapped dataset; picklable (plain config inside)."""

    def __init__(self, generation: str, config: Mapping[str, Any]) -> None:
        self.generation = generation
        self.config = dict(config)

    def dataset(self) -> AbstractDataset:
        return AbstractDataset.from_config(f"{self.generation}_model", dict(self.config))

    def __call__(self) -> Any:
        return self.dataset().load()

    def __repr__(self) -> str:
        return f"GenerationLoader({self.generation!r}, {self.config!r})"


class GenerationModelsDataset(AbstractDataset[dict[str, GenerationLoader | None], None]):
    """Read-only: ``{generation: GenerationLoader | None}`` for the folders in ``generations``.

    Args:
        generations: ``{name: folder}``, e.g. ``{lam1: data/06_models/lam1}``: the same folders the
            phases' catalog entries write.
        dataset: the dataset type that loads one folder (a dotted path or a config dict with
            ``type``), as in ``PartitionedDataset``; default ``lam_kedro.datasets.HFModelDataset``.
        path_arg: the wrapped dataset's argument that takes the folder.
    """

    def __init__(self, generations: Mapping[str, str], dataset: str | Mapping[str, Any] | None = None,
                 path_arg: str = "path", metadata: dict[str, Any] | None = None) -> None:
        if not generations:
            raise DatasetError("GenerationModelsDataset: 'generations' is empty; list {name: folder} pairs")
        self._generations = {str(k): str(v) for k, v in generations.items()}
        config = {"type": dataset} if isinstance(dataset, str) else dict(dataset or {})
        config.setdefault("type", "lam_kedro.datasets.HFModelDataset")
        self._config = config
        self._path_arg = path_arg
        self.metadata = metadata

    def _load(self) -> dict[str, GenerationLoader | None]:
        out: dict[str, GenerationLoader | None] = {}
        for name, folder in self._generations.items():
            loader = GenerationLoader(name, {**self._config, self._path_arg: folder})
            out[name] = loader if loader.dataset().exists() else None  # the wrapped dataset says what "saved" means
        return out

    def _save(self, data: Any) -> None:
        raise DatasetError("GenerationModelsDataset is read-only: each phase's own catalog entry writes its model")

    def _exists(self) -> bool:
        return True  # absent generations are a value (None), not an error

    def _describe(self) -> dict[str, Any]:
        return {"generations": self._generations, "dataset": self._config.get("type"), "path_arg": self._path_arg}

    def folders(self) -> dict[str, str]:
        """The configured folders (the report names them for skipped generations)."""
        return dict(self._generations)
