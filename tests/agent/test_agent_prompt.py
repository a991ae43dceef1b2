"""Prompt rendering and parsing of model output: bad output is an error value, never an exception."""

from __future__ import annotations

import json

import pytest

from lam_kedro.agent.policies import TextPolicy
from lam_kedro.agent.prompt import (
    ACTION_KEYS,
    history_slots,
    parse_action_output,
    parse_plan_output,
    render_action_target,
    render_plan_prompt,
    render_plan_target,
    render_step_prompt,
    step_examples,
    summarize_action,
)
from lam_kedro.agent.schema import Step, TaskPlan, Trajectory
from lam_kedro.env.types import Action, Control, Observation, Task

CONTROLS = (
    Control("1", "Home", "TabItem"),
    Control("2", "Bold", "Button"),
    Control("3", "Document", "Document"),
)
GOOD = {
    "thought": "Bold the selection",
    "control_label": "2",
    "control_name": "Bold",
    "function": "click_input",
    "args": {"button": "left", "double": False},
    "status": "FINISH",
    "plan": [],
}


def test_step_prompt_has_the_four_slots_in_order() -> None:
    text = render_step_prompt("Make it bold", CONTROLS, ['select_text on "Document"'], ["Click Bold"])
    positions = [
        text.index(s)
        for s in ("<Available Control Item:>", "<User Request:>", "<Previous Actions:>", "<Previous Plans:>")
    ]
    assert positions == sorted(positions)
    assert '{"label": "2", "control_text": "Bold", "control_type": "Button"}' in text
    assert "Make it bold" in text and "1. Click Bold" in text
    assert "ONE JSON object" in text and "<Document:>" not in text


def test_step_prompt_accepts_dicts_and_empty_history() -> None:
    text = render_step_prompt("r", [c.to_dict() for c in CONTROLS], [], [], document="Hello")
    assert "<Previous Actions:>\nNone" in text and "<Document:>\nHello" in text


def test_action_target_key_order_and_round_trip(trajectory: Trajectory) -> None:
    step = trajectory.steps[1]
    target = render_action_target(step)
    assert list(json.loads(target)) == list(ACTION_KEYS)
    parsed = parse_action_output(target, CONTROLS)
    assert parsed.ok and parsed.to_dict() == {k: getattr(step, k) for k in ACTION_KEYS}
    assert render_action_target(GOOD) == render_action_target(parse_action_output(json.dumps(GOOD)).to_dict())


def test_parse_good_fenced_and_trailing_garbage() -> None:
    raw = json.dumps(GOOD)
    for text in (raw, f"Sure!\n```json\n{raw}\n```\n", raw + " and then {more", "Thought {x}: " + raw):
        parsed = parse_action_output(text, CONTROLS)
        assert parsed.ok, (text, parsed.error)
        assert parsed.to_action().control_label == "2" and parsed.status == "FINISH"


def test_parse_normalizes_label_status_and_camel_case() -> None:
    parsed = parse_action_output(json.dumps({**GOOD, "control_label": 2, "status": "finish"}))
    assert parsed.ok and parsed.control_label == "2" and parsed.status == "FINISH"
    camel = {
        "ControlLabel": "2",
        "ControlText": "Bold",
        "Function": "click_input",
        "Args": {},
        "Status": "CONTINUE",
    }
    assert parse_action_output(json.dumps(camel)).ok


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I would click Bold.", "no JSON object"),
        ('{"function": "click_input", "args": {', "no JSON object"),
        (json.dumps({**GOOD, "function": "click"}), "unknown function"),
        (json.dumps({**GOOD, "status": "DONE"}), "unknown status"),
        (json.dumps({**GOOD, "args": [1]}), "args must be an object"),
        (json.dumps({**GOOD, "control_label": "99"}), "not among the visible controls"),
        (json.dumps({**GOOD, "control_label": ""}), "needs a control_label"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "status"}), "missing key 'status'"),
        (json.dumps({**GOOD, "plan": [1, 2]}), "plan must be a list"),
    ],
)
def test_parse_bad_output_is_an_error_not_an_exception(text: str, reason: str) -> None:
    parsed = parse_action_output(text, CONTROLS)
    assert not parsed.ok and reason in parsed.error


def test_parse_status_only_finish() -> None:
    parsed = parse_action_output(
        '{"control_label": "", "function": "", "args": {}, "status": "FINISH"}', CONTROLS
    )
    assert parsed.ok and parsed.function == "" and parsed.status == "FINISH"


def test_summarize_action(trajectory: Trajectory) -> None:
    first, last = trajectory.steps
    assert summarize_action(first) == 'select_text(text="Sales") on "Document" (Document)'
    assert summarize_action(last) == 'click_input on "Bold" (Button) [FINISH]'
    failed = Step(index=2, observation={}, control_label="9", function="click_input", error="no control 9")
    assert summarize_action(failed) == 'click_input on "label 9" -> error: no control 9'


def test_plan_prompt_and_parsing() -> None:
    plan = TaskPlan(task_id="1", task="Center the title", plan=["Select the title", "Click Center"])
    assert "Center the title" in render_plan_prompt(plan) and "Center the title" in render_plan_prompt(
        "Center the title"
    )
    target = render_plan_target(plan.plan)
    assert target == "1. Select the title\n2. Click Center"
    assert parse_plan_output(target) == plan.plan
    assert parse_plan_output('["1. Select the title", "Click Center"]') == plan.plan
    assert parse_plan_output('{"plan": ["Select the title", "Click Center"]}') == plan.plan
    assert parse_plan_output("```\n- Select the title\n* Click Center\n```") == plan.plan
    assert parse_plan_output("") == []


def test_history_slots_and_step_examples(trajectory: Trajectory) -> None:
    actions, plan = history_slots([], ["Select Sales", "Click Bold"])
    assert actions == [] and plan == ["Select Sales", "Click Bold"]
    actions, plan = history_slots(trajectory.steps[:1])
    assert actions == ['select_text(text="Sales") on "Document" (Document)'] and plan == ["Click Bold"]
    examples = step_examples(trajectory)
    assert len(examples) == 2
    assert "1. Select Sales" in examples[0]["prompt"] and "<Previous Actions:>\nNone" in examples[0]["prompt"]
    assert examples[1]["target"] == render_action_target(trajectory.steps[1])
    assert [m["role"] for m in examples[1]["messages"]] == ["system", "user"]


def test_text_policy_turns_bad_output_into_a_fail_decision() -> None:
    obs = Observation("doc - Word", CONTROLS, "Sales grew.")
    task = Task("t", "bold_text", "Bold Sales", {}, "memo")
    policy = TextPolicy(lambda messages: "I don't know", name="lam-test")
    policy.reset(task)
    decision = policy.act(obs)
    assert decision.action.status == "FAIL" and "no JSON object" in decision.error
    assert decision.raw_output == "I don't know"

    retry = TextPolicy(lambda messages: "???", name="lam-test", on_parse_error="continue")
    retry.reset(task)
    assert retry.act(obs).action.status == "CONTINUE"
    with pytest.raises(ValueError, match="on_parse_error"):
        TextPolicy(lambda m: "", name="x", on_parse_error="ignore")


def test_text_policy_feeds_history_and_env_errors_back() -> None:
    seen: list[str] = []
    outputs = iter([json.dumps({**GOOD, "status": "CONTINUE", "plan": ["Finish"]}), json.dumps(GOOD)])

    def generate(messages: list[dict[str, str]]) -> str:
        seen.append(messages[-1]["content"])
        return next(outputs)

    policy = TextPolicy(generate, name="lam-test", plan_for=lambda task: ["Click Bold"])
    policy.reset(Task("t", "bold_text", "Bold Sales", {}, "memo"))
    first = policy.act(Observation("doc - Word", CONTROLS, "Sales grew."))
    assert first.action == Action("2", "click_input", {"button": "left", "double": False}, "CONTINUE")
    policy.act(Observation("doc - Word", CONTROLS, "Sales grew.", error="nothing selected"))
    assert "1. Click Bold" in seen[0]
    assert 'click_input on "Bold" (Button) -> error: nothing selected' in seen[1] and "1. Finish" in seen[1]
