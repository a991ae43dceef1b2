"""One way to act: every LAM policy is built here, from one ``DecodeConfig``.

Phase 3's exploration, the reward model's rollouts, evaluation (online, offline, planning),
``lam agent``, ``lam serve`` and the registered pyfunc all turn a ``ModelBundle`` into a decoder
with ``lam_generate(bundle, decode)``; whatever plays episodes wraps it in a ``TextPolicy`` with
``lam_policy(bundle, decode, name, plan_for, seed)``. What is explored and evaluated is therefore
what is served: the same prompt code, the same constrained decoder (``model.decoder.
ActionDecoder``), differing only in the decode block each caller's config holds:

- ``phase3.exploration.decode`` and ``reward_model.rollouts.decode``: ``do_sample: true``, sampled
  *within* the action grammar (Gumbel top-k over the tokens the grammar allows), each attempt
  seeded with its own seed;
- ``evaluation.generate``: greedy (``do_sample: false``), which ``lam agent`` and ``lam serve``
  read too (their flags override single keys);
- the pyfunc's ``model_config`` (``MlflowRegisteredModelDataset(generate=...)``).

``DecodeConfig`` rejects unknown keys and names them, so a misspelled ``temprature`` fails the run
instead of silently sampling at the default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lam_kedro.agent.policies import Generate, TextPolicy
from lam_kedro.env.action_table import FUNCTIONS
from lam_kedro.env.types import Task
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.config import config_errors
from lam_kedro.model.prefix_caches import PrefixCaches

if TYPE_CHECKING:
    from lam_kedro.model.batching import ForwardBatcher

__all__ = ["DecodeConfig", "decode_config", "lam_generate", "lam_policy"]

#: ``plan_for(task) -> plan``: the first ``<Previous Plans:>`` of an episode.
PlanFor = Callable[[Task], Sequence[str]]


class DecodeConfig(BaseModel):
    """How a LAM decodes its answer; the same block wherever a LAM acts (unknown keys are an error)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    constrained: bool = Field(True, description="decode a step's action under the action grammar "
                                                "(model.decoder); false: plain generate, often invalid JSON")
    max_new_tokens: int = Field(256, ge=1, description="tokens the model chooses per answer (the forced "
                                                       "JSON skeleton is extra when constrained)")
    do_sample: bool = Field(False, description="sample instead of greedy; constrained: only among tokens the "
                                               "grammar allows")
    temperature: float = Field(1.0, gt=0, description="sampling temperature (do_sample only)")
    top_p: float = Field(1.0, gt=0, le=1, description="nucleus sampling of plain generate (constrained "
                                                      "decoding ignores it: the grammar narrows the choice)")
    seed: int = Field(0, description="sampling seed; exploration replaces it with each attempt's seed")
    functions: tuple[str, ...] = Field(FUNCTIONS, min_length=1, description="the functions the model may call "
                                                                            "(constrained only)")
    max_string_tokens: int = Field(48, ge=1, description="cap of one free string: thought, text arg, plan step")
    max_plan_steps: int = Field(8, ge=0, description="cap on the plan's length")
    score_controls: int = Field(8, ge=0, description="choose the control by the joint score of its label and "
                                                     "name among the model's N likeliest labels (0: label alone)")
    copy_plan: bool = Field(True, description="the thought opens with the first step of the prompt's "
                                              "<Previous Plans:> and the answer's plan keeps or drops it, chosen "
                                              "whole (false: both free text)")
    copy_decision: bool = Field(True, description="with copy_plan: the thought's ' Now: click ...' names a "
                                                  "visible control, chosen whole, and the action is on it")
    copy_values: bool = Field(True, description="with copy_decision: select/type/press copy their value from "
                                                "the prompt (a quote of the plan step or request, a run of the "
                                                "step's words, a key), chosen whole, and the action carries it; a "
                                                "plan (LAM1's prompt) copies each quote it opens from the request")
    named_controls: bool = Field(True, description="with copy_decision: a click, a tab opened or the box typed "
                                                   "into is chosen among the visible controls the plan step "
                                                   "names, when it names any (a tab or not); a step that names "
                                                   "visible controls but no box types into none")
    read_document: bool = Field(True, description="with copy_values and named_controls: a select's text is read "
                                                  "off the document the observation shows, as the plan step says "
                                                  "(the whole paragraph an opening names, a double-clicked word "
                                                  "with its space); the document is not part of the model's prompt")
    top_k: int = Field(64, ge=1, description="model's best tokens checked against the grammar per step")
    prefix_cache: bool = Field(True, description="reuse the KV cache of the prompt prefix shared with the "
                                                 "previous step")
    prefix_cache_pool: int = Field(0, ge=0, description="with prefix_cache: KV caches of other prompts kept, one "
                                                        "pool shared by a server's decoder replicas, so each "
                                                        "client's next step finds its own previous one "
                                                        "(model.prefix_caches; lam serve --prefix-caches); 0: only "
                                                        "the decoder's own previous prompt")

    @field_validator("functions", mode="before")
    @classmethod
    def _known_functions(cls, v: Any) -> Any:
        names = [v] if isinstance(v, str) else list(v)
        unknown = [f for f in names if f not in FUNCTIONS]
        if unknown:
            raise ValueError(f"unknown function(s) {unknown}; the environment's functions are {list(FUNCTIONS)}")
        return tuple(names)

    def decoder_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the decoder this config selects."""
        if not self.constrained:
            return self.model_dump(include={"max_new_tokens", "do_sample", "temperature", "top_p", "seed"})
        return self.model_dump(exclude={"constrained", "top_p", "prefix_cache_pool"})


def decode_config(raw: DecodeConfig | Mapping[str, Any] | None, where: str = "decode") -> DecodeConfig:
    """``raw`` validated as a ``DecodeConfig``; the error names ``where`` and the offending key."""
    if isinstance(raw, DecodeConfig):
        return raw
    try:
        return DecodeConfig.model_validate(dict(raw or {}))
    except ValidationError as err:
        keys = ", ".join(DecodeConfig.model_fields)
        raise ValueError(f"invalid decode config: {config_errors(err, where, f'unknown key (the keys are {keys})')}"
                         ) from err


def lam_generate(bundle: ModelBundle, decode: DecodeConfig | Mapping[str, Any] | None = None,
                 seed: int | None = None, prefix_caches: PrefixCaches | None = None,
                 batcher: ForwardBatcher | None = None) -> Generate:
    """``generate(messages) -> text`` over ``bundle`` as ``decode`` says; ``seed`` overrides ``decode.seed``.

    Constrained (the default): an ``ActionDecoder``, which decodes a step prompt's action under the
    grammar and anything else (a plan prompt) plainly and greedily. Unconstrained: ``make_generate``.
    ``prefix_caches``: the pool replicas share (default: a pool of ``decode.prefix_cache_pool``
    entries of its own, none when 0). ``batcher``: the server's ``model.batching.ForwardBatcher``, through
    which the constrained decoder's forward passes run batched with other decoders' (ignored unconstrained).
    """
    cfg = decode_config(decode)
    kwargs = cfg.decoder_kwargs()
    if seed is not None:
        kwargs["seed"] = int(seed)
    if cfg.constrained:
        from lam_kedro.model.decoder import ActionDecoder

        if prefix_caches is None and cfg.prefix_cache_pool:
            prefix_caches = PrefixCaches(cfg.prefix_cache_pool)
        return ActionDecoder(bundle, **kwargs, prefix_caches=prefix_caches, batcher=batcher)
    from lam_kedro.model.generation import make_generate

    return make_generate(bundle, **kwargs)


def lam_policy(bundle: ModelBundle, decode: DecodeConfig | Mapping[str, Any] | None = None,
               name: str | None = None, plan_for: PlanFor | None = None, seed: int | None = None,
               **policy_kwargs: Any) -> TextPolicy:
    """The LAM as a ``TextPolicy``: ``lam_generate(bundle, decode, seed)`` behind the agent's prompt code.

    ``name`` defaults to the bundle's generation; ``plan_for`` fills the first ``<Previous Plans:>``;
    ``policy_kwargs`` go to ``TextPolicy`` (``on_parse_error`` ...). The policy hands the decoder each
    observation's controls and document as data (``agent.slots.Messages.slots``); the model's prompt
    has no ``<Document:>`` slot (the constrained decoder reads a selection off the document itself).
    """
    cfg = decode_config(decode)
    actor = name or str(getattr(bundle, "generation", None) or "lam")
    return TextPolicy(lam_generate(bundle, cfg, seed=seed), name=actor, plan_for=plan_for, **policy_kwargs)
