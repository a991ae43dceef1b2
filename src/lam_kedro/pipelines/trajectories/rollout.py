"""Expert rollouts over instantiated tasks: one ``run_episode`` per task, optionally over processes.

Each worker builds its own environment and expert from plain data (documents, plans, params),
so a chunk runs the same in a child process as in the parent; ``executor.map`` keeps results in
task order, so ``workers`` changes the speed, never the data. A failed trajectory's
``outcome.reason`` (the checker's verdict) is followed by the guesses the expert made on the
way (``PlanFollowingExpert.notes``), so the failure names the plan step it came from.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from tqdm.auto import tqdm

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.expert import make_expert
from lam_kedro.agent.schema import InstantiatedTask, Trajectory
from lam_kedro.env import WordEnv
from lam_kedro.env.document import Document

__all__ = ["GUESS_MARK", "load_documents", "make_env", "rollout"]

#: Separates the checker's reason from the expert's guesses in a failed trajectory's reason.
GUESS_MARK = "| the expert guessed:"


def load_documents(templates: dict[str, Callable[[], Document] | Document]) -> dict[str, Document]:
    """``{name: Document}`` from the templates dataset (``{name: loader}``) or from documents."""
    return {name: (load() if callable(load) else load) for name, load in templates.items()}


def make_env(max_steps: int, documents: dict[str, Document]) -> WordEnv:
    """A ``WordEnv`` that opens the pipeline's template documents by their dataset names."""
    return WordEnv(max_steps=max_steps, templates=documents)


def _run_chunk(payload: tuple[list[dict[str, Any]], dict[str, Document], dict[str, Any]]) -> list[dict[str, Any]]:
    """Run one chunk of tasks; plain dicts in and out so the chunk pickles cheaply across processes."""
    rows, documents, params = payload
    tasks = [InstantiatedTask.model_validate(r) for r in rows]
    env = make_env(int(params.get("max_steps", 30)), documents)
    expert = make_expert(params.get("expert", {}), {t.task_id: t.plan for t in tasks})
    seed = int(params.get("seed", 0))
    out = []
    for t in tasks:
        traj = run_episode(env, expert, t, seed=seed, trajectory_id=f"{t.task_id}-{expert.name}")
        notes = getattr(expert, "notes", None)
        if notes and not traj.outcome.success:
            traj.outcome.reason = f"{traj.outcome.reason} {GUESS_MARK} {'; '.join(notes)}"
        out.append(traj.model_dump(mode="json"))
    return out


def rollout(tasks: Sequence[InstantiatedTask], documents: dict[str, Document], params: dict[str, Any]) -> list[Trajectory]:
    """Every task's expert trajectory, in task order; ``params["workers"]`` > 1 fans out over processes."""
    workers = int(params.get("workers", 1))
    chunk = max(1, int(params.get("chunk_size", 32)))
    rows = [t.model_dump(mode="json") for t in tasks]
    chunks = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
    # Only the documents a chunk's tasks open travel to its worker.
    payloads = [(c, {r["template"]: documents[r["template"]] for r in c if r["template"] in documents}, params)
                for c in chunks]
    out: list[Trajectory] = []
    with tqdm(total=len(rows), desc="expert rollouts", unit="task") as bar:
        if workers <= 1:
            results = map(_run_chunk, payloads)
            out = _collect(results, bar)
        else:
            # spawn, not fork: Kedro has already imported torch (the training pipelines), and a
            # forked child can deadlock on the parent's thread pool
            with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                out = _collect(pool.map(_run_chunk, payloads), bar)
    return out


def _collect(results: Iterable[list[dict[str, Any]]], bar: Any) -> list[Trajectory]:
    """Chunks' results in submission order (``map`` keeps it), advancing the progress bar."""
    out: list[Trajectory] = []
    for res in results:
        out.extend(Trajectory.model_validate(r) for r in res)
        bar.update(len(res))
    return out
