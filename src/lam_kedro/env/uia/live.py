"""The live part: pywinauto and Word's COM object model, on Windows only.

Nothing in this module runs on the machine that runs the test suite, so it is kept thin: every
decision (which controls, which labels, is the action valid, which method) is made in ``tree``
and ``dispatch``, which are tested against recorded trees. Here a ``UIAControl`` turns the
``ControlTarget`` calls into pywinauto wrapper calls, and a ``PywinautoWordSession`` starts Word
on a file, snapshots its window and saves the document. pywinauto and ``win32com`` (pywin32, a
pywinauto dependency on Windows) are imported inside the functions that use them.

``select_text`` goes through UI Automation's TextPattern (find, then select the range);
``select_table`` and ``insert_table`` go through Word's COM object model, as UFO's Word
receiver does, because UI Automation has no "insert a table" and Word's table elements do not
reliably select through TextPattern.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from lam_kedro.env.actions import ActionError
from lam_kedro.env.types import Control
from lam_kedro.env.uia.availability import UIABackendUnavailable, require_pywinauto
from lam_kedro.env.uia.dispatch import escape_keys
from lam_kedro.env.uia.tree import ControlNode, save_tree

__all__ = ["PywinautoWordSession", "UIAControl", "find_word", "record_window", "window_title_re"]

#: Where Office installs WINWORD.EXE (Click-to-Run first, then MSI installs).
WORD_LOCATIONS: tuple[str, ...] = (
    r"{pf}\Microsoft Office\root\Office16\WINWORD.EXE",
    r"{pf86}\Microsoft Office\root\Office16\WINWORD.EXE",
    r"{pf}\Microsoft Office\Office16\WINWORD.EXE",
    r"{pf86}\Microsoft Office\Office16\WINWORD.EXE",
    r"{pf}\Microsoft Office\Office15\WINWORD.EXE",
)

_WD_DO_NOT_SAVE_CHANGES = 0
#: The class names of Word's ribbon (Office's NetUI toolkit) start with this.
RIBBON_CLASS_PREFIX = "NetUI"


def find_word(app_path: str | None = None) -> str:
    """The path of WINWORD.EXE: ``app_path`` if given, else the first of the usual locations."""
    if app_path:
        return app_path
    pf = os.environ.get("PROGRAMFILES", r"C:\Program Files")
    pf86 = os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)")
    for pattern in WORD_LOCATIONS:
        path = pattern.format(pf=pf, pf86=pf86)
        if os.path.isfile(path):
            return path
    raise UIABackendUnavailable(
        "Microsoft Word (WINWORD.EXE) was not found in the usual Office folders; pass app_path=..."
    )


def window_title_re(stem: str) -> str:
    """A regex for the title of Word's window on ``stem``.docx: ``"stem - Word"``,
    ``"stem.docx - Word"``, ``"stem - Compatibility Mode - Word"``."""
    return rf"^{re.escape(stem)}(\.docx)?\s.*Word$"


class UIAControl:
    """A ``ControlTarget`` over one pywinauto ``UIAWrapper`` (the snapshot's ``node.handle``)."""

    def __init__(self, control: Control, node: ControlNode, session: PywinautoWordSession) -> None:
        self.control = control
        self.node = node
        self.wrapper = node.handle
        self.session = session

    @property
    def control_text(self) -> str:
        return self.control.control_text

    @property
    def control_type(self) -> str:
        return self.control.control_type

    def click_input(self, button: str = "left", double: bool = False) -> None:
        self.wrapper.click_input(button=button, double=double)

    def set_edit_text(self, text: str) -> None:
        """Document: typed at the caret (replacing the selection). A ribbon box (a ``NetUI`` class):
        focused, cleared, typed and committed with ENTER, as the simulated Word applies it at
        once. A dialog field: its ValuePattern value (no ENTER, which would press the dialog's
        default button), or cleared and retyped when it has none."""
        if self.control_type == "Document":
            self.wrapper.type_keys(escape_keys(text), with_spaces=True, with_tabs=True, with_newlines=True)
            return
        if self.node.class_name.startswith(RIBBON_CLASS_PREFIX):
            self.wrapper.type_keys("^a{BACKSPACE}" + escape_keys(text) + "{ENTER}", with_spaces=True)
            return
        try:
            self.wrapper.iface_value.SetValue(text)
            return
        except Exception:  # no ValuePattern, or read-only: type it as a person would
            pass
        self.wrapper.type_keys("^a{BACKSPACE}" + escape_keys(text), with_spaces=True)

    def type_keys(self, keys: str) -> None:
        self.wrapper.type_keys(keys, with_spaces=True, with_tabs=True, with_newlines=True)

    def select_text(self, text: str) -> None:
        pattern = self.wrapper.iface_text
        found = pattern.DocumentRange.FindText(text, False, False)
        if not found:
            raise ActionError(f"select_text: {text!r} is not in the document")
        found.Select()

    def select_table(self, number: int) -> None:
        tables = self.session.com_document().Tables
        if not 1 <= number <= tables.Count:
            raise ActionError(f"select_table: there is no table {number} (the document has {tables.Count})")
        tables(number).Select()

    def insert_table(self, rows: int, columns: int) -> None:
        """A rows x columns table after the caret's paragraph, as the simulated Word inserts it."""
        doc = self.session.com_document()
        para = doc.Application.Selection.Paragraphs(1).Range
        para.InsertParagraphAfter()
        empty = para.Paragraphs(para.Paragraphs.Count).Range
        table = doc.Tables.Add(empty, rows, columns)
        table.Borders.Enable = True

    def wheel_mouse_input(self, wheel_dist: int) -> None:
        self.wrapper.wheel_mouse_input(wheel_dist=wheel_dist)

    def texts(self) -> str | list[str]:
        if self.control_type == "Document":
            return self.wrapper.iface_text.DocumentRange.GetText(-1)
        if self.control_type in ("Edit", "ComboBox"):
            try:
                return str(self.wrapper.iface_value.CurrentValue)
            except Exception:
                pass
        return list(self.wrapper.texts())


class PywinautoWordSession:
    """One Word window on one .docx file, through pywinauto's UIA backend (a ``WordSession``)."""

    def __init__(self, app_path: str | None = None, timeout_s: float = 60.0, max_depth: int = 40) -> None:
        self.pywinauto = require_pywinauto()
        self.app_path = find_word(app_path)
        self.timeout_s = timeout_s
        self.max_depth = max_depth
        self.path: Path | None = None
        self.app: Any = None
        self.window: Any = None
        self._com_doc: Any = None

    def open(self, path: Path) -> None:
        from pywinauto import Application

        self.path = Path(path).resolve()
        # /q: no splash screen. Word may hand the file to an instance already running and exit
        # at once, so the window is found by its title, not through the process start() made.
        try:
            Application(backend="uia").start(f'"{self.app_path}" /q "{self.path}"', timeout=self.timeout_s)
        except Exception as err:  # the hand-over above, or a real failure that connect() will report
            started: Exception | None = err
        else:
            started = None
        title = window_title_re(self.path.stem)
        try:
            self.app = Application(backend="uia").connect(title_re=title, timeout=self.timeout_s)
        except Exception as err:
            raise RuntimeError(f"no Word window titled like {title!r} appeared (start: {started!r})") from err
        self.window = self.app.window(title_re=title)
        self.window.wait("ready", timeout=self.timeout_s)
        self.window.set_focus()
        self._com_doc = None

    def snapshot(self) -> ControlNode:
        if self.window is None:
            raise RuntimeError("no document is open")
        return ControlNode.from_wrapper(self.window.wrapper_object(), max_depth=self.max_depth)

    def target(self, control: Control, node: ControlNode) -> UIAControl:
        return UIAControl(control, node, self)

    def com_document(self) -> Any:
        """Word's COM ``Document`` for the open file (pywin32's ``GetObject`` by path)."""
        if self._com_doc is None:
            if self.path is None:
                raise RuntimeError("no document is open")
            import win32com.client

            self._com_doc = win32com.client.GetObject(str(self.path))
        return self._com_doc

    def save(self) -> Path:
        if self.path is None:
            raise RuntimeError("no document is open")
        self.com_document().Save()
        time.sleep(0.5)  # let Word finish writing before the file is read
        return self.path

    def close(self) -> None:
        if self.path is None:
            return
        try:
            self.com_document().Close(SaveChanges=_WD_DO_NOT_SAVE_CHANGES)
        except Exception:  # Word already gone, or a modal dialog blocks COM: end the process
            if self.app is not None:
                self.app.kill()
        self.path = self.app = self.window = self._com_doc = None


def record_window(path: str | Path, title_re: str = r".* - Word$", max_depth: int = 40, **meta: Any) -> Path:
    """Snapshot the open Word window whose title matches ``title_re`` into a recorded-tree file.

    The file has the format of ``tests/env/uia/data``: record a state of real Word once on
    Windows, and the observation and dispatch tests can replay it anywhere.
    """
    require_pywinauto()
    from pywinauto import Desktop

    window = Desktop(backend="uia").window(title_re=title_re).wrapper_object()
    return save_tree(ControlNode.from_wrapper(window, max_depth=max_depth), path, **meta)
