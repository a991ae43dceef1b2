"""``params:evaluation`` as pydantic models: an unknown or misspelled key fails loudly, naming itself."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lam_kedro.model.config import Params, parse_block
from lam_kedro.model.policy import DecodeConfig


class _Strict(Params):
    pass


class OfflineParams(_Strict):
    enabled: bool = True
    max_trajectories: int | None = Field(60, ge=1, description="first N held-out trajectories (null: all)")


class PlanningParams(_Strict):
    enabled: bool = True
    generations: list[str] = Field(default_factory=lambda: ["lam1"], description="who is asked for plans")
    max_tasks: int | None = Field(None, ge=1)
    min_overlap: float = Field(0.5, ge=0, le=1, description="content-word Jaccard two matching steps need")


class LLMBaseline(_Strict):
    """Any OpenAI-compatible model as a baseline actor (``agent.llm_client.LLMConfig`` keys + ``name``)."""

    enabled: bool = False
    name: str = "llm"
    base_url: str | None = None
    model: str | None = None
    api_key: str = "EMPTY"
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(0, ge=0)
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int = Field(512, ge=1)


class OnlineParams(_Strict):
    enabled: bool = True
    max_steps: int = Field(15, ge=1, description="episode step limit (truncation)")
    max_tasks: int | None = Field(200, ge=1, description="held-out tasks evaluated (null: all of them)")
    selection: Literal["stratified", "first"] = Field(
        "stratified", description="which max_tasks: `stratified` (every family first, then a seeded fill) or `first`")
    min_per_family: int = Field(2, ge=1, description="stratified: tasks each family gets before the fill")
    workers: int = Field(2, ge=1, description="processes per actor; results are the same for any value")
    chunk_size: int = Field(8, ge=1)
    use_task_plan: bool = Field(True, description="the task's plan fills the first <Previous Plans:>, as in training")
    baselines: list[str] = Field(default_factory=lambda: ["expert", "random"])
    random_seed: int = 0
    llm: LLMBaseline = Field(default_factory=LLMBaseline)


class EvaluationParams(_Strict):
    generations: list[str] = Field(default_factory=lambda: ["lam1", "lam2", "lam3", "lam4"])
    seed: int = 0
    generate: DecodeConfig = Field(default_factory=DecodeConfig, description="greedy by default: the "
                                   "decode block of every LAM actor (offline, planning, online)")
    offline: OfflineParams = Field(default_factory=OfflineParams)
    planning: PlanningParams = Field(default_factory=PlanningParams)
    online: OnlineParams = Field(default_factory=OnlineParams)
    champion_metric: str = Field("task_success_rate", description="online metric that picks the champion")


def parse_params(raw: dict[str, Any] | EvaluationParams | None) -> EvaluationParams:
    """Validate ``params:evaluation``; the error names the key (e.g. ``online.workers``) to fix."""
    return parse_block(EvaluationParams, raw, "params:evaluation")
