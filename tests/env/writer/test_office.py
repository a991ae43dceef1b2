"""``Office``: LibreOffice and Xvfb started for real, and every process they were gone after ``close``,
after the interpreter exits, after a crash and after a hang; an episode in flight when the office
dies ends as an environment error and the next one runs in a fresh office."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import StepsPolicy
from lam_kedro.env.tasks import sample_task
from lam_kedro.env.types import Action
from lam_kedro.env.writer import Office, OfficeDied, WriterEnv, WriterUnavailable
from lam_kedro.env.writer.office import import_uno
from lam_kedro.env.writer.recipes import writer_solution
from tests.conftest import REPO
from tests.env.writer.conftest import require_writer


@pytest.fixture(autouse=True)
def _writer() -> None:
    require_writer()


def _group(pgid: int) -> list[int]:
    """The processes in process group ``pgid`` (soffice.bin, its launcher, Xvfb are each a group leader's)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


def test_start_runs_soffice_and_xvfb_and_close_ends_them_all() -> None:
    office = Office(virtual_display=True)
    with office:
        groups = office.pids()
        assert len(groups) == 2 and all(_group(g) for g in groups)
        assert sum(len(_group(g)) for g in groups) >= 3  # the launcher, soffice.bin, Xvfb
        profile = office.profile
        assert profile is not None and profile.is_dir() and office.display and office.display.startswith(":")
        assert office.call(lambda: office.desktop.getComponents() is not None)
    assert not any(_group(g) for g in groups) and not profile.exists() and not office.alive()
    office.close()  # a second close is harmless


def test_processes_left_running_are_ended_when_python_exits() -> None:
    script = ("from lam_kedro.env.writer import Office\n"
              "o = Office(virtual_display=True).start()\n"
              "print(*o.pids())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert done.returncode == 0, done.stderr
    groups = [int(p) for p in done.stdout.split()]
    assert len(groups) == 2 and not any(_group(g) for g in groups)


def test_a_display_is_needed_when_xvfb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(WriterUnavailable, match=r"virtual_display=False needs \$DISPLAY"):
        Office(virtual_display=False).start()


def _bold_task():
    task = sample_task("bold_text", "community_garden", 0)
    assert task is not None
    return task


@pytest.mark.parametrize("how", ["crash", "hang"])
def test_an_office_that_dies_mid_episode_is_an_environment_error_and_the_next_episode_runs(
        how: str, tmp_path: Path) -> None:
    office = Office(virtual_display=True, call_timeout_s=5)
    with office, WriterEnv(office=office, work_dir=tmp_path, max_steps=10) as env:
        task = _bold_task()
        obs, _ = env.reset(task)
        soffice = office.pids()[0]
        os.killpg(soffice, signal.SIGKILL if how == "crash" else signal.SIGSTOP)
        obs, reward, terminated, truncated, info = env.step(Action(obs.find("Bold").label, "click_input",
                                                                   {"button": "left", "double": False}))
        assert (reward, terminated, truncated, info["success"]) == (0.0, False, True, False)
        expected = "crashed" if how == "crash" else "did not answer within 5 s"
        assert info["env_error"].startswith("environment error: the office") and expected in info["env_error"]
        assert info["check_reason"] == info["env_error"] == obs.error and env.env_errors == 1
        assert not _group(soffice) and office.alive() and office.starts == 2  # killed, and a fresh one runs
        after = run_episode(env, StepsPolicy(writer_solution("bold_text", task.params)), task)
        assert after.outcome.success, after.outcome.reason
        groups = office.pids()
    assert not office.alive() and not any(_group(g) for g in groups)


def test_a_call_on_a_closed_office_says_so() -> None:
    with pytest.raises(OfficeDied, match="the office is not running"):
        Office().call(lambda: None)


def test_loading_uno_leaves_pythons_import_as_it_was() -> None:
    """``uno`` hooks ``__import__`` and turns a missing module's ``ModuleNotFoundError`` into a plain
    ``ImportError``, which broke uvicorn's optional ``a2wsgi`` import in the same process (every
    server test after a Writer test); ``import_uno`` puts Python's own import back."""
    code = (
        "import builtins; before = builtins.__import__\n"
        "from lam_kedro.env.writer.office import import_uno\n"
        "import_uno()\n"
        "assert builtins.__import__ is before, builtins.__import__\n"
        "try:\n"
        "    from lam_no_such_module import thing\n"
        "except ModuleNotFoundError:\n"
        "    pass\n"
        "import uvicorn.config  # probes a2wsgi with except ModuleNotFoundError\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_an_alert_left_open_is_acknowledged_and_a_vetoed_close_restarts_the_office(tmp_path: Path) -> None:
    """After an episode, ``reset`` must open the next task whatever the last one left: an alert with
    only an OK button (Tools > Spelling on a correct text ends in "The spellcheck is complete"), or
    a document Writer refuses to close (here a close listener vetoes it, as a print job in flight
    does): the office is restarted, counted as an environment error, and the next episode runs."""
    uno = import_uno()
    import unohelper  # noqa: PLC0415  (python3-uno's, loaded by import_uno)

    veto = uno.getClass("com.sun.star.util.CloseVetoException")

    class Veto(unohelper.Base, uno.getClass("com.sun.star.util.XCloseListener")):
        def queryClosing(self, source, owner):  # noqa: N802 (UNO's name)
            raise veto("a job in flight", None)

        def notifyClosing(self, source): ...  # noqa: N802

        def disposing(self, source): ...

    office = Office(virtual_display=True)
    with office, WriterEnv(office=office, work_dir=tmp_path, max_steps=10) as env:
        task = _bold_task()
        env.reset(task)
        win = env.window
        win._dispatcher.executeDispatch(win.frame, ".uno:SpellingAndGrammarDialog", "", 0, ())
        office.call(win.settle)
        env.reset(task)
        assert env.env_errors == 0 and office.starts == 1           # the alert was acknowledged
        office.call(lambda: env.window.doc.addCloseListener(Veto()))
        obs, _ = env.reset(task)
        assert env.env_errors == 1 and office.starts == 2 and obs.find("Bold") is not None
        after = run_episode(env, StepsPolicy(writer_solution("bold_text", task.params)), task)
        assert after.outcome.success, after.outcome.reason


def test_a_window_that_cannot_be_read_is_read_again_then_the_office_restarts(tmp_path: Path) -> None:
    """A dialog that rebuilds its page while the tree is walked loses a child mid-read (the Writer
    run saw ``getAccessibleChild`` return nothing): the observation is read again; a window that
    still cannot be read ends the episode as an environment error, in a fresh office, never the run."""
    office = Office(virtual_display=True)
    with office, WriterEnv(office=office, work_dir=tmp_path, max_steps=10) as env:
        task = _bold_task()
        obs, _ = env.reset(task)
        window = env.window
        real, calls = window.nodes, []

        def flaky(times: int):
            def nodes():
                calls.append(1)
                if len(calls) <= times:
                    raise AttributeError("getAccessibleContext")  # what a vanished child gave
                return real()
            return nodes

        window.nodes = flaky(1)
        obs, _, _, truncated, info = env.step(Action(obs.find("Document").label, "select_text", {"text": "Maple"}))
        assert not truncated and obs.error is None and "env_error" not in info and obs.find("Bold") is not None
        calls.clear()
        window.nodes = flaky(2)
        obs, _, _, truncated, info = env.step(Action(obs.find("Bold").label, "click_input",
                                                     {"button": "left", "double": False}))
        assert truncated and "the window cannot be read (AttributeError: getAccessibleContext" in info["env_error"]
        assert env.env_errors == 1 and office.starts == 2
        after = run_episode(env, StepsPolicy(writer_solution("bold_text", task.params)), task)
        assert after.outcome.success, after.outcome.reason
