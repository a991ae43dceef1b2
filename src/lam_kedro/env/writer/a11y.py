"""Writer's window as the agent sees it: the accessibility tree (UNO's ``com.sun.star.accessibility``)
read into the environment's controls ``{label, control_text, control_type}``.

LibreOffice's accessibility roles become the UI Automation control types the model knows (a
toggle button is a ``Button``, a menu a ``MenuItem``, a page tab a ``TabItem``, the text area the
``Document``), as OSWorld reads AT-SPI and UFO reads UIA into one observation format. What is
shown is what a person sees: the menu bar, the Standard and Formatting toolbars and the document
while no dialog is open, plus the items of the menus that are open; a modal dialog's own controls
while it is open (the window behind it does not take input). The sidebar and status bar are left
out (the same commands are in the menus and toolbars).

Walking the main window's ~900 accessible objects takes about a second over the UNO socket, so
its part (menu bar and toolbars) is read once per window and kept; open menus and dialogs are
small and read on every observation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lam_kedro.env.actions import ActionError

__all__ = ["CONTROL_TYPES", "Node", "Roles", "action_count", "children", "dialog_nodes", "edit_of", "editable", "menu_nodes", "window_nodes"]

#: LibreOffice accessible role name -> the UI Automation control type the observation reports.
CONTROL_TYPES: dict[str, str] = {
    "PUSH_BUTTON": "Button", "TOGGLE_BUTTON": "Button", "BUTTON_DROPDOWN": "Button", "BUTTON_MENU": "Button",
    "MENU": "MenuItem", "MENU_ITEM": "MenuItem", "CHECK_MENU_ITEM": "MenuItem", "RADIO_MENU_ITEM": "MenuItem",
    "TEXT": "Edit", "PASSWORD_TEXT": "Edit", "SPIN_BOX": "Edit",
    "COMBO_BOX": "ComboBox", "CHECK_BOX": "CheckBox", "RADIO_BUTTON": "RadioButton", "PAGE_TAB": "TabItem",
    "LIST_ITEM": "ListItem", "DOCUMENT_TEXT": "Document",
}
#: Roles whose subtree is never shown: the sidebar, the status bar, scroll bars, the rulers.
_SKIP = frozenset(("SPLIT_PANE", "STATUS_BAR", "SCROLL_BAR", "RULER", "TOOL_TIP"))
_MNEMONIC = re.compile(r"~")


@dataclass(frozen=True, slots=True)
class Node:
    """One shown control: its accessible context (the live UNO object), what the agent reads, and
    ``commit`` (the UNO command a toolbar box runs on Enter, ``None`` elsewhere)."""

    context: Any
    control_text: str
    control_type: str
    role: str
    commit: str | None = None


class Roles:
    """The office's role and state constants, read once through UNO (they are IDL constants)."""

    def __init__(self, uno: Any) -> None:
        def const(group: str, name: str) -> int | None:
            try:
                return uno.getConstantByName(f"com.sun.star.accessibility.{group}.{name}")
            except Exception:  # noqa: BLE001 - a role this LibreOffice does not define
                return None

        names = set(CONTROL_TYPES) | _SKIP | {"MENU_BAR", "TOOL_BAR", "PANEL", "DIALOG", "ALERT", "LIST",
                                              "ROOT_PANE", "FRAME", "PAGE_TAB_LIST", "LABEL", "SEPARATOR"}
        self.name_of: dict[int, str] = {}
        for n in sorted(names):
            value = const("AccessibleRole", n)
            if value is not None:
                self.name_of[value] = n
        self.showing = const("AccessibleStateType", "SHOWING")
        self.enabled = const("AccessibleStateType", "ENABLED")
        self.selected = const("AccessibleStateType", "SELECTED")
        self.checked = const("AccessibleStateType", "CHECKED")

    def role(self, ctx: Any) -> str:
        return self.name_of.get(ctx.getAccessibleRole(), "OTHER")

    def has(self, ctx: Any, state: int | None) -> bool:
        return state is not None and bool(ctx.getAccessibleStateSet().contains(state))


def clean(name: str) -> str:
    """An accessible name as a control text: no mnemonic tildes, no trailing colon, one line."""
    text = _MNEMONIC.sub("", name or "").strip()
    return " ".join(text.rstrip(":").split())


def children(ctx: Any) -> list[Any]:
    """The accessible contexts of ``ctx``'s children; a child that is gone by the time it is asked
    for (a dialog rebuilding its page while it is read) is left out."""
    out = []
    for i in range(ctx.getAccessibleChildCount()):
        child = ctx.getAccessibleChild(i)
        context = child.getAccessibleContext() if child is not None and hasattr(child, "getAccessibleContext") else None
        if context is not None:
            out.append(context)
    return out


#: Toolbar boxes: the panel's name -> the UNO command the box runs with its text on Enter, and its argument.
TOOLBAR_BOXES: dict[str, tuple[str, str]] = {
    "Font Name": (".uno:CharFontName", "CharFontName.FamilyName"),
    "Font Size": (".uno:FontHeight", "FontHeight.Height"),
    "Paragraph Style": (".uno:StyleApply", "Template"),
}


def window_nodes(root: Any, roles: Roles) -> list[Node]:
    """The main window's controls that do not change while it is open: the menu bar's menus, the
    toolbars' buttons and boxes, and the Document (not the menus' items: see ``menu_nodes``)."""
    out: list[Node] = []

    def walk(ctx: Any, panel: str) -> None:
        role = roles.role(ctx)
        if role in _SKIP or not roles.has(ctx, roles.showing):
            return
        name = clean(ctx.getAccessibleName())
        if role == "MENU_BAR":
            out.extend(Node(m, clean(m.getAccessibleName()), "MenuItem", "MENU") for m in children(ctx))
            return
        if role == "DOCUMENT_TEXT":
            out.append(Node(ctx, "Document", "Document", role))
            return
        if role == "COMBO_BOX":  # a toolbar box: named by its panel ("Font Name"), not its current value
            text = panel or name
            out.append(Node(ctx, text, "ComboBox", role, commit=text if text in TOOLBAR_BOXES else None))
            return
        if role in CONTROL_TYPES and name:
            out.append(Node(ctx, name, CONTROL_TYPES[role], role))
            return
        for child in children(ctx):
            walk(child, name if role == "PANEL" and name else panel)

    walk(root, "")
    return out


def menu_nodes(menu: Any, roles: Roles) -> list[Node]:
    """The items of an open menu (enabled, named: separators are left out)."""
    out = []
    for item in children(menu):
        role = roles.role(item)
        name = clean(item.getAccessibleName())
        if role in CONTROL_TYPES and name and roles.has(item, roles.enabled):
            out.append(Node(item, name, "MenuItem", role))
    return out


def dialog_nodes(dialog: Any, roles: Roles, limit: int = 200) -> list[Node]:
    """The controls of an open dialog: buttons, tabs, check boxes, edits (named by their label),
    combo boxes and the items of its lists that show, in reading order."""
    out: list[Node] = []

    def walk(ctx: Any) -> None:
        if len(out) >= limit:
            return
        role = roles.role(ctx)
        if role in _SKIP or not roles.has(ctx, roles.showing):
            return
        name = clean(ctx.getAccessibleName())
        if role == "COMBO_BOX":
            out.append(Node(ctx, name, "ComboBox", role))
            return  # its edit and list are the box itself to the agent
        if role in CONTROL_TYPES and (name or role == "TEXT"):
            out.append(Node(ctx, name or "Edit", CONTROL_TYPES[role], role))
        if role in ("TEXT", "LIST_ITEM", "PUSH_BUTTON", "CHECK_BOX", "RADIO_BUTTON"):
            return
        for child in children(ctx):
            walk(child)

    walk(dialog)
    return out


def action_count(ctx: Any) -> int:
    """How many accessible actions a control offers (0 when it offers none at all)."""
    return int(ctx.getAccessibleActionCount()) if hasattr(ctx, "getAccessibleActionCount") else 0


def editable(ctx: Any, roles: Roles) -> bool:
    """Whether a combo box has an edit to type in (a drop-down list box has none, or a read-only one)."""
    return any(roles.role(child) == "TEXT" and hasattr(child, "setText") for child in children(ctx))


def edit_of(node: Node, roles: Roles) -> Any:
    """The accessible editable text behind an Edit or a ComboBox (the box's edit child)."""
    ctx = node.context
    if roles.role(ctx) == "COMBO_BOX":
        for child in children(ctx):
            if roles.role(child) == "TEXT":
                return child
        raise ActionError(f"the {node.control_text!r} box has no text to edit")
    if not hasattr(ctx, "setText"):
        raise ActionError(f"{node.control_text!r} ({node.control_type}) has no editable text")
    return ctx
