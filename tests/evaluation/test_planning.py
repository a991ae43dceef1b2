"""The deterministic plan-step matcher and the planning metrics, on hand-made cases."""

from __future__ import annotations

from lam_kedro.agent import TaskPlan
from lam_kedro.evaluation.planning import (
    align_plans,
    normalize_step,
    plan_scores,
    planning_metrics,
    predict_plans,
    step_entities,
    steps_match,
)


def test_normalization_and_entities():
    assert normalize_step("1. Click  the BOLD button!") == "click the bold button"
    ents = step_entities('Select the text \u201cSales grew\u201d and set Font Size to 14 on the Home tab')
    assert ents == {("quote", "Sales grew"), ("number", "14.0"), ("control", "Font Size"), ("control", "Home")}
    assert step_entities('Click "Bold"') == step_entities("Click Bold")  # a quoted control name is the control


def test_matching_steps():
    assert steps_match("Click Bold on the Home tab", "2. On the Home tab, click the Bold button")
    assert steps_match('Select the text "Sales grew"', 'Select "Sales grew"')
    assert not steps_match('Select the text "Sales grew"', 'Select the text "Sales fell"')  # quote differs
    assert not steps_match("Click Bold on the Home tab", "Click Italic on the Home tab")     # control differs
    assert not steps_match("Set the font size to 14", "Set the font size to 16")            # number differs
    assert not steps_match("Click Bold", "Click Bold on the Home tab")                      # extra entity
    assert not steps_match("Type the heading in the document", "Scroll down the page slowly")  # words differ
    assert steps_match("Press Enter", "press enter")


def test_alignment_is_one_to_one_and_in_order():
    a, b, c = 'Select "x"', "Click Bold", "Click Italic"
    assert align_plans([a, b, c], [a, b, c]) == [(0, 0), (1, 1), (2, 2)]
    assert len(align_plans([b, a], [a, b])) == 1                # out of order: only one counts
    assert align_plans([a, a], [a]) == [(0, 0)]                 # a step is credited once
    assert align_plans([], [a]) == [] and align_plans([a], []) == []


def test_plan_scores_hand_computed():
    ref = ['Select the text "Sales"', "Click the Home tab", "Click Bold"]
    s = plan_scores(['Select "Sales"', "Click Bold", "Click Italic"], ref)
    assert (s["matched"], s["precision"], s["recall"], s["success"]) == (2, 2 / 3, 2 / 3, False)
    full = plan_scores([*ref, "Click Save"], ref)               # extra step: recall 1, still a success
    assert full["success"] and full["precision"] == 0.75 and full["recall"] == 1.0
    assert plan_scores([], ref)["precision"] == 0.0


def test_planning_metrics_are_micro_averaged_and_predict_plans_never_crashes():
    plans = [TaskPlan(task_id="a", task="Bold Sales", plan=['Select the text "Sales"', "Click Bold"]),
             TaskPlan(task_id="b", task="Italic x", plan=['Select "x"', "Click Italic", "Click Save"])]
    answers = iter(['1. Select "Sales"\n2. Click Bold', "I cannot help with that."])
    rows = predict_plans(plans, lambda messages: next(answers), "lam1", progress=False)
    assert [r["success"] for r in rows] == [True, False]
    m = planning_metrics(rows)
    # matched 2 + 0; predicted 2 + 1 ("I cannot help with that." parses as one step); reference 2 + 3
    assert m == {"task_success_rate": 0.5, "step_precision": round(2 / 3, 6), "step_recall": 0.4, "tasks": 2.0}
