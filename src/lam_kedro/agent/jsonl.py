"""JSON Lines in and out of the schema models, with errors that name the file and line.

``read_jsonl`` is strict (the first bad row stops the read, naming it); the lenient
``read_jsonl_with_rejects`` returns every bad row with its reason so a pipeline can quarantine
it: nothing is silently dropped.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

__all__ = ["JsonlError", "write_jsonl", "read_jsonl", "read_jsonl_with_rejects", "iter_jsonl_lines"]

M = TypeVar("M", bound=BaseModel)


class JsonlError(ValueError):
    """A row that is not valid JSON or not a valid record; ``path`` and ``line_no`` say where."""

    def __init__(self, path: Path | str, line_no: int, reason: str) -> None:
        super().__init__(f"{path}:{line_no}: {reason}")
        self.path = str(path)
        self.line_no = line_no
        self.reason = reason


def _to_json(record: BaseModel | Mapping[str, Any]) -> str:
    if isinstance(record, BaseModel):
        return record.model_dump_json()
    return json.dumps(record, ensure_ascii=False)


def write_jsonl(path: Path | str, records: Iterable[BaseModel | Mapping[str, Any]]) -> int:
    """Write one JSON object per line; returns the number written.

    Writes to a temporary file in the same folder and renames it, so a crash never leaves a
    half-written dataset that a later stage would read as complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for record in records:
                fh.write(_to_json(record))
                fh.write("\n")
                n += 1
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


def iter_jsonl_lines(path: Path | str) -> Iterable[tuple[int, str]]:
    """``(line_no, text)`` for every non-blank line (1-based numbers, as editors show them)."""
    with Path(path).open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            text = line.strip()
            if text:
                yield line_no, text


def _parse_row(path: Path | str, line_no: int, text: str, model: type[M]) -> M:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise JsonlError(path, line_no, f"invalid JSON: {err}") from err
    if not isinstance(data, dict):
        raise JsonlError(path, line_no, f"expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise JsonlError(path, line_no, f"invalid {model.__name__}: {_short(err)}") from err


def _short(err: ValidationError) -> str:
    """Pydantic's errors as ``field.path: message`` items, one line (fits a log and a reject row)."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "<root>"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


def read_jsonl(path: Path | str, model: type[M]) -> list[M]:
    """Every row as ``model``; the first bad row raises ``JsonlError`` naming file and line."""
    return [_parse_row(path, line_no, text, model) for line_no, text in iter_jsonl_lines(path)]


def read_jsonl_with_rejects(path: Path | str, model: type[M]) -> tuple[list[M], list[dict[str, Any]]]:
    """The valid rows, and a reject ``{line_no, raw, reason}`` for each invalid one."""
    records: list[M] = []
    rejects: list[dict[str, Any]] = []
    for line_no, text in iter_jsonl_lines(path):
        try:
            records.append(_parse_row(path, line_no, text, model))
        except JsonlError as err:
            rejects.append({"line_no": line_no, "raw": text, "reason": err.reason})
    return records, rejects
