"""Seed-chosen orders and subsets that do not depend on run order, process or Python version."""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["unit_hash"]


def unit_hash(*parts: Any) -> float:
    """A fixed pseudo-random number in [0, 1) from ``parts``: stable across runs and Python versions."""
    digest = hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()
    return int(digest[:12], 16) / 16**12
