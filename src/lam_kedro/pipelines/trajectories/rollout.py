"""Expert rollouts over instantiated tasks: ``agent.rollout.rollout`` with the expert, optionally over processes.

Each worker builds its own environment and expert from plain data (documents, plans, params),
so a chunk runs the same in a child process as in the parent, and results come back in task
order: ``workers`` changes the speed, never the data. A failed trajectory's ``outcome.reason``
(the checker's verdict) is followed by the guesses the expert made on the way
(``PlanFollowingExpert.notes``), so the failure names the plan step it came from.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from lam_kedro.agent.expert import make_expert
from lam_kedro.agent.policies import Policy
from lam_kedro.agent.rollout import SharedPolicy, rollout
from lam_kedro.agent.schema import InstantiatedTask, Trajectory
from lam_kedro.env import WordEnv
from lam_kedro.env.document import Document
from lam_kedro.pipelines.trajectories.params import TrajectoriesParams

__all__ = ["GUESS_MARK", "expert_rollouts", "load_documents", "make_env"]

#: Separates the checker's reason from the expert's guesses in a failed trajectory's reason.
GUESS_MARK = "| the expert guessed:"


def load_documents(templates: dict[str, Callable[[], Document] | Document]) -> dict[str, Document]:
    """``{name: Document}`` from the templates dataset (``{name: loader}``) or from documents."""
    return {name: (load() if callable(load) else load) for name, load in templates.items()}


def make_env(max_steps: int, documents: dict[str, Document]) -> WordEnv:
    """A ``WordEnv`` that opens the pipeline's template documents by their dataset names."""
    return WordEnv(max_steps=max_steps, templates=documents)


def _with_guesses(traj: Trajectory, expert: Policy) -> Trajectory:
    """A failed trajectory's reason followed by the expert's guesses (runs in the worker, after the episode)."""
    notes = getattr(expert, "notes", None)
    if notes and not traj.outcome.success:
        traj.outcome.reason = f"{traj.outcome.reason} {GUESS_MARK} {'; '.join(notes)}"
    return traj


def expert_rollouts(tasks: Sequence[InstantiatedTask], documents: dict[str, Document],
                    params: TrajectoriesParams | dict[str, Any]) -> list[Trajectory]:
    """Every task's expert trajectory, in task order; ``params.workers`` > 1 fans out over processes."""
    p = TrajectoriesParams.parse(params, "params:trajectories")
    plans = {t.task_id: t.plan for t in tasks}
    used = {name: documents[name] for name in dict.fromkeys(t.template for t in tasks) if name in documents}
    return rollout(tasks, functools.partial(make_env, p.max_steps, used),
                   SharedPolicy(functools.partial(make_expert, p.expert.model_dump(), plans)),
                   seed=p.seed, after_episode=_with_guesses, workers=p.workers, chunk_size=p.chunk_size,
                   desc="expert rollouts")
