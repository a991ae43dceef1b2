"""The live adapter's wiring, against fakes of pywinauto and Word's COM model.

Windows cannot run here (see this package's docstring), so these fakes stand for pywinauto's
wrappers, its ``Application`` and pywin32's ``win32com.client``: they check that each
``ControlTarget`` call becomes the pywinauto / COM call UFO makes, with the right arguments, and
that the session starts, finds, saves and closes Word as intended. Whether real Word answers
those calls as expected is checked on Windows only (docs/windows.md).
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from lam_kedro.env.actions import ActionError
from lam_kedro.env.types import Control
from lam_kedro.env.uia import UIABackendUnavailable, UIAWordEnv, load_tree
from lam_kedro.env.uia.live import PywinautoWordSession, UIAControl, find_word, record_window, window_title_re
from lam_kedro.env.uia.tree import ControlNode


class Recorder:
    """Records ``name(*args, **kwargs)`` calls made on any attribute path."""

    def __init__(self, log: list[tuple[str, tuple[Any, ...], dict[str, Any]]], prefix: str = "") -> None:
        self._log, self._prefix = log, prefix

    def __getattr__(self, name: str) -> Recorder:
        return Recorder(self._log, f"{self._prefix}.{name}" if self._prefix else name)

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self._log.append((self._prefix, args, kwargs))


class FakeRange:
    def __init__(self, text: str, log: list[Any]) -> None:
        self.text, self.log = text, log

    def FindText(self, text: str, backward: bool, ignore_case: bool) -> FakeRange | None:  # noqa: N802 - COM name
        return FakeRange(text, self.log) if text in self.text else None

    def Select(self) -> None:  # noqa: N802
        self.log.append(("Select", (self.text,), {}))

    def GetText(self, n: int) -> str:  # noqa: N802
        return self.text


class FakeWrapper(Recorder):
    """A pywinauto wrapper: action methods record; Text and Value patterns answer."""

    def __init__(self, log: list[Any], text: str = "", value: str | None = None, settable: bool = True) -> None:
        super().__init__(log)
        self.iface_text = types.SimpleNamespace(DocumentRange=FakeRange(text, log))
        if value is not None:
            def set_value(v: str) -> None:
                if not settable:
                    raise RuntimeError("read-only")
                log.append(("iface_value.SetValue", (v,), {}))

            self.iface_value = types.SimpleNamespace(CurrentValue=value, SetValue=set_value)

    def texts(self) -> list[str]:
        return ["Bold"]


class FakeTables:
    def __init__(self, count: int, log: list[Any]) -> None:
        self.Count, self.log = count, log

    def __call__(self, number: int) -> Recorder:
        return Recorder(self.log, f"Tables({number})")

    def Add(self, rng: Any, rows: int, columns: int) -> Any:  # noqa: N802
        self.log.append(("Tables.Add", (rows, columns), {}))
        return types.SimpleNamespace(Borders=types.SimpleNamespace(Enable=False))


class FakeParagraphs:
    def __init__(self, log: list[Any]) -> None:
        self.log, self.Count = log, 2

    def __call__(self, i: int) -> Any:
        return types.SimpleNamespace(Range=FakeParaRange(self.log))


class FakeParaRange:
    def __init__(self, log: list[Any]) -> None:
        self.log = log
        self.Paragraphs = FakeParagraphs(log)

    def InsertParagraphAfter(self) -> None:  # noqa: N802
        self.log.append(("InsertParagraphAfter", (), {}))
        self.Paragraphs = FakeParagraphs(self.log)


class FakeSession:
    def __init__(self, log: list[Any], tables: int = 2) -> None:
        app = types.SimpleNamespace(Selection=types.SimpleNamespace(Paragraphs=FakeParagraphs(log)))
        self.doc = types.SimpleNamespace(Tables=FakeTables(tables, log), Application=app)

    def com_document(self) -> Any:
        return self.doc


def control(text: str, ctype: str, wrapper: Any, log: list[Any], class_name: str = "") -> UIAControl:
    node = ControlNode(ctype, text, class_name=class_name, handle=wrapper)
    return UIAControl(Control("1", text, ctype), node, FakeSession(log))  # type: ignore[arg-type]


def test_control_calls_become_pywinauto_calls() -> None:
    log: list[Any] = []
    button = control("Bold", "Button", FakeWrapper(log), log)
    assert (button.control_text, button.control_type) == ("Bold", "Button")
    button.click_input(button="right", double=True)
    button.type_keys("^b")
    button.wheel_mouse_input(-3)
    assert button.texts() == ["Bold"]
    assert log == [
        ("click_input", (), {"button": "right", "double": True}),
        ("type_keys", ("^b",), {"with_spaces": True, "with_tabs": True, "with_newlines": True}),
        ("wheel_mouse_input", (), {"wheel_dist": -3}),
    ]


def test_set_edit_text_by_control_type() -> None:
    log: list[Any] = []
    control("Font color", "ComboBox", FakeWrapper(log, value="Automatic"), log).set_edit_text("Red")
    control("Size", "Edit", FakeWrapper(log, value="11", settable=False), log).set_edit_text("1(2)")
    control("Font", "ComboBox", FakeWrapper(log, value="Calibri"), log, "NetUIDropdownAnchor").set_edit_text("Arial")
    control("Document", "Document", FakeWrapper(log, text="x"), log).set_edit_text("a+b\n")
    assert log == [
        ("iface_value.SetValue", ("Red",), {}),  # a dialog field: no ENTER
        ("type_keys", ("^a{BACKSPACE}1{(}2{)}",), {"with_spaces": True}),
        ("type_keys", ("^a{BACKSPACE}Arial{ENTER}",), {"with_spaces": True}),  # a ribbon box: committed
        ("type_keys", ("a{+}b{ENTER}",), {"with_spaces": True, "with_tabs": True, "with_newlines": True}),
    ]


def test_document_calls_use_text_pattern_and_com() -> None:
    log: list[Any] = []
    doc = control("Document", "Document", FakeWrapper(log, text="The Maple Street garden\r"), log)
    doc.select_text("Maple")
    with pytest.raises(ActionError, match="select_text: 'Oak' is not in the document"):
        doc.select_text("Oak")
    doc.select_table(2)
    with pytest.raises(ActionError, match=r"there is no table 3 \(the document has 2\)"):
        doc.select_table(3)
    doc.insert_table(3, 4)
    assert doc.texts() == "The Maple Street garden\r"
    assert log == [("Select", ("Maple",), {}), ("Tables(2).Select", (), {}), ("InsertParagraphAfter", (), {}),
                   ("Tables.Add", (3, 4), {})]
    log.clear()
    assert control("Font", "ComboBox", FakeWrapper(log, value="Calibri"), log).texts() == "Calibri"


def test_find_word_and_the_title_pattern(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_word(r"D:\Office\WINWORD.EXE") == r"D:\Office\WINWORD.EXE"
    monkeypatch.setenv("PROGRAMFILES", str(tmp_path / "none"))
    monkeypatch.setenv("PROGRAMFILES(X86)", str(tmp_path / "none86"))
    with pytest.raises(UIABackendUnavailable, match="pass app_path"):
        find_word()
    exe = Path(str(tmp_path / "none86") + r"\Microsoft Office\root\Office16\WINWORD.EXE")
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text("")
    assert find_word() == str(exe)
    pattern = re.compile(window_title_re("bold_text-96201d2ac16d"))
    for title in ("bold_text-96201d2ac16d - Word", "bold_text-96201d2ac16d.docx - Word",
                  "bold_text-96201d2ac16d - Compatibility Mode - Word"):
        assert pattern.match(title), title
    assert not pattern.match("bold_text-96201d2ac16d2 - Word")
    assert re.match(window_title_re("task-"), "task- - Word")


@pytest.fixture
def fake_windows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Any]:
    """``sys.platform == "win32"`` with fake ``pywinauto`` and ``win32com.client`` modules."""
    log: list[Any] = []
    window_wrapper = FakeWrapper(log, text="Hello\r")
    window_wrapper.element_info = types.SimpleNamespace(  # type: ignore[attr-defined]
        control_type="Window", name="doc - Word", rectangle=None, enabled=True, visible=True)
    window_wrapper.children = lambda: []  # type: ignore[method-assign]

    class Spec(Recorder):
        def wrapper_object(self) -> FakeWrapper:
            return window_wrapper

    class Application:
        def __init__(self, backend: str) -> None:
            assert backend == "uia"

        def start(self, cmd: str, timeout: float) -> Application:
            log.append(("start", (cmd,), {}))
            raise RuntimeError("handed over to the running Word")  # the session must carry on

        def connect(self, title_re: str, timeout: float) -> Application:
            log.append(("connect", (title_re,), {}))
            return self

        def window(self, title_re: str) -> Spec:
            return Spec(log, "window")

        def kill(self) -> None:
            log.append(("kill", (), {}))

    class Desktop:
        def __init__(self, backend: str) -> None:
            pass

        def window(self, title_re: str) -> Spec:
            return Spec(log, "desktop")

    pywinauto = types.ModuleType("pywinauto")
    pywinauto.Application = Application  # type: ignore[attr-defined]
    pywinauto.Desktop = Desktop  # type: ignore[attr-defined]
    client = types.ModuleType("win32com.client")
    client.GetObject = lambda path: Recorder(log, f"com[{Path(path).name}]")  # type: ignore[attr-defined]
    win32com = types.ModuleType("win32com")
    win32com.client = client  # type: ignore[attr-defined]
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "pywinauto", pywinauto)
    monkeypatch.setitem(sys.modules, "win32com", win32com)
    monkeypatch.setitem(sys.modules, "win32com.client", client)
    monkeypatch.setattr("lam_kedro.env.uia.live.time.sleep", lambda s: None)
    return log


def test_the_session_starts_finds_saves_and_closes_word(fake_windows: list[Any], tmp_path: Path) -> None:
    log = fake_windows
    session = PywinautoWordSession(app_path=r"C:\Word\WINWORD.EXE", timeout_s=5)
    session.close()  # nothing open yet: nothing to do
    path = tmp_path / "garden.docx"
    session.open(path)
    snap = session.snapshot()
    assert snap.name == "doc - Word" and snap.handle is not None
    assert isinstance(session.target(Control("1", "doc", "Document"), snap), UIAControl)
    assert session.save() == path.resolve()
    session.close()
    names = [entry[0] for entry in log]
    assert log[0] == ("start", (f'"C:\\Word\\WINWORD.EXE" /q "{path.resolve()}"',), {})
    assert log[1] == ("connect", (window_title_re("garden"),), {})
    assert names[2:] == ["window.wait", "window.set_focus", "com[garden.docx].Save", "com[garden.docx].Close"]
    assert log[-1][2] == {"SaveChanges": 0}
    with pytest.raises(RuntimeError, match="no document is open"):
        session.snapshot()


def test_uiawordenv_builds_the_live_session_when_none_is_given(fake_windows: list[Any], tmp_path: Path) -> None:
    env = UIAWordEnv(app_path=r"C:\Word\WINWORD.EXE", work_dir=tmp_path)
    assert isinstance(env.session, PywinautoWordSession) and env.session.app_path == r"C:\Word\WINWORD.EXE"


def test_record_window_writes_a_replayable_tree(fake_windows: list[Any], tmp_path: Path) -> None:
    out = record_window(tmp_path / "now.json", app="fake Word")
    assert load_tree(out).name == "doc - Word"
