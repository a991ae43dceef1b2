"""Plans worded by other authors: careful rewordings keep the expert on track, loose ones make it
fail for a reason the plan text gives, and a failure's reason names the step it came from."""

from __future__ import annotations

import random

import pytest

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.expert import PlanFollowingExpert
from lam_kedro.agent.schema import InstantiatedTask
from lam_kedro.env import WordEnv
from lam_kedro.env.tasks import get_family, merge_steps, sample_task
from lam_kedro.pipelines.trajectories.nodes import failure_cause
from lam_kedro.pipelines.trajectories.rollout import GUESS_MARK, expert_rollouts
from lam_kedro.pipelines.trajectories.wording import VARIANTS, reword_plan


def _task(family: str, template: str = "community_garden", seed: int = 1, request: str | None = None):
    task = sample_task(family, template, seed=seed)
    assert task is not None, family
    inst = InstantiatedTask.from_env_task(task, plan=get_family(family).plan(task.params))
    return inst if request is None else inst.model_copy(update={"task": request})


def _only(name: str, step: str) -> str:
    """The step as the named variant words it (the one variant of that name that applies)."""
    plan, got = reword_plan([f"1. {step}"], random.Random(0), loose=True,
                            variants=[v for v in VARIANTS if v.name == name and v.pattern.search(step)])
    assert got == name, (name, step)
    return plan[0] if plan else ""


@pytest.mark.parametrize(("name", "step", "expected"), [
    ("tab_last", "On the Home tab, in the Font group, click Bold.", "1. Click Bold on the Home tab."),
    ("go_to_tab", "On the Insert tab, in the Pages group, click Page Break.",
     "1. Go to the Insert tab and click Page Break."),
    ("no_tab", "On the Layout tab, in the Page Setup group, click Size.", "1. Click Size."),
    ("split_button", "On the Home tab, in the Font group, click the arrow next to Font Color (Font Color Options).",
     "1. On the Home tab, in the Font group, click Font Color."),
    ("no_qualifier", "On the Layout tab, in the Paragraph group, set Spacing After to 12 pt.",
     "1. On the Layout tab, in the Paragraph group, set Spacing to 12 pt."),
    ("no_box", 'In the Replace with box, type "memo".', '1. Type "memo".'),
    ("short_quote", 'Select the paragraph that starts with "The Maple Street community".',
     '1. Select the paragraph that starts with "The".'),
    ("unquoted", 'Select the text "quarterly".', "1. Select the text you want to change."),
    ("left_out", "Press Backspace to remove the empty line.", ""),
])
def test_each_variant_rewords_its_step(name: str, step: str, expected: str):
    assert _only(name, step) == expected


def test_reword_plan_is_seeded_and_respects_the_author():
    plan = get_family("space_after").plan(_task("space_after").params)
    assert reword_plan(plan, random.Random(3), loose=True) == reword_plan(plan, random.Random(3), loose=True)
    loose = {reword_plan(plan, random.Random(k), loose=True)[1] for k in range(30)}
    careful = {reword_plan(plan, random.Random(k), loose=False)[1] for k in range(30)}
    assert loose <= {v.name for v in VARIANTS if v.loose} and careful <= {v.name for v in VARIANTS if not v.loose}
    assert reword_plan(["1. Choose Landscape."], random.Random(0), loose=False) == (["1. Choose Landscape."], None)
    dropped, name = reword_plan(get_family("delete_paragraph").plan(_task("delete_paragraph").params),
                                random.Random(0), variants=[v for v in VARIANTS if v.name == "left_out"], loose=True)
    assert name == "left_out" and [s[:2] for s in dropped] == ["1.", "2."]


def _play(task: InstantiatedTask, plan: list[str]):
    expert = PlanFollowingExpert(lambda t: plan)
    return run_episode(WordEnv(max_steps=30), expert, task, seed=0), expert


@pytest.mark.parametrize("family", ["bold_text", "font_color", "page_size", "insert_table", "space_after",
                                    "find_replace", "delete_paragraph", "add_header"])
def test_careful_rewordings_keep_the_expert_on_track(family: str):
    task = _task(family)
    for k in range(4):
        plan, _ = reword_plan(task.plan, random.Random(k), loose=False)
        traj, _ = _play(task, plan)
        assert traj.outcome.success, (plan, traj.outcome.reason, traj.steps[-1].thought)


@pytest.mark.parametrize(("family", "variant", "cause", "why"), [
    ("page_size", "no_tab", "control_not_on_screen", 'took "Size" to mean "Font Size"'),  # a distractor
    ("font_color", "split_button", "control_not_on_screen", "no visible control matches"),
    ("insert_table", "no_qualifier", "unreadable_step", "Make the table"),
    ("delete_paragraph", "left_out", "plan_incomplete", "empty line left behind"),
    ("insert_hyperlink", "no_box", "wrong_guess", 'no box named; typed into "Text to display"'),
])
def test_loose_wordings_fail_for_the_reason_the_plan_gives(family: str, variant: str, cause: str, why: str):
    task = _task(family, "business_letter" if family == "insert_hyperlink" else "community_garden")
    plan, got = reword_plan(task.plan, random.Random(0), loose=True,
                            variants=[v for v in VARIANTS if v.name == variant])
    assert got == variant
    traj = expert_rollouts([task.model_copy(update={"plan": plan})], {}, {"max_steps": 30, "expert": {"kind": "plan"}})[0]
    assert not traj.outcome.success and failure_cause(traj) == cause
    assert why in " ".join([traj.outcome.reason, traj.steps[-1].error or "", traj.steps[-1].thought])
    if cause == "wrong_guess":
        assert GUESS_MARK in traj.outcome.reason and "step 3" in traj.outcome.reason


def test_an_ambiguous_request_leaves_an_unquoted_step_to_a_guess():
    task = _task("bold_text", seed=2)
    word = task.params["text"]
    plan = ["1. Select the text you want to change.", "2. On the Home tab, in the Font group, click Bold."]
    one, _ = _play(task.model_copy(update={"task": f'Bold "{word}".'}), plan)
    assert one.outcome.success
    two, expert = _play(task.model_copy(update={"task": f'Bold "Volunteers", not "{word}".'}), plan)
    assert not two.outcome.success and "took the first" in expert.notes[0]


def test_merged_plans_keep_a_repeated_action_and_drop_a_repeated_selection():
    steps = merge_steps(['1. Select the text "X".', "2. Choose Green.", "3. Click OK."],
                        ['1. Select the text "X".', "2. Choose Green.", "3. Click OK."])
    assert steps == ['1. Select the text "X".', "2. Choose Green.", "3. Click OK.", "4. Choose Green.", "5. Click OK."]
    assert merge_steps(['1. Select the text "X".'], ['1. Select the text "Y".'], ['1. Select the text "X".'])[-1] == \
        '3. Select the text "X".'
