"""Actions: validation against the action table, and pywinauto key-string parsing.

An action is data (``types.Action``); nothing here executes model output as code.
``check_function`` checks the function against the control's type and ``validate_args`` the args
against the function's signature, both read off ``action_table.ACTIONS`` (which also names each
function's handler per backend). Anything wrong is an ``ActionError`` whose message names the
label, function or arg, which ``EpisodeEnv.step`` (``env.episode``) turns into the next observation's
``error``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from lam_kedro.env.action_table import ACTIONS, REQUIRED
from lam_kedro.env.types import STATUSES, Action

if TYPE_CHECKING:
    from lam_kedro.env.controls import Spec


class ActionError(Exception):
    """An invalid action: the message is shown to the agent as the observation's ``error``."""


# ---------------------------------------------------------------- coercion of raw actions

_ACTION_KEYS = frozenset(("control_label", "function", "args", "status"))


def coerce_action(action: Any) -> Action:
    """An ``Action`` from an ``Action`` or a plain dict; a malformed one raises ``ActionError``."""
    if isinstance(action, dict):
        extra = set(action) - _ACTION_KEYS
        if extra:
            raise ActionError(f"unknown action key(s) {sorted(extra)}; expected {sorted(_ACTION_KEYS)}")
        if "control_label" not in action or "function" not in action:
            raise ActionError("an action needs 'control_label' and 'function'")
        action = Action(**action)
    elif not isinstance(action, Action):
        raise ActionError(f"an action must be an Action or a dict, not {type(action).__name__}")
    if not isinstance(action.function, str):
        raise ActionError(f"function must be a string, not {type(action.function).__name__}")
    if not isinstance(action.args, dict):
        raise ActionError(f"args must be a dict, not {type(action.args).__name__}")
    if action.status not in STATUSES:
        raise ActionError(f"unknown status {action.status!r}; expected one of {', '.join(STATUSES)}")
    if action.function and not isinstance(action.control_label, (str, int)):
        raise ActionError(f"control_label must be a string, not {type(action.control_label).__name__}")
    return action


# ---------------------------------------------------------------- validation against the table

def validate_args(function: str, args: dict[str, Any]) -> dict[str, Any]:
    """The args with defaults filled in; a missing, unexpected, mistyped or disallowed one raises."""
    sig = ACTIONS[function].signature
    for name in args:
        if name not in sig:
            raise ActionError(f"{function} got an unexpected arg {name!r}; it takes {sorted(sig) or 'no args'}")
    out: dict[str, Any] = {}
    for name, arg in sig.items():
        typ = arg.type
        if name not in args:
            if arg.default is REQUIRED:
                raise ActionError(f"{function} needs the arg {name!r} ({typ.__name__})")
            out[name] = arg.default
            continue
        value = args[name]
        # bool is an int subclass: "number": true is a type error, not table 1.
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            raise ActionError(f"{function} arg {name!r} must be {typ.__name__}, not {type(value).__name__}")
        out[name] = value
    for name, arg in sig.items():
        if arg.choices and out[name] not in arg.choices:
            allowed = " or ".join(repr(c) for c in arg.choices)
            raise ActionError(f"{function} arg {name!r} must be {allowed}, not {out[name]!r}")
    return out


def check_function(function: str, label: str, spec: Spec) -> None:
    """Raise unless ``function`` exists and applies to the control's type."""
    action = ACTIONS.get(function)
    if action is None:
        raise ActionError(f"unknown function {function!r}; expected one of {', '.join(ACTIONS)}")
    allowed = action.valid_on
    if allowed is not None and spec.ctype not in allowed:
        raise ActionError(
            f"{function} is not supported by control {label} ({spec.text!r}, {spec.ctype}); "
            f"it applies to {', '.join(sorted(allowed))}"
        )


# ---------------------------------------------------------------- pywinauto key strings

class Key(NamedTuple):
    """One keystroke: modifiers (a subset of ``"^+%"``) and a named key or a character.

    Plain typing is folded into ``Key("", "", text)`` so ``"Hello world"`` is one token.
    """

    mods: str
    name: str  # "ENTER", "ESC", ... or "" for typed text
    text: str = ""


#: pywinauto's key names (and aliases) that the simulated Word understands.
KEY_NAMES: dict[str, str] = {
    "ENTER": "ENTER", "ESC": "ESC", "ESCAPE": "ESC", "BACKSPACE": "BACKSPACE", "BS": "BACKSPACE",
    "BKSP": "BACKSPACE", "DELETE": "DELETE", "DEL": "DELETE", "HOME": "HOME", "END": "END",
    "TAB": "TAB", "LEFT": "LEFT", "RIGHT": "RIGHT", "UP": "UP", "DOWN": "DOWN",
    "PGUP": "UP", "PGDN": "DOWN", "SPACE": " ",
}
_MODS = "^+%"
_parse_cache: dict[str, tuple[Key, ...]] = {}


def parse_keys(keys: str) -> tuple[Key, ...]:
    """Parse pywinauto ``type_keys`` syntax (``^b``, ``{ENTER}``, ``{BACKSPACE 3}``, ``+(ab)``, ``~``).

    Cached per string: agents repeat the same shortcuts. An unknown ``{TOKEN}`` or a dangling
    modifier raises ``ActionError`` naming it.
    """
    hit = _parse_cache.get(keys)
    if hit is not None:
        return hit
    out = _parse(keys)
    if len(_parse_cache) > 4096:
        _parse_cache.clear()
    _parse_cache[keys] = out
    return out


def split_keys(keys: str) -> list[tuple[str, str, str]]:
    """``keys`` in pywinauto syntax as ``(modifiers, kind, body)`` units, the structure only.

    ``kind`` is ``brace`` (``{NAME 3}``: body ``NAME 3``), ``group`` (``+(ab)``: body ``ab``) or
    ``char`` (one character). A modifier with nothing after it or an unclosed brace or group
    raises ``ActionError``. What the units mean is the reader's: the simulated Word's
    ``parse_keys`` and the UIA backend's ``pywinauto_keys`` share this scanner.
    """
    units: list[tuple[str, str, str]] = []
    i, n = 0, len(keys)
    while i < n:
        start = i
        while i < n and keys[i] in _MODS:
            i += 1
        mods = keys[start:i]
        if i >= n:
            raise ActionError(f"keys {keys!r}: modifier {mods!r} at the end has no key to modify")
        c = keys[i]
        if c == "{":
            close = keys.find("}", i + 2)  # i+2 lets "{}}" name the brace itself
            if close < 0:
                raise ActionError(f"keys {keys!r}: unclosed '{{' at position {i}")
            units.append((mods, "brace", keys[i + 1:close]))
            i = close + 1
        elif c == "(" and mods:
            close = keys.find(")", i + 1)
            if close < 0:
                raise ActionError(f"keys {keys!r}: unclosed '(' at position {i}")
            units.append((mods, "group", keys[i + 1:close]))
            i = close + 1
        else:
            units.append((mods, "char", c))
            i += 1
    return units


def _parse(keys: str) -> tuple[Key, ...]:
    out: list[Key] = []
    for raw_mods, kind, body in split_keys(keys):
        mods = "".join(dict.fromkeys(raw_mods))  # a repeated modifier counts once
        if kind == "brace":
            strokes = _brace(keys, body, mods)
        elif kind == "group":
            strokes = [_char(ch, mods) for ch in body]
        elif body == "~":
            strokes = [Key(mods, "ENTER")]
        else:
            strokes = [_char(body, mods)]
        for k in strokes:
            if k.name == "" and out and out[-1].name == "" and not k.mods and not out[-1].mods:
                out[-1] = Key("", "", out[-1].text + k.text)
            else:
                out.append(k)
    return tuple(out)


def _char(c: str, mods: str) -> Key:
    if mods in ("", "+"):
        return Key("", "", c.upper() if mods else c)
    return Key(mods, c.lower())


def _brace(keys: str, body: str, mods: str) -> list[Key]:
    name, _, count = body.partition(" ")
    repeat = 1
    if count:
        if not count.strip().isdigit():
            raise ActionError(f"keys {keys!r}: bad repeat count in {{{body}}}")
        repeat = min(int(count), 1000)
    if len(name) == 1:
        return [_char(name, mods)] * repeat
    canon = KEY_NAMES.get(name.upper())
    if canon is None:
        raise ActionError(f"keys {keys!r}: unknown key token {{{name}}}; known: {', '.join(sorted(KEY_NAMES))}")
    if canon == " ":
        return [_char(" ", mods)] * repeat
    return [Key(mods, canon)] * repeat


__all__ = ["ActionError", "Key", "check_function", "coerce_action", "parse_keys", "split_keys", "validate_args"]
