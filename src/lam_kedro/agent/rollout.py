"""``rollout``: many ``run_episode`` calls, serial or over worker processes, the one rollout loop.

Data collection (the expert), Phase 3 exploration and the reward model's LAM3 rollouts (several
seeded attempts per task) and the online evaluation (every actor) all run their episodes here.
What differs between them is data: the environment and policy factories, the seeds, how many
attempts a task gets, how a trajectory is named. So a chunk of tasks runs the same in a child
process as in the parent, and ``map`` keeps results in task order: ``workers`` and ``chunk_size``
change the speed, never the data (latencies aside, which are measurements).

With ``workers`` > 1 the factories travel to each worker once (they must pickle: module-level
functions, ``functools.partial`` of them, ``SharedPolicy``), tasks go out and trajectories come
back as plain JSON dicts; serially they take the same path through the same functions.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from lam_kedro.agent.episode import Env, run_episode
from lam_kedro.agent.policies import Policy
from lam_kedro.agent.schema import InstantiatedTask, Trajectory
from lam_kedro.agent.seeds import unit_hash

__all__ = ["AfterEpisode", "PolicyFactory", "SharedPolicy", "attempt_seed", "rollout"]

#: ``make_policy(seed) -> Policy``: the policy of one episode, its sampling seeded by ``seed``.
PolicyFactory = Callable[[int], Policy]
#: ``after_episode(trajectory, policy) -> trajectory``: e.g. add what the policy noted on the way.
AfterEpisode = Callable[[Trajectory, Policy], Trajectory]


def attempt_seed(seed: int, task_id: str, attempt: int) -> int:
    """The seed of one attempt at one task: independent of task order, different per attempt."""
    return int(unit_hash(seed, task_id, attempt) * 2**31)


class SharedPolicy:
    """A ``PolicyFactory`` that builds its policy once per process and hands it to every episode.

    For policies that make each episode reproducible in ``reset`` (the expert, evaluation's
    actors), so a model loads once per worker, not once per task. ``build`` must pickle when the
    rollout uses workers; the built policy never travels.
    """

    def __init__(self, build: Callable[[], Policy]) -> None:
        self.build = build
        self._policy: Policy | None = None

    def __call__(self, seed: int) -> Policy:
        if self._policy is None:
            self._policy = self.build()
        return self._policy

    def __getstate__(self) -> dict[str, Any]:
        return {"build": self.build, "_policy": None}


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs besides its chunk of tasks (picklable)."""

    make_env: Callable[[], Env]
    make_policy: PolicyFactory
    first_policy: PolicyFactory | None
    seed: int
    seed_per_attempt: bool
    attempts: int
    stop_on_success: bool
    max_steps: int | None
    trajectory_id: str
    after_episode: AfterEpisode | None


# Per-process state: the environment is built once per worker (or once for a serial rollout).
_WORKER: dict[str, Any] = {}


def _init_worker(job: _Job) -> None:
    _WORKER.update(job=job, env=job.make_env())


def _run_chunk(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every attempt at one chunk of tasks, in task then attempt order; plain dicts in and out."""
    job: _Job = _WORKER["job"]
    env = _WORKER["env"]
    out = []
    for row in rows:
        task = InstantiatedTask.model_validate(row)
        for attempt in range(job.attempts):
            seed = attempt_seed(job.seed, task.task_id, attempt) if job.seed_per_attempt else job.seed
            make = job.first_policy if attempt == 0 and job.first_policy is not None else job.make_policy
            policy = make(seed)
            name = job.trajectory_id.format(task_id=task.task_id, actor=policy.name, attempt=attempt)
            traj = run_episode(env, policy, task, max_steps=job.max_steps, seed=seed, trajectory_id=name)
            if job.after_episode is not None:
                traj = job.after_episode(traj, policy)
            out.append(traj.model_dump(mode="json"))
            if job.stop_on_success and traj.outcome.success:
                break
    return out


def rollout(
    tasks: Sequence[InstantiatedTask],
    make_env: Callable[[], Env],
    make_policy: PolicyFactory,
    *,
    seed: int = 0,
    seed_per_attempt: bool = False,
    attempts: int = 1,
    stop_on_success: bool = False,
    first_policy: PolicyFactory | None = None,
    max_steps: int | None = None,
    trajectory_id: str = "{task_id}-{actor}",
    after_episode: AfterEpisode | None = None,
    workers: int = 1,
    chunk_size: int = 8,
    desc: str = "rollouts",
    progress: bool = True,
    postfix: str | None = None,
) -> list[Trajectory]:
    """Up to ``attempts`` episodes of each task, in task order, then attempt order.

    ``make_env()`` builds the environment (once per process); ``make_policy(seed)`` the policy of an
    episode (``first_policy``, when given, of each task's first attempt). An episode's seed is
    ``seed``, or with ``seed_per_attempt`` ``attempt_seed(seed, task_id, attempt)``; it goes to
    ``env.reset``, to the policy factory and into ``Trajectory.seed``. With ``stop_on_success`` a
    task stops at its first success. ``max_steps`` caps each episode (``run_episode``'s);
    ``trajectory_id`` is formatted with ``task_id``, ``actor`` (the policy's name) and ``attempt``;
    ``after_episode(trajectory, policy)`` may amend each trajectory in the worker.

    ``workers`` > 1 runs chunks of ``chunk_size`` tasks in that many spawned processes. The
    progress bar (``desc``; none without ``progress``) counts tasks, and shows the successful
    episodes so far under the name ``postfix`` when given.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    job = _Job(make_env, make_policy, first_policy, seed, seed_per_attempt, attempts, stop_on_success, max_steps,
               trajectory_id, after_episode)
    rows = [t.model_dump(mode="json") for t in tasks]
    size = max(1, chunk_size)
    chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
    with tqdm(total=len(rows), desc=desc, unit="task", disable=not progress) as bar:
        if workers <= 1:
            saved = dict(_WORKER)
            try:
                _init_worker(job)
                return _collect(chunks, map(_run_chunk, chunks), bar, postfix)
            finally:
                env = _WORKER.get("env")
                _WORKER.clear()
                _WORKER.update(saved)
                if callable(getattr(env, "close", None)):  # e.g. Writer's office: stopped with the rollout
                    env.close()
        # spawn, not fork: Kedro has already imported torch (the training pipelines), and a forked
        # child can deadlock on the parent's thread pool
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker, initargs=(job,)) as pool:
            return _collect(chunks, pool.map(_run_chunk, chunks), bar, postfix)


def _collect(chunks: list[list[dict[str, Any]]], results: Iterable[list[dict[str, Any]]], bar: Any,
             postfix: str | None) -> list[Trajectory]:
    """Chunks' trajectories in submission order (``map`` keeps it), advancing the bar by each chunk's tasks."""
    out: list[Trajectory] = []
    successes = 0
    for chunk, res in zip(chunks, results, strict=True):
        trajs = [Trajectory.model_validate(r) for r in res]
        out.extend(trajs)
        successes += sum(t.outcome.success for t in trajs)
        bar.update(len(chunk))
        if postfix:
            bar.set_postfix({postfix: successes})
    return out
