"""The agent's text as the values LibreOffice takes: UNO property lists, measurements in the unit a
field shows, font sizes in points. An unreadable value is an ``ActionError`` naming the field."""

from __future__ import annotations

import re
from typing import Any

from lam_kedro.env.actions import ActionError

__all__ = ["measure", "points", "props"]


def props(uno: Any, **values: Any) -> tuple[Any, ...]:
    """``name=value`` pairs as a tuple of ``com.sun.star.beans.PropertyValue`` (UNO's argument lists)."""
    out = []
    for name, value in values.items():
        p = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
        p.Name, p.Value = name, value
        out.append(p)
    return tuple(out)


#: Points per unit, for the units LibreOffice's measurement fields show.
_UNITS: dict[str, float] = {"pt": 1.0, "″": 72.0, '"': 72.0, "in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4, "pc": 12.0}
_NUMBER = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*(pt|″|\"|in|cm|mm|pc)?\s*$")


def measure(text: str, shown: str, field: str) -> float:
    """``text`` ("18 pt", "1.25", "2 cm") in the unit the field shows now (``shown``: "0.00″");
    a bare number is in the field's own unit, as when typed."""
    match = _NUMBER.match(text)
    if match is None:
        raise ActionError(f"the {field} field takes a number with an optional unit (pt, in, cm, mm), not {text!r}")
    unit = next((u for u in sorted(_UNITS, key=len, reverse=True) if shown.strip().endswith(u)), "pt")
    value = float(match.group(1).replace(",", "."))
    given = match.group(2) or unit
    return value * _UNITS[given] / _UNITS[unit]


def points(value: str, box: str) -> float:
    try:
        return float(value.lower().removesuffix("pt").strip())
    except ValueError:
        raise ActionError(f"the {box} box needs a size in points, not {value!r}") from None
