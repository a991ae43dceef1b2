"""Control tree -> observation, against recorded Word trees (see this package's docstring: the
trees stand for live pywinauto snapshots, which need Windows).

Covers what UFO's inspector does with Word's window: type filter, visible + enabled, nameless
and duplicate controls dropped, labels "1".."n" in enumeration order; plus the title, the
document text and selection, the open-dialog focus, control-type spellings, the JSON round
trip, the duck-typed live snapshot, and that the prompt renders the result.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lam_kedro.agent.prompt import step_messages
from lam_kedro.env.types import Control, Observation
from lam_kedro.env.uia import (
    DEFAULT_CONTROL_TYPES,
    ControlNode,
    env_control_type,
    find_dialog,
    load_tree,
    observation_from_tree,
    save_tree,
)
from lam_kedro.env.uia.tree import clean_name, document_text
from tests.env.uia import tree

GARDEN_TEXT = (
    "The Maple Street community garden opened its gates this spring after two years of planning.\n"
    "Volunteers built twelve raised beds from reclaimed cedar and installed a rainwater barrel beside "
    "the tool shed. Each household may reserve one bed for the growing season.\n"
    "Workdays are held on the first Saturday of every month. Bring gloves, a water bottle and your "
    "favourite trowel; coffee and pastries are provided by the bakery on the corner.\n"
    "Questions about plot assignments can be sent to the garden committee at any time."
)


def texts(obs: Observation) -> list[str]:
    return [c.control_text for c in obs.controls]


@pytest.fixture(scope="module")
def home() -> tuple[Observation, dict[str, ControlNode]]:
    return observation_from_tree(tree("home_ribbon"))


# ---------------------------------------------------------------- recorded files

@pytest.mark.parametrize("name", ["home_ribbon", "font_dialog", "insert_tab_unicode"])
def test_recorded_trees_load_and_round_trip(name: str, tmp_path: Path) -> None:
    root = tree(name)
    assert root.control_type == "Window" and root.class_name == "OpusApp"
    assert sum(1 for _ in root.walk()) > 60
    out = save_tree(root, tmp_path / "again.json", note="round trip")
    assert load_tree(out) == root
    assert json.loads(out.read_text(encoding="utf-8"))["note"] == "round trip"


def test_load_tree_accepts_a_bare_node_and_rejects_another_format(tmp_path: Path) -> None:
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"control_type": "Button", "name": "OK", "rectangle": {"left": 1, "top": 2,
                                                                                    "right": 3, "bottom": 4}}))
    assert load_tree(bare) == ControlNode("Button", "OK", rectangle=(1, 2, 3, 4))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something-else", "root": {"control_type": "Button"}}))
    with pytest.raises(ValueError, match="something-else"):
        load_tree(other)
    with pytest.raises(ValueError, match="control_type"):
        ControlNode.from_dict({"name": "no type"})


def test_walk_is_pre_order() -> None:
    leaf = lambda name: ControlNode("Button", name)  # noqa: E731
    root = ControlNode("Window", "w", children=(
        ControlNode("Group", "g1", children=(leaf("a"), leaf("b"))),
        leaf("c"),
    ))
    assert [n.name for n in root.walk()] == ["w", "g1", "a", "b", "c"]


# ---------------------------------------------------------------- the observation

def test_labels_are_one_to_n_in_enumeration_order(home: tuple[Observation, dict[str, ControlNode]]) -> None:
    obs, nodes = home
    assert [c.label for c in obs.controls] == [str(i) for i in range(1, len(obs.controls) + 1)]
    assert list(nodes) == [c.label for c in obs.controls]
    shown = texts(obs)
    # title bar, quick access toolbar, tabs, ribbon groups, document, status bar: tree order
    order = ["Search", "Save", "File Tab", "Home", "Insert", "Paste", "Font", "Bold", "Italic", "Bullets",
             "Normal", "Find", "Document", "Page 1 of 1", "Zoom 100%"]
    positions = [shown.index(t) for t in order]
    assert positions == sorted(positions)
    assert obs.find("Home", "TabItem") is not None and obs.find("Bold", "Button") is not None
    for label, node in nodes.items():
        assert node.env_type == obs.by_label(label).control_type


def test_only_visible_enabled_named_controls_of_listed_types(home: tuple[Observation, dict[str, ControlNode]]) -> None:
    obs, nodes = home
    shown = set(texts(obs))
    assert {c.control_type for c in obs.controls} <= set(DEFAULT_CONTROL_TYPES)
    # disabled in the recording: AutoSave (local file), Redo, Row up, Dictate
    assert not shown & {"AutoSave", "Redo", "Row up", "Dictate"}
    # off screen: the styles gallery's lower rows, the horizontal scroll bar
    assert not shown & {"Subtle Emphasis", "Quote", "Horizontal Scroll Bar"}
    # containers and decoration: Pane, Group, Custom, ToolBar, Tab, List, StatusBar, Slider, Thumb
    assert not shown & {"Ribbon", "Clipboard", "Lower Ribbon", "Quick Access Toolbar", "Ribbon Tabs",
                        "Styles", "Status Bar", "Zoom", "Position", "Page 1"}
    all_nodes = list(tree("home_ribbon").walk())
    assert any(not n.is_enabled for n in all_nodes) and any(not n.is_visible for n in all_nodes)
    assert all(n.is_enabled and n.is_visible and n.name for n in nodes.values())


def test_duplicates_are_dropped_but_same_text_of_other_types_kept(home: tuple[Observation, dict[str, ControlNode]]) -> None:
    obs, _ = home
    raw = [n for n in tree("home_ribbon").walk() if n.name == "Paste"]
    assert len(raw) == 2 and raw[0] == raw[1]  # Word lists the collapsed copy too
    assert texts(obs).count("Paste") == 1
    # the Font ComboBox, its Edit and its drop-down Button are three controls
    assert [c.control_type for c in obs.controls if c.control_text == "Font"] == ["ComboBox", "Edit", "Button"]
    assert [c.control_type for c in obs.controls if c.control_text == "Undo"] == ["SplitButton", "Button"]


def test_nameless_controls_are_dropped() -> None:
    root = ControlNode("Window", "w - Word", children=(
        ControlNode("Button", ""), ControlNode("Button", "   "), ControlNode("Button", "OK"),
    ))
    obs, _ = observation_from_tree(root)
    assert [(c.label, c.control_text) for c in obs.controls] == [("1", "OK")]


def test_title_document_text_and_selection(home: tuple[Observation, dict[str, ControlNode]]) -> None:
    obs, _ = home
    assert obs.title == "community_garden - Word"
    assert obs.document == GARDEN_TEXT
    assert obs.selection == "" and obs.error is None
    assert isinstance(obs, Observation) and all(isinstance(c, Control) for c in obs.controls)


def test_document_label_is_the_simulated_words_unless_asked_for_the_uia_name() -> None:
    obs, _ = observation_from_tree(tree("insert_tab_unicode"))
    assert obs.find("Document", "Document") is not None
    raw, _ = observation_from_tree(tree("insert_tab_unicode"), document_label=None)
    assert raw.find("Résumé – Zoë Müller", "Document") is not None


def test_unicode_names_text_and_table_cells() -> None:
    obs, nodes = observation_from_tree(tree("insert_tab_unicode"))
    assert obs.title == "Résumé – Zoë Müller - Word"
    cells = [c.control_text for c in obs.controls if c.control_type == "DataItem"]
    assert cells == ["Sprache", "Niveau", "Deutsch", "Muttersprache", "Français", "C1", "日本語", "A2"]
    assert obs.document.splitlines() == [
        "Zoë Müller",
        "Straße des 17. Juni 135 · 10623 Berlin · zoe@example.org",
        "Sprachen",
        "Sprache\tNiveau",
        "Deutsch\tMuttersprache",
        "Français\tC1",
        "日本語\tA2",
        "„Genauigkeit vor Geschwindigkeit.“",
    ]
    assert obs.selection == "Zoë"
    assert obs.find("Table", "SplitButton") is not None  # the Insert tab's ribbon
    assert obs.find("Bold") is None


def test_an_open_dialog_takes_the_controls_and_the_document_stays() -> None:
    root = tree("font_dialog")
    dialog = find_dialog(root)
    assert dialog is not None and dialog.name == "Font" and dialog.class_name == "bosa_sdm_msword"
    obs, nodes = observation_from_tree(root)
    shown = texts(obs)
    assert obs.title == "community_garden - Word"
    assert {"Font style", "Size", "Font color", "Underline style", "Strikethrough", "OK", "Cancel"} <= set(shown)
    assert "Bold" in shown and obs.find("Bold").control_type == "ListItem"  # the style list, not the ribbon
    assert obs.find("Bold", "Button") is None and "Home" not in shown and "Document" not in shown
    assert "Underline color" not in shown  # disabled until an underline is chosen
    assert "Font:" not in shown and "Arial Black" not in shown  # colon dropped; scrolled-out list row
    assert not any(c.control_type == "Text" for c in obs.controls)
    assert shown[-2:] == ["OK", "Cancel"]
    assert obs.document == GARDEN_TEXT and obs.selection == "plot"
    assert all(n in set(dialog.walk()) for n in nodes.values())

    everything, _ = observation_from_tree(root, focus_dialog=False)
    assert everything.find("Bold", "Button") is not None and everything.find("OK", "Button") is not None
    assert len(everything.controls) > len(obs.controls)
    assert find_dialog(tree("home_ribbon")) is None


def test_control_types_and_max_controls(home: tuple[Observation, dict[str, ControlNode]]) -> None:
    obs, _ = observation_from_tree(tree("home_ribbon"), control_types=["TabItem"])
    assert texts(obs)[:2] == ["Home", "Insert"] and {c.control_type for c in obs.controls} == {"TabItem"}
    # a type spelled another way still filters
    same, _ = observation_from_tree(tree("home_ribbon"), control_types=["UIA_TabItemControlTypeId"])
    assert same == obs
    capped, nodes = observation_from_tree(tree("home_ribbon"), max_controls=5)
    assert capped.controls == home[0].controls[:5] and len(nodes) == 5
    with pytest.raises(ValueError, match="max_controls"):
        observation_from_tree(tree("home_ribbon"), max_controls=0)


@pytest.mark.parametrize(("spelling", "expected"), [
    ("Button", "Button"),
    ("button", "Button"),
    (50000, "Button"),
    ("50031", "SplitButton"),
    ("UIA_ButtonControlTypeId (0xC350)", "Button"),
    ("UIA_TabItemControlTypeId", "TabItem"),
    ("ControlType.ComboBox", "ComboBox"),
    ("DocumentControl", "Document"),
    ("Edit(50004)", "Edit"),
    ("SomethingNew", "SomethingNew"),
    (99999, "99999"),
])
def test_env_control_type_spellings(spelling: Any, expected: str) -> None:
    assert env_control_type(spelling) == expected


def test_clean_name_and_document_text() -> None:
    assert clean_name("  Font   style: ") == "Font style"
    assert clean_name(":") == ":"
    assert document_text("one\rtwo\x0bthree\r\n") == "one\ntwo\nthree"
    assert document_text("a\r\x07b\r\x07\r\x07c\r\x07d\r\x07\r\x07after\r") == "a\tb\nc\td\nafter"


def test_the_prompt_renders_the_observation(home: tuple[Observation, dict[str, ControlNode]]) -> None:
    obs, _ = home
    messages = step_messages('Bold the text "Street".', obs.controls, [], [])
    user = messages[-1]["content"]
    bold = obs.find("Bold", "Button")
    assert json.dumps(bold.to_dict(), ensure_ascii=False) in user
    assert '"control_text": "Show/Hide ¶"' in user
    assert Observation.from_dict(obs.to_dict()) == obs


# ---------------------------------------------------------------- the live snapshot, duck-typed

class FakeWrapper:
    """Just enough of pywinauto's ``UIAWrapper`` for ``ControlNode.from_wrapper``."""

    def __init__(self, control_type: str, name: str, children: tuple[FakeWrapper, ...] = (), visible: bool = True,
                 text: str | None = None, selection: str = "", value: str | None = None) -> None:
        rect = SimpleNamespace(left=1, top=2, right=30, bottom=40)
        self.element_info = SimpleNamespace(control_type=control_type, name=name, automation_id="id-" + name,
                                            class_name="Cls", rectangle=rect, enabled=True, visible=visible)
        self._children = children
        if text is not None:
            sel = SimpleNamespace(Length=1, GetElement=lambda i: SimpleNamespace(GetText=lambda n: selection))
            self.iface_text = SimpleNamespace(DocumentRange=SimpleNamespace(GetText=lambda n: text),
                                              GetSelection=lambda: sel)
        if value is not None:
            self.iface_value = SimpleNamespace(CurrentValue=value)

    def children(self) -> list[FakeWrapper]:
        return list(self._children)


class GoneWrapper:
    """An element that closed while the tree was being read."""

    @property
    def element_info(self) -> Any:
        raise RuntimeError("element not available")


def test_from_wrapper_snapshots_a_live_tree() -> None:
    doc = FakeWrapper("Document", "notes", text="Hello\rworld\r", selection="world")
    hidden = FakeWrapper("Pane", "collapsed", children=(FakeWrapper("Button", "Inside"),), visible=False)
    root = FakeWrapper("Window", "notes - Word", children=(
        FakeWrapper("Edit", "Font", value="Arial"), doc, hidden, GoneWrapper(),  # type: ignore[arg-type]
    ))
    node = ControlNode.from_wrapper(root)
    assert [n.name for n in node.walk()] == ["notes - Word", "Font", "notes", "collapsed"]
    edit, document, pane = node.children
    assert edit.value == "Arial" and edit.automation_id == "id-Font" and edit.rectangle == (1, 2, 30, 40)
    assert document.value == "Hello\rworld\r" and document.selection == "world"
    assert document.handle is doc and pane.children == ()
    assert len(ControlNode.from_wrapper(root, prune_hidden=False).children[2].children) == 1
    assert len(ControlNode.from_wrapper(root, max_depth=0).children) == 0
    obs, nodes = observation_from_tree(node)
    assert obs.document == "Hello\nworld" and obs.selection == "world"
    assert nodes[obs.find("Document").label].handle is doc
