"""``WriterEnv`` in real LibreOffice Writer: the observation (title, controls from the accessibility
tree as UIA types, the document's text), each function of the action table through its ``writer``
handler, and bad actions as errors in the next observation."""

from __future__ import annotations

from pathlib import Path

import pytest

from lam_kedro.env.action_table import ACTIONS
from lam_kedro.env.docx_io import load_docx
from lam_kedro.env.tasks import sample_task
from lam_kedro.env.types import Action, Observation, Task
from lam_kedro.env.uia import DEFAULT_CONTROL_TYPES
from lam_kedro.env.writer import WriterEnv
from lam_kedro.env.writer.a11y import edit_of
from lam_kedro.env.writer.dispatch import HANDLERS
from lam_kedro.env.writer.values import measure

CLICK = {"button": "left", "double": False}


@pytest.fixture
def task() -> Task:
    task = sample_task("bold_text", "community_garden", 0)
    assert task is not None
    return task


def _do(env: WriterEnv, obs: Observation, text: str, function: str, args: dict | None = None,
        control_type: str | None = None) -> Observation:
    control = obs.find(text, control_type)
    assert control is not None, (text, [c.control_text for c in obs.controls])
    obs, *_ = env.step(Action(control.label, function, dict(CLICK if args is None else args)))
    return obs


def test_the_observation_is_the_window_as_uia_would_report_it(writer_env: WriterEnv, task: Task) -> None:
    obs, info = writer_env.reset(task, seed=3)
    assert info == {"task_id": task.task_id, "step": 0, "invalid_actions": 0, "result": None, "seed": 3}
    assert obs.title == f"{task.task_id}.docx - LibreOffice Writer"
    assert obs.document.startswith("The Maple Street community garden opened its gates")
    assert [c.label for c in obs.controls] == [str(i) for i in range(1, len(obs.controls) + 1)]
    assert {c.control_type for c in obs.controls} <= set(DEFAULT_CONTROL_TYPES)
    top = [c.control_text for c in obs.controls if c.control_type == "MenuItem"]
    assert top == ["File", "Edit", "View", "Insert", "Format", "Styles", "Table", "Form", "Tools", "Window", "Help"]
    for text, kind in (("Document", "Document"), ("Bold", "Button"), ("Font Name", "ComboBox"),
                       ("Font Size", "ComboBox"), ("Paragraph Style", "ComboBox")):
        assert obs.find(text, kind), text


def test_menus_open_and_dialogs_replace_the_window_until_closed(writer_env: WriterEnv, task: Task) -> None:
    obs, _ = writer_env.reset(task)
    obs = _do(writer_env, obs, "Format", "click_input", control_type="MenuItem")
    assert obs.find("Character...", "MenuItem") and obs.find("Align Text", "MenuItem") and obs.error is None
    obs = _do(writer_env, obs, "Align Text", "click_input", control_type="MenuItem")
    assert obs.find("Centered", "MenuItem") and obs.find("Character...", "MenuItem")
    obs = _do(writer_env, obs, "Document", "click_input")  # clicking elsewhere closes the menus
    assert not obs.find("Centered", "MenuItem") and obs.find("Format", "MenuItem")
    obs = _do(writer_env, obs, "Format", "click_input", control_type="MenuItem")
    obs = _do(writer_env, obs, "Character...", "click_input", control_type="MenuItem")
    assert obs.find("Font", "TabItem") and obs.find("OK", "Button") and not obs.find("File", "MenuItem")
    assert obs.find("Family", "Edit") and obs.find("Style", "ComboBox")
    obs = _do(writer_env, obs, "Font Effects", "click_input", control_type="TabItem")
    assert obs.find("Font color", "ComboBox") or obs.find("Strikethrough", "ComboBox")
    obs = _do(writer_env, obs, "Cancel", "click_input", control_type="Button")
    assert obs.find("File", "MenuItem") and not obs.find("OK", "Button")


def test_keyboard_typing_and_reading_through_the_writer_handlers(writer_env: WriterEnv, task: Task,
                                                                  tmp_path: Path) -> None:
    obs, _ = writer_env.reset(task)
    doc = obs.find("Document").label
    obs, *_ = writer_env.step(Action(doc, "select_text", {"text": "Maple Street"}))
    assert obs.selection == "Maple Street" and obs.error is None
    obs, *_ = writer_env.step(Action(doc, "keyboard_input", {"keys": "^b"}))
    obs, *_ = writer_env.step(Action(doc, "select_text", {"text": "planning."}))  # END: the end of the line
    obs, *_ = writer_env.step(Action(doc, "keyboard_input", {"keys": "{END}{ENTER}"}))
    obs, *_ = writer_env.step(Action(doc, "set_edit_text", {"text": "A new line (with {braces})"}))
    assert "planning.\nA new line (with {braces})\n" in obs.document and obs.error is None
    _, _, _, _, info = writer_env.step(Action(doc, "texts", {}))
    assert info["result"] == obs.document
    obs, *_ = writer_env.step(Action(doc, "select_text", {"text": "planning.\nA new line"}))
    assert obs.selection.replace("\r\n", "\n") == "planning.\nA new line" and obs.error is None
    writer_env.save(tmp_path / "out.docx")
    saved = load_docx(tmp_path / "out.docx")
    span = saved.find("Maple Street")
    assert span is not None and saved.format_at(span).bold
    assert "A new line (with {braces})" in [p.text for p in saved.paragraphs()]


def test_tables_scrolling_and_the_font_size_box(writer_env: WriterEnv, task: Task, tmp_path: Path) -> None:
    obs, _ = writer_env.reset(task)
    doc = obs.find("Document").label
    obs, *_ = writer_env.step(Action(doc, "insert_table", {"rows": 2, "columns": 3}))
    obs, *_ = writer_env.step(Action(doc, "select_table", {"number": 1}))
    assert obs.error is None
    obs, *_ = writer_env.step(Action(doc, "wheel_mouse_input", {"wheel_dist": -3}))
    assert obs.error is None
    obs, *_ = writer_env.step(Action(doc, "select_text", {"text": "community"}))
    obs = _do(writer_env, obs, "Font Size", "set_edit_text", {"text": "18"}, "ComboBox")
    _, _, _, _, info = writer_env.step(Action(obs.find("Font Size").label, "texts", {}))
    assert info["result"] == "18"
    obs = _do(writer_env, obs, "Font Size", "keyboard_input", {"keys": "{ENTER}"}, "ComboBox")
    writer_env.save(tmp_path / "out.docx")
    saved = load_docx(tmp_path / "out.docx")
    assert len(saved.tables()) == 1 and (len(saved.tables()[0].rows), len(saved.tables()[0].rows[0])) == (2, 3)
    assert saved.format_at(saved.find("community")).font_size == 18.0


def test_the_font_size_box_keeps_what_was_typed_until_enter(writer_env: WriterEnv, task: Task,
                                                            tmp_path: Path) -> None:
    """The office shows the selection's size in the box a moment after the selection changes; under
    Xvfb the box never has the focus, so that update can land after the agent typed (CI saw "11 pt"
    committed instead of "9"). The typed text stays until Enter, or until the agent acts elsewhere."""
    obs, _ = writer_env.reset(task)
    obs, *_ = writer_env.step(Action(obs.find("Document").label, "select_text", {"text": "community"}))
    obs = _do(writer_env, obs, "Font Size", "set_edit_text", {"text": "9"}, "ComboBox")
    window = writer_env.window
    box = next(n for n in window.nodes() if n.commit == "Font Size")
    writer_env.office.call(lambda: edit_of(box, window.roles).setText("11 pt"))  # the office's late update
    obs = _do(writer_env, obs, "Font Size", "keyboard_input", {"keys": "{BACKSPACE}4"}, "ComboBox")
    _, _, _, _, info = writer_env.step(Action(obs.find("Font Size").label, "texts", {}))
    assert info["result"] == "4"
    obs = _do(writer_env, obs, "Font Size", "keyboard_input", {"keys": "{ENTER}"}, "ComboBox")
    assert window.typed == {}
    obs = _do(writer_env, obs, "Font Size", "set_edit_text", {"text": "30"}, "ComboBox")
    obs, *_ = writer_env.step(Action(obs.find("Document").label, "select_text", {"text": "Maple Street"}))
    assert window.typed == {}  # acting on the document left the box: "30" is never committed
    writer_env.save(tmp_path / "out.docx")
    saved = load_docx(tmp_path / "out.docx")
    assert saved.format_at(saved.find("community")).font_size == 4.0
    assert saved.format_at(saved.find("Maple Street")).font_size != 30.0


def test_bad_actions_are_errors_in_the_next_observation(writer_env: WriterEnv, task: Task) -> None:
    obs, _ = writer_env.reset(task)
    doc = obs.find("Document").label
    bold = obs.find("Bold", "Button").label
    cases = [
        (Action("999", "click_input", CLICK), "no control labelled '999' is visible"),
        (Action(bold, "select_text", {"text": "x"}), "select_text"),
        (Action(doc, "select_text", {"text": "not in this document"}), "is not in the document"),
        (Action(doc, "select_table", {"number": 4}), "there is no table 4"),
        (Action(doc, "keyboard_input", {"keys": "{NOPE}"}), "unknown key token {NOPE}"),
        (Action(bold, "click_input", {"button": "right", "double": False}), "right-click menus"),
        (Action(obs.find("Font Size").label, "keyboard_input", {"keys": "^b"}), "the Font Size box takes"),
    ]
    for n, (action, message) in enumerate(cases, start=1):
        obs, reward, terminated, truncated, info = writer_env.step(action)
        assert obs.error and message in obs.error, (action, obs.error)
        assert (reward, terminated, truncated, info["invalid_actions"]) == (0.0, False, False, n)
    assert obs.find("File", "MenuItem")  # the window is still there and still acts
    obs, *_ = writer_env.step(Action(doc, "select_text", {"text": "Street"}))
    assert obs.error is None and obs.selection == "Street"


def test_every_function_has_a_writer_handler() -> None:
    assert set(HANDLERS) == {spec.handlers["writer"] for spec in ACTIONS.values()}


def test_measurements_convert_to_the_unit_the_field_shows() -> None:
    assert measure("18 pt", "0 pt", "Before text") == 18.0
    assert measure("1.25 in", "72 pt", "Left") == 90.0
    assert measure("1.25", "1.00″", "Left") == 1.25
    assert measure("2,5 cm", "0.00″", "Top") == pytest.approx(2.5 / 2.54)
    with pytest.raises(Exception, match="the Top field takes a number"):
        measure("wide", "0 pt", "Top")
