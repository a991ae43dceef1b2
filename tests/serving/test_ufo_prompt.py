"""Reading UFO's AppAgent prompt (and our own) into LAM slots, and writing the answer UFO parses.

The prompts here are written out literally after UFO's templates (``ufo/prompts/share/base/
app_agent.yaml``, user part; the older ``ufo/prompts/base/action_selection.yaml``; the blackboard's
``[Step Trajectories Completed Previously:]`` section), filled the way UFO's prompter fills them:
``json.dumps`` of the control list, of the plan and of the step history.
"""

from __future__ import annotations

import json

import pytest

from lam_kedro.agent.prompt import parse_action_output, plan_messages, step_messages
from lam_kedro.agent.ufo import from_ufo_app_agent_response
from lam_kedro.serving.ufo_prompt import (
    PromptError,
    format_answer,
    message_text,
    parse_chat_prompt,
    parse_controls,
    parse_plan_text,
    parse_step_history,
    split_slots,
)

# UFO's system prompt repeats slot names in its instructions and shows example responses: the
# parser must read the user message only.
UFO_SYSTEM = """- You are the AppAgent of UFO, a UI-focused agent framework for Windows OS.
## Control item
- You are given the information of all available control item in the current application window in a list
  format: {label: "the annotated label of the control item", control_text: "the text of the control item",
  control_type: "the type of the control item"}.
- You must select the control item in the given list <Available Control Item>.
- You may take your <Previous Plan> for reference.
## Response Examples
[User Request]:
    Search for the word 'UFO' in the document.
[Response]:
    {"Observation": "...", "Thought": "...", "ControlLabel": "59", "ControlText": "Find", "Function": "click_input",
     "Args": {"button": "left", "double": false}, "Status": "FINISH", "Plan": "<FINISH>", "Comment": "..."}"""

CONTROLS = [
    {"label": "1", "control_text": "Home", "control_type": "TabItem"},
    {"label": "2", "control_text": "Bold", "control_type": "Button"},
    {"label": "3", "control_text": "Italic", "control_type": "Button"},
    {"label": "4", "control_text": "Document", "control_type": "Document"},
]

# app_agent.yaml's ``user`` template, filled by AppAgentPrompter.user_prompt_construction.
UFO_USER = (
    "\n"  # {retrieved_docs}: empty
    f"<Available Control Item:> {json.dumps(CONTROLS)}\n"
    "<Overall User Request:> Make \"Margaret\" bold and then email the file to Tom.\n"
    "<Previous Sub-tasks Results:> []\n"
    "<Sub-task for you to complete:> Make \"Margaret\" bold.\n"
    "<Current Application You are Working on:> one_line - Word\n"
    "<Message and Information from the HostAgent:> [\"The document is open.\"]\n"
    f"<Your Next Plan:> {json.dumps(['Click the Home tab', 'Click Bold'])}\n"
    "<Your response:>"
)
TRAJECTORIES = [
    {"Step": 1, "Subtask": "Make \"Margaret\" bold.", "ControlText": "Document",
     "Action": [{"Function": "select_text", "Args": {"text": "Margaret"}, "ControlLabel": "4",
                 "ControlText": "Document", "Status": "CONTINUE"}],
     "Results": "", "UserConfirm": None},
]


def ufo_messages(user_parts: list[dict]) -> list[dict]:
    return [{"role": "system", "content": UFO_SYSTEM}, {"role": "user", "content": user_parts}]


def blackboard_parts(trajectories: list[dict]) -> list[dict]:
    """Blackboard.blackboard_to_prompt(): a prefix, then one text part per memory section."""
    return [
        {"type": "text", "text": "[Blackboard:]"},
        {"type": "text", "text": f"[Step Trajectories Completed Previously:]\n {json.dumps(trajectories)}"},
    ]


def test_ufo_app_agent_prompt_with_blackboard_and_screenshots():
    parts = [
        *blackboard_parts(TRAJECTORIES),
        {"type": "text", "text": "Current Screenshots:"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "text", "text": UFO_USER},
    ]
    p = parse_chat_prompt(ufo_messages(parts))
    assert (p.kind, p.dialect) == ("step", "ufo")
    assert p.request == 'Make "Margaret" bold.'  # the sub-task, not the overall request
    assert p.controls == CONTROLS
    assert p.previous_actions == ['select_text(text="Margaret") on "Document" (Document)']
    assert p.previous_plan == ["Click the Home tab", "Click Bold"]
    # re-rendered with the training prompt code: what the model was trained on
    assert p.messages() == step_messages(p.request, CONTROLS, p.previous_actions, p.previous_plan)


def test_first_step_has_no_blackboard_and_content_may_be_a_string():
    p = parse_chat_prompt([{"role": "system", "content": UFO_SYSTEM}, {"role": "user", "content": UFO_USER}])
    assert p.previous_actions == [] and p.dialect == "ufo" and len(p.controls) == 4


def test_older_ufo_action_selection_prompt():
    """UFO v1's user template: <Step History:> with call strings, <Previous Plan:> as text."""
    history = [{"Step": 0, "Thought": "select it", "ControlText": "Document",
                "Action": "select_text(text='Margaret')", "Comment": "", "Results": ""},
               {"Step": 1, "Thought": "open Home", "ControlText": "Home",
                "Action": 'click_input(button="left", double=False)', "Comment": "", "Results": ""}]
    user = (f"<Available Control Item:> {json.dumps(CONTROLS)}\n<Request History:> []\n"
            f"<Step History:> {json.dumps(history)}\n"
            "<Previous Plan:> (1) Click the Bold button.\\n(2) Finish.\n"
            "<Current User Request:> Make \"Margaret\" bold.\n<Your response:>")
    p = parse_chat_prompt([{"role": "user", "content": user}])
    assert p.request == 'Make "Margaret" bold.'
    assert p.previous_actions == ['select_text(text="Margaret") on "Document" (Document)',
                                  'click_input on "Home" (TabItem)']
    assert p.previous_plan == ["Click the Bold button.", "Finish."]


def test_our_own_step_and_plan_prompts_round_trip():
    msgs = step_messages('Make "Margaret" bold.', CONTROLS, ['click_input on "Home" (TabItem)'], ["Click Bold"],
                         document="Margaret wrote this.")
    p = parse_chat_prompt(msgs)
    assert p.dialect == "lam" and p.kind == "step"
    assert p.messages() == msgs  # identical prompt: nothing lost or added
    plan = parse_chat_prompt(plan_messages('Make "Margaret" bold.'))
    assert (plan.kind, plan.dialect, plan.request) == ("plan", "lam", 'Make "Margaret" bold.')
    assert plan.messages() == plan_messages('Make "Margaret" bold.')


def test_a_ufo_prompt_without_controls_asks_for_a_plan():
    p = parse_chat_prompt([{"role": "user", "content": "<Overall User Request:> Bold the title.\n<Your response:>"}])
    assert (p.kind, p.dialect, p.request) == ("plan", "ufo", "Bold the title.")


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([{"role": "system", "content": UFO_SYSTEM}], "no message with role 'user'"),
        ([{"role": "user", "content": "hello there"}], "no request"),
        ([{"role": "user", "content": "<Available Control Item:> []\n<User Request:> \n"}], "no request"),
        ([{"role": "user", "content": "<Available Control Item:> [1, 2]\n<User Request:> Bold it."}],
         "item 0 must be an object"),
        ([{"role": "user", "content": '<Available Control Item:> [{"control_text": "Bold"}]\n<User Request:> x'}],
         "item 0 has no label"),
        ([{"role": "user", "content": "<Available Control Item:> not json\n<User Request:> Bold it."}],
         "line 1 is not a control object"),
        ([{"role": "user", "content": 42}], "must be a string or a list of parts"),
        ([{"role": "user", "content": [{"type": "text", "text": 3}]}], r"content\[0\].text must be a string"),
    ],
)
def test_unreadable_prompts_name_what_is_missing(messages, expected):
    with pytest.raises(PromptError, match=expected):
        parse_chat_prompt(messages)


def test_slot_and_value_readers():
    assert split_slots("<A:> 1\n<B c:>\n two \n") == {"A": "1", "B c": "two"}
    assert message_text([{"type": "image_url", "image_url": {}}, {"type": "text", "text": "x"}]) == "x"
    # Python-literal list (a repr) and the win32 backend's control_class
    assert parse_controls("[{'label': 7, 'control_text': 'OK', 'control_class': 'Button'}]") == [
        {"label": "7", "control_text": "OK", "control_type": "Button"}]
    assert parse_controls("None") == [] and parse_controls("[]") == []
    assert parse_plan_text("<FINISH>") == [] and parse_plan_text('"1. a\\n2. b"') == ["a", "b"]
    assert parse_plan_text('["(1) a", "<FINISH>"]') == ["a"]
    assert parse_plan_text('"Bold" the title') == ['"Bold" the title']  # text that merely starts with a quote
    assert parse_step_history([{"Function": "texts", "ControlText": "Document", "Args": {}}]) == [
        'texts on "Document"']
    assert parse_step_history([{"Step": 1, "Action": "not a call"}]) == []  # nothing to summarize


def test_ufo_answer_is_camel_case_json_ufo_parses():
    p = parse_chat_prompt([{"role": "user", "content": UFO_USER}])
    raw = json.dumps({"thought": "Click Bold.", "control_label": "2", "control_name": "bold", "function": "click_input",
                      "args": {"button": "left", "double": False}, "status": "FINISH", "plan": []})
    answer = json.loads(format_answer(p, raw))
    assert list(answer) == ["Observation", "Thought", "ControlLabel", "ControlText", "Function", "Args", "Status",
                            "Plan", "Comment"]
    assert answer["ControlText"] == "Bold"  # the listed text of label 2, as UFO requires
    assert answer["Status"] == "FINISH" and "complete" in answer["Comment"] and "4 control items" in answer[
        "Observation"]
    ours = from_ufo_app_agent_response(answer)
    assert (ours["control_label"], ours["function"], ours["args"]) == ("2", "click_input",
                                                                      {"button": "left", "double": False})


@pytest.mark.parametrize("raw", ["garbage", '{"function": "click_input", "args": {}, "status": "CONTINUE", '
                                            '"control_label": "99"}'])
def test_unusable_model_output_is_a_valid_ufo_fail_with_the_reason(raw):
    p = parse_chat_prompt([{"role": "user", "content": UFO_USER}])
    answer = json.loads(format_answer(p, raw))
    assert answer["Status"] == "FAIL" and answer["Function"] == "" and answer["ControlLabel"] == ""
    assert "could not be used" in answer["Comment"] and parse_action_output(raw, CONTROLS).error in answer["Comment"]
    assert from_ufo_app_agent_response(answer)["status"] == "FAIL"


def test_lam_dialect_answers_our_json_and_passes_bad_output_through():
    p = parse_chat_prompt(step_messages("Bold it.", CONTROLS, [], []))
    raw = '```json\n{"Function": "click_input", "Args": {}, "Status": "continue", "ControlLabel": "2"}\n```'
    answer = json.loads(format_answer(p, raw))
    assert answer["function"] == "click_input" and answer["status"] == "CONTINUE" and answer["control_label"] == "2"
    assert format_answer(p, "not json") == "not json"  # the client's TextPolicy records the same error
    plan = parse_chat_prompt(plan_messages("Bold it."))
    assert format_answer(plan, "1. Click Home\n- Click Bold") == "1. Click Home\n2. Click Bold"
