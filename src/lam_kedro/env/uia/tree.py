"""Control-tree snapshots of a UI Automation window, and the observation an agent sees of one.

A ``ControlNode`` is a plain, frozen copy of what UI Automation reports for one element (type,
name, automation id, class, rectangle, enabled / visible, value or text) with its children. It
comes either from a live pywinauto ``UIAWrapper`` (``ControlNode.from_wrapper``, Windows only,
duck-typed so nothing here imports pywinauto) or from a recorded JSON file (``load_tree``), so the
step from a tree to an ``Observation`` is the same code on Windows and in the tests here.

``observation_from_tree`` mirrors what UFO's control inspector does with Word's window: keep the
enabled, on-screen elements whose type is in a control list (UFO's ``CONTROL_LIST``), drop the
ones without a name, de-duplicate, and label them "1" .. "n" in enumeration order. The result is
the simulated environment's own ``Observation``, so prompts, policies and ``run_episode`` take it
unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lam_kedro.env.types import Control, Observation

__all__ = [
    "DEFAULT_CONTROL_TYPES",
    "DIALOG_TYPES",
    "TREE_FORMAT",
    "UIA_CONTROL_TYPE_IDS",
    "ControlNode",
    "clean_name",
    "document_text",
    "env_control_type",
    "find_dialog",
    "load_tree",
    "observation_from_tree",
    "save_tree",
]

#: UI Automation's control type ids (``UIA_<Name>ControlTypeId``) and their names.
UIA_CONTROL_TYPE_IDS: dict[int, str] = {
    50000: "Button", 50001: "Calendar", 50002: "CheckBox", 50003: "ComboBox", 50004: "Edit",
    50005: "Hyperlink", 50006: "Image", 50007: "ListItem", 50008: "List", 50009: "Menu",
    50010: "MenuBar", 50011: "MenuItem", 50012: "ProgressBar", 50013: "RadioButton",
    50014: "ScrollBar", 50015: "Slider", 50016: "Spinner", 50017: "StatusBar", 50018: "Tab",
    50019: "TabItem", 50020: "Text", 50021: "ToolBar", 50022: "ToolTip", 50023: "Tree",
    50024: "TreeItem", 50025: "Custom", 50026: "Group", 50027: "Thumb", 50028: "DataGrid",
    50029: "DataItem", 50030: "Document", 50031: "SplitButton", 50032: "Window", 50033: "Pane",
    50034: "Header", 50035: "HeaderItem", 50036: "Table", 50037: "TitleBar", 50038: "Separator",
    50039: "SemanticZoom", 50040: "AppBar",
}
_BY_LOWER: dict[str, str] = {name.lower(): name for name in UIA_CONTROL_TYPE_IDS.values()}

#: The control types shown to the agent: UFO's ``CONTROL_LIST`` for Word plus the ribbon's
#: ``SplitButton`` and the dialogs' ``CheckBox``, which the simulated Word reports too.
DEFAULT_CONTROL_TYPES: tuple[str, ...] = (
    "Button", "SplitButton", "Edit", "TabItem", "Document", "ListItem", "MenuItem", "ScrollBar",
    "TreeItem", "Hyperlink", "ComboBox", "RadioButton", "CheckBox", "DataItem",
)

#: Element types that a modal dialog's root has: Word lists an open dialog (the Font dialog's
#: ``bosa_sdm_msword``, the newer ``NUIDialog``) as a ``Window`` child of the main window.
DIALOG_TYPES: frozenset[str] = frozenset(("Window",))

#: The ``format`` tag of a recorded tree file.
TREE_FORMAT = "lam-kedro/uia-tree"

_ID_SUFFIX = re.compile(r"\s*\((?:0x[0-9a-fA-F]+|\d+)\)\s*$")
_UIA_ID_NAME = re.compile(r"^UIA_(\w+?)ControlTypeId$")
_SPACES = re.compile(r"\s+")
_RECT_LINES = re.compile(r"\[\s*(-?\d+),\s*(-?\d+),\s*(-?\d+),\s*(-?\d+)\s*\]")  # one line per rectangle


def env_control_type(uia_type: str | int) -> str:
    """The environment's control type for a UIA control type, however a tool spelled it.

    Accepts pywinauto's names (``"Button"``), the numeric ids (``50000``), Inspect.exe's
    ``"UIA_ButtonControlTypeId (0xC350)"``, ``"ControlType.Button"`` and the ``uiautomation``
    package's ``"ButtonControl"``. The simulated Word uses UIA's own names, so a known type maps
    to its canonical name; an unknown one is returned as given.
    """
    if isinstance(uia_type, int) and not isinstance(uia_type, bool):
        return UIA_CONTROL_TYPE_IDS.get(uia_type, str(uia_type))
    text = _ID_SUFFIX.sub("", str(uia_type).strip())
    if text.isdigit():
        return UIA_CONTROL_TYPE_IDS.get(int(text), text)
    m = _UIA_ID_NAME.match(text)
    if m:
        text = m.group(1)
    text = text.removeprefix("ControlType.")
    canon = _BY_LOWER.get(text.lower())
    if canon is None and text.endswith("Control"):
        canon = _BY_LOWER.get(text[: -len("Control")].lower())
    return canon or text


def clean_name(name: str) -> str:
    """A control's name as the agent reads it: whitespace collapsed, a trailing colon dropped.

    Word's dialogs name a field after its label (``"Font style:"``); the simulated Word and the
    prompts use the bare label (``"Font style"``).
    """
    text = _SPACES.sub(" ", name).strip()
    if text.endswith(":") and len(text) > 1:
        text = text[:-1].rstrip()
    return text


def document_text(raw: str) -> str:
    """Word's TextPattern text as the observation's document text: one paragraph a line.

    Word ends paragraphs with ``\\r``, line breaks with ``\\v``, and each table cell and each
    table row with ``\\r\\a``. Cells become tab-separated and rows lines; a cell marker right
    after another reads as a row end, so an empty cell shows as a line break (the text alone
    cannot tell the two apart). The final paragraph mark is dropped.
    """
    text = raw.replace("\r\n", "\r").replace("\r\x07\r\x07", "\n").replace("\r\x07", "\t")
    text = text.replace("\x07", "\t").replace("\r", "\n").replace("\x0b", "\n").replace("\x0c", "\n")
    return "\n".join(line.rstrip("\t") for line in text.split("\n")).rstrip("\n")


def _rect(value: Any) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` from a list, a dict or a pywinauto ``RECT``."""
    if value is None:
        return (0, 0, 0, 0)
    if isinstance(value, Mapping):
        return (int(value["left"]), int(value["top"]), int(value["right"]), int(value["bottom"]))
    if hasattr(value, "left"):
        return (int(value.left), int(value.top), int(value.right), int(value.bottom))
    left, top, right, bottom = value
    return (int(left), int(top), int(right), int(bottom))


@dataclass(frozen=True)
class ControlNode:
    """One UI Automation element and its children, as a snapshot.

    ``value`` is the element's text content: the ValuePattern value of an Edit or ComboBox, the
    TextPattern text of a Document. ``selection`` is the selected text a Document reports.
    ``handle`` is the live pywinauto wrapper the snapshot was taken from (``None`` for a recorded
    tree); it is what a live action is sent to, and takes no part in equality.
    """

    control_type: str
    name: str = ""
    automation_id: str = ""
    class_name: str = ""
    rectangle: tuple[int, int, int, int] = (0, 0, 0, 0)
    is_enabled: bool = True
    is_visible: bool = True
    value: str = ""
    selection: str = ""
    children: tuple[ControlNode, ...] = ()
    handle: Any = field(default=None, compare=False, repr=False)

    # ------------------------------------------------------------------ traversal

    def walk(self) -> Iterator[ControlNode]:
        """This node and its descendants in pre-order: the order UI Automation enumerates them."""
        stack: list[ControlNode] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    @property
    def env_type(self) -> str:
        """The control type in the environment's vocabulary (see ``env_control_type``)."""
        return env_control_type(self.control_type)

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (keys at their default values are left out; ``handle`` never)."""
        out: dict[str, Any] = {"control_type": self.control_type, "name": self.name}
        if self.automation_id:
            out["automation_id"] = self.automation_id
        if self.class_name:
            out["class_name"] = self.class_name
        out["rectangle"] = list(self.rectangle)
        if not self.is_enabled:
            out["is_enabled"] = False
        if not self.is_visible:
            out["is_visible"] = False
        if self.value:
            out["value"] = self.value
        if self.selection:
            out["selection"] = self.selection
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ControlNode:
        """A node from ``to_dict``'s shape; ``rectangle`` may also be ``{left, top, right, bottom}``."""
        if "control_type" not in d:
            raise ValueError(f"a control node needs 'control_type'; got keys {sorted(d)}")
        return cls(
            control_type=env_control_type(d["control_type"]),
            name=str(d.get("name") or ""),
            automation_id=str(d.get("automation_id") or ""),
            class_name=str(d.get("class_name") or ""),
            rectangle=_rect(d.get("rectangle")),
            is_enabled=bool(d.get("is_enabled", True)),
            is_visible=bool(d.get("is_visible", True)),
            value=str(d.get("value") or ""),
            selection=str(d.get("selection") or ""),
            children=tuple(cls.from_dict(c) for c in d.get("children", ())),
        )

    # ------------------------------------------------------------------ live (Windows)

    @classmethod
    def from_wrapper(cls, wrapper: Any, max_depth: int = 40, prune_hidden: bool = True) -> ControlNode:
        """Snapshot a pywinauto ``UIAWrapper`` and its descendants (Windows only).

        Duck-typed: reads ``wrapper.element_info`` and calls ``wrapper.children()``, so this module
        never imports pywinauto. ``prune_hidden`` skips the children of an off-screen element
        (the ribbon's collapsed galleries hold hundreds), which keeps a snapshot of Word to a
        second or so. Elements that vanish while being read are left out.
        """
        return cls._from_wrapper(wrapper, max_depth, prune_hidden)

    @classmethod
    def _from_wrapper(cls, wrapper: Any, depth: int, prune_hidden: bool) -> ControlNode:
        info = wrapper.element_info
        ctype = env_control_type(getattr(info, "control_type", "") or "")
        visible = bool(getattr(info, "visible", True))
        children: list[ControlNode] = []
        if depth > 0 and (visible or not prune_hidden):
            for child in _safe(wrapper.children, []):
                try:
                    children.append(cls._from_wrapper(child, depth - 1, prune_hidden))
                except Exception:  # an element that closed mid-walk
                    continue
        value, selection = _live_text(wrapper, ctype)
        return cls(
            control_type=ctype,
            name=str(getattr(info, "name", "") or ""),
            automation_id=str(getattr(info, "automation_id", None) or getattr(info, "auto_id", "") or ""),
            class_name=str(getattr(info, "class_name", "") or ""),
            rectangle=_safe(lambda: _rect(info.rectangle), (0, 0, 0, 0)),
            is_enabled=bool(getattr(info, "enabled", True)),
            is_visible=visible,
            value=value,
            selection=selection,
            children=tuple(children),
            handle=wrapper,
        )


def _safe(fn: Any, default: Any) -> Any:
    try:
        return fn()
    except Exception:  # UIA raises COMError and friends for a stale element
        return default


def _live_text(wrapper: Any, ctype: str) -> tuple[str, str]:
    """(value, selection) of a live element through its Text or Value pattern, else empty."""
    if ctype == "Document":
        def read() -> tuple[str, str]:
            pattern = wrapper.iface_text
            text = pattern.DocumentRange.GetText(-1)
            ranges = pattern.GetSelection()
            sel = ranges.GetElement(0).GetText(-1) if ranges.Length else ""
            return str(text or ""), str(sel or "")

        return _safe(read, ("", ""))
    if ctype in ("Edit", "ComboBox"):
        return str(_safe(lambda: wrapper.iface_value.CurrentValue, "") or ""), ""
    return "", ""


# ---------------------------------------------------------------- recorded trees

def load_tree(path: str | Path) -> ControlNode:
    """A recorded tree: ``{"format": TREE_FORMAT, "root": {...}}`` or a bare node dict."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict) and "root" in data:
        fmt = data.get("format", TREE_FORMAT)
        if fmt != TREE_FORMAT:
            raise ValueError(f"{path}: format {fmt!r} is not {TREE_FORMAT!r}")
        data = data["root"]
    return ControlNode.from_dict(data)


def save_tree(root: ControlNode, path: str | Path, **meta: Any) -> Path:
    """Write ``root`` as a recorded tree (``meta`` goes beside it, e.g. the Word version)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": TREE_FORMAT, **meta, "root": root.to_dict()}
    text = _RECT_LINES.sub(r"[\1, \2, \3, \4]", json.dumps(doc, ensure_ascii=False, indent=1))
    out.write_text(text + "\n", encoding="utf-8")
    return out


# ---------------------------------------------------------------- tree -> observation

def find_dialog(root: ControlNode) -> ControlNode | None:
    """The open modal dialog: the last visible ``Window`` below the root, else ``None``.

    Word lists an open dialog as a child window of the main one, after the ribbon; a dialog
    opened from a dialog comes later still, so the last one is the one on top.
    """
    found: ControlNode | None = None
    for node in root.walk():
        if node is not root and node.env_type in DIALOG_TYPES and node.is_visible:
            found = node
    return found


def _first_document(root: ControlNode) -> ControlNode | None:
    for node in root.walk():
        if node.env_type == "Document" and node.is_visible:
            return node
    return None


def observation_from_tree(
    root: ControlNode,
    control_types: Iterable[str] = DEFAULT_CONTROL_TYPES,
    max_controls: int = 200,
    focus_dialog: bool = True,
    document_label: str | None = "Document",
) -> tuple[Observation, dict[str, ControlNode]]:
    """The observation of a window's tree, and the node behind each label.

    Kept: elements that are visible and enabled, of a type in ``control_types`` (after
    ``env_control_type``), with a non-empty name, first of each (type, name, rectangle), at most
    ``max_controls``; labelled "1" .. "n" in pre-order. With ``focus_dialog`` and a modal dialog
    open, only the dialog's controls are listed (as the simulated Word does: the window behind a
    modal dialog takes no input). ``document_label`` is the text shown for Document controls (the
    simulated Word's ``"Document"``, which trained models expect); ``None`` shows UIA's name.

    The title is the root's name; the document text and selection come from the first visible
    Document of the whole window, so they stay in view while a dialog is open.
    """
    allowed = frozenset(env_control_type(t) for t in control_types)
    if max_controls < 1:
        raise ValueError(f"max_controls must be at least 1, got {max_controls}")
    scope = (find_dialog(root) if focus_dialog else None) or root
    controls: list[Control] = []
    nodes: dict[str, ControlNode] = {}
    seen: set[tuple[str, str, tuple[int, int, int, int]]] = set()
    for node in scope.walk():
        ctype = node.env_type
        if ctype not in allowed or not (node.is_visible and node.is_enabled):
            continue
        text = clean_name(node.name)
        if ctype == "Document" and document_label is not None:
            text = document_label
        if not text:
            continue
        key = (ctype, text, node.rectangle)
        if key in seen:
            continue
        seen.add(key)
        label = str(len(controls) + 1)
        controls.append(Control(label, text, ctype))
        nodes[label] = node
        if len(controls) >= max_controls:
            break
    doc = _first_document(root)
    obs = Observation(
        title=clean_name(root.name),
        controls=tuple(controls),
        document=document_text(doc.value) if doc is not None else "",
        selection=document_text(doc.selection) if doc is not None else "",
    )
    return obs, nodes
