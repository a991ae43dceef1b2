"""Tests of the UI Automation backend for real Word, and the replay doubles they share.

Windows and Word cannot run on the machines that run this suite, so the live side is replaced
by doubles built on recorded control trees (``data/*.json``): ``RecordingTarget`` stands for a
pywinauto wrapper and records the calls ``dispatch`` makes on it, and ``ReplaySession`` stands
for the pywinauto Word session, serving a recorded tree per UI state and moving to the next one
when a scripted call is made (e.g. clicking "Font Settings" opens the Font dialog's tree). Every
decision the backend makes (which controls, which labels, is the action valid, which call with
which args, the episode's bookkeeping and the checker's verdict) is exercised through them; the
pywinauto calls themselves are checked only on Windows (see docs/windows.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lam_kedro.env.actions import ActionError
from lam_kedro.env.types import Control
from lam_kedro.env.uia.tree import ControlNode, load_tree

DATA = Path(__file__).parent / "data"


def tree(name: str) -> ControlNode:
    """A recorded tree from ``data/`` by its file stem."""
    return load_tree(DATA / f"{name}.json")


class RecordingTarget:
    """A ``ControlTarget`` that records each call as ``(control_text, method, args)``.

    ``texts()`` answers with the node's value, or its name when it has none (as pywinauto does);
    ``select_text`` raises the agent-facing error when the text is not in the node's value,
    as the live Document does.
    """

    def __init__(self, control: Control, node: ControlNode, log: list[tuple[str, str, dict[str, Any]]],
                 on_call: Any = None) -> None:
        self.control = control
        self.node = node
        self.log = log
        self.on_call = on_call

    @property
    def control_text(self) -> str:
        return self.control.control_text

    @property
    def control_type(self) -> str:
        return self.control.control_type

    def _record(self, method: str, **args: Any) -> None:
        self.log.append((self.control_text, method, args))
        if self.on_call is not None:
            self.on_call(self, method, args)

    def click_input(self, button: str = "left", double: bool = False) -> None:
        self._record("click_input", button=button, double=double)

    def set_edit_text(self, text: str) -> None:
        self._record("set_edit_text", text=text)

    def type_keys(self, keys: str) -> None:
        self._record("type_keys", keys=keys)

    def select_text(self, text: str) -> None:
        if self.node.value and text not in self.node.value:
            raise ActionError(f"select_text: {text!r} is not in the document")
        self._record("select_text", text=text)

    def select_table(self, number: int) -> None:
        self._record("select_table", number=number)

    def insert_table(self, rows: int, columns: int) -> None:
        self._record("insert_table", rows=rows, columns=columns)

    def wheel_mouse_input(self, wheel_dist: int) -> None:
        self._record("wheel_mouse_input", wheel_dist=wheel_dist)

    def texts(self) -> list[str]:
        self._record("texts")
        return [self.node.value or self.node.name]


class ReplaySession:
    """A ``WordSession`` over recorded trees.

    ``trees`` maps a state name to its tree; the session starts in ``start``. ``moves`` maps
    ``(control_text, method)`` to the state a call leads to. ``save()`` writes ``saved`` (a
    ``Document``, standing for what Word holds at the end) to the opened file, or leaves the
    file as it was opened; ``fail_save`` makes it raise instead.
    """

    def __init__(self, trees: dict[str, ControlNode], start: str,
                 moves: dict[tuple[str, str], str] | None = None, saved: Any = None,
                 fail_save: bool = False) -> None:
        self.trees = trees
        self.start = start
        self.state = start
        self.moves = dict(moves or {})
        self.saved = saved
        self.fail_save = fail_save
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.opened: list[Path] = []
        self.closed = 0
        self.path: Path | None = None

    def open(self, path: Path) -> None:
        self.path = Path(path)
        self.opened.append(self.path)
        self.state = self.start

    def snapshot(self) -> ControlNode:
        return self.trees[self.state]

    def target(self, control: Control, node: ControlNode) -> RecordingTarget:
        return RecordingTarget(control, node, self.calls, on_call=self._move)

    def _move(self, target: RecordingTarget, method: str, args: dict[str, Any]) -> None:
        self.state = self.moves.get((target.control_text, method), self.state)

    def save(self) -> Path:
        if self.fail_save:
            raise OSError("Word is showing a modal dialog")
        assert self.path is not None
        if self.saved is not None:
            from lam_kedro.env.docx_io import save_docx

            save_docx(self.saved, self.path)
        return self.path

    def close(self) -> None:
        self.closed += 1
        self.path = None
