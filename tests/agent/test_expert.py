"""The plan-following expert: parses plans, resolves them on screen, and fails honestly."""

from __future__ import annotations

import dataclasses

import pytest

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.expert import Intent, PlanFollowingExpert, PlanParseError, make_expert, parse_step
from lam_kedro.env import WordEnv, builtin_templates, families
from lam_kedro.env.tasks import TaskFamily, get_family, sample_task


def _fixed_sample(per_family: int = 2) -> list:
    """Every family on the first ``per_family`` built-in templates that suit it (fixed seeds)."""
    names = [t.name for t in builtin_templates()]
    tasks = []
    for i, fam in enumerate(sorted(families())):
        made = 0
        for j, name in enumerate(names):
            if made >= per_family:
                break
            task = sample_task(fam, name, seed=i * 100 + j)
            if task is not None:
                tasks.append(task)
                made += 1
    return tasks


def _run(tasks: list) -> list:
    plans = {t.task_id: get_family(t.family).plan(t.params) for t in tasks}
    env, expert = WordEnv(max_steps=30), PlanFollowingExpert(lambda t: plans[t.task_id])
    return [run_episode(env, expert, t, seed=0) for t in tasks]


def test_parse_step_reads_tab_group_and_control():
    intents = parse_step("2. On the Home tab, in the Font group, click Bold.", 1)
    assert intents == [Intent("click", target="Home", step=1, types=("TabItem",)), Intent("click", target="Bold", step=1)]


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ('1. Select the text "quarterly".', [("select", "text", "quarterly")]),
        ('1. Select "quarterly report...".', [("select", "text", "quarterly report...")]),
        ('1. Select the paragraph that starts with "Remember to" (or click in it).',
         [("select", "caret", "Remember to")]),
        ('1. Click in the paragraph "Budget".', [("select", "caret", "Budget")]),
        ('1. Select the paragraph that starts with "Remember to".', [("select", "paragraph", "Remember to")]),
        ('1. Click at the end of the paragraph that starts with "The Maple".',
         [("select", "caret", "The Maple"), ("keys", "", "{END}")]),
        ('1. Click at the start of the paragraph "Flights".', [("select", "caret", "Flights"), ("keys", "", "{HOME}")]),
        ('1. Double-click the word "Review" to select it.', [("select", "word", "Review")]),
        ('1. Select the 2 paragraphs from "The Aurora..." to "Marketing will...".',
         [("select", "range", "The Aurora...\nMarketing will...")]),
        ('1. Make sure the document "Memo" is the open window.', []),
        ("2. Click Bold on the Home tab.", [("click", "Home", ""), ("click", "Bold", "")]),
        ("2. Go to the Insert tab and click Page Break.", [("click", "Insert", ""), ("click", "Page Break", "")]),
        ("2. On the Home tab, in the Font group, click the arrow next to Font Color (Font Color Options).",
         [("click", "Home", ""), ("click", "Font Color Options", "")]),
        ("3. In the Find what box, type \"expense\".", [("type", "Find what", "expense")]),
        ('2. Type "Cambria" in the Font box.', [("type", "Font", "Cambria")]),
        ("3. Set Number of columns to 3 and Number of rows to 4.",
         [("type", "Number of columns", "3"), ("type", "Number of rows", "4")]),
        ('3. In the Page Setup dialog, set Top, Bottom and Left to 1.5".',
         [("type", "Top", "1.5"), ("type", "Bottom", "1.5"), ("type", "Left", "1.5")]),
        ("4. Click Replace All, then Close.", [("click", "Replace All", ""), ("click", "Close", "")]),
        ("2. Click Table, then Insert Table...", [("click", "Table", ""), ("click", "Insert Table...", "")]),
        ("3. In the Font style box, choose Bold Italic.", [("type", "Font style", "Bold Italic")]),
        ("2. Click the Font dialog launcher (Font Settings).", [("click", "Font Settings", "")]),
        ("3. Press Backspace to remove the empty line.", [("keys", "", "{BACKSPACE}")]),
    ],
)
def test_parse_step_forms(step: str, expected: list):
    assert [(i.kind, i.target, i.value) for i in parse_step(step)] == expected


def test_unreadable_step_is_a_parse_error_naming_it():
    with pytest.raises(PlanParseError, match="Make the table 4 by 3"):
        parse_step("3. Make the table 4 by 3.")


def test_expert_never_uses_the_scripted_solution(monkeypatch: pytest.MonkeyPatch):
    def forbidden(self, params):
        raise AssertionError("the expert must not read the family's scripted solution")

    monkeypatch.setattr(TaskFamily, "solution", forbidden)
    for fam in ("bold_text", "font_size", "page_orientation", "find_replace"):
        monkeypatch.setattr(type(get_family(fam)), "solution", forbidden)
    tasks = [sample_task(f, "community_garden", seed=3) for f in ("bold_text", "font_size", "page_orientation",
                                                                 "find_replace")]
    trajs = _run([t for t in tasks if t is not None])
    assert all(t.outcome.success for t in trajs), [t.outcome.reason for t in trajs]


def test_expert_completes_every_family_when_its_plan_is_clear():
    """The help-style plan of every family is followed to success: a family the expert never
    completes would have no training data (the colour arrow, "click at the end of", double-click,
    "the paragraph that starts with", a range of paragraphs, "make sure" were such bugs)."""
    trajs = _run(_fixed_sample(per_family=len(builtin_templates())))  # every template that suits each family
    failures = [(t.task.family, t.task.template, t.outcome.reason) for t in trajs if not t.outcome.success]
    assert not failures and {t.task.family for t in trajs} == set(families()), failures


@pytest.mark.parametrize("family", ["font_color", "highlight_text", "heading_and_color", "italic_and_highlight",
                                    "add_paragraph", "insert_table", "insert_symbol", "insert_page_break",
                                    "delete_word", "delete_paragraph"])
def test_families_that_failed_for_a_plan_or_expert_bug_succeed(family: str):
    names = [t.name for t in builtin_templates()]
    tasks = [t for t in (sample_task(family, n, seed=k) for k, n in enumerate(names)) if t is not None][:4]
    assert tasks
    for traj in _run(tasks):
        assert traj.outcome.success, (traj.task.plan, traj.outcome.reason, traj.steps[-1].thought)


def test_expert_is_deterministic_and_keeps_the_thought_format():
    tasks = _fixed_sample(1)
    first, second = _run(tasks), _run(tasks)
    assert [[(s.function, s.control_label, s.args) for s in t.steps] for t in first] == [
        [(s.function, s.control_label, s.args) for s in t.steps] for t in second]
    for t in first:
        for s in t.steps:
            if s.status != "FAIL":
                assert " Now: " in s.thought and s.thought.endswith("."), s.thought


def test_paragraph_opening_selects_the_whole_paragraph_and_word_takes_its_space():
    task = sample_task("delete_paragraph", "community_garden", seed=1)
    plans = {task.task_id: [f'1. Select the paragraph that starts with "{task.params["text"][:12]}".',
                            "2. Press Delete.", "3. Press Backspace to remove the empty line."]}
    traj = run_episode(WordEnv(max_steps=30), PlanFollowingExpert(lambda t: plans[t.task_id]), task, seed=0)
    assert traj.steps[0].args == {"text": task.params["text"]} and traj.outcome.success
    word = sample_task("delete_word", "community_garden", seed=2)
    traj = _run([word])[0]
    assert traj.steps[0].args == {"text": word.params["text"] + " "} and traj.outcome.success


def test_ambiguous_control_is_told_apart_by_the_request_else_guessed_and_noted():
    task = sample_task("space_after", "community_garden", seed=4)
    plan = [f'1. Select the paragraph "{task.params["text"]}".', "2. On the Layout tab, set Spacing to 12 pt."]
    expert = PlanFollowingExpert(lambda t: plan)
    env = WordEnv(max_steps=30)
    told = run_episode(env, expert, dataclasses.replace(task, request="Add space after it."), seed=0)
    assert told.steps[-1].control_name == "Spacing After"
    assert "the request says" in expert.notes[-1]
    guessed = run_episode(env, expert, dataclasses.replace(task, request="Add a gap."), seed=0)
    assert guessed.steps[-1].control_name == "Spacing Before"  # the first of the two: a guess
    assert 'guessed "Spacing Before"' in expert.notes[-1] and "step 2" in expert.notes[-1]


def test_make_expert_kinds():
    expert = make_expert({"kind": "plan"}, {"t": ["1. Click Bold."]})
    assert isinstance(expert, PlanFollowingExpert)
    with pytest.raises(ValueError, match="expert.llm.base_url"):
        make_expert({"kind": "llm", "llm": {"base_url": None, "model": None}}, {})
    with pytest.raises(ValueError, match="must be 'plan' or 'llm'"):
        make_expert({"kind": "oracle"}, {})
