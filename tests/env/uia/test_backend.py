"""``UIAWordEnv``: the reset/step contract over a replayed Word session, and the clear error where
the live backend cannot run.

The session is ``ReplaySession`` (see this package's docstring): recorded trees stand for Word's
window, recording targets for its controls, and ``save()`` writes the document the episode is
meant to end with. So the environment's own logic runs for real: the document copy, the
labels, validation, info keys, termination, truncation, and the checker's verdict on a saved
.docx read back with the environment's reader.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import ScriptedPolicy
from lam_kedro.env import WordEnv
from lam_kedro.env.docx_io import load_docx, save_docx
from lam_kedro.env.tasks import sample_task
from lam_kedro.env.templates import load_template
from lam_kedro.env.types import Action, Observation, Task
from lam_kedro.env.uia import (
    INSTALL_HINT,
    UIABackendUnavailable,
    UIAWordEnv,
    prepare_document,
    require_pywinauto,
)
from tests.env.uia import ReplaySession, tree

CLICK = {"button": "left", "double": False}


def bold_task() -> Task:
    task = sample_task("bold_text", "community_garden", 0)
    assert task is not None and task.params == {"text": "Street"}
    return task


def solved_in_simulation(task: Task) -> Any:
    """The document the simulated Word ends with after the expert's solution."""
    env = WordEnv()
    trajectory = run_episode(env, ScriptedPolicy(), task)
    assert trajectory.outcome.success
    return env.document


def replay(saved: Any = None, **kw: Any) -> ReplaySession:
    return ReplaySession(
        {"home": tree("home_ribbon"), "font": tree("font_dialog")},
        start="home",
        moves={("Font Settings", "click_input"): "font", ("OK", "click_input"): "home",
               ("Cancel", "click_input"): "home"},
        saved=saved,
        **kw,
    )


# ---------------------------------------------------------------- where it cannot run

@pytest.mark.skipif(sys.platform == "win32", reason="on Windows the live backend may well run")
def test_the_live_backend_says_how_to_get_it_off_windows() -> None:
    with pytest.raises(UIABackendUnavailable) as err:
        UIAWordEnv()
    message = str(err.value)
    assert "lam-kedro[windows]" in message and "on Windows" in message and sys.platform in message
    assert "WordEnv" in message  # and what to use instead
    assert isinstance(err.value, RuntimeError)


def test_a_missing_pywinauto_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pywinauto", None)  # import pywinauto -> ImportError
    with pytest.raises(UIABackendUnavailable, match=r"pywinauto is not installed: install lam-kedro\[windows\]"):
        require_pywinauto(platform="win32")
    assert "lam-kedro[windows]" in INSTALL_HINT


def test_importing_the_package_does_not_import_pywinauto() -> None:
    code = (
        "import sys, lam_kedro.env.uia as u; from lam_kedro.env.uia import tree, dispatch, backend; "
        "print(sorted(m for m in sys.modules if m.startswith(('pywinauto', 'win32com', 'lam_kedro.env.uia.live'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- reset / step

def test_reset_opens_a_copy_and_observes_word(tmp_path: Path) -> None:
    session = replay()
    env = UIAWordEnv(session=session, work_dir=tmp_path, settle_s=0)
    task = bold_task()
    obs, info = env.reset(task, seed=3)
    _, sim_info = WordEnv().reset(task, seed=3)
    assert info == sim_info  # the same keys and values as the simulated Word's
    assert session.opened == [tmp_path / f"{task.task_id}.docx"] and session.opened[0].is_file()
    assert load_docx(session.opened[0]).text() == load_template("community_garden").text()
    assert isinstance(obs, Observation) and obs.title == "community_garden - Word"
    assert obs.find("Bold", "Button") is not None and obs.error is None
    assert obs.document == load_template("community_garden").text()


def test_a_scripted_episode_runs_through_run_episode_and_is_checked(tmp_path: Path) -> None:
    task = bold_task()
    session = replay(saved=solved_in_simulation(task))
    env = UIAWordEnv(session=session, work_dir=tmp_path, settle_s=0)
    trajectory = run_episode(env, ScriptedPolicy(), task)
    assert trajectory.outcome.success, trajectory.outcome.reason
    assert [(t, m, a) for t, m, a in session.calls] == [
        ("Document", "select_text", {"text": "Street"}),
        ("Home", "click_input", CLICK),
        ("Bold", "click_input", CLICK),
    ]
    assert [s.function for s in trajectory.steps] == ["select_text", "click_input", "click_input"]
    assert trajectory.steps[-1].status == "FINISH"
    assert all(s.error is None for s in trajectory.steps)


def test_step_info_keys_match_the_simulated_word_and_failure_is_checked(tmp_path: Path) -> None:
    task = bold_task()
    env = UIAWordEnv(session=replay(), work_dir=tmp_path, settle_s=0)  # save() leaves the copy unchanged
    sim = WordEnv()
    obs, _ = env.reset(task)
    sim_obs, _ = sim.reset(task)
    doc = obs.find("Document").label
    step = env.step(Action(doc, "select_text", {"text": "Street"}))
    sim_step = sim.step(Action(sim_obs.find("Document").label, "select_text", {"text": "Street"}))
    assert step[1:4] == sim_step[1:4] == (0.0, False, False)
    assert step[4] == sim_step[4] == {"task_id": task.task_id, "step": 1, "invalid_actions": 0, "result": None}

    obs, reward, terminated, truncated, info = env.step(Action(doc, "texts", {}, "FINISH"))
    assert info["result"].startswith("The Maple Street") and (reward, terminated, truncated) == (0.0, True, False)
    assert info["success"] is False and "bold" in info["check_reason"].lower()
    _, _, _, _, sim_info = sim.step(Action(sim_obs.find("Document").label, "texts", {}, "FINISH"))
    assert set(info) == set(sim_info)

    obs, *_, info = env.step(Action(doc, "texts"))
    assert obs.error == "the episode has ended; call reset() to start another"
    assert "success" not in info


def test_a_dialog_round_trip_and_invalid_actions(tmp_path: Path) -> None:
    task = sample_task("bold_italic_font_dialog", "community_garden", 0)
    assert task is not None
    session = replay()
    env = UIAWordEnv(session=session, work_dir=tmp_path, settle_s=0)
    obs, _ = env.reset(task)
    obs, *_ = env.step(Action(obs.find("Font Settings").label, "click_input", CLICK))
    assert obs.find("Font style", "Edit") is not None and obs.find("Bold", "Button") is None
    assert obs.selection == "plot"
    bad, _, _, _, info = env.step(Action(obs.find("OK").label, "select_text", {"text": "plot"}))
    assert bad.error is not None and "select_text is not supported by control" in bad.error
    assert info["invalid_actions"] == 1 and bad.controls == obs.controls
    obs, *_ = env.step(Action(obs.find("Font style").label, "set_edit_text", {"text": "Bold Italic"}))
    assert obs.error is None
    obs, *_ = env.step({"control_label": obs.find("OK").label, "function": "click_input", "args": CLICK})
    assert obs.find("Bold", "Button") is not None  # back to the ribbon
    obs, *_, info = env.step({"control_label": "1", "function": "click_input", "bogus": 1})
    assert "unknown action key(s) ['bogus']" in obs.error and info["invalid_actions"] == 2
    assert [(t, m) for t, m, _ in session.calls] == [("Font Settings", "click_input"),
                                                     ("Font style", "set_edit_text"), ("OK", "click_input")]


def test_truncation_at_max_steps_is_checked(tmp_path: Path) -> None:
    env = UIAWordEnv(session=replay(), work_dir=tmp_path, max_steps=2, settle_s=0)
    obs, _ = env.reset(bold_task())
    _, _, terminated, truncated, info = env.step(Action(obs.find("Bold").label, "click_input", CLICK))
    assert (terminated, truncated) == (False, False)
    _, reward, terminated, truncated, info = env.step(Action(obs.find("Bold").label, "click_input", CLICK))
    assert (reward, terminated, truncated) == (0.0, False, True)
    assert info["success"] is False and info["check_reason"]


def test_a_document_that_cannot_be_saved_fails_the_task(tmp_path: Path) -> None:
    env = UIAWordEnv(session=replay(fail_save=True), work_dir=tmp_path, settle_s=0)
    env.reset(bold_task())
    _, reward, terminated, _, info = env.step(Action("", "", {}, "FINISH"))
    assert terminated and reward == 0.0 and info["success"] is False
    assert info["check_reason"] == "could not save and read back the document: OSError: Word is showing a modal dialog"


def test_lifecycle_and_arguments(tmp_path: Path) -> None:
    session = replay()
    with UIAWordEnv(session=session, work_dir=tmp_path, settle_s=0) as env:
        with pytest.raises(RuntimeError, match="reset"):
            env.step(Action("1", "texts"))
        with pytest.raises(RuntimeError, match="reset"):
            env.observation()
        env.reset(bold_task())
        env.reset(bold_task())  # a second reset closes the first document
    assert session.closed == 3 and session.path is None
    with pytest.raises(ValueError, match="max_steps"):
        UIAWordEnv(session=session, max_steps=0)


def test_prepare_document_copies_a_docx_or_writes_a_template(tmp_path: Path) -> None:
    source = tmp_path / "mine.docx"
    save_docx(load_template("recipe"), source)
    copy = prepare_document(str(source), tmp_path / "work", "task/1: ü")
    assert copy.parent == tmp_path / "work" and copy.name == "task_1_ü.docx"
    assert copy.read_bytes() == source.read_bytes()
    written = prepare_document("community_garden", tmp_path / "work", "garden")
    assert load_docx(written).text() == load_template("community_garden").text()
