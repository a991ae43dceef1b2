"""The plan-following expert: parses plans, resolves them on screen, and fails honestly."""

from __future__ import annotations

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
        ('1. Select the text "quarterly".', [("select", "", "quarterly")]),
        ('1. Select the paragraph that starts with "Remember to" (or click in it).', [("select", "", "Remember to")]),
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
    with pytest.raises(PlanParseError, match="Make sure the document"):
        parse_step('1. Make sure the document "Memo" is the open window.')


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


def test_expert_fails_honestly_on_a_meaningful_share_and_deterministically():
    tasks = _fixed_sample()
    first, second = _run(tasks), _run(tasks)
    failures = [t for t in first if not t.outcome.success]
    share = len(failures) / len(first)
    # measured 0.21 on simple families (evolved compositions fail more); the paper's GPT-4o expert
    # failed about half. The bound leaves room for the env to grow without hiding a broken expert.
    assert 0.15 <= share <= 0.8, f"expert failure share {share:.2f} over {len(first)} tasks"
    assert any(t.outcome.success for t in first)
    # not random: the same tasks give the same verdicts and the same actions
    assert [t.outcome.success for t in first] == [t.outcome.success for t in second]
    assert [[(s.function, s.control_label, s.args) for s in t.steps] for t in first] == [
        [(s.function, s.control_label, s.args) for s in t.steps] for t in second]
    # every failure says why: the expert's own FAIL thought or the checker's reason
    for t in failures:
        assert t.outcome.reason and (t.steps[-1].thought or t.steps[-1].error)
    failed_families = {t.task.family for t in failures}
    assert {"font_color", "insert_table"} <= failed_families  # "arrow next to", "click at the end of"


def test_make_expert_kinds():
    expert = make_expert({"kind": "plan"}, {"t": ["1. Click Bold."]})
    assert isinstance(expert, PlanFollowingExpert)
    with pytest.raises(ValueError, match="expert.llm.base_url"):
        make_expert({"kind": "llm", "llm": {"base_url": None, "model": None}}, {})
    with pytest.raises(ValueError, match="must be 'plan' or 'llm'"):
        make_expert({"kind": "oracle"}, {})
