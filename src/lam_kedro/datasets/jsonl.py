"""A JSONL file of schema objects (pydantic models or ``Task``-like dataclasses), one per line."""

from __future__ import annotations

import importlib
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from pydantic import BaseModel

from lam_kedro.agent.jsonl import JsonlError, iter_jsonl_lines, parse_json_line, read_jsonl, write_jsonl


def _import(dotted: str) -> type:
    module, _, name = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise DatasetError(f"JSONLDataset: cannot import model '{dotted}'") from err


class JSONLDataset(AbstractDataset[list[Any], list[Any]]):
    """Loads a list of ``model`` objects (or plain dicts when no model is given) from JSONL.

    A line that does not parse or validate is an error naming the file and line: data that
    reaches a node has passed the schema.
    """

    def __init__(self, filepath: str, model: str | None = None, metadata: dict[str, Any] | None = None):
        self._filepath = PurePosixPath(filepath)
        self._model_path = model
        self._model = _import(model) if model else None
        self.metadata = metadata

    def _load(self) -> list[Any]:
        path = Path(self._filepath)
        if self._model is not None and issubclass(self._model, BaseModel):
            return read_jsonl(path, self._model)
        rows = []
        for line_no, text in iter_jsonl_lines(path):
            row = parse_json_line(path, line_no, text)
            try:
                rows.append(self._model.from_dict(row) if self._model is not None else row)
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                raise JsonlError(path, line_no, f"{type(err).__name__}: {err}") from err
        return rows

    def _save(self, data: list[Any]) -> None:
        write_jsonl(Path(self._filepath), [r.to_dict() if hasattr(r, "to_dict") else r for r in data])

    def _exists(self) -> bool:
        return Path(self._filepath).exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "model": self._model_path}
