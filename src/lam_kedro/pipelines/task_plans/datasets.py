"""The folder of task files (UFO's ``{app, unique_id, task, refined_steps}`` or the paper's
``{task_id, task, plan}``) as a Kedro dataset, so the import node never sees a path.

Candidate for ``lam_kedro.datasets`` (it sits here while that package is owned elsewhere).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from lam_kedro.agent.ufo import import_task_files


class TaskFilesDataset(AbstractDataset[None, dict[str, list[Any]]]):
    """Loads ``{"plans": [TaskPlan], "rejects": [{file, reason}], "ignored": [{file, reason}], "counts": {...}}``
    from every file under ``path`` (``agent.ufo.import_task_files``: ``*.json`` import, others are
    ignored with their reason, and ``counts`` add up).

    A malformed file (bad JSON, a missing field) is a reject naming the file and the field, and
    the rest of the folder still imports; a missing folder is an empty import, so "no task files"
    needs no special case. Read-only: task files are raw data.
    """

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = PurePosixPath(path)
        self.metadata = metadata

    def _load(self) -> dict[str, list[Any]]:
        folder = Path(self._path)
        if not folder.is_dir():
            return {"plans": [], "rejects": [], "ignored": [],
                    "counts": {"files": 0, "imported": 0, "rejected": 0, "ignored": 0, "seen": 0}}
        return import_task_files(folder)

    def _save(self, data: None) -> None:
        raise DatasetError(f"TaskFilesDataset({self._path}) is read-only: add task files to the folder instead")

    def _exists(self) -> bool:
        return Path(self._path).is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
