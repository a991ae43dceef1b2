"""``params:world``: every rollout of the pipeline (the expert's trajectories, exploration and the
reward model's rollouts, the online evaluation) runs in the world it names, here real LibreOffice
Writer; tasks of families without a Writer recipe are quarantined with the reason."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import ScriptedPolicy
from lam_kedro.agent.prompt import strip_step_marker
from lam_kedro.agent.schema import InstantiatedTask
from lam_kedro.env import WordEnv
from lam_kedro.env.tasks import sample_task
from lam_kedro.env.templates import load_template
from lam_kedro.env.worlds import make_world, runs_in, world_params, world_plan
from lam_kedro.env.writer import WriterEnv
from lam_kedro.env.writer.recipes import writer_plan
from lam_kedro.evaluation.online import ActorSpec, rollout_actor
from lam_kedro.pipelines.params import validate_parameters
from lam_kedro.pipelines.trajectories.nodes import _in_world, run_expert
from lam_kedro.training.exploration import explore
from tests.env.writer.conftest import require_writer
from tests.env.writer.test_rollout import _offices

WRITER = {"backend": "writer", "writer": {"virtual_display": True}}
TEMPLATE = "community_garden"


def _task(family: str, seed: int = 0) -> InstantiatedTask:
    task = sample_task(family, TEMPLATE, seed)
    assert task is not None, family
    return InstantiatedTask.from_env_task(task)


def test_the_simulated_word_is_the_default_and_the_block_is_checked():
    assert isinstance(make_world(None, 5, {}), WordEnv)
    assert world_params(None).backend == "word"
    assert runs_in(None, "add_comment") is None
    assert "no Writer recipe" in runs_in(WRITER, "add_comment")
    assert runs_in(WRITER, "bold_text") is None
    params = {"bold": True}
    assert world_plan(None, "bold_text", params, ["1. Word's plan"]) == ["1. Word's plan"]
    with pytest.raises(ValueError, match=r"parameters_world\.yml.*backend"):
        validate_parameters({"world": {"backend": "excel"}}, ["world"])
    with pytest.raises(ValueError, match=r"parameters_world\.yml.*virtual_dispaly"):
        validate_parameters({"world": {"writer": {"virtual_dispaly": True}}}, ["world"])


def test_in_writer_a_task_follows_its_writer_recipe_and_a_family_without_one_is_quarantined():
    tasks = [_task("bold_text"), _task("add_comment")]
    manifest = [{"task_id": t.task_id, "source_task_id": f"src-{i}", "task": t.task, "template": t.template,
                 "family": t.family, "split": "train", "plan_steps": len(t.plan), "plan_wording": ""}
                for i, t in enumerate(tasks)]
    quarantine: list[dict] = []
    kept, rows = _in_world(tasks, manifest, quarantine, WRITER)
    assert [t.family for t in kept] == ["bold_text"]
    assert kept[0].plan == writer_plan("bold_text", kept[0].params) != tasks[0].plan
    assert rows[0]["plan_wording"] == "writer" and rows[0]["plan_steps"] == len(kept[0].plan)
    assert [(q["task_id"], q["family"], q["reason"]) for q in quarantine] == [("src-1", "add_comment", "world")]
    assert "no Writer recipe" in quarantine[0]["detail"]


def test_every_rollout_of_the_pipeline_runs_in_writer_and_stops_its_office(tmp_path: Path):
    require_writer()
    before = _offices()
    docs = {TEMPLATE: load_template(TEMPLATE)}   # by name, as the templates dataset hands them over
    tasks = [_task("bold_text"), _task("align_center")]
    tasks = [t.model_copy(update={"plan": world_plan(WRITER, t.family, t.params, list(t.plan))}) for t in tasks]

    # data collection: the expert plays the Writer recipes
    expert = run_expert(tasks, docs, {"max_steps": 10, "expert": {"name": "expert"}}, WRITER)
    assert [t.outcome.success for t in expert] == [True, True], [t.outcome.reason for t in expert]
    assert "Format" in [s.control_name for s in expert[1].steps]   # Writer's menus, not Word's ribbon

    # Phase 3's exploration / the reward model's rollouts
    explored = explore(tasks[:1], docs, lambda seed: ScriptedPolicy("lam2", "writer"), attempts=1, max_steps=10,
                       world=WRITER)
    assert explored[0].outcome.success and explored[0].trajectory_id.endswith("-lam2-a0")

    # the online evaluation: the expert baseline plays its recipe there, a random policy fails
    got = rollout_actor(ActorSpec(kind="expert", name="expert"), tasks[1:], docs, max_steps=10, progress=False,
                        world=WRITER)
    assert got[0].outcome.success, got[0].outcome.reason
    rnd = rollout_actor(ActorSpec(kind="random", name="random"), tasks[1:], docs, max_steps=3, progress=False,
                        world=WRITER)
    assert not rnd[0].outcome.success and len(rnd[0].steps) <= 3
    assert not (_offices() - before)   # every office these rollouts started is stopped


def test_make_world_builds_a_writer_env_that_opens_a_named_document(tmp_path: Path):
    require_writer()
    env = make_world(WRITER, 4, {"memo": load_template(TEMPLATE)})
    try:
        task = sample_task("bold_text", TEMPLATE, 0)
        obs, _ = env.reset(dataclasses.replace(task, template="memo"))
        assert obs.controls and env.path is not None and env.path.suffix == ".docx"
    finally:
        env.close()


def test_the_writer_expert_thinks_as_the_plan_following_expert_does(writer_env: WriterEnv) -> None:
    """The action decoder copies the plan line in progress into the thought, then `` Now: `` and a
    decision, and the answer's plan is the lines not yet done (model.decoder): the Writer expert's
    steps, the data Phase 2 learns from in Writer, are written the same way."""
    for family in ("insert_table", "find_replace", "font_size"):
        task = _task(family)
        plan = writer_plan(family, task.params)
        traj = run_episode(writer_env, ScriptedPolicy("expert", app="writer"), task)
        assert traj.outcome.success, (family, traj.outcome.reason)
        lines = [strip_step_marker(p) for p in plan]
        done = 0
        for step in traj.steps:
            line, _, decision = step.thought.partition(" Now: ")
            assert line in lines[done:] and decision.endswith("."), (family, step.thought)
            done = lines.index(line, done)
            assert step.plan == plan[done:] or step.plan == plan[done + 1:], (family, step.plan)
        assert traj.steps[-1].plan == [] and {strip_step_marker(p) for p in plan} <= {
            s.thought.partition(" Now: ")[0] for s in traj.steps}
    assert traj.steps[0].thought.endswith(f"Now: select '{task.params['text']}'.")
