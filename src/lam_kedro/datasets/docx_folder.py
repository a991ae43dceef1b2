"""A folder of .docx documents, loaded as ``{name: Document}`` through the environment's reader."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset

from lam_kedro.env.document import Document
from lam_kedro.env.docx_io import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PARAGRAPHS,
    DocxLoadError,
    load_docx,
    save_docx,
)
from lam_kedro.env.safe_paths import confined

__all__ = ["DocxFolderDataset", "DocxLoader", "IgnoredFileError"]


class IgnoredFileError(DocxLoadError):
    """A file of the folder that is not a .docx: the loader says so, so the caller can note it."""


class DocxLoader:
    """Calling it reads ``path`` (``load_docx``); ``path`` names the file in quarantine rows."""

    def __init__(self, path: Path, ignored_reason: str | None = None, max_bytes: int | None = DEFAULT_MAX_BYTES,
                 max_paragraphs: int | None = DEFAULT_MAX_PARAGRAPHS) -> None:
        self.path = path
        self.ignored_reason = ignored_reason
        self.max_bytes = max_bytes
        self.max_paragraphs = max_paragraphs

    def __call__(self) -> Document:
        if self.ignored_reason is not None:
            raise IgnoredFileError(f"{self.path}: {self.ignored_reason}")
        return load_docx(self.path, max_bytes=self.max_bytes, max_paragraphs=self.max_paragraphs)

    def __repr__(self) -> str:
        return f"DocxLoader({str(self.path)!r})"


class DocxFolderDataset(AbstractDataset[dict[str, Any], dict[str, Document]]):
    """Load returns ``{file stem: loader}`` where calling the loader reads the document.

    Lazy loaders (as in Kedro's PartitionedDataset) let a node put an unreadable file in
    quarantine with its reason instead of failing the whole folder. ``.docx`` matches in any case
    (``Report.DOCX``). With ``note_other_files`` (a folder people drop files into), every other
    file but ``.gitkeep`` gets a loader too, one that raises ``IgnoredFileError`` saying why, so
    nothing is skipped without a note. A missing folder loads as an empty dict, so "no user
    templates" needs no special case. Save writes one .docx per key, each path confined to the folder.
    ``max_bytes`` (uncompressed) and ``max_paragraphs`` bound what one document may hold: a larger
    one's loader raises a ``DocxLoadError`` saying which limit (``null``: no limit).
    """

    def __init__(self, path: str, note_other_files: bool = False, max_bytes: int | None = DEFAULT_MAX_BYTES,
                 max_paragraphs: int | None = DEFAULT_MAX_PARAGRAPHS, metadata: dict[str, Any] | None = None):
        self._path = PurePosixPath(path)
        self._note_other_files = note_other_files
        self._max_bytes = max_bytes
        self._max_paragraphs = max_paragraphs
        self.metadata = metadata

    def _load(self) -> dict[str, Any]:
        folder = Path(self._path)
        if not folder.exists():
            return {}
        out: dict[str, Any] = {}
        for p in sorted(folder.iterdir()):
            if p.name == ".gitkeep":
                continue
            is_docx = p.suffix.lower() == ".docx" and p.is_file()
            if not is_docx and not self._note_other_files:
                continue
            key = p.stem if p.stem not in out else p.name
            reason = None if is_docx else (
                "a folder, not a .docx file (ignored)" if p.is_dir() else
                f"not a .docx file (ends in {p.suffix or 'no extension'!r}; ignored)")
            out[key] = DocxLoader(p, reason, self._max_bytes, self._max_paragraphs)
        return out

    def _save(self, data: dict[str, Document]) -> None:
        folder = Path(self._path)
        folder.mkdir(parents=True, exist_ok=True)
        targets = {name: confined(folder, f"{name}.docx") for name in data}
        for stale in folder.glob("*.docx"):
            if stale.stem not in data:
                stale.unlink()
        for name, doc in data.items():
            save_docx(doc, targets[name])

    def _exists(self) -> bool:
        return Path(self._path).is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "note_other_files": self._note_other_files, "max_bytes": self._max_bytes,
                "max_paragraphs": self._max_paragraphs}
