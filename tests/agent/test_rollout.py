"""``agent.rollout.rollout``: the one rollout loop; workers and chunks change the speed, never the data."""

from __future__ import annotations

import functools

import pytest

from lam_kedro.agent.policies import Policy, RandomPolicy, ScriptedPolicy
from lam_kedro.agent.rollout import SharedPolicy, attempt_seed, rollout
from lam_kedro.agent.schema import InstantiatedTask, Trajectory
from lam_kedro.agent.seeds import unit_hash
from lam_kedro.env import WordEnv, builtin_templates, get_family
from lam_kedro.env.tasks import sample_tasks


@pytest.fixture(scope="module")
def tasks() -> list[InstantiatedTask]:
    env_tasks = sample_tasks([t.name for t in builtin_templates()], 6, seed=3)
    return [InstantiatedTask.from_env_task(t, plan=get_family(t.family).plan(t.params)) for t in env_tasks]


def mixed(seed: int) -> Policy:
    """Module level so it pickles into workers: the expert on a third of the seeds, random actions else."""
    return ScriptedPolicy(name="mixed") if seed % 3 == 0 else RandomPolicy(seed=seed, name="mixed")


def noted(traj: Trajectory, policy: Policy) -> Trajectory:
    traj.outcome.reason = f"{traj.outcome.reason} [{policy.name}]"
    return traj


def _stable(trajs: list[Trajectory]) -> list[dict]:
    """Without the timings, which are measurements rather than results."""
    timings = {"outcome": {"duration_s"}, "steps": {"__all__": {"latency_s"}}}
    return [t.model_dump(mode="json", exclude=timings) for t in trajs]


def _explore(tasks, **kw):
    return rollout(tasks, functools.partial(WordEnv, max_steps=15), mixed, seed=1, seed_per_attempt=True, attempts=3,
                   max_steps=15, trajectory_id="{task_id}-{actor}-a{attempt}", after_episode=noted, progress=False,
                   **kw)


def test_serial_and_two_workers_give_the_same_trajectories(tasks):
    serial = _explore(tasks, stop_on_success=True)
    for workers, chunk in ((1, 1), (2, 1), (2, 4)):
        assert _stable(_explore(tasks, stop_on_success=True, workers=workers, chunk_size=chunk)) == _stable(serial)
    assert any(t.outcome.success for t in serial) and any(not t.outcome.success for t in serial)


def test_attempts_seeds_ids_and_order(tasks):
    trajs = _explore(tasks, stop_on_success=False)
    assert [(t.task.task_id, t.trajectory_id) for t in trajs] == [
        (task.task_id, f"{task.task_id}-mixed-a{a}") for task in tasks for a in range(3)]
    assert [t.seed for t in trajs] == [attempt_seed(1, task.task_id, a) for task in tasks for a in range(3)]
    assert all(t.outcome.reason.endswith("[mixed]") for t in trajs)  # after_episode ran on each


def test_stop_on_success_ends_a_task_at_its_first_success(tasks):
    trajs = _explore(tasks, stop_on_success=True)
    for task in tasks:
        mine = [t for t in trajs if t.task.task_id == task.task_id]
        assert all(not t.outcome.success for t in mine[:-1])
        assert len(mine) == 3 or mine[-1].outcome.success


def test_one_fixed_seed_and_a_first_policy(tasks):
    trajs = rollout(tasks, WordEnv, functools.partial(RandomPolicy, name="random"), seed=5, attempts=2,
                    first_policy=lambda s: ScriptedPolicy(name="first"), progress=False)
    assert [t.actor for t in trajs] == ["first", "random"] * len(tasks)
    assert {t.seed for t in trajs} == {5} and trajs[0].trajectory_id == f"{tasks[0].task_id}-first"
    assert all(t.outcome.success for t in trajs[::2])


def test_a_shared_policy_is_built_once_per_process(tasks):
    built = []

    def build() -> Policy:
        built.append(1)
        return ScriptedPolicy(name="expert")

    trajs = rollout(tasks, WordEnv, SharedPolicy(build), chunk_size=2, progress=False)
    assert len(built) == 1 and all(t.outcome.success for t in trajs)


def test_attempts_must_be_positive(tasks):
    with pytest.raises(ValueError, match="attempts must be at least 1"):
        rollout(tasks, WordEnv, mixed, attempts=0)


def test_unit_hash_and_attempt_seed_do_not_drift():
    """Pinned values: the seeds of every earlier run depend on them."""
    assert unit_hash(0, "t") == 0.061043278320056515
    assert attempt_seed(0, "bold_text-1", 2) == int(unit_hash(0, "bold_text-1", 2) * 2**31) == 1650500831
