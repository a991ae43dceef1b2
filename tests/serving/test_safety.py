"""The safety layer: allowlist, sensitive actions (refused unattended, asked otherwise), limits,
and model output that is parsed, never executed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from pydantic import ValidationError

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import Decision, StepsPolicy, TextPolicy
from lam_kedro.env import WordEnv, sample_task
from lam_kedro.env.types import Action, Control, Observation, Task, UIStep
from lam_kedro.serving.safety import (
    ConfirmationRequest,
    SafePolicy,
    SafetyConfig,
    SensitiveRule,
    sensitive_matches,
)

CLICK = {"button": "left", "double": False}


def _task(family: str = "bold_text", template: str = "one_line") -> Task:
    task = sample_task(family, template, seed=0)
    assert task is not None
    return task


def _run(steps: Sequence[UIStep], config: SafetyConfig, confirm: Callable[[ConfirmationRequest], bool] | None = None,
         task: Task | None = None) -> tuple[WordEnv, SafePolicy, list]:
    env = WordEnv(max_steps=30)
    safe = SafePolicy(StepsPolicy(steps, finish_last=False), config, confirm=confirm)
    traj = run_episode(env, safe, task or _task(), seed=0)
    return env, safe, traj.steps


NO_TIMEOUT = {"step_timeout_s": None}
CLOSE = [UIStep("File", "click_input", CLICK, "TabItem"), UIStep("Close", "click_input", CLICK, "ListItem")]


# ------------------------------------------------------------------ allowlist


@pytest.mark.parametrize("on_refusal, status", [("continue", "CONTINUE"), ("stop", "FAIL")])
def test_a_function_outside_the_allowlist_is_refused_and_not_run(on_refusal: str, status: str) -> None:
    allowed = ["click_input", "select_text"]
    config = SafetyConfig(allowed_functions=allowed, on_refusal=on_refusal, **NO_TIMEOUT)
    steps = [UIStep("Document", "insert_table", {"rows": 2, "columns": 2}, "Document")]
    env, safe, recorded = _run(steps, config)
    refused = recorded[0]
    assert refused.function == "" and refused.status == status
    assert refused.error.startswith("refused by safety (allowlist): insert_table")
    assert "not an allowed function" in refused.error
    assert env.document.tables() == []  # never reached the environment
    assert [(e.kind, e.rule) for e in safe.events] == [("refused", "allowlist")]
    if on_refusal == "stop":
        assert len(recorded) == 1


def test_allowed_functions_must_be_known() -> None:
    with pytest.raises(ValidationError, match="rm_rf"):
        SafetyConfig(allowed_functions=["click_input", "rm_rf"])


# ------------------------------------------------------------------ sensitive actions in an episode


def test_closing_the_document_is_refused_unattended() -> None:
    env, safe, recorded = _run(CLOSE, SafetyConfig(**NO_TIMEOUT), confirm=None)
    assert recorded[1].function == ""
    assert "refused by safety (close_without_saving)" in recorded[1].error
    assert "unattended" in recorded[1].error
    assert not env.ui.closed


def test_refuse_mode_refuses_even_with_someone_to_ask() -> None:
    asked: list[ConfirmationRequest] = []
    env, _, recorded = _run(CLOSE, SafetyConfig(mode="refuse", **NO_TIMEOUT), confirm=lambda r: asked.append(r) or True)
    assert asked == [] and not env.ui.closed
    assert "mode is refuse" in recorded[1].error


def test_a_confirmed_sensitive_action_runs_and_is_recorded() -> None:
    asked: list[ConfirmationRequest] = []

    def yes(request: ConfirmationRequest) -> bool:
        asked.append(request)
        return True

    env, safe, recorded = _run(CLOSE, SafetyConfig(**NO_TIMEOUT), confirm=yes)
    assert env.ui.closed
    assert recorded[1].function == "click_input" and recorded[1].error is None
    assert "[safety: close_without_saving confirmed by the user]" in recorded[1].thought
    assert [m.rule for m in asked[0].matches] == ["close_without_saving"]
    assert "'Close' (ListItem)" in asked[0].describe()
    assert [(e.kind, e.rule) for e in safe.events] == [("confirmed", "close_without_saving")]


def test_a_declined_sensitive_action_is_refused() -> None:
    env, _, recorded = _run(CLOSE, SafetyConfig(**NO_TIMEOUT), confirm=lambda r: False)
    assert not env.ui.closed
    assert "the user declined" in recorded[1].error


def test_allow_mode_lets_sensitive_actions_through_and_notes_it() -> None:
    env, safe, recorded = _run(CLOSE, SafetyConfig(mode="allow", **NO_TIMEOUT))
    assert env.ui.closed
    assert "allowed by config" in recorded[1].thought
    assert safe.events[0].kind == "allowed"


def test_clearing_a_document_is_refused_and_the_text_survives() -> None:
    task = _task("bold_text", "annual_report")
    steps = [UIStep("Document", "keyboard_input", {"keys": "^a{DELETE}"}, "Document")]
    env, safe, recorded = _run(steps, SafetyConfig(**NO_TIMEOUT), task=task)
    assert "clear_document" in recorded[0].error and "delete_chars" in recorded[0].error
    assert len(env.document.text()) > 200


def test_the_refusal_reaches_the_inner_policy_as_the_observation_error() -> None:
    seen: list[str | None] = []

    class Recorder:
        name = "recorder"

        def reset(self, task: Task) -> None:
            pass

        def act(self, obs: Observation) -> Decision:
            seen.append(obs.error)
            label = obs.find("Document").label
            return Decision(Action(label, "insert_table", {"rows": 1, "columns": 1}), thought="table")

    config = SafetyConfig(allowed_functions=["click_input"], max_steps=2, **NO_TIMEOUT)
    run_episode(WordEnv(max_steps=30), SafePolicy(Recorder(), config), _task(), seed=0)
    assert seen[0] is None
    assert seen[1].startswith("refused by safety (allowlist)")


def test_the_expert_trips_no_rule_on_any_family() -> None:
    """The defaults must not get in the way of ordinary edits (every family's scripted solution)."""
    from lam_kedro.agent.policies import ScriptedPolicy
    from lam_kedro.env import builtin_templates, families
    from lam_kedro.env.tasks import sample_tasks

    env = WordEnv(max_steps=40)
    tasks = sample_tasks([t.name for t in builtin_templates()], 120, seed=3)
    assert {t.family for t in tasks} == set(families())
    for task in tasks:
        safe = SafePolicy(ScriptedPolicy(), SafetyConfig(max_steps=40, **NO_TIMEOUT))
        traj = run_episode(env, safe, task, seed=0)
        assert safe.events == [] and traj.outcome.success, (task, safe.events)


# ------------------------------------------------------------------ detection rules


def _obs(selection: str = "", document: str = "x" * 300, dialog: bool = False) -> Observation:
    controls = [Control("1", "Cut", "Button"), Control("2", "Close", "ListItem"), Control("3", "Watermark", "SplitButton")]
    if dialog:
        controls = [Control("7", "Close", "Button")]
    else:
        controls.append(Control("11", "Document", "Document"))
    return Observation("doc - Word", tuple(controls), document, selection)


def _rules(action: Action, obs: Observation, **config: object) -> list[str]:
    return [m.rule for m in sensitive_matches(action, obs, SafetyConfig(**config))]


def _keys(keys: str) -> Action:
    return Action("11", "keyboard_input", {"keys": keys})


@pytest.mark.parametrize(
    "action, selection, expected",
    [
        (_keys("{DELETE}"), "y" * 250, ["delete_chars"]),
        (_keys("{DELETE}"), "y" * 20, []),
        (_keys("{BACKSPACE 250}"), "", ["delete_chars"]),
        (_keys("^a{DELETE}"), "", ["clear_document", "delete_chars"]),
        (_keys("^aNew text"), "", ["clear_document", "delete_chars"]),
        (_keys("{DELETE}"), "y" * 295, ["clear_document", "delete_chars"]),
        (_keys("^x"), "y" * 250, ["delete_chars"]),
        (_keys("^a"), "", []),
        (_keys("^b"), "y" * 250, []),
        (_keys("{NOSUCHKEY}{DELETE}"), "y" * 250, []),  # the environment refuses it whole
        (Action("11", "set_edit_text", {"text": "z"}), "y" * 250, ["delete_chars"]),
        (Action("1", "click_input", CLICK), "y" * 250, ["delete_chars"]),
        (Action("1", "click_input", CLICK), "", []),
        (Action("2", "click_input", CLICK), "", ["close_without_saving"]),
        (_keys("%{F4}"), "", ["close_without_saving"]),
        (_keys("^w"), "", ["close_without_saving"]),
        (Action("11", "select_text", {"text": "x" * 250}), "", []),
        (Action("", "", {}, "FINISH"), "y" * 250, []),
    ],
)
def test_sensitive_matches(action: Action, selection: str, expected: list[str]) -> None:
    assert _rules(action, _obs(selection)) == expected


def test_a_dialogs_close_button_is_not_closing_the_document() -> None:
    assert _rules(Action("7", "click_input", CLICK), _obs(dialog=True)) == []


def test_builtin_rules_can_be_switched_off() -> None:
    obs = _obs()
    off = {"delete_threshold": None, "clear_document": False, "close_without_saving": False}
    assert _rules(_keys("^a{DELETE}"), obs, **off) == []
    assert _rules(Action("2", "click_input", CLICK), obs, **off) == []
    assert _rules(_keys("{BACKSPACE 20}"), obs, delete_threshold=10) == ["delete_chars"]


def test_user_rules_match_function_control_and_args() -> None:
    rule = SensitiveRule(name="no_watermark", description="watermarks need a person", function="click_input",
                         control_text="water.*", control_type="SplitButton")
    obs = _obs()
    assert _rules(Action("3", "click_input", CLICK), obs, rules=[rule]) == ["no_watermark"]
    assert _rules(Action("1", "click_input", CLICK), obs, rules=[rule]) == []
    typing = SensitiveRule(name="no_secrets", args=r"password")
    assert _rules(_keys("my password"), obs, rules=[typing]) == ["no_secrets"]
    assert _rules(_keys("hello"), obs, rules=[typing]) == []
    with pytest.raises(ValidationError, match="regular expression"):
        SensitiveRule(name="bad", control_text="(")


def test_safety_config_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "safety.yml"
    path.write_text("mode: refuse\ndelete_threshold: 50\nrules:\n  - {name: no_print, control_text: Print}\n")
    config = SafetyConfig.from_file(path)
    assert config.mode == "refuse" and config.delete_threshold == 50 and config.rules[0].name == "no_print"
    path.write_text("mode: sometimes\n")
    with pytest.raises(ValueError, match="safety.yml"):
        SafetyConfig.from_file(path)


# ------------------------------------------------------------------ limits


class _Slow:
    name = "slow"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def reset(self, task: Task) -> None:
        self.calls = 0

    def act(self, obs: Observation) -> Decision:
        self.calls += 1
        time.sleep(self.seconds)
        return Decision(Action("", "summary", {"text": "slow"}), thought="slow")


def test_a_slow_step_times_out_and_ends_the_episode() -> None:
    slow = _Slow(1.5)
    safe = SafePolicy(slow, SafetyConfig(step_timeout_s=0.1))
    start = time.perf_counter()
    traj = run_episode(WordEnv(max_steps=30), safe, _task(), seed=0)
    assert time.perf_counter() - start < 1.0  # did not wait for the abandoned thread
    assert len(traj.steps) == 1 and traj.steps[0].status == "FAIL"
    assert "timed out" in traj.steps[0].error and not traj.outcome.success
    assert safe.events[0].kind == "timeout"
    assert "timed out" in safe.act(None).error  # type: ignore[arg-type]  # never asked again
    assert slow.calls == 1


def test_a_fast_step_passes_through_the_timeout_thread() -> None:
    steps = [UIStep("Document", "select_text", {"text": "Margaret"}, "Document"), UIStep("Home", "click_input", CLICK),
             UIStep("Bold", "click_input", CLICK, status="FINISH")]
    env, safe, recorded = _run(steps, SafetyConfig(step_timeout_s=30))
    assert [s.function for s in recorded] == ["select_text", "click_input", "click_input"]
    assert safe.events == []


def test_errors_of_the_inner_policy_propagate() -> None:
    class Broken(_Slow):
        def act(self, obs: Observation) -> Decision:
            raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError, match="model crashed"):
        run_episode(WordEnv(), SafePolicy(Broken(0), SafetyConfig(step_timeout_s=5)), _task(), seed=0)


def test_the_step_limit_stops_a_policy_that_never_finishes() -> None:
    safe = SafePolicy(_Slow(0), SafetyConfig(max_steps=3, **NO_TIMEOUT))
    traj = run_episode(WordEnv(max_steps=30), safe, _task(), seed=0)
    assert len(traj.steps) == 4
    assert traj.steps[-1].status == "FAIL" and "step limit" in traj.steps[-1].error
    assert [e.kind for e in safe.events] == ["step_limit"]


# ------------------------------------------------------------------ parsed, never executed


def test_model_output_is_parsed_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    outputs = iter([
        payload,  # not JSON at all
        json.dumps({"thought": payload, "control_label": "11", "control_name": "Document", "function": payload,
                    "args": {}, "status": "CONTINUE", "plan": []}),
        json.dumps({"thought": "t", "control_label": "11", "control_name": "Document", "function": "keyboard_input",
                    "args": {"keys": payload}, "status": "FINISH", "plan": []}),
    ])
    policy = TextPolicy(lambda messages: next(outputs), name="evil", on_parse_error="continue")
    traj = run_episode(WordEnv(max_steps=30), SafePolicy(policy, SafetyConfig(**NO_TIMEOUT)), _task(), seed=0)
    assert not marker.exists()
    assert "unusable model output" in traj.steps[0].error
    assert "unknown function" in traj.steps[1].error
    assert len(traj.steps) == 3  # the payload was at most typed (or refused as keys), never run
