"""``EpisodeEnv``: one set of episode rules for every backend, and a task without a checker as a case of it.

The same checks run on the simulated Word, on real Word through UI Automation (the replayed
session of ``tests.env.uia``) and on a toy backend written here in a few lines, which is what a
new backend (LibreOffice Writer) has to implement: open, observe, execute, hand over the document.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import ScriptedPolicy
from lam_kedro.agent.schema import InstantiatedTask
from lam_kedro.env import Document, WordEnv, episode
from lam_kedro.env.actions import ActionError
from lam_kedro.env.docx_io import load_docx, save_docx
from lam_kedro.env.episode import NO_CHECKER, DocumentUnavailable, EpisodeEnv
from lam_kedro.env.tasks import sample_task
from lam_kedro.env.templates import load_template
from lam_kedro.env.types import Action, Control, Observation, Task
from lam_kedro.env.uia import UIAWordEnv
from tests.env.uia import ReplaySession, tree

CLICK = {"button": "left", "double": False}


class NotepadEnv(EpisodeEnv):
    """A backend in twenty lines: a list of lines, one ``Document`` control that types a line."""

    def __init__(self, max_steps: int = 30, unsaveable: bool = False) -> None:
        super().__init__(max_steps)
        self.lines: list[str] = []
        self.unsaveable = unsaveable

    def _open(self, task: Task) -> Document:
        self.lines = [task.template]
        return Document.from_paragraphs(list(self.lines))

    def _observe(self, error: str | None) -> Observation:
        return Observation(title="Notepad", controls=(Control("1", "Document", "Document"),),
                           document="\n".join(self.lines), error=error)

    def _execute(self, action: Action) -> Any:
        if action.control_label != "1" or action.function != "keyboard_input":
            raise ActionError(f"{action.function} is not supported by control {action.control_label!r}")
        self.lines.append(str(action.args.get("keys", "")))
        return None

    def _final_document(self) -> Document:
        if self.unsaveable:
            raise DocumentUnavailable("the notepad lost its file")
        return Document.from_paragraphs(list(self.lines))


def _bold_task(family: str | None = "bold_text") -> Task:
    task = sample_task("bold_text", "community_garden", 0)
    assert task is not None
    return dataclasses.replace(task, family=family)


def _replay(tmp_path: Path, **kw: Any) -> UIAWordEnv:
    session = ReplaySession({"home": tree("home_ribbon")}, start="home", **kw)
    return UIAWordEnv(session=session, work_dir=tmp_path, settle_s=0, max_steps=3)


#: name -> (make the env with max_steps=3, a valid no-op action, the task)
BACKENDS: dict[str, Callable[[Path], tuple[EpisodeEnv, Callable[[Observation], Action], Task]]] = {
    "simulated": lambda tmp: (WordEnv(max_steps=3), lambda obs: Action(obs.find("Home").label, "click_input", CLICK),
                              _bold_task()),
    "uia": lambda tmp: (_replay(tmp), lambda obs: Action(obs.find("Bold").label, "click_input", CLICK), _bold_task()),
    "toy": lambda tmp: (NotepadEnv(max_steps=3), lambda obs: Action("1", "keyboard_input", {"keys": "hi"}),
                        Task("toy", "bold_text", "Write", {"text": "x"}, "start")),
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    verdicts: list[tuple[Any, Any]] = []

    def checker(task: Task, before: Any, after: Any) -> tuple[bool, str]:
        verdicts.append((before, after))
        return True, "stub checker agrees"

    monkeypatch.setattr(episode, "check_task", checker)
    env, valid, task = BACKENDS[request.param](tmp_path)
    return env, valid, task, verdicts


def test_reset_and_a_valid_step_return_the_contracts_values(backend) -> None:
    env, valid, task, verdicts = backend
    obs, info = env.reset(task, seed=7)
    assert isinstance(obs, Observation) and obs.error is None
    assert info == {"task_id": task.task_id, "step": 0, "invalid_actions": 0, "result": None, "seed": 7}
    obs, reward, terminated, truncated, info = env.step(valid(obs))
    assert (reward, terminated, truncated) == (0.0, False, False) and obs.error is None
    assert info == {"task_id": task.task_id, "step": 1, "invalid_actions": 0, "result": None}
    assert verdicts == []  # nobody judges before the end


def test_a_bad_action_is_an_error_in_the_next_observation(backend) -> None:
    env, _, task, _ = backend
    env.reset(task)
    obs, reward, terminated, truncated, info = env.step(Action("999", "click_input", CLICK))
    assert obs.error and (reward, terminated, truncated) == (0.0, False, False) and info["invalid_actions"] == 1
    obs, *_, info = env.step({"control_label": "1", "function": "click_input", "bogus": 1})
    assert "unknown action key(s) ['bogus']" in obs.error and info["invalid_actions"] == 2


def test_finish_asks_the_checker_and_a_later_step_is_an_error(backend) -> None:
    env, valid, task, verdicts = backend
    obs, _ = env.reset(task)
    _, reward, terminated, truncated, info = env.step(dataclasses.replace(valid(obs), status="FINISH"))
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert (info["success"], info["check_reason"]) == (True, "stub checker agrees") and len(verdicts) == 1
    obs, reward, terminated, truncated, info = env.step(valid(obs))
    assert obs.error == "the episode has ended; call reset() to start another"
    assert (reward, terminated, truncated) == (0.0, False, False) and "success" not in info and len(verdicts) == 1


def test_fail_ends_the_episode_and_the_checker_still_decides(backend) -> None:
    env, _, task, verdicts = backend
    env.reset(task)
    _, reward, terminated, _, info = env.step(Action("", "", {}, "FAIL"))
    assert terminated and info["success"] is True and reward == 1.0 and len(verdicts) == 1


def test_truncation_at_max_steps_is_judged_without_reward(backend) -> None:
    env, valid, task, verdicts = backend
    obs, _ = env.reset(task)
    for n in range(1, 4):
        obs, reward, terminated, truncated, info = env.step(valid(obs))
        assert (terminated, truncated) == (False, n == 3) and reward == 0.0
    assert info["success"] is True and len(verdicts) == 1


def test_a_task_without_family_is_never_judged(backend) -> None:
    env, valid, task, verdicts = backend
    obs, _ = env.reset(dataclasses.replace(task, family=None))
    obs, *_ = env.step(valid(obs))
    _, reward, terminated, truncated, info = env.step(dataclasses.replace(valid(obs), status="FINISH"))
    assert (reward, terminated, truncated) == (0.0, True, False)
    assert (info["success"], info["check_reason"]) == (False, NO_CHECKER) and verdicts == []
    obs, _ = env.reset(dataclasses.replace(task, family=None))
    for _ in range(3):
        obs, reward, terminated, truncated, info = env.step(valid(obs))
    assert truncated and info["check_reason"] == NO_CHECKER and verdicts == []


def test_step_before_reset_says_to_reset(backend) -> None:
    env, valid, _, _ = backend
    with pytest.raises(RuntimeError, match=r"reset\(task\) before step"):
        env.step(Action("1", "texts"))
    with pytest.raises(RuntimeError, match=r"reset\(task\) before observation"):
        env.observation()


def test_a_document_the_backend_cannot_hand_over_fails_the_task(tmp_path: Path) -> None:
    for env in (NotepadEnv(unsaveable=True), _replay(tmp_path, fail_save=True)):
        env.reset(Task("t", "bold_text", "x", {"text": "Street"}, "community_garden"))
        _, reward, terminated, _, info = env.step(Action("", "", {}, "FINISH"))
        assert terminated and reward == 0.0 and info["success"] is False
        assert info["check_reason"] in ("the notepad lost its file",
                                        "could not save and read back the document: OSError: Word is showing a "
                                        "modal dialog")


def test_max_steps_must_be_positive() -> None:
    for make in (lambda: WordEnv(max_steps=0), lambda: NotepadEnv(max_steps=0)):
        with pytest.raises(ValueError, match="max_steps must be at least 1"):
            make()


# ---------------------------------------------------------------- the real checker, end to end


def test_the_simulated_word_and_uia_judge_the_same_solution_the_same(tmp_path: Path) -> None:
    task = _bold_task()
    sim = WordEnv()
    traj = run_episode(sim, ScriptedPolicy(), task)
    assert traj.outcome.success and traj.outcome.reason
    session = ReplaySession({"home": tree("home_ribbon")}, start="home", saved=sim.document)
    uia = run_episode(UIAWordEnv(session=session, work_dir=tmp_path, settle_s=0), ScriptedPolicy(), task)
    assert (uia.outcome.success, uia.outcome.reason) == (True, traj.outcome.reason)


def test_a_free_text_request_runs_in_the_simulated_word_and_is_saved(tmp_path: Path) -> None:
    """``lam agent --task``'s case: an ``InstantiatedTask`` without family, edits kept, no verdict."""
    task = InstantiatedTask(task_id="free_text-1", task="Add a line", template="one_line")
    env = WordEnv(max_steps=5)
    obs, _ = env.reset(task.to_env_task())
    doc = obs.find("Document").label
    _, _, _, _, info = env.step(Action(doc, "keyboard_input", {"keys": "{END}{ENTER}Hello there"}))
    _, _, terminated, _, info = env.step(Action(doc, "texts", {}, "FINISH"))
    assert terminated and info["check_reason"] == NO_CHECKER and "Hello there" in info["result"]
    env.save(tmp_path / "out.docx")
    assert "Hello there" in load_docx(tmp_path / "out.docx").text()
    assert load_template("one_line").text() in load_docx(tmp_path / "out.docx").text()


def test_a_free_text_request_on_an_unmodeled_document_is_not_refused_as_infeasible(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Feasibility is a task family's question; a request without one is never refused for it."""
    import lam_kedro.env.feasibility as feasibility

    def boom(*_a: Any) -> None:
        raise AssertionError("asked for feasibility")

    monkeypatch.setattr(feasibility, "infeasibility", boom)
    save_docx(load_template("one_line"), tmp_path / "mine.docx")
    doc = load_docx(tmp_path / "mine.docx")
    doc.source = dataclasses.replace(doc.source, unmodeled=("a text box",))
    env = WordEnv(templates={"mine": doc})
    obs, _ = env.reset(Task("free", None, "Anything", {}, "mine"))
    assert obs.error is None
    with pytest.raises(AssertionError, match="feasibility"):
        env.reset(Task("checked", "bold_text", "Bold", {"text": "x"}, "mine"))
