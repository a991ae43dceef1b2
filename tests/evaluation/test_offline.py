"""Offline metrics against hand-computed values: object, operation, status, step and task success."""

from __future__ import annotations

import json

from lam_kedro.agent import Step, Trajectory, render_action_target
from lam_kedro.evaluation.offline import (
    acceptable_control,
    normalize_args,
    offline_metrics,
    predict_offline,
    score_step,
)

OBS = {"title": "t", "document": "", "selection": "", "error": None, "controls": [
    {"label": "1", "control_text": "Home", "control_type": "TabItem"},
    {"label": "2", "control_text": "Save", "control_type": "Button"},
    {"label": "3", "control_text": "Bold", "control_type": "Button"},
    {"label": "4", "control_text": "Save", "control_type": "Button"},   # a twin of "2"
    {"label": "5", "control_text": "Save", "control_type": "ListItem"},  # same text, other type
    {"label": "6", "control_text": "Document", "control_type": "Document"},
]}


def _step(label: str = "2", function: str = "click_input", args: dict | None = None, status: str = "CONTINUE") -> Step:
    name = next((c["control_text"] for c in OBS["controls"] if c["label"] == label), "")
    return Step(index=0, observation=OBS, control_label=label, control_name=name, function=function,
                args=args or {}, status=status)


def _out(**fields) -> str:
    return json.dumps({"thought": "", "control_label": "2", "control_name": "", "function": "click_input",
                       "args": {}, "status": "CONTINUE", "plan": [], **fields})


def test_acceptable_control_is_same_label_or_same_text_and_type():
    expert = _step("2")
    assert acceptable_control(expert, "click_input", "2")
    assert acceptable_control(expert, "click_input", "4")        # twin: same control_text and type
    assert not acceptable_control(expert, "click_input", "5")    # same text, other control type
    assert not acceptable_control(expert, "click_input", "3")
    assert not acceptable_control(expert, "click_input", "99")   # not on screen
    assert not acceptable_control(expert, "", "")                # no control at all
    finish = _step("", function="", status="FINISH")
    assert acceptable_control(finish, "", "") and not acceptable_control(finish, "click_input", "2")


def test_normalize_args_fills_defaults_and_keeps_bad_args_unequal():
    assert normalize_args("click_input", {}) == {"button": "left", "double": False}
    assert normalize_args("click_input", {"double": True}) != normalize_args("click_input", {})
    assert normalize_args("set_edit_text", {"txt": "a"}) == {"txt": "a"}   # rejected args kept as given


def test_score_step_separates_object_operation_and_status():
    expert = _step("6", "set_edit_text", {"text": "14"})
    right = score_step(expert, _out(control_label="6", function="set_edit_text", args={"text": "14"}))
    assert right["step_ok"] and right["parse_error"] is None
    wrong_text = score_step(expert, _out(control_label="6", function="set_edit_text", args={"text": "16"}))
    assert wrong_text["object_ok"] and not wrong_text["operation_ok"] and wrong_text["status_ok"]
    wrong_status = score_step(expert, _out(control_label="6", function="set_edit_text", args={"text": "14"},
                                           status="FINISH"))
    assert wrong_status["object_ok"] and wrong_status["operation_ok"] and not wrong_status["status_ok"]
    assert not wrong_status["step_ok"]
    click = score_step(_step("2"), _out(control_label="4", args={"button": "left"}))  # twin + default arg
    assert click["step_ok"]


def test_malformed_output_is_a_failed_step_with_the_parse_error():
    for raw in ("not json {", '{"function": "click_input"}', _out(control_label="42"), _out(function="fly")):
        got = score_step(_step("2"), raw)
        assert not (got["object_ok"] or got["operation_ok"] or got["status_ok"] or got["step_ok"])
        assert got["parse_error"], raw


def _scripted_generate(outputs: list[str]):
    calls = iter(outputs)
    return lambda messages: next(calls)


def test_every_step_but_the_last_right_gives_high_ssr_and_zero_tsr(expert_trajectories: list[Trajectory]):
    a, b = expert_trajectories[:2]
    outputs = [render_action_target(s) for s in a.steps]            # task a: every step right
    wrong_last = [render_action_target(s) for s in b.steps]
    wrong_last[-1] = wrong_last[-1].replace('"FINISH"', '"CONTINUE"')  # task b: last step's status wrong
    rows = predict_offline([a, b], _scripted_generate(outputs + wrong_last), "lamX", progress=False)
    n = len(a.steps) + len(b.steps)
    m = offline_metrics(rows)
    assert m["object_acc"] == 1.0 and m["operation_acc"] == 1.0
    assert m["status_acc"] == round((n - 1) / n, 6)
    assert m["step_success_rate"] == round((n - 1) / n, 6)
    assert m["task_success_rate"] == 0.5                            # b fails although most steps are right
    assert (m["steps"], m["tasks"]) == (n, 2)
    assert [r["step_ok"] for r in rows if r["trajectory_id"] == b.trajectory_id][-1] is False


def test_offline_metrics_hand_computed_mix(expert_trajectories: list[Trajectory]):
    rows = [
        {"trajectory_id": "t1", "object_ok": True, "operation_ok": True, "status_ok": True, "step_ok": True,
         "parse_error": None},
        {"trajectory_id": "t1", "object_ok": True, "operation_ok": False, "status_ok": True, "step_ok": False,
         "parse_error": None},
        {"trajectory_id": "t2", "object_ok": False, "operation_ok": False, "status_ok": False, "step_ok": False,
         "parse_error": "no JSON object found in the model output"},
        {"trajectory_id": "t3", "object_ok": True, "operation_ok": True, "status_ok": True, "step_ok": True,
         "parse_error": None},
    ]
    m = offline_metrics(rows)
    assert m == {"object_acc": 0.75, "operation_acc": 0.5, "status_acc": 0.75, "step_success_rate": 0.5,
                 "task_success_rate": round(1 / 3, 6), "parse_error_rate": 0.25, "steps": 4.0, "tasks": 3.0}
    assert offline_metrics([])["task_success_rate"] == 0.0


def test_garbage_model_never_crashes_offline_evaluation(expert_trajectories: list[Trajectory]):
    rows = predict_offline(expert_trajectories[:1], lambda messages: "```\n{{{ oops", "lamX", progress=False)
    assert rows and all(r["parse_error"] and not r["step_ok"] for r in rows)
    assert rows[0]["raw_output"] == "```\n{{{ oops" and rows[0]["expected"].startswith("{")
