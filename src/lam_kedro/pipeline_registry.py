"""Pipelines are found by folder name: what a user types after `kedro run --pipelines`."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Every folder under ``pipelines/`` is a pipeline; ``__default__`` runs them all in order."""
    pipelines = find_pipelines(raise_errors=True)
    # Section 3 of the paper as one name, made of its two halves when both exist.
    halves = [pipelines[name] for name in ("task_plans", "trajectories") if name in pipelines]
    if halves:
        pipelines["data_collection"] = sum(halves, Pipeline([]))
    # Evaluation reads every generation through one lazy dataset (a missing one is reported, not
    # an error), so Kedro sees no data edge from training to it: `kedro run` builds the data and
    # the four generations, then `kedro run --pipelines evaluation` compares them (`dvc repro`
    # and `make run` do both, in order, through dvc.yaml's dependencies).
    default = {name: p for name, p in pipelines.items() if name != "evaluation"}
    pipelines["__default__"] = sum(default.values(), Pipeline([]))
    return pipelines
