"""Every task family: its scripted solution succeeds in WordEnv, its wrong solution and the
untouched document fail its checker, and its phrasings and plans are well formed.

Runs each family on every built-in template it applies to, and on each real .docx of the shared
corpus (``../shared/corpus/docx``) that loads and suits it. The episodes are driven by a tiny
local driver (control text -> label through ``Observation.find``), so this test depends only on
the environment, not on the agent runtime.
"""

from __future__ import annotations

import json
import random
import re
from functools import cache
from pathlib import Path

import pytest

from lam_kedro.env import WordEnv
from lam_kedro.env.tasks import CATEGORIES, families, get_family, make_task, sample_task, sample_tasks
from lam_kedro.env.tasks.base import TaskFamily
from lam_kedro.env.types import Action, Task, UIStep

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "docx"
FAMILIES: dict[str, TaskFamily] = families()
SEEDS = (0, 1)


# ---------------------------------------------------------------- the local driver


def play(task: Task, steps: list[UIStep]) -> tuple[bool, str]:
    """Run ``steps`` in a fresh WordEnv, then FINISH: (checker verdict, its reason). A step whose
    control is not visible, or that the environment rejects, fails the test on the spot: a
    solution (right or wrong) must be executable, so a wrong one fails *the checker*."""
    env = WordEnv(max_steps=len(steps) + 5)
    obs, _ = env.reset(task, seed=0)
    for i, s in enumerate(steps, start=1):
        control = obs.find(s.control_text, s.control_type)
        assert control is not None, f"{task.family} step {i}: no visible control {s.control_text!r} ({s.control_type})"
        obs, _, _, _, _ = env.step(Action(control.label, s.function, dict(s.args)))
        assert obs.error is None, f"{task.family} step {i} ({s.function} on {s.control_text!r}): {obs.error}"
    _, reward, terminated, _, info = env.step(Action("", "", {}, status="FINISH"))
    assert terminated
    assert (reward == 1.0) == info["success"]
    return info["success"], info["check_reason"]


# ---------------------------------------------------------------- the documents


@cache
def builtin() -> list[tuple[str, object]]:
    """(template name, document) of every built-in template."""
    from lam_kedro.env.templates import builtin_templates, load_template

    return [(t.name, load_template(t.name)) for t in builtin_templates()]


@cache
def corpus() -> list[tuple[str, object]]:
    """(path, document) of every shared .docx that loads (Strict OOXML and friends do not)."""
    from lam_kedro.env.docx_io import DocxLoadError, load_docx

    out = []
    for path in sorted(CORPUS.glob("*.docx")) if CORPUS.is_dir() else []:
        try:
            out.append((str(path), load_docx(path)))
        except DocxLoadError:
            continue
    return out


def _cases(docs: list[tuple[str, object]]) -> list[tuple[str, str, int]]:
    """(family, template, seed) for every pair where the family applies to the document."""
    out = []
    for name, fam in FAMILIES.items():
        for tpl, doc in docs:
            for seed in SEEDS:
                if make_task(fam, tpl, doc, seed) is not None:
                    out.append((name, tpl, seed))
    return out


def _check_family_on(family: str, template: str, doc: object, seed: int) -> None:
    fam = get_family(family)
    task = make_task(fam, template, doc, seed)
    assert task is not None
    json.dumps(task.to_dict())  # params are plain data
    ok, reason = play(task, fam.solution(task.params))
    assert ok, f"{family} on {Path(template).name}: scripted solution failed: {reason} (params {task.params})"
    bad, bad_reason = play(task, fam.wrong_solution(task.params))
    assert not bad, f"{family} on {Path(template).name}: the wrong solution passed the checker ({task.params})"
    untouched = fam.check(doc, doc.copy(), task.params)
    assert not untouched.success, f"{family}: the untouched document passes the checker ({task.params})"
    assert untouched.reason and bad_reason


def _ids(case: tuple[str, str, int]) -> str:
    return f"{case[0]}-{Path(case[1]).stem}-{case[2]}"


# ---------------------------------------------------------------- scripted vs wrong solutions


@pytest.mark.parametrize("case", _cases(builtin()), ids=_ids)
def test_family_on_builtin_template(case: tuple[str, str, int]) -> None:
    family, template, seed = case
    doc = dict(builtin())[template]
    _check_family_on(family, template, doc, seed)


def _corpus_cases() -> list[object]:
    if not SHARED.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no shared folder at {SHARED}"))]
    cases = _cases(corpus())
    if not cases:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no loadable .docx in {CORPUS}"))]
    return cases


@pytest.mark.parametrize("case", _corpus_cases(), ids=lambda c: _ids(c) if c else "corpus")
def test_family_on_corpus_docx(case: tuple[str, str, int]) -> None:
    family, path, seed = case
    doc = dict(corpus())[path]
    _check_family_on(family, path, doc, seed)


# ---------------------------------------------------------------- the registry


def test_at_least_30_families_over_every_category() -> None:
    assert len(FAMILIES) >= 30
    assert {f.category for f in FAMILIES.values()} == set(CATEGORIES)
    for name, fam in FAMILIES.items():
        assert fam.name == name and fam.description


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_applies_to_a_builtin_template(family: str) -> None:
    fam = FAMILIES[family]
    assert any(fam.applicable(doc) for _, doc in builtin()), f"{family} applies to no built-in template"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_phrasings_and_plans(family: str) -> None:
    fam = FAMILIES[family]
    assert len(fam.phrasings) >= 3
    rng = random.Random(0)
    tasks = [make_task(fam, tpl, doc, s) for tpl, doc in builtin() for s in SEEDS]
    tasks = [t for t in tasks if t is not None]
    assert tasks
    for task in tasks:
        slots = fam.slots(task.params)
        assert fam.slot_names() <= set(slots), f"{family}: phrasing slots without values"
        for phrasing in fam.phrasings:
            text = phrasing.format_map(slots)
            assert "{" not in text and "}" not in text, text
        request = fam.render(task.params, rng)
        assert request.strip() and "{" not in request
        plan = fam.plan(task.params)
        assert plan and all(re.match(rf"{i}\. \S", s) for i, s in enumerate(plan, start=1)), plan
        assert fam.solution(task.params) and fam.wrong_solution(task.params)


def test_get_family_names_valid_ones() -> None:
    with pytest.raises(KeyError, match="bold_text"):
        get_family("no_such_family")


def test_sampling_is_deterministic_and_json_friendly() -> None:
    tpl = builtin()[0][0]
    a, b = sample_task("bold_text", tpl, 3), sample_task("bold_text", tpl, 3)
    assert a is not None and a == b
    assert a.task_id == b.task_id and a.task_id.startswith("bold_text-")
    assert Task.from_dict(json.loads(json.dumps(a.to_dict()))) == a
    names = [t for t, _ in builtin()]
    many = sample_tasks(names, 40, seed=7)
    assert len(many) == 40 and many == sample_tasks(names, 40, seed=7)
    assert len({t.task_id for t in many}) == 40
    assert len({t.family for t in many}) >= 20


# ---------------------------------------------------------------- near misses the checkers must reject

_CLICK = {"button": "left", "double": False}
_SELECT_ALL = UIStep("Select All", "click_input", _CLICK, control_type="Button")


@pytest.mark.parametrize(("family", "button"), [("bold_text", "Bold"), ("italic_text", "Italic"),
                                                ("underline_text", "Underline")])
def test_formatting_everything_is_not_formatting_the_target(family: str, button: str) -> None:
    task = sample_task(family, builtin()[1][0], 0)
    assert task is not None
    steps = [UIStep("Home", "click_input", _CLICK, control_type="TabItem"), _SELECT_ALL,
             UIStep(button, "click_input", _CLICK, control_type="Button")]
    ok, reason = play(task, steps)
    assert not ok and "outside the target" in reason


def test_watermark_plus_stray_edit_fails() -> None:
    task = sample_task("watermark_preset", builtin()[1][0], 0)
    assert task is not None
    fam = get_family("watermark_preset")
    stray = [UIStep("Home", "click_input", _CLICK, control_type="TabItem"), _SELECT_ALL,
             UIStep("Bold", "click_input", _CLICK, control_type="Button")]
    ok, reason = play(task, fam.solution(task.params) + stray)
    assert not ok and "format" in reason


def test_scripted_policy_and_run_episode_solve_every_family() -> None:
    """The agent runtime's expert (ScriptedPolicy through run_episode) agrees with the local driver."""
    agent = pytest.importorskip("lam_kedro.agent")
    cases: dict[str, tuple[str, str, int]] = {}
    for case in _cases(builtin()):
        cases.setdefault(case[0], case)
    assert set(cases) == set(FAMILIES)
    for family, template, seed in cases.values():
        task = sample_task(family, template, seed)
        assert task is not None
        traj = agent.run_episode(WordEnv(max_steps=30), agent.ScriptedPolicy(), task)
        assert traj.outcome.success, f"{family} on {template}: {traj.outcome.reason}"
