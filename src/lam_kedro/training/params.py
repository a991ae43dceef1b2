"""The training blocks' params models, importable without torch (the pipelines' wiring imports them).

``SFTTrainingParams`` is ``train_sft``'s block (``training.sft``); each phase subclasses it with its
``conf/base`` defaults. Sub-mappings that are a library's config are checked, not re-declared:
``sft`` against ``trl.SFTConfig``, ``lora`` against ``peft.LoraConfig``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from lam_kedro.model.config import Params, fields_of

__all__ = ["CHECKPOINTS", "LoraBlock", "PhaseSFTBlock", "RowSplit", "SFTConfigBlock", "RewardTrainingParams", "SFTParams",
           "SFTTrainingParams"]

#: Why ``output_dir`` is not a parameter.
CHECKPOINTS = "the checkpoint folder is the catalog's <generation>_checkpoints entry"
#: An ``sft:`` block: ``trl.SFTConfig`` fields as they are (``train_sft``'s own callers may set ``output_dir``).
SFTConfigBlock = fields_of("trl.SFTConfig")
#: A phase's ``sft:`` block: ``output_dir`` is the catalog's ``<generation>_checkpoints``, not a parameter.
PhaseSFTBlock = fields_of("trl.SFTConfig", reserved={"output_dir": CHECKPOINTS})
#: A ``lora:`` block: ``peft.LoraConfig`` fields plus ours, ``merge`` (default true) and ``enabled``.
LoraBlock = fields_of("peft.LoraConfig", extra=frozenset({"merge", "enabled"}))


class RowSplit(Params):
    """How a phase's rows split into train and eval (``model.formatting.train_eval_split``); no defaults
    here: each phase's block says them (``conf/base``)."""

    seed: int = Field(description="seed of the row split (seeded shuffle)")
    eval_fraction: float = Field(ge=0, lt=1, description="rows held out for eval_loss")
    max_train_rows: int | None = Field(ge=0, description="the time budget (null: all rows)")
    max_eval_rows: int | None = Field(ge=0)


class SFTParams(Params):
    """``train_sft``'s block: ``sft`` holds ``trl.SFTConfig`` fields as they are (their keys are checked
    against the dataclass, so a typo fails); ``lora`` holds ``peft.LoraConfig`` fields."""

    resume: bool = Field(True, description="continue from a checkpoint of this very training after a kill")
    keep_checkpoints: bool = Field(False, description="false: the checkpoint folder is removed after a finished run")
    sft: SFTConfigBlock  # type: ignore[valid-type]
    lora: LoraBlock | None = Field(None, description="null: a full fine-tune")  # type: ignore[valid-type]

    @classmethod
    def of(cls, params: SFTParams | Mapping[str, Any]) -> SFTParams:
        """``params`` as ``train_sft``'s block; a phase's whole block may be given (its row-split keys
        are its caller's, validated by the phase's model)."""
        if isinstance(params, SFTParams):
            return params
        return cls.parse({k: v for k, v in params.items() if k in cls.model_fields}, "train_sft")


class SFTTrainingParams(SFTParams, RowSplit):
    """``params:phase<N>.training``: ``train_sft``'s block plus the row split; each phase subclasses it
    with its ``conf/base`` defaults for the split. The checkpoint folder is the catalog's."""

    sft: PhaseSFTBlock  # type: ignore[valid-type]


def _rm_lora() -> dict[str, Any]:
    return {"r": 8, "lora_alpha": 32, "lora_dropout": 0.1, "target_modules": None}


def _rm_training() -> dict[str, Any]:
    return {"num_train_epochs": 2, "per_device_train_batch_size": 8, "learning_rate": 1.0e-3,
            "lr_scheduler_type": "linear", "logging_steps": 10, "report_to": "none"}


class RewardTrainingParams(Params):
    """``params:reward_model.training`` (``training.reward.train_reward_model``; defaults:
    ``conf/base/parameters_reward_model.yml``). ``lora`` holds ``peft.LoraConfig`` fields (task_type is
    SEQ_CLS), ``training`` ``transformers.TrainingArguments`` fields, both checked against the dataclass."""

    seed: int = 0
    heldout_fraction: float = Field(0.2, gt=0, lt=1, description="tasks held out (with all their steps) for "
                                                                 "accuracy and ROC AUC")
    balance: Literal["oversample", "none"] = Field("oversample", description="repeat the scarcer label's steps "
                                                                             "to match the other")
    max_train_rows: int | None = Field(3000, ge=1, description="the time budget (null: all)")
    max_length: int = Field(384, ge=8, description="tokens per step text, cut from the left")
    eval_batch_size: int = Field(16, ge=1)
    lora: fields_of("peft.LoraConfig", reserved={"task_type": "the reward model is SEQ_CLS"}  # type: ignore
                    ) = Field(default_factory=_rm_lora)
    training: fields_of("transformers.TrainingArguments",  # type: ignore
                        reserved={"output_dir": "the reward model trains in a temporary folder"}
                        ) = Field(default_factory=_rm_training)
