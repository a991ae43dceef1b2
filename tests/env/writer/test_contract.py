"""The episode rules every backend shares (``tests/env/test_episode.py``'s contract tests), run on
``WriterEnv`` in real Writer: the same test functions, with a Writer backend behind ``backend``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lam_kedro.env import episode
from lam_kedro.env.tasks import sample_task
from lam_kedro.env.types import Action, Observation, Task
from lam_kedro.env.writer import Office, WriterEnv
from tests.env.test_episode import (  # noqa: F401 - collected here against the Writer backend
    test_a_bad_action_is_an_error_in_the_next_observation,
    test_a_task_without_family_is_never_judged,
    test_fail_ends_the_episode_and_the_checker_still_decides,
    test_finish_asks_the_checker_and_a_later_step_is_an_error,
    test_reset_and_a_valid_step_return_the_contracts_values,
    test_step_before_reset_says_to_reset,
    test_truncation_at_max_steps_is_judged_without_reward,
)


@pytest.fixture
def backend(office: Office, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, ...]]:
    verdicts: list[tuple[Any, Any]] = []

    def checker(task: Task, before: Any, after: Any) -> tuple[bool, str]:
        verdicts.append((before, after))
        return True, "stub checker agrees"

    monkeypatch.setattr(episode, "check_task", checker)
    task = sample_task("bold_text", "community_garden", 0)
    env = WriterEnv(office=office, work_dir=tmp_path, max_steps=3)

    def valid(obs: Observation) -> Action:
        return Action(obs.find("Bold", "Button").label, "click_input", {"button": "left", "double": False})

    yield env, valid, task, verdicts
    env.close()


def test_the_checker_gets_writer_documents_before_and_after(backend) -> None:
    env, valid, task, verdicts = backend
    obs, _ = env.reset(task)
    obs, *_ = env.step(Action(obs.find("Document").label, "select_text", {"text": "Street"}))
    env.step(Action(valid(obs).control_label, "click_input", {"button": "left", "double": False}, "FINISH"))
    (before, after), = verdicts
    span = after.find("Street")
    assert before.text() == after.text() and not before.format_at(span).bold and after.format_at(span).bold
