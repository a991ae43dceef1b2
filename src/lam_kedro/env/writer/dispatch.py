"""Action -> what a person does in Writer's window: the ``writer`` handlers of the action table.

``dispatch`` validates an action exactly as the simulated Word and the UIA backend do (the label
is shown, the function exists and applies to the control's type, the args match its signature,
the keys parse), with the same messages, then runs the handler the action table names for the
``writer`` backend (``ActionSpec.handlers["writer"]``, a key of ``HANDLERS``) on the labelled
control of a ``WriterWindow``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lam_kedro.env.action_table import ACTIONS
from lam_kedro.env.actions import ActionError, check_function, parse_keys, validate_args
from lam_kedro.env.controls import Spec
from lam_kedro.env.types import Action
from lam_kedro.env.writer.a11y import Node
from lam_kedro.env.writer.window import WriterWindow

__all__ = ["HANDLERS", "dispatch"]

Handler = Callable[[WriterWindow, Node, dict[str, Any]], Any]


def _keys(window: WriterWindow, node: Node, args: dict[str, Any]) -> None:
    if not args["keys"]:
        raise ActionError("keyboard_input needs non-empty 'keys'")
    window.type_keys(node, tuple((k.mods, k.name, k.text) for k in parse_keys(args["keys"])))


def _select_text(window: WriterWindow, node: Node, args: dict[str, Any]) -> None:
    if not args["text"]:
        raise ActionError("select_text needs a non-empty 'text'")
    window.select_text(args["text"])


def _select_table(window: WriterWindow, node: Node, args: dict[str, Any]) -> None:
    if args["number"] < 1:
        raise ActionError(f"select_table: there is no table {args['number']} (tables count from 1)")
    window.select_table(args["number"])


def _insert_table(window: WriterWindow, node: Node, args: dict[str, Any]) -> None:
    rows, columns = args["rows"], args["columns"]
    if not (1 <= rows <= 63 and 1 <= columns <= 63):
        raise ActionError(f"insert_table: rows and columns must be 1 to 63 (Word's limit), not {rows} x {columns}")
    window.insert_table(rows, columns)


#: The ``writer`` handlers the action table names: each turns a function's validated args into
#: what a person does to the control in Writer's window.
HANDLERS: dict[str, Handler] = {
    "click_input": lambda w, n, a: w.click(n, a["button"], a["double"]),
    "set_edit_text": lambda w, n, a: w.set_text(n, a["text"]),
    "keyboard_input": _keys,
    "select_text": _select_text,
    "select_table": _select_table,
    "insert_table": _insert_table,
    "wheel_mouse_input": lambda w, n, a: w.scroll(a["wheel_dist"]),
    "texts": lambda w, n, a: w.read(n),
    "summary": lambda w, n, a: None,
}

#: Functions that only read: they leave the focus where it is.
_READS = frozenset({"texts", "summary"})


def dispatch(action: Action, nodes: Mapping[str, Node], window: WriterWindow) -> Any:
    """Validate ``action`` against the shown controls (``{label: node}``) and run it in ``window``.

    Raises ``ActionError`` with the message the next observation shows; any other error is the
    office's (the caller decides whether it crashed).
    """
    node = nodes.get(str(action.control_label))
    if node is None:
        shown = f"labels are '1' to '{len(nodes)}'" if nodes else "no controls are visible"
        raise ActionError(f"no control labelled {action.control_label!r} is visible ({shown})")
    check_function(action.function, str(action.control_label), Spec(node.control_text, node.control_type, ""))
    args = validate_args(action.function, action.args)
    if node.commit is None and action.function not in _READS:
        window.leave_box()  # acting anywhere else takes the focus from a toolbar box
    return HANDLERS[ACTIONS[action.function].handlers["writer"]](window, node, args)
