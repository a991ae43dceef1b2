"""The world an episode runs in, chosen by configuration (``params:world``): the simulated Word or
LibreOffice Writer.

Every rollout of the pipeline (the expert's trajectories, Phase 3's exploration, the reward model's
rollouts, the online evaluation) builds its environment with ``make_world``, once per process, so
one parameter (``world.backend: writer``) moves all of them into real Writer. The two
worlds share the observation and the actions; what differs is whose user interface a plan is
written for: in Writer a task's plan is its family's Writer recipe (``env.writer.recipes``: Writer's
menus and dialogs, not Word's ribbon), and a family without a recipe cannot run there
(``runs_in``), so the pipeline quarantines its tasks with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lam_kedro.env.document import Document
from lam_kedro.env.episode import EpisodeEnv

__all__ = ["WorldParams", "WriterOptions", "make_world", "runs_in", "world_params", "world_plan"]


class WriterOptions(BaseModel):
    """How ``WriterEnv`` runs the office (``backend: writer`` only)."""

    model_config = ConfigDict(extra="forbid")
    virtual_display: bool | None = Field(None, description="null: a virtual display (Xvfb) only without a desktop")
    settle_s: float = Field(0.0, ge=0, description="extra wait after each action, past the office's idle queue")
    max_controls: int = Field(200, ge=1, description="controls an observation lists at most")


class WorldParams(BaseModel):
    """``params:world``: where every rollout runs (defaults: ``conf/base/parameters_world.yml``)."""

    model_config = ConfigDict(extra="forbid")
    backend: Literal["word", "writer"] = Field("word", description="word: the simulated Word; writer: LibreOffice "
                                                                  "Writer (needs scripts/setup_writer.sh)")
    writer: WriterOptions = Field(default_factory=WriterOptions)


def world_params(world: WorldParams | Mapping[str, Any] | None) -> WorldParams:
    """``world`` as ``WorldParams`` (``None``: the simulated Word)."""
    if isinstance(world, WorldParams):
        return world
    return WorldParams.model_validate(dict(world or {}))


def make_world(world: WorldParams | Mapping[str, Any] | None, max_steps: int,
               documents: Mapping[str, Document]) -> EpisodeEnv:
    """The environment ``world`` names, opening the tasks' templates from ``documents`` by name."""
    w = world_params(world)
    if w.backend == "writer":
        from lam_kedro.env.writer import WriterEnv

        return WriterEnv(max_steps=max_steps, templates=documents, virtual_display=w.writer.virtual_display,
                         settle_s=w.writer.settle_s, max_controls=w.writer.max_controls)
    from lam_kedro.env.word_env import WordEnv

    return WordEnv(max_steps=max_steps, templates=dict(documents))


def runs_in(world: WorldParams | Mapping[str, Any] | None, family: str | None) -> str | None:
    """Why a task of ``family`` cannot run in ``world``, or ``None`` when it can."""
    if world_params(world).backend != "writer":
        return None
    from lam_kedro.env.writer.recipes import RECIPES

    if family not in RECIPES:
        return f"world writer: task family {family!r} has no Writer recipe (plan and solution in Writer's menus)"
    return None


def world_plan(world: WorldParams | Mapping[str, Any] | None, family: str | None, params: Mapping[str, Any],
               plan: list[str]) -> list[str]:
    """The plan a task follows in ``world``: its own (Word's words) in the simulated Word, its family's
    Writer recipe in Writer."""
    if world_params(world).backend != "writer" or family is None:
        return list(plan)
    from lam_kedro.env.writer.recipes import writer_plan

    return writer_plan(family, dict(params))
