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
from lam_kedro.agent.policies import Policy, ScriptedPolicy
from lam_kedro.agent.rollout import SharedPolicy, rollout
from lam_kedro.agent.schema import InstantiatedTask, Trajectory
from lam_kedro.env.document import Document
from lam_kedro.env.episode import EpisodeEnv
from lam_kedro.env.worlds import WorldParams, make_world, world_params
from lam_kedro.pipelines.trajectories.params import TrajectoriesParams

__all__ = ["GUESS_MARK", "expert_rollouts", "load_documents", "make_env"]

#: Separates the checker's reason from the expert's guesses in a failed trajectory's reason.
GUESS_MARK = "| the expert guessed:"


def load_documents(templates: dict[str, Callable[[], Document] | Document]) -> dict[str, Document]:
    """``{name: Document}`` from the templates dataset (``{name: loader}``) or from documents."""
    return {name: (load() if callable(load) else load) for name, load in templates.items()}


def make_env(max_steps: int, documents: dict[str, Document], world: WorldParams | dict[str, Any] | None = None
             ) -> EpisodeEnv:
    """The ``world``'s environment (default: the simulated Word), opening the pipeline's template
    documents by their dataset names."""
    return make_world(world, max_steps, documents)


def _with_guesses(traj: Trajectory, expert: Policy) -> Trajectory:
    """A failed trajectory's reason followed by the expert's guesses (runs in the worker, after the episode)."""
    notes = getattr(expert, "notes", None)
    if notes and not traj.outcome.success:
        traj.outcome.reason = f"{traj.outcome.reason} {GUESS_MARK} {'; '.join(notes)}"
    return traj


def expert_rollouts(tasks: Sequence[InstantiatedTask], documents: dict[str, Document],
                    params: TrajectoriesParams | dict[str, Any],
                    world: WorldParams | dict[str, Any] | None = None) -> list[Trajectory]:
    """Every task's expert trajectory, in task order; ``params.workers`` > 1 fans out over processes.

    In Writer (``world``) the expert plays its family's Writer recipe (``ScriptedPolicy(app="writer")``):
    the plan-following expert reads Word's ribbon words, which Writer's menus do not have."""
    p = TrajectoriesParams.parse(params, "params:trajectories")
    w = world_params(world)
    plans = {t.task_id: t.plan for t in tasks}
    used = {name: documents[name] for name in dict.fromkeys(t.template for t in tasks) if name in documents}
    expert = (functools.partial(make_expert, p.expert.model_dump(), plans) if w.backend == "word"
              else functools.partial(ScriptedPolicy, p.expert.name, w.backend))
    return rollout(tasks, functools.partial(make_env, p.max_steps, used, w.model_dump()), SharedPolicy(expert),
                   seed=p.seed, after_episode=_with_guesses, workers=p.workers, chunk_size=p.chunk_size,
                   desc="expert rollouts")
