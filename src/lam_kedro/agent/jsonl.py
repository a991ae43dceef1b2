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

__all__ = ["JsonlError", "write_jsonl", "read_jsonl", "read_jsonl_with_rejects", "iter_jsonl_lines", "parse_json_line"]

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


#: A line longer than this is refused unparsed (a record of one episode is far smaller).
MAX_LINE_BYTES = 50_000_000


#: JSON's whitespace; a line of anything else is data (a record or a reject), never skipped.
_JSON_SPACE = " \t\r\n"


class _BadLine(str):
    """A line that could not be decoded; the text is the reason (``iter_jsonl_lines`` yields it)."""


def iter_jsonl_lines(path: Path | str) -> Iterable[tuple[int, str]]:
    """``(line_no, text)`` for every non-blank line (1-based numbers, as editors show them).

    Lines are decoded one by one, so a line that is not UTF-8 comes out as a ``_BadLine`` (a
    ``str`` holding the reason) that the parsers turn into an error naming the line, and the lines
    after it are still read.
    """
    with Path(path).open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8").strip(_JSON_SPACE)  # not str.strip(): it eats \x1c-\x1f
            except UnicodeDecodeError as err:
                yield line_no, _BadLine(f"not UTF-8 text (byte {err.start} of the line is {raw[err.start]:#04x})")
                continue
            if text:
                yield line_no, text


def parse_json_line(path: Path | str, line_no: int, text: str) -> Any:
    """One line's JSON; ``JsonlError`` naming file and line for every way it can fail."""
    if isinstance(text, _BadLine):
        raise JsonlError(path, line_no, str(text))
    if len(text) > MAX_LINE_BYTES:
        raise JsonlError(path, line_no, f"line of {len(text)} characters, more than {MAX_LINE_BYTES}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise JsonlError(path, line_no, f"invalid JSON: {err}") from err
    except RecursionError as err:
        raise JsonlError(path, line_no, "invalid JSON: nested too deeply") from err
    except ValueError as err:  # an integer of more than 4300 digits
        raise JsonlError(path, line_no, f"invalid JSON: {err}") from err


def _parse_row(path: Path | str, line_no: int, text: str, model: type[M]) -> M:
    data = parse_json_line(path, line_no, text)
    if not isinstance(data, dict):
        raise JsonlError(path, line_no, f"expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise JsonlError(path, line_no, f"invalid {model.__name__}: {_short(err)}") from err
    except RecursionError as err:
        raise JsonlError(path, line_no, f"invalid {model.__name__}: nested too deeply") from err


def _unique_key(model: type[BaseModel]) -> str | None:
    """The field that identifies a record and must not repeat in one file (trajectories')."""
    return "trajectory_id" if "trajectory_id" in model.model_fields else None


class _Dedup:
    """Remembers ids; ``check`` raises ``JsonlError`` for one already seen, naming both lines."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.key = _unique_key(model)
        self.seen: dict[str, int] = {}

    def check(self, path: Path | str, line_no: int, record: BaseModel) -> None:
        if self.key is None:
            return
        value = getattr(record, self.key)
        if value in self.seen:
            raise JsonlError(path, line_no, f"duplicate {self.key} {value!r} (first on line {self.seen[value]})")
        self.seen[value] = line_no


def _short(err: ValidationError) -> str:
    """Pydantic's errors as ``field.path: message`` items, one line (fits a log and a reject row)."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "<root>"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


def read_jsonl(path: Path | str, model: type[M]) -> list[M]:
    """Every row as ``model``; the first bad row raises ``JsonlError`` naming file and line.

    A trajectory id that repeats is a bad row too (two episodes under one name).
    """
    dedup = _Dedup(model)
    out = []
    for line_no, text in iter_jsonl_lines(path):
        record = _parse_row(path, line_no, text, model)
        dedup.check(path, line_no, record)
        out.append(record)
    return out


#: How much of a rejected line a reject row keeps (the line number says where the rest is).
MAX_RAW_CHARS = 2000


def read_jsonl_with_rejects(path: Path | str, model: type[M]) -> tuple[list[M], list[dict[str, Any]]]:
    """The valid rows, and a reject ``{file, line_no, raw, reason}`` for each invalid one.

    Every non-blank line is one or the other (``len(records) + len(rejects)`` is the number of
    non-blank lines); ``raw`` is cut to ``MAX_RAW_CHARS``.
    """
    records: list[M] = []
    rejects: list[dict[str, Any]] = []
    dedup = _Dedup(model)
    for line_no, text in iter_jsonl_lines(path):
        try:
            record = _parse_row(path, line_no, text, model)
            dedup.check(path, line_no, record)
            records.append(record)
        except JsonlError as err:
            raw = "" if isinstance(text, _BadLine) else text[:MAX_RAW_CHARS]
            rejects.append({"file": str(path), "line_no": line_no, "raw": raw, "reason": err.reason})
    return records, rejects
