"""The UI state machine of the simulated Word: tab, menu, dialog, selection, caret, undo.

``WordUI`` owns the live ``Document`` and everything around it a user can see or change. The
visible controls are a pure function of a small state key (tab, menu, dialog, dialog status)
and are built once per key, labels included, then served from a cache: an environment step
costs a few dict lookups, not a walk over the ribbon. Commands (what a click does) live in
``ui_commands``, dialogs in ``ui_dialogs``, the keyboard in ``ui_keys``.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from lam_kedro.env import ui_commands, ui_dialogs, ui_keys
from lam_kedro.env.action_table import ACTIONS, action_handler
from lam_kedro.env.actions import ActionError, parse_keys
from lam_kedro.env.controls import DIALOGS, DOCUMENT_SPEC, MENUS, QUICK_ACCESS, TAB_CONTROLS, TABS, Spec
from lam_kedro.env.document import Document, Paragraph, Table
from lam_kedro.env.types import Control, Span

#: What a click runs, by the control's ``cmd``: the ribbon's commands, and opening a dialog (the
#: dialogs use the commands, so the commands do not import them).
_COMMANDS = {**ui_commands.COMMANDS, "open_dialog": ui_dialogs.open_dialog}
#: How many edits Undo can walk back (each holds a document copy).
UNDO_DEPTH = 20

_TAB_SPECS: tuple[Spec, ...] = tuple(Spec(t, "TabItem", "tab", t) for t in TABS)
_BASE: tuple[Spec, ...] = (*_TAB_SPECS, *QUICK_ACCESS, DOCUMENT_SPEC)

#: (controls, label -> spec) per state key, shared by every WordUI (layouts do not depend on
#: the document, except the Word Count text, which is part of the key).
_LAYOUTS: dict[tuple, tuple[tuple[Control, ...], dict[str, Spec]]] = {}


def _layout(key: tuple) -> tuple[tuple[Control, ...], dict[str, Spec]]:
    hit = _LAYOUTS.get(key)
    if hit is not None:
        return hit
    kind = key[0]
    if kind == "dialog":
        _, dialog, status = key
        specs: tuple[Spec, ...] = DIALOGS[dialog]
        if status is not None:
            text = Spec(status, "Text", "noop")
            # Word Count shows its counts first; Find and Replace its message last.
            specs = (text, *specs) if dialog == "Word Count" else (*specs, text)
    else:
        _, tab, menu = key
        specs = (*_BASE, *TAB_CONTROLS[tab], *(MENUS[menu] if menu else ()))
    controls = tuple(Control(str(i), s.text, s.ctype) for i, s in enumerate(specs, start=1))
    by_label = {c.label: s for c, s in zip(controls, specs, strict=True)}
    if len(_LAYOUTS) > 4096:  # only dialog status texts vary without bound
        _LAYOUTS.clear()
    _LAYOUTS[key] = (controls, by_label)
    return controls, by_label


class WordUI:
    """Everything of the simulated window that is not the document's content."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.tab = "Home"
        self.menu: str | None = None
        self.dialog: str | None = None
        self.fields: dict[str, Any] = {}
        self.dirty: set[str] = set()
        self.replace_on_type: set[str] = set()
        self.status_text: str | None = None
        self.anchor = 0  # selection is [min(anchor, caret), max(anchor, caret))
        self.caret = 0
        self.table: int | None = None
        self.pending: dict[str, Any] = {}
        self.font_color = "Red"
        self.highlight_color = "Yellow"
        self.clipboard = ""
        self.scroll_offset = 0
        self.view: dict[str, Any] = {"ruler": False, "gridlines": False, "navigation_pane": False, "mode": "print"}
        self.undo_stack: deque[tuple[Document, int, int]] = deque(maxlen=UNDO_DEPTH)
        self.closed = False
        self.find_text = ""
        self.replace_text = ""
        self.match_case = False
        self._saved_at: tuple[int, int] = (id(doc), doc.version)
        self._snap: tuple[Document, int, int] | None = None

    # ------------------------------------------------------------------ visible controls

    def _state_key(self) -> tuple:
        if self.dialog is not None:
            return ("dialog", self.dialog, self.status_text)
        return ("tab", self.tab, self.menu)

    def controls(self) -> tuple[Control, ...]:
        """The visible controls, labelled ``"1"``, ``"2"``, ... in list order."""
        return _layout(self._state_key())[0]

    def resolve(self, label: Any) -> Spec:
        """The control behind a label of the current state, else an ``ActionError``."""
        spec = _layout(self._state_key())[1].get(str(label))
        if spec is None:
            n = len(self.controls())
            raise ActionError(f"no control labelled {label!r} is visible (labels are '1' to '{n}')")
        return spec

    # ------------------------------------------------------------------ selection

    @property
    def selection(self) -> Span:
        a, c = self.anchor, self.caret
        return Span(a, c) if a <= c else Span(c, a)

    def set_selection(self, start: int, end: int | None = None) -> None:
        """Move the selection (clamped to the text); moving the caret drops the pending format."""
        n = len(self.doc.text())
        start = max(0, min(start, n))
        end = start if end is None else max(0, min(end, n))
        if (start, end) != (self.anchor, self.caret):
            self.pending = {}
        self.anchor, self.caret = start, end
        self.table = None

    def selected_text(self) -> str:
        if self.table is not None:
            tables = self.doc.tables()
            if self.table <= len(tables):
                return "\n".join("| " + " | ".join(r) + " |" for r in tables[self.table - 1].rows)
            return ""
        a, c = self.anchor, self.caret
        if a == c:
            return ""
        return self.doc.text()[a:c] if a < c else self.doc.text()[c:a]

    def para_span(self) -> Span:
        """The paragraphs the selection touches, as one span (Word's paragraph commands use it)."""
        doc, sel = self.doc, self.selection
        first = doc.paragraph_span(doc.paragraph_index_at(sel.start))
        last = doc.paragraph_span(doc.paragraph_index_at(sel.end))
        return Span(first.start, last.end)

    # ------------------------------------------------------------------ edits and undo

    def begin_edit(self) -> None:
        """Take the undo snapshot for this action (once), before the document changes."""
        if self._snap is None:
            self._snap = (self.doc.copy(), self.anchor, self.caret)

    def run(self, function: str, spec: Spec, args: dict[str, Any]) -> Any:
        """Run one validated action with its ``word`` handler from the action table; an error rolls
        the document back and re-raises as ActionError."""
        handler = getattr(self, ACTIONS[function].handlers["word"])
        if not getattr(handler, "action_handler", False):
            raise TypeError(f"WordUI.{handler.__name__} is not marked @action_handler (the table names it for {function})")
        self._snap = None
        version, doc = self.doc.version, self.doc
        try:
            result = handler(spec, **args)
        except ValueError as err:  # a document operation rejected its arguments
            self._rollback(doc, version)
            raise ActionError(str(err)) from err
        except ActionError:
            self._rollback(doc, version)
            raise
        if self._snap is not None and (self.doc is not doc or self.doc.version != version):
            self.undo_stack.append(self._snap)
        self._snap = None
        return result

    def _rollback(self, doc: Document, version: int) -> None:
        if self._snap is not None and (self.doc is not doc or doc.version != version):
            self.doc, self.anchor, self.caret = self._snap
        self._snap = None

    def undo(self) -> None:
        if not self.undo_stack:
            raise ActionError("there is nothing to undo")
        self.doc, self.anchor, self.caret = self.undo_stack.pop()
        self.table, self.pending = None, {}

    @property
    def saved(self) -> bool:
        return self._saved_at == (id(self.doc), self.doc.version)

    def mark_saved(self) -> None:
        self._saved_at = (id(self.doc), self.doc.version)

    # ------------------------------------------------------------------ typing into the body

    def type_text(self, text: str) -> None:
        """Type at the caret, replacing the selection; the pending caret format applies to it."""
        if not text:
            return
        self.begin_edit()
        doc, sel = self.doc, self.selection
        fmt = None
        if len(sel):
            fmt = doc.format_at(Span(sel.start, sel.start + 1))
            doc.delete(sel)
        end = doc.insert_text(sel.start, text, fmt)
        if self.pending:
            doc.apply_run_format(Span(sel.start, end), **self.pending)
        self.anchor = self.caret = end
        self.table = None

    # ------------------------------------------------------------------ the functions
    # One method per function of the action table (its ``word`` handler), called with the
    # validated args by ``run``.


    @action_handler
    def click_input(self, spec: Spec, button: str = "left", double: bool = False) -> Any:
        """A click closes an open menu and runs the control's command (a menu item's included);
        a right click only closes the menu (context menus are not simulated)."""
        self.menu = None
        if button == "right":
            return None
        if self.dialog is not None:
            return ui_dialogs.click(self, spec)
        if double and spec.cmd == "click_document":
            return ui_commands.select_word(self)
        return _COMMANDS[spec.cmd](self, spec.arg)

    @action_handler
    def set_edit_text(self, spec: Spec, text: str) -> None:
        self.menu = None
        if spec.ctype == "Document":
            self.type_text(text)
        elif self.dialog is not None:
            ui_dialogs.set_field(self, spec, text)
        else:
            ui_commands.set_ribbon_field(self, spec.arg, text)

    @action_handler
    def keyboard_input(self, spec: Spec, keys: str) -> None:
        parsed = parse_keys(keys)
        self.menu = None  # typing (Escape included) closes an open menu
        if self.dialog is not None:
            ui_dialogs.keyboard(self, spec, parsed)
        elif spec.ctype == "Document":
            ui_keys.document_keys(self, parsed)
        else:
            ui_keys.ribbon_field_keys(self, spec, parsed)

    @action_handler
    def select_text(self, spec: Spec, text: str) -> None:
        if not text:
            raise ActionError("select_text needs a non-empty 'text'")
        span = self.doc.find(text)
        if span is None:
            raise ActionError(f"select_text: {text!r} is not in the document")
        self.menu = None
        self.set_selection(span.start, span.end)

    @action_handler
    def select_table(self, spec: Spec, number: int) -> None:
        n = len(self.doc.tables())
        if not 1 <= number <= n:
            raise ActionError(f"select_table: there is no table {number} (the document has {n})")
        self.menu = None
        # The caret sits in the paragraph just before the table, so commands have a target.
        self.set_selection(self._pos_before_table(number))
        self.table = number

    def _pos_before_table(self, number: int) -> int:
        seen, pos = 0, 0
        for b in self.doc.blocks:
            if isinstance(b, Table):
                seen += 1
                if seen == number:
                    return max(0, pos - 1)
            elif isinstance(b, Paragraph):
                pos += len(b.text) + 1
        return 0

    @action_handler
    def insert_table(self, spec: Spec, rows: int, columns: int) -> None:
        """Insert a table after the caret's paragraph (Word's Insert Table at a paragraph end)."""
        self.menu = None
        ui_commands.insert_table(self, rows, columns)

    @action_handler
    def wheel_mouse_input(self, spec: Spec, wheel_dist: int) -> None:
        self.menu = None
        self.scroll_offset = max(0, self.scroll_offset - wheel_dist)

    @action_handler
    def texts(self, spec: Spec) -> str:
        """What ``texts()`` on the control returns: its value, or the document body."""
        if spec.ctype == "Document":
            return self.doc.text()
        if self.dialog is not None and spec.cmd in ("field", "check"):
            return str(self.fields.get(spec.arg, ""))
        if spec.cmd == "ribbon_field":
            return ui_commands.ribbon_field_value(self, spec.arg)
        return spec.text

    @action_handler
    def summary(self, spec: Spec, text: str = "") -> None:
        """The agent states what it observed; the window does not change."""
        return None
