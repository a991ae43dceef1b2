"""Every task family with a Writer recipe, played in real LibreOffice Writer and judged by its own
checker on the saved .docx: the scripted solution succeeds, the near miss fails, and the same task
solved in the simulated Word ends in a document the checker judges alike (success, the same
non-empty paragraphs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import StepsPolicy
from lam_kedro.env import WordEnv
from lam_kedro.env.docx_io import load_docx
from lam_kedro.env.tasks import families, get_family, sample_task
from lam_kedro.env.types import Task
from lam_kedro.env.writer import WriterEnv
from lam_kedro.env.writer.recipes import RECIPES, writer_plan, writer_solution, writer_wrong_solution

#: Templates tried in order until one suits the family (a heading to restyle, bold text to clear).
TEMPLATES = ("community_garden", "library_newsletter", "annual_report", "project_proposal", "style_guide")


def _task(family: str) -> Task:
    for template in TEMPLATES:
        task = sample_task(family, template, 0)
        if task is not None:
            return task
    raise AssertionError(f"no template in {TEMPLATES} suits {family}")


def _texts(doc) -> list[str]:
    """The paragraphs' text, without empty ones: Writer keeps an empty paragraph beside a table it
    inserts at a paragraph's end (the checker allows it), Word does not."""
    return [p.text for p in doc.paragraphs() if p.text]


def test_the_writer_families_are_task_families_with_plans() -> None:
    assert len(RECIPES) >= 20
    assert set(RECIPES) <= set(families())
    for family in RECIPES:
        task = _task(family)
        plan = writer_plan(family, task.params)
        assert plan and plan[0].startswith("1. ") and "Home tab" not in " ".join(plan), family
        assert writer_solution(family, task.params) != writer_wrong_solution(family, task.params), family
    with pytest.raises(KeyError, match="no Writer recipe; families that run in Writer: add_footer, add_header"):
        writer_plan("watermark_custom", {})


@pytest.mark.parametrize("family", sorted(RECIPES))
def test_the_solution_succeeds_the_near_miss_fails_and_word_agrees(
        family: str, writer_env: WriterEnv, tmp_path: Path) -> None:
    task = _task(family)
    right = run_episode(writer_env, StepsPolicy(writer_solution(family, task.params)), task)
    assert right.outcome.success, (family, right.outcome.reason, [s.error for s in right.steps if s.error])
    assert not any(s.error for s in right.steps), family
    writer_env.save(tmp_path / "writer.docx")
    in_writer = load_docx(tmp_path / "writer.docx")

    wrong = run_episode(writer_env, StepsPolicy(writer_wrong_solution(family, task.params)), task)
    assert not wrong.outcome.success, (family, "the checker passed the near miss")
    assert not any(s.error for s in wrong.steps), family  # it failed on the document, not on the UI

    word = WordEnv(max_steps=12)
    in_sim = run_episode(word, StepsPolicy(get_family(family).solution(task.params)), task)
    assert in_sim.outcome.success, family
    assert _texts(in_writer) == _texts(word.document), family
