"""Build (or convert) the base model and describe it: what every phase starts from."""

from __future__ import annotations

import statistics
from typing import Any

from lam_kedro.agent.schema import TaskPlan, Trajectory
from lam_kedro.model.base_params import BaseModelParams
from lam_kedro.model.bundle import ModelBundle


def build_base_model(
    task_plans_train: list[TaskPlan], train_trajectories: list[Trajectory], params: dict[str, Any]
) -> ModelBundle:
    """The base model ``params:base_model`` describes; the training data is the tiny tokenizer's corpus.

    ``kind: tiny`` trains a BPE tokenizer on the plans and step prompts (so control names and
    JSON keys are few tokens) and builds a small LM from config; ``gguf`` and ``hf`` load a
    pretrained model and ignore the data.
    """
    from lam_kedro.model.loading import build_base_model as build

    return build(task_plans_train, train_trajectories, params)


def describe_base_model(base_model: ModelBundle, train_trajectories: list[Trajectory], params: dict[str, Any]
                        ) -> dict[str, Any]:
    """Size of the model and of its inputs: parameters, vocabulary, tokens per plan / step example.

    Token counts are what training cost scales with, so they are reported next to the size.
    """
    from lam_kedro.model.formatting import step_rows
    from lam_kedro.model.generation import encode_prompt

    p = BaseModelParams.parse(params, "params:base_model")
    rows = step_rows(train_trajectories[: p.describe_trajectories], base_model.info)
    prompt = [len(encode_prompt(base_model, r["prompt"])) for r in rows]
    target = [len(base_model.tokenizer(r["completion"][0]["content"])["input_ids"]) for r in rows]
    info = base_model.info
    return {
        "base": info.get("base"),
        "source": info.get("source"),
        "dtype": info.get("dtype"),
        "parameters": info.get("parameters"),
        "vocab_size": info.get("vocab_size"),
        "system_prompt": info.get("system_prompt"),
        "step_prompt_tokens_mean": statistics.fmean(prompt) if prompt else 0.0,
        "step_prompt_tokens_max": max(prompt, default=0),
        "step_target_tokens_mean": statistics.fmean(target) if target else 0.0,
    }
