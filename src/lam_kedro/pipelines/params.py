"""Every ``params:`` block of ``conf/*/parameters_*.yml`` and its pydantic model, in one table.

``PARAMETERS`` maps a top-level key of the parameters to the model that validates it; each node
also parses its own block (so a node called outside Kedro validates too). ``ParamsHooks`` checks,
before a pipeline runs, every block the pipeline reads: a typo (``params:phase2.training.sft:
unknown key 'max_seq_lenght'``) stops ``kedro run`` before the first node, naming the file and key.
The models are named by path and imported only when a block is validated, so importing this module
(``settings`` does) stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from kedro.framework.hooks import hook_impl
from pydantic import BaseModel

from lam_kedro.model.config import parse_block

__all__ = ["PARAMETERS", "ParamsHooks", "model_of", "validate_parameters"]


#: Top-level key of the parameters -> its model, as ``"module:Class"`` (imported on use).
PARAMETERS: dict[str, str] = {
    "base_model": "lam_kedro.model.base_params:BaseModelParams",
    "env_check": "lam_kedro.pipelines.env_check.nodes:EnvCheckParams",
    "templates": "lam_kedro.pipelines.templates.nodes:TemplatesParams",
    "task_plans": "lam_kedro.pipelines.task_plans.params:TaskPlansParams",
    "trajectories": "lam_kedro.pipelines.trajectories.params:TrajectoriesParams",
    "phase1": "lam_kedro.pipelines.phase1.nodes:Phase1Params",
    "phase2": "lam_kedro.pipelines.phase2.nodes:Phase2Params",
    "phase3": "lam_kedro.pipelines.phase3.nodes:Phase3Params",
    "reward_model": "lam_kedro.pipelines.reward_model.nodes:RewardModelParams",
    "phase4": "lam_kedro.pipelines.phase4.params:Phase4Params",
    "evaluation": "lam_kedro.evaluation.params:EvaluationParams",
    "world": "lam_kedro.env.worlds:WorldParams",
}


def model_of(key: str) -> type[BaseModel]:
    """The model of the top-level block ``key``; an unknown block is an error naming it."""
    try:
            module, _, name = PARAMETERS[key].partition(":")
    except KeyError as err:
        raise ValueError(f"params:{key}: unknown parameters block (the blocks are {', '.join(PARAMETERS)})") from err
    return getattr(importlib.import_module(module), name)


def validate_parameters(parameters: Mapping[str, Any], keys: Iterable[str] | None = None) -> dict[str, BaseModel]:
    """The blocks ``keys`` (default: all) of ``parameters`` validated; the error names the file and key."""
    out = {}
    for key in parameters if keys is None else keys:
        try:
            out[key] = parse_block(model_of(key), parameters.get(key), f"params:{key}")
        except ValueError as err:
            raise ValueError(f"conf/*/parameters_{key}.yml: {err}") from err
    return out


class ParamsHooks:
    """Validates, before a pipeline runs, every ``params:`` block its nodes read (kedro-mlflow's habit:
    config typos fail at start-up, naming the key)."""

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        names = pipeline.inputs()
        if not any(n == "parameters" or n.startswith("params:") for n in names):
            return
        parameters = catalog.load("parameters")
        keys = set(parameters) if "parameters" in names else \
            {n.removeprefix("params:").split(".")[0] for n in names if n.startswith("params:")}
        validate_parameters(parameters, sorted(keys))
