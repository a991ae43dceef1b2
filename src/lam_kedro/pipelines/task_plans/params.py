"""The ``params:task_plans.*`` blocks as strict pydantic models: a typo fails naming the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import Field, field_validator

from lam_kedro.agent.llm_client import LLMConfig
from lam_kedro.model.config import Params, parse_block

__all__ = ["GenerationParams", "EvolutionParams", "FilterParams", "SplitParams", "TaskPlansParams", "parse",
           "OPERATORS"]

#: The evolution operators, in the order the stats report them.
OPERATORS: tuple[str, ...] = ("compose", "constrain", "concretize", "rephrase")


class _Block(Params):
    pass


class GenerationParams(_Block):
    n_pairs: int = Field(1500, ge=0, description="unique generated pairs to draw (paper: 29,182 sourced)")
    seed: int = 0
    families: list[str] | None = Field(None, description="restrict to these task families (null: all)")
    max_draws_factor: int = Field(20, ge=1, description="give up after n_pairs * this many draws")


class EvolutionParams(_Block):
    n_pairs: int = Field(2400, ge=0, description="evolved pairs to make (paper: 47,490)")
    seed: int = 0
    operators: dict[str, float] = Field(default_factory=lambda: dict.fromkeys(OPERATORS, 1.0))
    max_extra_words: int = Field(20, ge=1, description="the paper's bound on words evolution may add")
    max_parts: int = Field(3, ge=2, le=3, description="compose two or three tasks")
    verify_executable: bool = Field(True, description="play every new (family, params) in WordEnv and check it")
    max_steps: int = Field(60, ge=5)
    max_draws_factor: int = Field(30, ge=1)
    llm: LLMConfig = Field(default_factory=LLMConfig)

    @field_validator("operators")
    @classmethod
    def _known(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = set(value) - set(OPERATORS)
        if unknown:
            raise ValueError(f"unknown operator(s) {sorted(unknown)}; known: {list(OPERATORS)}")
        if any(w < 0 for w in value.values()) or (value and not any(value.values())):
            raise ValueError("operator weights must be >= 0 with at least one > 0")
        return value


class FilterParams(_Block):
    min_task_words: int = Field(2, ge=1)
    max_task_words: int = Field(80, ge=1)
    min_plan_steps: int = Field(1, ge=1)
    max_plan_steps: int = Field(30, ge=1)
    max_step_chars: int = Field(300, ge=10)
    require_ui_mention: bool = Field(True, description="imported plans must name a control our UI has")
    allowed_sources: list[str] = Field(
        default_factory=lambda: ["generated", "evolved", "ufo", "imported", "app_docs", "wikihow", "search"])


class SplitParams(_Block):
    test_fraction: float = Field(0.1, gt=0.0, lt=1.0, description="share of task groups held out for test")
    seed: int = 0


class TaskPlansParams(_Block):
    """``params:task_plans`` whole (each node reads its block with ``parse``)."""

    generation: GenerationParams = Field(default_factory=GenerationParams)
    evolution: EvolutionParams = Field(default_factory=EvolutionParams)
    filters: FilterParams = Field(default_factory=FilterParams)
    split: SplitParams = Field(default_factory=SplitParams)


M = TypeVar("M", bound=_Block)


def parse(model: type[M], raw: Mapping[str, Any] | None, key: str) -> M:
    """``model(**raw)``; an error names ``params:task_plans.<key>.<field>`` to change."""
    return parse_block(model, raw, f"params:task_plans.{key}")
