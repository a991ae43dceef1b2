"""The action set, defined once: UFO's AppAgent functions the environment understands.

``ACTIONS`` maps each function name to an ``ActionSpec``: its arguments (name, type, default,
allowed values), the control types it is valid on, whether it only reads (allowed on a closed
document), a one-line description (the prompt lists it) and its handler per backend (``word``:
a ``WordUI`` method marked ``@action_handler``; ``uia``: a key of ``uia.dispatch.HANDLERS``;
``writer``: a key of ``writer.dispatch.HANDLERS``).
Everything else is a view of this table: ``VALID_ON`` and the other views below, argument
validation (``env.actions``), dispatch in every backend, the prompt's function list, the decoder's allowed
functions and argument values, and the random policy's choices. Adding a function is one entry
here, its handlers and its tests.

The views (``SIGNATURES``, ``VALID_ON``, ``READ_ONLY``, ``ARG_CHOICES``) read the table on every
lookup, so an entry added to ``ACTIONS`` (a test's toy function) shows in all of them.
``FUNCTIONS`` is the names as a tuple, fixed at import, for defaults and command-line choices.
Imports nothing of the project.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

__all__ = [
    "ACTIONS", "ARG_CHOICES", "BACKENDS", "FUNCTIONS", "READ_ONLY", "REQUIRED", "SIGNATURES", "VALID_ON",
    "ActionSpec", "Arg", "action_handler",
]

#: The default of an argument that has none.
REQUIRED: Any = object()
#: The backends a function can have a handler for: the simulated Word, UI Automation and LibreOffice Writer.
BACKENDS: tuple[str, ...] = ("word", "uia", "writer")


@dataclass(frozen=True, slots=True)
class Arg:
    """One parameter of a function: its type, its default (``REQUIRED`` if none), its allowed values."""

    name: str
    type: type
    default: Any = REQUIRED
    choices: tuple[Any, ...] | None = None

    @property
    def prompt_type(self) -> str:
        """How the prompt writes the type: ``str``, or the allowed values (``"left" | "right"``)."""
        if self.choices:
            return " | ".join(json.dumps(c) for c in self.choices)
        return self.type.__name__


@dataclass(frozen=True)
class ActionSpec:
    """One function: what it takes, where it applies, what it does and who carries it out.

    ``valid_on`` ``None``: any control. ``handlers``: backend -> handler name (see the module doc).
    """

    name: str
    args: tuple[Arg, ...]
    valid_on: frozenset[str] | None
    read_only: bool
    description: str
    handlers: Mapping[str, str]
    signature: Mapping[str, Arg] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.handlers) - set(BACKENDS)
        if unknown:
            raise ValueError(f"{self.name}: unknown backend(s) {sorted(unknown)}; known: {', '.join(BACKENDS)}")
        object.__setattr__(self, "handlers", MappingProxyType(dict(self.handlers)))
        object.__setattr__(self, "signature", MappingProxyType({a.name: a for a in self.args}))


_TEXT_TYPES = frozenset(("Edit", "ComboBox", "Document"))
_DOCUMENT = frozenset(("Document",))

#: The functions, in the order the prompt lists them.
ACTIONS: dict[str, ActionSpec] = {s.name: s for s in (
    ActionSpec(
        "click_input", (Arg("button", str, "left", ("left", "right")), Arg("double", bool, False)),
        valid_on=None, read_only=False, description="click a control.",
        handlers={"word": "click_input", "uia": "click_input",
                  "writer": "click_input"}),
    ActionSpec(
        "set_edit_text", (Arg("text", str),), valid_on=_TEXT_TYPES, read_only=False,
        description="set the text of an Edit or ComboBox control, or type over the selection in the Document.",
        handlers={"word": "set_edit_text", "uia": "set_edit_text",
                  "writer": "set_edit_text"}),
    ActionSpec(
        "keyboard_input", (Arg("keys", str),), valid_on=_TEXT_TYPES, read_only=False,
        description='press keys in the focused control, e.g. "^b", "{ENTER}", "{ESC}".',
        handlers={"word": "keyboard_input", "uia": "type_keys",
                  "writer": "keyboard_input"}),
    ActionSpec(
        "select_text", (Arg("text", str),), valid_on=_DOCUMENT, read_only=False,
        description="select the first occurrence of the text in the Document.",
        handlers={"word": "select_text", "uia": "select_text",
                  "writer": "select_text"}),
    ActionSpec(
        "select_table", (Arg("number", int),), valid_on=_DOCUMENT, read_only=False,
        description="select the n-th table of the Document (1-based).",
        handlers={"word": "select_table", "uia": "select_table",
                  "writer": "select_table"}),
    ActionSpec(
        "insert_table", (Arg("rows", int), Arg("columns", int)), valid_on=_DOCUMENT, read_only=False,
        description="insert a table at the caret of the Document.",
        handlers={"word": "insert_table", "uia": "insert_table",
                  "writer": "insert_table"}),
    ActionSpec(
        "wheel_mouse_input", (Arg("wheel_dist", int),), valid_on=_DOCUMENT, read_only=False,
        description="scroll the Document.",
        handlers={"word": "wheel_mouse_input", "uia": "wheel_mouse_input",
                  "writer": "wheel_mouse_input"}),
    ActionSpec(
        "texts", (), valid_on=None, read_only=True, description="read the text of a control.",
        handlers={"word": "texts", "uia": "texts",
                  "writer": "texts"}),
    ActionSpec(
        "summary", (Arg("text", str, ""),), valid_on=None, read_only=True,
        description="state a summary of what you observed.",
        handlers={"word": "summary", "uia": "summary",
                  "writer": "summary"}),
)}

#: The function names at import time (defaults, command-line choices); lookups use ``ACTIONS``.
FUNCTIONS: tuple[str, ...] = tuple(ACTIONS)

V = TypeVar("V")


class _Column(Mapping[str, V]):
    """One column of ``ACTIONS`` as a read-only mapping, read on every lookup."""

    def __init__(self, column: Callable[[ActionSpec], V]) -> None:
        self._column = column

    def __getitem__(self, function: str) -> V:
        return self._column(ACTIONS[function])

    def __iter__(self) -> Iterator[str]:
        return iter(ACTIONS)

    def __len__(self) -> int:
        return len(ACTIONS)


#: function -> {arg name: Arg}, in the order the arguments are listed.
SIGNATURES: Mapping[str, Mapping[str, Arg]] = _Column(lambda s: s.signature)
#: function -> the control types it applies to (``None``: any control).
VALID_ON: Mapping[str, frozenset[str] | None] = _Column(lambda s: s.valid_on)


class _ReadOnly:
    """The functions that only read (allowed on a closed document), as a live set-like view."""

    def __contains__(self, function: object) -> bool:
        spec = ACTIONS.get(function) if isinstance(function, str) else None
        return spec is not None and spec.read_only

    def __iter__(self) -> Iterator[str]:
        return (name for name, spec in ACTIONS.items() if spec.read_only)


class _ArgChoices(Mapping[str, tuple[Any, ...]]):
    """arg name -> its allowed values, for every argument of the table that has them."""

    def _all(self) -> dict[str, tuple[Any, ...]]:
        return {a.name: a.choices for s in ACTIONS.values() for a in s.args if a.choices}

    def __getitem__(self, name: str) -> tuple[Any, ...]:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


READ_ONLY = _ReadOnly()
ARG_CHOICES: Mapping[str, tuple[Any, ...]] = _ArgChoices()

F = TypeVar("F", bound=Callable[..., Any])


def action_handler(method: F) -> F:
    """Mark a ``WordUI`` method as the ``word`` handler the table names (the dispatcher checks it)."""
    method.action_handler = True  # type: ignore[attr-defined]
    return method
