"""The keyboard: typing, editing keys, caret movement and Word's Ctrl shortcuts in the body,
and typing into the ribbon's Edit / ComboBox boxes.

Keys arrive parsed (``actions.parse_keys``). A whole ``keyboard_input`` is checked before any
key runs, so an unsupported shortcut in the middle of a string leaves everything unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lam_kedro.env import ui_commands, ui_dialogs
from lam_kedro.env.actions import ActionError, Key
from lam_kedro.env.controls import Spec
from lam_kedro.env.types import Span

if TYPE_CHECKING:
    from lam_kedro.env.ui import WordUI

#: Ctrl+letter shortcuts of Word that the simulation supports.
SHORTCUTS: dict[str, Callable[[WordUI], Any]] = {
    "b": lambda ui: ui_commands.toggle(ui, "bold"),
    "i": lambda ui: ui_commands.toggle(ui, "italic"),
    "u": lambda ui: ui_commands.toggle(ui, "underline"),
    "e": lambda ui: ui_commands.COMMANDS["align"](ui, "center"),
    "l": lambda ui: ui_commands.COMMANDS["align"](ui, "left"),
    "r": lambda ui: ui_commands.COMMANDS["align"](ui, "right"),
    "j": lambda ui: ui_commands.COMMANDS["align"](ui, "justify"),
    "a": ui_commands.select_all,
    "z": lambda ui: ui.undo(),
    "h": lambda ui: ui_dialogs.open_dialog(ui, "Find and Replace"),
    "f": lambda ui: ui_dialogs.open_dialog(ui, "Find and Replace"),
    "s": ui_commands.save,
    "c": ui_commands.copy,
    "x": ui_commands.cut,
    "v": ui_commands.paste,
    "]": lambda ui: ui_commands.grow_font(ui, 1),
    "[": lambda ui: ui_commands.grow_font(ui, -1),
    "ENTER": ui_commands.page_break,
}
_MOVES = frozenset(("HOME", "END", "LEFT", "RIGHT", "UP", "DOWN"))
_EDIT_KEYS = frozenset(("ENTER", "BACKSPACE", "DELETE", "TAB", "ESC"))


def _check(keys: tuple[Key, ...]) -> None:
    for k in keys:
        if k.name == "" or (k.name in _EDIT_KEYS and "^" not in k.mods) or k.name in _MOVES:
            if "%" in k.mods:
                raise ActionError(f"Alt key combinations (%{k.name or k.text}) are not simulated")
            continue
        if k.mods.replace("+", "") == "^" and k.name in SHORTCUTS:
            continue
        raise ActionError(f"the shortcut {k.mods}{k.name or k.text} is not supported in the document")


def document_keys(ui: WordUI, keys: tuple[Key, ...]) -> None:
    """Keys typed into the body, in order; a shortcut that opens a dialog ends the sequence."""
    _check(keys)
    for k in keys:
        if ui.dialog is not None:  # ^h opened Find and Replace: the rest goes nowhere sensible
            return
        if k.name == "":
            ui.type_text(k.text)
        elif "^" in k.mods and k.name in SHORTCUTS and k.name not in _MOVES:
            SHORTCUTS[k.name](ui)
        elif k.name == "ENTER":
            ui.type_text("\n")
        elif k.name == "TAB":
            ui.type_text("\t")
        elif k.name in ("BACKSPACE", "DELETE"):
            _erase(ui, forward=k.name == "DELETE")
        elif k.name in _MOVES:
            _move(ui, k)
        # ESC in the body only closes an open menu (done by the caller)


def _erase(ui: WordUI, forward: bool) -> None:
    sel, n = ui.selection, len(ui.doc.text())
    if not len(sel):
        if forward and sel.end < n:
            sel = Span(sel.start, sel.end + 1)
        elif not forward and sel.start > 0:
            sel = Span(sel.start - 1, sel.start)
        else:
            return
    ui.begin_edit()
    ui.doc.delete(sel)
    ui.anchor = ui.caret = sel.start
    ui.table = None


def _move(ui: WordUI, k: Key) -> None:
    """Caret movement; Shift extends the selection, Ctrl moves by word / to the document ends."""
    doc, text = ui.doc, ui.doc.text()
    c, ctrl, shift = ui.caret, "^" in k.mods, "+" in k.mods
    if not shift and len(ui.selection) and k.name in ("LEFT", "RIGHT"):
        pos = ui.selection.start if k.name == "LEFT" else ui.selection.end
    elif k.name in ("HOME", "END"):
        if ctrl:
            pos = 0 if k.name == "HOME" else len(text)
        else:
            span = doc.paragraph_span(doc.paragraph_index_at(c))
            pos = span.start if k.name == "HOME" else span.end
    elif k.name in ("UP", "DOWN"):
        i = doc.paragraph_index_at(c) + (-1 if k.name == "UP" else 1)
        i = max(0, min(i, len(doc.paragraphs()) - 1))
        pos = doc.paragraph_span(i).start
    elif ctrl:
        pos = _word_boundary(text, c, forward=k.name == "RIGHT")
    else:
        pos = c - 1 if k.name == "LEFT" else c + 1
    if shift:
        anchor = ui.anchor
        ui.set_selection(anchor, pos)
    else:
        ui.set_selection(pos)


def _word_boundary(text: str, c: int, forward: bool) -> int:
    if forward:
        while c < len(text) and text[c].isalnum():
            c += 1
        while c < len(text) and not text[c].isalnum():
            c += 1
        return c
    while c > 0 and not text[c - 1].isalnum():
        c -= 1
    while c > 0 and text[c - 1].isalnum():
        c -= 1
    return c


def ribbon_field_keys(ui: WordUI, spec: Spec, keys: tuple[Key, ...]) -> None:
    """Typing into a ribbon box (Font, Font Size, Indent Left ...): the typed text becomes its
    value and applies; Enter, Tab, Ctrl+A and caret keys only move focus."""
    typed = "".join(k.text for k in keys if k.name == "")
    for k in keys:
        if k.mods and k.mods != "+" and not (k.mods == "^" and k.name == "a"):
            raise ActionError(f"the shortcut {k.mods}{k.name} does nothing in the {spec.text!r} box")
    if typed:
        ui_commands.set_ribbon_field(ui, spec.arg, typed)
