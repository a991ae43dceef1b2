"""A folder of .docx documents, loaded as ``{name: Document}`` through the environment's reader."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset

from lam_kedro.env.document import Document
from lam_kedro.env.docx_io import load_docx, save_docx


class DocxFolderDataset(AbstractDataset[dict[str, Any], dict[str, Document]]):
    """Load returns ``{file stem: loader}`` where calling the loader reads the document.

    Lazy loaders (as in Kedro's PartitionedDataset) let a node put an unreadable file in
    quarantine with its reason instead of failing the whole folder. A missing folder loads as
    an empty dict, so "no user templates" needs no special case. Save writes one .docx per key.
    """

    def __init__(self, path: str, metadata: dict[str, Any] | None = None):
        self._path = PurePosixPath(path)
        self.metadata = metadata

    def _load(self) -> dict[str, Any]:
        folder = Path(self._path)
        if not folder.exists():
            return {}
        return {p.stem: (lambda p=p: load_docx(p)) for p in sorted(folder.glob("*.docx"))}

    def _save(self, data: dict[str, Document]) -> None:
        folder = Path(self._path)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.docx"):
            if stale.stem not in data:
                stale.unlink()
        for name, doc in data.items():
            save_docx(doc, folder / f"{name}.docx")

    def _exists(self) -> bool:
        return Path(self._path).is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
