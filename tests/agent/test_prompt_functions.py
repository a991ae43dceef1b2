"""The prompt's function list is rendered from the action table, byte for byte what models were
trained on; the action fields are one list shared by the prompt, the schema and the UFO adapter."""

from __future__ import annotations

import hashlib
import json
import re

from lam_kedro.agent.prompt import (
    ACTION_KEYS,
    function_list,
    render_action_target,
    step_messages,
    step_system,
)
from lam_kedro.agent.schema import ACTION_FIELDS, Step
from lam_kedro.agent.ufo import UFO_KEYS, from_ufo_app_agent_response, to_ufo_app_agent_response
from lam_kedro.env.action_table import ACTIONS

#: The function list as ``step_system.txt`` wrote it by hand before the table rendered it.
FUNCTION_LIST = """\
- click_input(button: "left" | "right", double: bool): click a control.
- set_edit_text(text: str): set the text of an Edit or ComboBox control, or type over the selection in the Document.
- keyboard_input(keys: str): press keys in the focused control, e.g. "^b", "{ENTER}", "{ESC}".
- select_text(text: str): select the first occurrence of the text in the Document.
- select_table(number: int): select the n-th table of the Document (1-based).
- insert_table(rows: int, columns: int): insert a table at the caret of the Document.
- wheel_mouse_input(wheel_dist: int): scroll the Document.
- texts(): read the text of a control.
- summary(text: str): state a summary of what you observed."""

#: sha256 of the whole system prompt as trained on (step_system.txt, stripped, before the table).
SYSTEM_SHA256 = "4c73ad4c851ba6ff45c9ea1c3a60f869e415c677119ec977c926e4802a5321fe"


def test_the_rendered_function_list_is_the_trained_one() -> None:
    assert function_list() == FUNCTION_LIST
    system = step_system()
    assert f"Functions you can call:\n{FUNCTION_LIST}\n\nAnswer with ONE JSON object" in system
    assert hashlib.sha256(system.encode()).hexdigest() == SYSTEM_SHA256
    assert step_messages("r", [], [], [])[0]["content"] == system


def test_the_prompt_lists_exactly_the_tables_functions() -> None:
    listed = re.findall(r"^- (\w+)\(", step_system(), flags=re.MULTILINE)
    assert listed == list(ACTIONS)


def test_action_fields_are_one_list_for_prompt_schema_and_ufo() -> None:
    assert tuple(f.name for f in ACTION_FIELDS) == ACTION_KEYS
    step_fields = [k for k in Step.model_fields if k in ACTION_KEYS]
    assert step_fields == list(ACTION_KEYS)
    assert list(UFO_KEYS) == ["observation", *ACTION_KEYS, "comment"]
    step = {"thought": "t", "control_label": 3, "control_name": "Bold", "function": "click_input",
            "args": None, "status": "FINISH", "plan": None}
    ufo = to_ufo_app_agent_response(step)
    assert list(ufo) == ["Observation", "Thought", "ControlLabel", "ControlText", "Function", "Args", "Status",
                         "Plan", "Comment"]
    back = from_ufo_app_agent_response(ufo)
    assert {k: back[k] for k in ACTION_KEYS} == {**step, "control_label": "3", "args": {}, "plan": []}
    assert list(json.loads(render_action_target(step))) == list(ACTION_KEYS)
