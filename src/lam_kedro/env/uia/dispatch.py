"""Action -> a call on a control: the same validation as the simulated Word, then one method call.

``dispatch`` checks an ``Action`` exactly as ``WordEnv.step`` does (the label is visible, the
function exists and applies to the control's type, the args match the function's signature,
the keys parse), with the same error messages, and then runs the function's ``uia`` handler named
in the action table (one of ``HANDLERS``), which calls one method of the labelled control's
``ControlTarget``. On Windows the target is a thin adapter over a pywinauto wrapper
(``lam_kedro.env.uia.live``); in the tests it is a double that records the calls. Which method
each function becomes follows UFO's ``ControlReceiver``: ``click_input``, ``set_edit_text``,
``type_keys`` for ``keyboard_input``, ``wheel_mouse_input``, ``texts``; ``select_text``,
``select_table`` and ``insert_table`` (UFO's Word COM commands) are methods of the Document's
target; ``summary`` calls nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from lam_kedro.env.action_table import ACTIONS
from lam_kedro.env.actions import (
    ActionError,
    check_function,
    coerce_action,
    split_keys,
    validate_args,
)
from lam_kedro.env.controls import Spec
from lam_kedro.env.types import Action, Control, Observation

__all__ = [
    "HANDLERS",
    "PYWINAUTO_KEY_NAMES",
    "ControlTarget",
    "bind",
    "dispatch",
    "escape_keys",
    "pywinauto_keys",
    "try_dispatch",
]


@runtime_checkable
class ControlTarget(Protocol):
    """What an action is sent to: one visible control, as the agent saw it, and its calls.

    ``control_text`` and ``control_type`` are the observation's (they name the control in error
    messages). Methods raise ``ActionError`` for a mistake the agent should read (text not in
    the document, no such table); any other exception is reported as the call having failed.
    """

    @property
    def control_text(self) -> str: ...

    @property
    def control_type(self) -> str: ...

    def click_input(self, button: str = "left", double: bool = False) -> Any: ...

    def set_edit_text(self, text: str) -> Any: ...

    def type_keys(self, keys: str) -> Any: ...

    def select_text(self, text: str) -> Any: ...

    def select_table(self, number: int) -> Any: ...

    def insert_table(self, rows: int, columns: int) -> Any: ...

    def wheel_mouse_input(self, wheel_dist: int) -> Any: ...

    def texts(self) -> str | list[str]: ...


def bind(
    observation: Observation, nodes: Mapping[str, Any], make_target: Callable[[Control, Any], ControlTarget]
) -> dict[str, ControlTarget]:
    """``{label: target}`` for an observation: ``make_target(control, node)`` per visible control."""
    return {c.label: make_target(c, nodes[c.label]) for c in observation.controls}


# ---------------------------------------------------------------- pywinauto key strings

#: The ``{NAME}`` tokens pywinauto's ``type_keys`` knows, besides ``{VK_...}`` and ``{F1}`` .. ``{F24}``.
PYWINAUTO_KEY_NAMES: frozenset[str] = frozenset((
    "BACK", "BACKSPACE", "BKSP", "BREAK", "BS", "CAP", "CAPSLOCK", "DEL", "DELETE", "DOWN", "END",
    "ENTER", "ESC", "ESCAPE", "HELP", "HOME", "INS", "INSERT", "LEFT", "LWIN", "NUMLOCK", "PGDN",
    "PGUP", "PRTSC", "RIGHT", "RMENU", "RWIN", "SCROLLLOCK", "SPACE", "TAB", "UP",
))
_FKEY = re.compile(r"^F([1-9]|1[0-9]|2[0-4])$")
_VK = re.compile(r"^VK_[A-Z0-9_]+$")
_SPECIAL = frozenset("+^%~(){}[]")
#: Characters the simulated Word's parser types literally but pywinauto reads as syntax.
_LITERAL_IN_SIM = frozenset("()[]}")
#: The simulated Word's key names that pywinauto spells differently.
_KEY_ALIASES: dict[str, str] = {"ESCAPE": "ESC"}


def _known_key(name: str) -> bool:
    upper = name.upper()
    return upper in PYWINAUTO_KEY_NAMES or bool(_FKEY.match(upper)) or bool(_VK.match(upper))


def pywinauto_keys(keys: str) -> str:
    """``keys`` checked and rewritten for pywinauto's ``type_keys``, with the simulated Word's meaning.

    The syntax is pywinauto's: modifiers ``^ + %`` before a key, ``{NAME}``, ``{NAME 3}``,
    ``{VK_SHIFT down}``, ``{x}`` for a literal character, ``+(ab)`` for a modified group, ``~`` for
    ENTER. Where the simulated Word reads a character literally and pywinauto would not (a
    ``(`` with no modifier, a stray ``)``, ``[``, ``]`` or ``}``), the character is braced so
    real Word types it too; key names are capitalised and ``{ESCAPE}`` becomes ``{ESC}``. A
    modifier with nothing to modify, an unclosed brace or group, or an unknown ``{NAME}``
    raises ``ActionError``. Real Word takes every key pywinauto can send, so more names pass
    here (``{F4}``) than the simulated Word's parser knows.
    """
    if not keys:
        raise ActionError("keyboard_input needs non-empty 'keys'")
    out: list[str] = []
    for mods, kind, body in split_keys(keys):
        if kind == "brace":
            name, _, arg = body.partition(" ")
            if len(name) != 1 and not _known_key(name):
                raise ActionError(f"keys {keys!r}: unknown key token {{{name}}}")
            if arg and not (arg.isdigit() or arg.lower() in ("down", "up")):
                raise ActionError(f"keys {keys!r}: bad repeat count in {{{body}}}")
            if len(name) > 1:  # pywinauto spells key names in capitals
                name = _KEY_ALIASES.get(name.upper(), name.upper())
            out.append(mods + "{" + name + (" " + arg if arg else "") + "}")
        elif kind == "group":
            out.append(mods + "(" + body + ")")
        elif body in _LITERAL_IN_SIM:
            out.append(mods + "{" + body + "}")
        else:
            out.append(mods + body)
    return "".join(out)


def escape_keys(text: str) -> str:
    """``text`` as ``type_keys`` input that types it literally (newline as ENTER, tab as TAB)."""
    out: list[str] = []
    for ch in text.replace("\r\n", "\n"):
        if ch in _SPECIAL:
            out.append("{" + ch + "}")
        elif ch == "\n":
            out.append("{ENTER}")
        elif ch == "\t":
            out.append("{TAB}")
        else:
            out.append(ch)
    return "".join(out)


# ---------------------------------------------------------------- dispatch

def _texts(target: ControlTarget, args: dict[str, Any]) -> str:
    value = target.texts()
    if isinstance(value, str):
        return value
    return "\n".join(str(v) for v in value)


def _keyboard_input(target: ControlTarget, args: dict[str, Any]) -> Any:
    return target.type_keys(pywinauto_keys(args["keys"]))


def _select_text(target: ControlTarget, args: dict[str, Any]) -> Any:
    if not args["text"]:
        raise ActionError("select_text needs a non-empty 'text'")
    return target.select_text(args["text"])


def _select_table(target: ControlTarget, args: dict[str, Any]) -> Any:
    if args["number"] < 1:
        raise ActionError(f"select_table: there is no table {args['number']} (tables count from 1)")
    return target.select_table(args["number"])


def _insert_table(target: ControlTarget, args: dict[str, Any]) -> Any:
    rows, columns = args["rows"], args["columns"]
    if not (1 <= rows <= 63 and 1 <= columns <= 63):
        raise ActionError(f"insert_table: rows and columns must be 1 to 63 (Word's limit), not {rows} x {columns}")
    return target.insert_table(rows, columns)


#: The ``uia`` handlers the action table names (``ActionSpec.handlers["uia"]``), after UFO's
#: ``ControlReceiver``: each turns a function's validated args into calls on a ``ControlTarget``.
HANDLERS: dict[str, Callable[[ControlTarget, dict[str, Any]], Any]] = {
    "click_input": lambda t, a: t.click_input(button=a["button"], double=a["double"]),
    "set_edit_text": lambda t, a: t.set_edit_text(a["text"]),
    "type_keys": _keyboard_input,
    "select_text": _select_text,
    "select_table": _select_table,
    "insert_table": _insert_table,
    "wheel_mouse_input": lambda t, a: t.wheel_mouse_input(a["wheel_dist"]),
    "texts": _texts,
    "summary": lambda t, a: None,
}


def _resolve(label: Any, targets: Mapping[str, ControlTarget]) -> ControlTarget:
    target = targets.get(str(label))
    if target is None:
        if not targets:
            raise ActionError(f"no control labelled {label!r} is visible (no controls are visible)")
        raise ActionError(f"no control labelled {label!r} is visible (labels are '1' to '{len(targets)}')")
    return target


def dispatch(action: Action | Mapping[str, Any], targets: Mapping[str, ControlTarget]) -> Any:
    """Validate ``action`` against the visible controls and run it on its target.

    Returns what the function gives the agent (``texts()``: the text; the others: whatever the
    target returns, usually ``None``); a status-only action (``function=""``) does nothing. An
    invalid action, or a call that fails, raises ``ActionError`` with the message the next
    observation shows, worded as the simulated Word words it.
    """
    act = coerce_action(dict(action) if isinstance(action, Mapping) else action)
    if not act.function:
        return None
    target = _resolve(act.control_label, targets)
    function = act.function
    check_function(function, str(act.control_label), Spec(target.control_text, target.control_type, ""))
    args = validate_args(function, act.args)
    try:
        return HANDLERS[ACTIONS[function].handlers["uia"]](target, args)
    except ActionError:
        raise
    except Exception as err:  # the live call failed: the agent reads why, the episode goes on
        raise ActionError(
            f"{function} on control {act.control_label} ({target.control_text!r}, {target.control_type}) "
            f"failed: {type(err).__name__}: {err}"
        ) from err


def try_dispatch(action: Action | Mapping[str, Any], targets: Mapping[str, ControlTarget]) -> tuple[Any, str | None]:
    """``(result, None)`` after a valid action, ``(None, error message)`` after an invalid one."""
    try:
        return dispatch(action, targets), None
    except ActionError as err:
        return None, str(err)
    except TypeError as err:  # Action(**d) with a mistyped dict
        return None, f"malformed action: {err}"
