"""Online harness: success comes from the checker, rollouts are deterministic for any worker count,
and a LAM that emits garbage is scored as failed steps with the parse error, never a crash."""

from __future__ import annotations

import json

from lam_kedro.agent import InstantiatedTask, TextPolicy, Trajectory, run_episode
from lam_kedro.datasets import HFModelDataset
from lam_kedro.env import WordEnv
from lam_kedro.evaluation.generations import GenerationLoader
from lam_kedro.evaluation.online import (
    ActorSpec,
    online_family_table,
    online_metrics,
    rollout_actor,
    select_held_out,
    task_coverage,
)
from tests.evaluation.conftest import make_tasks, tiny_bundle


def _stable(trajs: list[Trajectory]) -> list[dict]:
    """Trajectories without the timings, which are measurements rather than results."""
    out = []
    for t in trajs:
        d = t.model_dump(mode="json")
        d["outcome"].pop("duration_s")
        for s in d["steps"]:
            s.pop("latency_s")
        out.append(d)
    return out


def test_success_is_the_checkers_a_premature_finish_scores_zero(tasks: list[InstantiatedTask], documents: dict):
    finish = '{"thought": "done", "function": "", "args": {}, "status": "FINISH"}'
    env = WordEnv(max_steps=10, templates=documents)
    trajs = [run_episode(env, TextPolicy(lambda m: finish, name="liar"), t, seed=0) for t in tasks]
    m = online_metrics(trajs)
    assert m["task_success_rate"] == 0.0 and m["avg_steps"] == 1.0 and m["invalid_action_rate"] == 0.0
    assert all(t.outcome.terminated and not t.outcome.success for t in trajs)


def test_expert_and_random_metrics_and_families(tasks: list[InstantiatedTask], documents: dict):
    expert = rollout_actor(ActorSpec(kind="expert", name="expert"), tasks, documents, max_steps=20, progress=False)
    m = online_metrics(expert)
    assert m["task_success_rate"] == 1.0 and m["tasks"] == len(tasks)
    assert m["avg_steps"] == sum(t.outcome.steps for t in expert) / len(expert) == m["avg_steps_success"]
    assert 0 <= m["step_latency_p50"] <= m["step_latency_p95"]
    table = online_family_table(expert)
    assert {r["family"] for r in table} == {t.family for t in tasks}
    assert all(r["actor"] == "expert" and r["success_rate"] == 1.0 and r["invalid_action_rate"] == 0 for r in table)
    assert sum(r["steps"] for r in table) == sum(t.outcome.steps for t in expert)
    assert [t.task.task_id for t in expert] == [t.task_id for t in tasks]   # task order kept


def test_rollouts_are_the_same_for_any_number_of_workers(tasks: list[InstantiatedTask], documents: dict):
    spec = ActorSpec(kind="random", name="random", seed=3)
    one = rollout_actor(spec, tasks, documents, max_steps=8, workers=1, chunk_size=1, progress=False)
    two = rollout_actor(spec, tasks, documents, max_steps=8, workers=2, chunk_size=1, progress=False)
    assert _stable(one) == _stable(two)
    assert [t.actor for t in one] == ["random"] * len(tasks)


def test_garbage_lam_is_scored_as_failed_steps_with_the_parse_error(tasks: list[InstantiatedTask], documents: dict):
    spec = ActorSpec(kind="lam", name="lam2", load_bundle=tiny_bundle,
                     decode={"constrained": False, "max_new_tokens": 12, "do_sample": False})
    trajs = rollout_actor(spec, tasks[:2], documents, max_steps=5, progress=False)
    assert len(trajs) == 2 and all(not t.outcome.success for t in trajs)
    first = trajs[0].steps[0]
    assert first.error and first.error.startswith("unusable model output") and first.raw_output is not None
    assert online_metrics(trajs)["invalid_action_rate"] > 0
    json.dumps(trajs[0].model_dump(mode="json"))   # schema records: what later phases can read


def test_lam_rollouts_in_worker_processes_match_in_process(tasks: list[InstantiatedTask], documents: dict,
                                                           tmp_path):
    HFModelDataset(path=str(tmp_path / "lam2")).save(tiny_bundle())
    loader = GenerationLoader("lam2", {"type": "lam_kedro.datasets.HFModelDataset", "path": str(tmp_path / "lam2")})
    spec = ActorSpec(kind="lam", name="lam2", load_bundle=loader, decode={"max_new_tokens": 6})
    one = rollout_actor(spec, tasks[:2], documents, max_steps=3, workers=1, chunk_size=1, progress=False)
    two = rollout_actor(spec, tasks[:2], documents, max_steps=3, workers=2, chunk_size=1, progress=False)
    assert _stable(one) == _stable(two)


def test_family_table_counts_invalid_actions_per_family(tasks: list[InstantiatedTask], documents: dict):
    bad = '{"thought": "x", "control_label": "999", "function": "click_input", "args": {}, "status": "CONTINUE"}'
    env = WordEnv(max_steps=3, templates=documents)
    trajs = [run_episode(env, TextPolicy(lambda m: bad, name="lam9"), t, seed=0) for t in tasks]
    table = online_family_table(trajs)
    m = online_metrics(trajs)
    assert m["invalid_action_rate"] > 0
    assert {r["invalid_action_rate"] for r in table} == {m["invalid_action_rate"]} == {1.0}


def test_stratified_selection_covers_every_family_first_then_fills():
    tasks = make_tasks(40)       # four families, ten tasks each
    picked = select_held_out(tasks, 6, "stratified", min_per_family=1, seed=0)
    assert len(picked) == 6 and {t.family for t in picked} == {t.family for t in tasks}
    assert [t.task_id for t in picked] == [t.task_id for t in tasks if t in picked]     # manifest order kept
    assert picked == select_held_out(tasks, 6, "stratified", min_per_family=1, seed=0)  # seeded: fixed
    assert picked != select_held_out(tasks, 6, "stratified", min_per_family=1, seed=1)
    two = select_held_out(tasks, 8, "stratified", min_per_family=2, seed=0)
    assert sorted(sum(t.family == f for t in two) for f in {t.family for t in tasks}) == [2, 2, 2, 2]
    assert select_held_out(tasks, 6, "first") == tasks[:6] and select_held_out(tasks, None) == tasks
    cov = task_coverage(select_held_out(tasks, 3, "stratified", seed=0), tasks, "stratified")
    assert (cov["tasks"], cov["held_out_tasks"], cov["families"], cov["held_out_families"]) == (3, 40, 3, 4)
    assert len(cov["missing_families"]) == 1 and task_coverage(tasks, tasks, "stratified")["selection"] == "all"
