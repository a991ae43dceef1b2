"""check_env: WordEnv passes it, and environments that break the contract are caught."""

from __future__ import annotations

from typing import Any

import pytest

from lam_kedro.env import episode, word_env
from lam_kedro.env.checker import EnvContractError, check_env
from lam_kedro.env.document import Document
from lam_kedro.env.types import Action, Control, Observation, Task

TASK = Task("checker-test", "bold_text", "Bold fox.", {"text": "fox"}, "checker-doc")


@pytest.fixture()
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(word_env, "_load_template", lambda name: Document.from_paragraphs(["The fox.", "Two."]))
    monkeypatch.setattr(episode, "check_task", lambda task, before, after: (False, "stub checker"))


def test_word_env_passes(patched: None) -> None:
    check_env(word_env.WordEnv(), TASK)


def test_word_env_passes_on_real_tasks() -> None:
    templates = pytest.importorskip("lam_kedro.env.templates")
    tasks = pytest.importorskip("lam_kedro.env.tasks")
    env = word_env.WordEnv()
    checked = 0
    for tpl in templates.builtin_templates()[:3]:
        task = tasks.sample_task("bold_text", tpl.name, seed=0)
        if task is not None:
            check_env(env, task)
            checked += 1
    assert checked


class RaisingEnv(word_env.WordEnv):
    def step(self, action: Any) -> Any:
        if isinstance(action, Action) and action.control_label == "9999":
            raise KeyError(action.control_label)
        return super().step(action)


class DuplicateLabelEnv(word_env.WordEnv):
    def _observe(self, error: str | None) -> Observation:
        obs = super()._observe(error)
        return Observation(obs.title, (*obs.controls, Control("1", "Ghost", "Button")), obs.document, obs.selection,
                           obs.error)


class NondeterministicEnv(word_env.WordEnv):
    calls = 0

    def _observe(self, error: str | None) -> Observation:
        obs = super()._observe(error)
        NondeterministicEnv.calls += 1
        return Observation(f"{obs.title} {NondeterministicEnv.calls}", obs.controls, obs.document, obs.selection,
                           obs.error)


class IntRewardEnv(word_env.WordEnv):
    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, int(reward), terminated, truncated, info


@pytest.mark.parametrize(("cls", "message"), [
    (RaisingEnv, "step raised KeyError"),
    (DuplicateLabelEnv, "not unique"),
    (NondeterministicEnv, "observation\\(\\)"),
    (IntRewardEnv, "reward must be a float"),
])
def test_broken_envs_are_caught(patched: None, cls: type[word_env.WordEnv], message: str) -> None:
    with pytest.raises(EnvContractError, match=message):
        check_env(cls(), TASK)
