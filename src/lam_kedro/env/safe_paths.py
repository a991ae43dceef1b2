"""Safe identifiers and confined output paths: where outside data becomes a file name.

Task and trajectory ids travel from raw files (task files, JSONL) into file names (``lam agent``
writes ``agent_runs/<task_id>/``), so they match one strict pattern: letters, digits and
``_ . @ + = ~ -``, starting with a letter, digit or ``_`` (so never ``.`` or ``..``), at most
``MAX_ID_LENGTH`` characters; no path separator, no control character, no space. Every output
path built from outside data goes through ``confined``, which resolves it and refuses one that
leaves its folder (a symlink pointing out included).
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["ID_PATTERN", "MAX_ID_LENGTH", "UnsafePathError", "check_id", "confined", "id_problem"]

#: The longest id accepted (ids of evolved, instantiated and explored tasks grow by suffixes).
MAX_ID_LENGTH = 200
#: The one pattern every task and trajectory id matches.
ID_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+=~-]*")


class UnsafePathError(ValueError):
    """A path built from outside data that would leave its folder."""


def id_problem(value: object) -> str | None:
    """Why ``value`` is not a safe id (``None`` when it is one)."""
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if not value:
        return "must not be empty"
    if len(value) > MAX_ID_LENGTH:
        return f"has {len(value)} characters, more than {MAX_ID_LENGTH}"
    if ID_PATTERN.fullmatch(value) is None:
        bad = next((c for c in value if not re.fullmatch(r"[A-Za-z0-9_.@+=~-]", c)), value[:1])
        return (f"{_show(value)} has the character {bad!r}; an id is letters, digits and _ . @ + = ~ - "
                "and starts with a letter, digit or _")
    return None


def check_id(value: object, what: str = "id") -> str:
    """``value`` if it is a safe id, else ``ValueError`` saying which rule it breaks."""
    problem = id_problem(value)
    if problem is not None:
        raise ValueError(f"{what} {problem}")
    return value  # type: ignore[return-value]


def _show(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def confined(base: str | Path, *parts: str) -> Path:
    """``base / parts...`` resolved; ``UnsafePathError`` if it is not strictly inside ``base``."""
    root = Path(base).resolve()
    target = root.joinpath(*parts).resolve()
    if target == root or root not in target.parents:
        raise UnsafePathError(f"{Path(base).joinpath(*parts)} resolves to {target}, outside {root}")
    return target
