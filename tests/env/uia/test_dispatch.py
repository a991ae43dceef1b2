"""Action -> control call, on recorded Word trees with recording targets (the replay doubles of
this package's docstring stand for pywinauto wrappers, which need Windows).

Every AppAgent function reaches the right method with the right args; every invalid action
(unknown label, function not valid for the control type, bad args, bad keys) is an
``ActionError`` worded as the simulated Word words it; a failing live call is reported, not raised
past ``dispatch``.
"""

from __future__ import annotations

from typing import Any

import pytest

from lam_kedro.env import WordEnv
from lam_kedro.env.actions import ActionError
from lam_kedro.env.types import Action, Control, Observation, Task
from lam_kedro.env.uia import (
    ControlTarget,
    bind,
    dispatch,
    escape_keys,
    observation_from_tree,
    pywinauto_keys,
    try_dispatch,
)
from lam_kedro.env.uia.tree import ControlNode
from tests.env.uia import RecordingTarget, tree

CLICK = {"button": "left", "double": False}
Log = list[tuple[str, str, dict[str, Any]]]


def setup(name: str = "home_ribbon") -> tuple[Observation, dict[str, RecordingTarget], Log]:
    obs, nodes = observation_from_tree(tree(name))
    log: Log = []
    targets = bind(obs, nodes, lambda c, n: RecordingTarget(c, n, log))
    return obs, targets, log


def label(obs: Observation, text: str, ctype: str | None = None) -> str:
    control = obs.find(text, ctype)
    assert control is not None, f"{text} ({ctype}) is not visible"
    return control.label


@pytest.fixture
def home() -> tuple[Observation, dict[str, RecordingTarget], Log]:
    return setup("home_ribbon")


def test_recording_target_is_a_control_target(home: tuple[Observation, dict[str, RecordingTarget], Log]) -> None:
    obs, targets, _ = home
    assert all(isinstance(t, ControlTarget) for t in targets.values())
    assert set(targets) == {c.label for c in obs.controls}
    bold = targets[label(obs, "Bold", "Button")]
    assert (bold.control_text, bold.control_type, bold.node.class_name) == ("Bold", "Button", "NetUIRibbonButton")


# ---------------------------------------------------------------- each function, its call

@pytest.mark.parametrize(("text", "ctype", "function", "args", "call"), [
    ("Bold", "Button", "click_input", {}, ("click_input", {"button": "left", "double": False})),
    ("Bold", "Button", "click_input", CLICK, ("click_input", {"button": "left", "double": False})),
    ("Document", "Document", "click_input", {"button": "right", "double": True},
     ("click_input", {"button": "right", "double": True})),
    ("Home", "TabItem", "click_input", CLICK, ("click_input", {"button": "left", "double": False})),
    ("Font", "ComboBox", "set_edit_text", {"text": "Arial"}, ("set_edit_text", {"text": "Arial"})),
    ("Font Size", "Edit", "set_edit_text", {"text": "14"}, ("set_edit_text", {"text": "14"})),
    ("Document", "Document", "set_edit_text", {"text": "Hello"}, ("set_edit_text", {"text": "Hello"})),
    ("Document", "Document", "keyboard_input", {"keys": "^b"}, ("type_keys", {"keys": "^b"})),
    ("Document", "Document", "keyboard_input", {"keys": "{ESCAPE}"}, ("type_keys", {"keys": "{ESC}"})),
    ("Document", "Document", "keyboard_input", {"keys": "Hi (there)~"}, ("type_keys", {"keys": "Hi {(}there{)}~"})),
    ("Document", "Document", "keyboard_input", {"keys": "+(ab){BACKSPACE 3}{F4}%{VK_SHIFT down}"},
     ("type_keys", {"keys": "+(ab){BACKSPACE 3}{F4}%{VK_SHIFT down}"})),
    ("Font", "ComboBox", "keyboard_input", {"keys": "Arial{ENTER}"}, ("type_keys", {"keys": "Arial{ENTER}"})),
    ("Document", "Document", "select_text", {"text": "Maple Street"}, ("select_text", {"text": "Maple Street"})),
    ("Document", "Document", "select_table", {"number": 1}, ("select_table", {"number": 1})),
    ("Document", "Document", "insert_table", {"rows": 3, "columns": 2}, ("insert_table", {"rows": 3, "columns": 2})),
    ("Document", "Document", "wheel_mouse_input", {"wheel_dist": -5}, ("wheel_mouse_input", {"wheel_dist": -5})),
    ("Bold", "Button", "texts", {}, ("texts", {})),
])
def test_each_function_calls_its_method_with_its_args(
    home: tuple[Observation, dict[str, RecordingTarget], Log],
    text: str, ctype: str, function: str, args: dict[str, Any], call: tuple[str, dict[str, Any]],
) -> None:
    obs, targets, log = home
    lab = label(obs, text, ctype)
    dispatch(Action(lab, function, args), targets)
    assert log == [(text, *call)]


def test_results(home: tuple[Observation, dict[str, RecordingTarget], Log]) -> None:
    obs, targets, log = home
    doc = label(obs, "Document")
    assert dispatch(Action(doc, "texts"), targets).startswith("The Maple Street community garden")
    assert dispatch(Action(label(obs, "Bold", "Button"), "texts"), targets) == "Bold"
    assert dispatch(Action(label(obs, "Font", "ComboBox"), "texts"), targets) == "Calibri (Body)"
    assert dispatch(Action(label(obs, "Bold", "Button"), "click_input", CLICK), targets) is None
    log.clear()
    assert dispatch(Action(doc, "summary", {"text": "The garden text, read."}), targets) is None
    assert dispatch(Action("", "", {}, "FINISH"), targets) is None
    assert dispatch({"control_label": int(doc), "function": "wheel_mouse_input", "args": {"wheel_dist": 2}},
                    targets) is None
    assert log == [("Document", "wheel_mouse_input", {"wheel_dist": 2})]  # summary and status: no call


def test_texts_joins_a_list_and_keeps_a_string() -> None:
    class StrTarget(RecordingTarget):
        def texts(self) -> str:  # type: ignore[override]
            return "already a string"

    control, node = Control("1", "Bold", "Button"), ControlNode("Button", "Bold")
    assert dispatch(Action("1", "texts"), {"1": StrTarget(control, node, [])}) == "already a string"

    class ListTarget(RecordingTarget):
        def texts(self) -> list[str]:
            return ["a", "b"]

    assert dispatch(Action("1", "texts"), {"1": ListTarget(control, node, [])}) == "a\nb"


def test_dialog_controls_dispatch() -> None:
    obs, targets, log = setup("font_dialog")
    dispatch(Action(label(obs, "Font style", "Edit"), "set_edit_text", {"text": "Bold Italic"}), targets)
    dispatch(Action(label(obs, "Strikethrough", "CheckBox"), "click_input", CLICK), targets)
    dispatch(Action(label(obs, "OK", "Button"), "click_input", CLICK), targets)
    assert [(t, m) for t, m, _ in log] == [("Font style", "set_edit_text"), ("Strikethrough", "click_input"),
                                           ("OK", "click_input")]


# ---------------------------------------------------------------- invalid actions

def sim_error(action: dict[str, Any]) -> str:
    """What the simulated Word says about the same invalid action."""
    env = WordEnv()
    env.reset(Task("t", "bold_text", "r", {"text": "Street"}, "community_garden"))
    obs, *_ = env.step(action)
    assert obs.error is not None
    return obs.error


def test_unknown_label_is_worded_like_the_simulated_word(home: tuple[Observation, dict[str, RecordingTarget], Log]) -> None:
    obs, targets, log = home
    n = len(obs.controls)
    with pytest.raises(ActionError) as err:
        dispatch(Action("999", "click_input", CLICK), targets)
    assert str(err.value) == f"no control labelled '999' is visible (labels are '1' to '{n}')"
    assert sim_error({"control_label": "999", "function": "click_input"}).startswith(
        "no control labelled '999' is visible (labels are '1' to '")
    with pytest.raises(ActionError, match="no controls are visible"):
        dispatch(Action("1", "click_input"), {})
    assert log == []


def test_function_not_valid_for_the_control_type(home: tuple[Observation, dict[str, RecordingTarget], Log]) -> None:
    obs, targets, log = home
    file_tab = label(obs, "Home", "TabItem")
    with pytest.raises(ActionError) as err:
        dispatch(Action(file_tab, "select_text", {"text": "x"}), targets)
    assert str(err.value) == f"select_text is not supported by control {file_tab} ('Home', TabItem); it applies to Document"
    sim = sim_error({"control_label": "2", "function": "select_text", "args": {"text": "x"}})
    assert sim == "select_text is not supported by control 2 ('Home', TabItem); it applies to Document"
    bold = label(obs, "Bold", "Button")
    for function, args in [("set_edit_text", {"text": "x"}), ("keyboard_input", {"keys": "x"}),
                           ("insert_table", {"rows": 1, "columns": 1}), ("wheel_mouse_input", {"wheel_dist": 1}),
                           ("select_table", {"number": 1})]:
        with pytest.raises(ActionError, match=f"{function} is not supported by control {bold} \\('Bold', Button\\)"):
            dispatch(Action(bold, function, args), targets)
    assert log == []


@pytest.mark.parametrize(("function", "args", "message"), [
    ("set_edit_text", {}, "set_edit_text needs the arg 'text' (str)"),
    ("set_edit_text", {"text": 5}, "set_edit_text arg 'text' must be str, not int"),
    ("set_edit_text", {"text": "a", "extra": 1}, "set_edit_text got an unexpected arg 'extra'"),
    ("select_table", {"number": True}, "select_table arg 'number' must be int, not bool"),
    ("select_table", {"number": 0}, "select_table: there is no table 0"),
    ("insert_table", {"rows": 2}, "insert_table needs the arg 'columns' (int)"),
    ("insert_table", {"rows": 0, "columns": 2}, "insert_table: rows and columns must be 1 to 63"),
    ("insert_table", {"rows": 2, "columns": 64}, "insert_table: rows and columns must be 1 to 63"),
    ("wheel_mouse_input", {"wheel_dist": "3"}, "wheel_mouse_input arg 'wheel_dist' must be int, not str"),
    ("click_input", {"button": "middle"}, "click_input arg 'button' must be 'left' or 'right'"),
    ("select_text", {"text": ""}, "select_text needs a non-empty 'text'"),
    ("select_text", {"text": "not in the garden"}, "select_text: 'not in the garden' is not in the document"),
    ("keyboard_input", {"keys": ""}, "keyboard_input needs non-empty 'keys'"),
    ("keyboard_input", {"keys": "abc^"}, "modifier '^' at the end has no key to modify"),
    ("keyboard_input", {"keys": "{ENTER"}, "unclosed '{'"),
    ("keyboard_input", {"keys": "^(ab"}, "unclosed '('"),
    ("keyboard_input", {"keys": "{NOSUCHKEY}"}, "unknown key token {NOSUCHKEY}"),
    ("keyboard_input", {"keys": "{TAB x}"}, "bad repeat count in {TAB x}"),
    ("nope", {}, "unknown function 'nope'; expected one of click_input, set_edit_text"),
])
def test_bad_args_and_keys(home: tuple[Observation, dict[str, RecordingTarget], Log],
                           function: str, args: dict[str, Any], message: str) -> None:
    obs, targets, log = home
    with pytest.raises(ActionError) as err:
        dispatch(Action(label(obs, "Document"), function, args), targets)
    assert message in str(err.value)
    assert log == []


@pytest.mark.parametrize(("action", "message"), [
    ({"control_label": "1"}, "an action needs 'control_label' and 'function'"),
    ({"control_label": "1", "function": "texts", "oops": 1}, "unknown action key(s) ['oops']"),
    ({"control_label": "1", "function": "texts", "status": "DONE"}, "unknown status 'DONE'"),
    ({"control_label": "1", "function": "texts", "args": []}, "args must be a dict"),
])
def test_malformed_actions(home: tuple[Observation, dict[str, RecordingTarget], Log], action: dict[str, Any],
                           message: str) -> None:
    _, targets, _ = home
    result, error = try_dispatch(action, targets)
    assert result is None and error is not None and message in error


def test_failing_calls_are_reported_and_agent_errors_pass_through(
    home: tuple[Observation, dict[str, RecordingTarget], Log],
) -> None:
    obs, targets, _ = home

    class Broken(RecordingTarget):
        def click_input(self, button: str = "left", double: bool = False) -> None:
            raise RuntimeError("element not available")

    bold = label(obs, "Bold", "Button")
    broken = {**targets, bold: Broken(targets[bold].control, targets[bold].node, [])}
    result, error = try_dispatch(Action(bold, "click_input", CLICK), broken)
    assert result is None
    assert error == f"click_input on control {bold} ('Bold', Button) failed: RuntimeError: element not available"
    # an ActionError a target raises is the agent's mistake: passed through as worded
    result, error = try_dispatch(Action(label(obs, "Document"), "select_text", {"text": "zzz"}), targets)
    assert error == "select_text: 'zzz' is not in the document"
    assert try_dispatch(Action(bold, "texts"), targets) == ("Bold", None)


# ---------------------------------------------------------------- key strings

def test_pywinauto_keys_and_escape_keys() -> None:
    assert pywinauto_keys("^a{BACKSPACE}") == "^a{BACKSPACE}"
    assert pywinauto_keys("{}}x]") == "{}}x{]}"
    assert pywinauto_keys("[note]") == "{[}note{]}"
    assert pywinauto_keys("%(fs)") == "%(fs)"
    assert pywinauto_keys("{Esc}{pgdn 2}{vk_shift up}") == "{ESC}{PGDN 2}{VK_SHIFT up}"
    assert escape_keys("50% (a+b)^2 {x} ~ [y]\n\tz") == "50{%} {(}a{+}b{)}{^}2 {{}x{}} {~} {[}y{]}{ENTER}{TAB}z"
    for text in ("plain", "50% (a+b)^2", "{weird}"):
        assert pywinauto_keys(escape_keys(text)) == escape_keys(text)  # escaped text is valid keys
