"""Rollouts in Writer: the one rollout function, serial or over worker processes, each worker with
its own office (own profile, port and display); the expert plays the Writer recipes."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from lam_kedro.agent.policies import ScriptedPolicy
from lam_kedro.agent.rollout import SharedPolicy, rollout
from lam_kedro.agent.schema import InstantiatedTask
from lam_kedro.env.tasks import sample_task
from lam_kedro.env.writer import WriterEnv
from tests.env.writer.conftest import require_writer


def _offices() -> set[int]:
    """The soffice.bin processes running now."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "soffice.bin":
                    out.add(int(entry.name))
            except OSError:
                continue
    return out


def test_two_workers_each_with_an_office_play_the_writer_expert_and_leave_no_office() -> None:
    require_writer()
    before = _offices()
    families = ("bold_text", "align_center", "delete_word", "apply_title")
    tasks = [InstantiatedTask.from_env_task(sample_task(f, "community_garden", 0)) for f in families[:3]]
    tasks.append(InstantiatedTask.from_env_task(sample_task("apply_title", "library_newsletter", 0)))
    assert len(tasks) == 4
    trajs = rollout(tasks, partial(WriterEnv, max_steps=10, virtual_display=True),
                    SharedPolicy(partial(ScriptedPolicy, "writer-expert", "writer")), workers=2, chunk_size=2,
                    progress=False)
    assert [t.task.task_id for t in trajs] == [t.task_id for t in tasks]
    assert all(t.outcome.success for t in trajs), [(t.task.family, t.outcome.reason) for t in trajs]
    assert {t.actor for t in trajs} == {"writer-expert"}
    assert not (_offices() - before)  # none of ours left (a user's own office may come and go)


def test_the_expert_knows_whose_interface_it_plays() -> None:
    task = sample_task("align_center", "community_garden", 0)
    policy = ScriptedPolicy(app="writer")
    policy.reset(task)
    assert [s.control_text for s in policy._steps][1:] == ["Format", "Align Text", "Centered"]
    with pytest.raises(ValueError, match="unknown app 'excel'; known: word, writer"):
        ScriptedPolicy(app="excel")
