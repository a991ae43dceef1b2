"""``WriterWindow``: one document open in Writer, and what a person can do with its window.

The office is reached three ways, each for what it is: the accessibility tree (``a11y``) to see
the controls and act on them (a button's or menu item's accessible action, a tab or list item
selected, an edit's text set), LibreOffice's UI-test service (``org.libreoffice.uitest.UITest``)
to send key events to the document or a dialog as a keyboard would, and the UNO API where the
agent's function is itself an API call in UFO (``select_text``, ``select_table``, ``insert_table``
are Word COM calls there), to load and save the file, and to commit a toolbar box's text (the box
runs its command on Enter, and a window under Xvfb without a window manager gets no key focus).
Every method runs on the office's UNO thread through ``Office.call`` (the caller wraps it).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lam_kedro.env.actions import ActionError
from lam_kedro.env.writer.a11y import (
    TOOLBAR_BOXES,
    Node,
    Roles,
    action_count,
    children,
    clean,
    dialog_nodes,
    edit_of,
    editable,
    menu_nodes,
    window_nodes,
)
from lam_kedro.env.writer.office import Office, OfficeStuck, import_uno
from lam_kedro.env.writer.values import measure, points, props

__all__ = ["DOCX_FILTER", "WriterWindow"]

#: The export filter that writes .docx (Word 2007-365).
DOCX_FILTER = "MS Word 2007 XML"
#: The environment's key names -> the UI-test service's key codes.
_KEYCODES: dict[str, str] = {
    "ENTER": "RETURN", "ESC": "ESC", "BACKSPACE": "BACKSPACE", "DELETE": "DELETE", "HOME": "HOME",
    "END": "END", "TAB": "TAB", "LEFT": "LEFT", "RIGHT": "RIGHT", "UP": "UP", "DOWN": "DOWN",
}
_MODS: dict[str, str] = {"^": "CTRL+", "+": "SHIFT+", "%": "ALT+"}
#: ``com.sun.star.util.MeasureUnit`` / VCL's FieldUnit value for points.
_FIELD_UNIT_POINT = 6


class WriterWindow:
    """The Writer window of one office: open a .docx, read the controls, act, save."""

    def __init__(self, office: Office, settle_s: float = 0.0) -> None:
        self.office = office
        self.uno = import_uno()
        self.roles = Roles(self.uno)
        self.settle_s = settle_s
        self.doc: Any = None
        self.frame: Any = None
        self.menus: list[Node] = []  # the open menu chain, outermost first
        self._searched = False  # the Find and Replace dialog was shown (its options may have changed)
        # The text typed in a toolbar box and not yet committed, by box: while a person types in a
        # box it has the focus and the office's status updates (the selection's font size, shown a
        # moment after a selection changes) do not overwrite it. Under Xvfb the box never has the
        # focus, so the window keeps the typed text itself; ``leave_box`` forgets it.
        self.typed: dict[str, str] = {}
        self._window: list[Node] | None = None
        self._toolkit = office.service("com.sun.star.awt.Toolkit")
        self._uitest = office.service("org.libreoffice.uitest.UITest")
        self._dispatcher = office.service("com.sun.star.frame.DispatchHelper")
        # This office's own profile: Writer measures in points (the task families state sizes in
        # points, and a field in inches rounds 6 pt to 0.08″ = 5.76 pt), and no lock files (a crashed
        # office's lock file would make the next one ask "Document in Use" and wait for an answer).
        self._configure("/org.openoffice.Office.Writer/Layout/Other", MeasureUnit=_FIELD_UNIT_POINT)
        self._configure("/org.openoffice.Office.Common/Misc", UseDocumentOOoLockFile=False,
                        UseDocumentSystemFileLocking=False)

    def _configure(self, node: str, **values: Any) -> None:
        provider = self.office.service("com.sun.star.configuration.ConfigurationProvider")
        access = provider.createInstanceWithArguments(
            "com.sun.star.configuration.ConfigurationUpdateAccess", props(self.uno, nodepath=node))
        for name, value in values.items():
            access.setPropertyValue(name, value)
        access.commitChanges()

    # ------------------------------------------------------------------ the document

    def open(self, path: Path) -> None:
        """Load ``path`` in a Writer window (the previous document is closed without saving)."""
        self.close_document()
        self.doc = self.office.desktop.loadComponentFromURL(path.resolve().as_uri(), "_blank", 0,
                                                           props(self.uno, Hidden=False))
        if self.doc is None or not hasattr(self.doc, "getText"):
            raise ValueError(f"LibreOffice did not open {path} as a text document")
        self.frame = self.doc.getCurrentController().getFrame()
        window = self.frame.getContainerWindow()
        window.toFront()  # menus open only in the active window
        window.setFocus()
        self.frame.activate()
        self.menus = []
        self._window = None
        self.typed = {}
        if self._searched:
            self._reset_search_options()

    def _reset_search_options(self) -> None:
        """Uncheck the Find and Replace dialog's option boxes a previous episode checked: Writer
        remembers them from one use to the next (an episode must not depend on the one before)."""
        self._dispatcher.executeDispatch(self.frame, ".uno:SearchDialog", "", 0, ())
        self.settle()
        dialog = self.dialog()
        if dialog is None:
            raise ActionError("the Find and Replace dialog did not open to reset its options")
        for node in dialog_nodes(dialog, self.roles):
            if node.control_type == "CheckBox" and self.roles.has(node.context, self.roles.checked):
                node.context.doAccessibleAction(0)
        self._press(dialog, ("Close",))
        self.settle()
        self._searched = False

    def close_document(self) -> None:
        """Close the open document without saving (a dialog left open is cancelled first, an alert
        acknowledged). ``OfficeStuck`` when Writer still refuses: the caller restarts the office."""
        if self.doc is None:
            return
        for _ in range(3):
            dialog = self.dialog()
            if dialog is None:
                break
            self._press(dialog, ("Cancel", "Close", "No", "OK"))
            self.settle()
        try:
            self.doc.close(True)
        except Exception as err:
            if not type(err).__name__.endswith("CloseVetoException"):  # pyuno names it com.sun.star.util...
                raise
            dialog = self.dialog()
            shown = f" (the {dialog.getAccessibleName()!r} window is open)" if dialog is not None else ""
            raise OfficeStuck(f"Writer refused to close the document{shown}: {err}") from None
        finally:
            self.doc = self.frame = None
            self._window = None

    def save(self, path: Path) -> Path:
        """Write the document as .docx to ``path`` (a copy: the window keeps editing its file)."""
        self.doc.storeToURL(path.resolve().as_uri(), props(self.uno, FilterName=DOCX_FILTER, Overwrite=True))
        return path

    # ------------------------------------------------------------------ what shows

    @property
    def title(self) -> str:
        return str(self.frame.Title) if self.frame is not None else "LibreOffice Writer"

    def text(self) -> str:
        return str(self.doc.getText().getString()).replace("\r\n", "\n")

    def selection(self) -> str:
        sel = self.doc.getCurrentController().getSelection()
        if sel is None or not hasattr(sel, "getCount") or sel.getCount() == 0:
            return ""
        first = sel.getByIndex(0)
        return str(first.getString()) if hasattr(first, "getString") else ""

    def dialog(self) -> Any:
        """The accessible context of the open modal dialog (or alert), or ``None``."""
        found = None
        for i in range(self._toolkit.getTopWindowCount()):
            win = self._toolkit.getTopWindow(i)
            ctx = win.getAccessibleContext() if win is not None and win.isVisible() else None
            if ctx is not None and self.roles.role(ctx) in ("DIALOG", "ALERT"):
                found = ctx
        return found

    def nodes(self) -> list[Node]:
        """The controls shown now: a dialog's, or the window's with the open menus' items after the menu bar."""
        dialog = self.dialog()
        if dialog is not None:
            self.menus = []
            self._searched = self._searched or dialog.getAccessibleName() == "Find and Replace"
            return dialog_nodes(dialog, self.roles)
        if self._window is None:
            root = self.frame.getContainerWindow().getAccessibleContext()
            self._window = window_nodes(root, self.roles)
        menus = [n for n in self._window if n.role == "MENU"]
        items = [item for menu in self.menus if self._is_open(menu) for item in menu_nodes(menu.context, self.roles)]
        if len(items) == 0:
            self.menus = []
        return menus + items + [n for n in self._window if n.role != "MENU"]

    def _is_open(self, menu: Node) -> bool:
        return self.roles.has(menu.context, self.roles.selected)

    # ------------------------------------------------------------------ acting on a control

    def click(self, node: Node, button: str, double: bool) -> None:
        if button != "left":
            raise ActionError("right-click menus are not offered in Writer here: use the menu bar")
        ctx = node.context
        if node.control_type == "MenuItem":
            self._click_menu(node)
        elif node.control_type in ("TabItem", "ListItem"):
            parent = ctx.getAccessibleParent().getAccessibleContext()
            parent.selectAccessibleChild(ctx.getAccessibleIndexInParent())
            if double and action_count(ctx) > 0:
                ctx.doAccessibleAction(0)
        elif node.control_type == "Document":
            self.close_menus()
        elif node.control_type in ("Edit", "ComboBox"):
            self.close_menus()
            ctx.grabFocus()
        else:
            self.close_menus()
            if action_count(ctx) < 1:
                raise ActionError(f"{node.control_text!r} ({node.control_type}) cannot be clicked")
            for _ in range(2 if double else 1):
                ctx.doAccessibleAction(0)
        self.settle()

    def _click_menu(self, node: Node) -> None:
        """Open a menu (the chain up to its parent stays open) or run a menu item (the menus close)."""
        if node.role == "MENU":
            parent = node.context.getAccessibleParent().getAccessibleContext()
            keep = [m for m in self.menus if m.context == parent]
            self.menus = self.menus[: self.menus.index(keep[0]) + 1] if keep else []
            node.context.doAccessibleAction(0)
            self.menus.append(node)
            deadline = time.monotonic() + 3  # the popup opens on the office's main loop
            while not self._is_open(node) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self._is_open(node):
                self.menus.pop()
                raise ActionError(f"the {node.control_text} menu did not open")
        else:
            self.menus = []
            node.context.doAccessibleAction(0)

    def close_menus(self) -> None:
        """Close any open menu (the menu bar's selection cleared, as Esc would)."""
        if self.menus:
            self.menus[0].context.getAccessibleParent().getAccessibleContext().clearAccessibleSelection()
            self.menus = []

    def set_text(self, node: Node, text: str) -> None:
        """Set an edit's or a box's text; on the Document, type over the selection."""
        if node.control_type == "Document":
            self.type_keys(node, (("", "", text),))
            return
        self.close_menus()
        if node.role == "SPIN_BOX":  # a measurement field: its value, in the unit it shows
            ctx = node.context
            ctx.setCurrentValue(measure(text, str(ctx.getText()), node.control_text))
            self.settle()
            return
        if node.role == "COMBO_BOX" and not editable(node.context, self.roles):
            self._choose(node, text)  # a drop-down list: choose the entry
            return
        edit = edit_of(node, self.roles)
        if not edit.setText(text):
            raise ActionError(f"{node.control_text!r} ({node.control_type}) did not take the text")
        if node.commit is not None:
            self.typed = {node.commit: text}
        self.settle()

    def _choose(self, node: Node, text: str) -> None:
        """Select the entry ``text`` of a drop-down list box (its accessible list's child)."""
        for child in children(node.context):
            if self.roles.role(child) != "LIST":
                continue
            names = [clean(item.getAccessibleName()) for item in children(child)]
            if text not in names:
                raise ActionError(f"the {node.control_text} box has no entry {text!r}; it has: {', '.join(names[:30])}")
            child.selectAccessibleChild(names.index(text))
            self.settle()
            return
        raise ActionError(f"the {node.control_text!r} box has no list to choose from")

    def type_keys(self, node: Node, keys: tuple[tuple[str, str, str], ...]) -> None:
        """Send ``(mods, name, text)`` keystrokes (``actions.parse_keys``) to the control."""
        self.close_menus()
        if node.commit is not None:  # a toolbar box: typing edits its text, Enter runs its command
            self._box_keys(node, keys)
            return
        if node.control_type not in ("Document",):
            node.context.grabFocus()
        target = self._uitest.getTopFocusWindow()
        if node.control_type == "Document":
            target = target.getChild("writer_edit")
        for mods, name, text in keys:
            if not name:
                target.executeAction("TYPE", props(self.uno, TEXT=text))
                continue
            code = _KEYCODES.get(name, name.lower() if len(name) == 1 else name)
            target.executeAction("TYPE", props(self.uno, KEYCODE="".join(_MODS[m] for m in mods) + code))
        self.settle()

    def _box_keys(self, node: Node, keys: tuple[tuple[str, str, str], ...]) -> None:
        edit = edit_of(node, self.roles)
        box = node.commit or ""
        for mods, name, text in keys:
            typed = self.typed.get(box, str(edit.getText()))
            if not name and not mods:
                self._type_in_box(edit, box, typed + text)
            elif name == "ENTER" and not mods:
                command, arg = TOOLBAR_BOXES[box]
                value: Any = typed.strip()
                if arg == "FontHeight.Height":
                    value = points(value, node.control_text)
                self.typed = {}
                self._dispatcher.executeDispatch(self.frame, command, "", 0, props(self.uno, **{arg: value}))
            elif name == "BACKSPACE" and not mods:
                self._type_in_box(edit, box, typed[:-1])
            else:
                raise ActionError(f"the {node.control_text} box takes text, BACKSPACE and ENTER, not {mods}{name}")
        self.settle()

    def _type_in_box(self, edit: Any, box: str, text: str) -> None:
        edit.setText(text)
        self.typed = {box: text}

    def leave_box(self) -> None:
        """The focus leaves the toolbar boxes: what was typed in one and not committed is dropped."""
        self.typed = {}

    def select_text(self, text: str) -> None:
        """Select the first occurrence of ``text`` (case-sensitive), as Word's COM ``Find`` does."""
        self.close_menus()
        first, *rest = text.split("\n")  # Writer's search stays in one paragraph: find each line in turn
        found = self._find(first, None) if first else None
        end = found
        for line in rest:
            end = self._find(line, end) if end is not None and line else None
        if found is None or end is None:
            raise ActionError(f"select_text: {text!r} is not in the document")
        if rest:
            cursor = self.doc.getText().createTextCursorByRange(found.getStart())
            cursor.gotoRange(end.getEnd(), True)
            found = cursor
        self.doc.getCurrentController().select(found)
        self.settle()  # the toolbars' status updates for the new selection land before the next action

    def _find(self, text: str, after: Any) -> Any:
        search = self.doc.createSearchDescriptor()
        search.SearchString = text
        search.SearchCaseSensitive = True
        return self.doc.findFirst(search) if after is None else self.doc.findNext(after.getEnd(), search)

    def select_table(self, number: int) -> None:
        tables = self.doc.getTextTables()
        if number > tables.getCount():
            raise ActionError(f"select_table: there is no table {number} (the document has {tables.getCount()})")
        self.close_menus()
        self.doc.getCurrentController().select(tables.getByIndex(number - 1))
        self.settle()

    def insert_table(self, rows: int, columns: int) -> None:
        self.close_menus()
        table = self.doc.createInstance("com.sun.star.text.TextTable")
        table.initialize(rows, columns)
        cursor = self.doc.getCurrentController().getViewCursor()
        cursor.getText().insertTextContent(cursor, table, False)
        self.settle()

    def scroll(self, wheel_dist: int) -> None:
        """Scroll the document's view by ``wheel_dist`` notches (positive: up), as a mouse wheel."""
        cursor = self.doc.getCurrentController().getViewCursor()
        for _ in range(min(abs(wheel_dist), 50)):
            (cursor.screenUp if wheel_dist > 0 else cursor.screenDown)()
        self.settle()

    def read(self, node: Node) -> str:
        """What ``texts()`` gives: the document's text, an edit's text, else the control's name."""
        if node.control_type == "Document":
            return self.text()
        if node.commit in self.typed:
            return self.typed[node.commit]
        if node.control_type in ("Edit", "ComboBox"):
            ctx = node.context if node.role == "SPIN_BOX" else edit_of(node, self.roles)
            return str(ctx.getText())
        return node.control_text

    def settle(self) -> None:
        """Let the office's main loop run what an action posted (key events, menu commands, a
        dialog opening): ``processEventsToIdle`` returns when its queue is empty; ``settle_s``
        more is for what a posted command posts in turn."""
        self._toolkit.processEventsToIdle()
        if self.settle_s > 0:
            time.sleep(self.settle_s)

    def _press(self, dialog: Any, names: tuple[str, ...]) -> None:
        """Press the dialog's first button in ``names`` (in that order of preference)."""
        buttons = {n.control_text: n for n in dialog_nodes(dialog, self.roles) if n.control_type == "Button"}
        for name in names:
            if name in buttons:
                buttons[name].context.doAccessibleAction(0)
                return
