"""Phase 4, the alternative (``phase4.method: kto``): TRL's KTO on LAM3's successes and failures.

The paper uses offline PPO with a reward model (``ppo_offline``). KTO (Ethayarajh et al. 2024)
learns from the same kind of signal without a reward model: every step of a trajectory the
checker accepted is *desirable*, every step of a failed one *undesirable*, and the loss moves the
policy's implied reward (its log-ratio to the reference, LAM3) up on the first and down on the
second. It is here as a baseline for the PPO loop, built from TRL's own ``KTOConfig``/``KTOTrainer``.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lam_kedro.agent.prompt import step_examples
from lam_kedro.model.formatting import sft_row

__all__ = ["kto_rows", "kto_config", "train_kto"]

# TRL's KTO defaults that are wrong for a CPU-first project, set unless the params say otherwise.
_DEFAULTS = {"bf16": False, "fp16": False, "activation_checkpointing": False, "report_to": "none",
             "save_strategy": "no", "dataloader_num_workers": 0, "logging_steps": 1}


def kto_rows(trajectories: Iterable[Any], info: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One unpaired KTO row per step: TRL's conversational ``{prompt, completion, label}``.

    ``label`` is the trajectory's outcome as the environment's checker decided it; prompts and
    completions are the Phase 2-3 SFT rows (``formatting.sft_row``), so KTO sees what SFT saw.
    """
    return [{**sft_row(ex["messages"], ex["target"], info), "label": bool(traj.outcome.success)}
            for traj in trajectories for ex in step_examples(traj)]


def kto_config(params: Mapping[str, Any], output_dir: str) -> Any:
    """TRL's ``KTOConfig(**params)`` with CPU-safe defaults; an unknown key names itself."""
    from trl import KTOConfig

    kwargs = {**_DEFAULTS, **dict(params), "output_dir": output_dir}
    try:
        return KTOConfig(**kwargs)
    except TypeError as err:
        raise ValueError(f"phase4.kto: {err} (see trl.KTOConfig for the valid keys)") from err


def _curves(log_history: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, float]]]:
    """The Trainer's log as ``{name: [{step, value}]}`` (every numeric per-step entry, e.g. ``kl``)."""
    curves: dict[str, list[dict[str, float]]] = {}
    for entry in log_history:
        if "train_runtime" in entry:  # the end-of-training summary, not a point on a curve
            continue
        step = int(entry.get("step", 0))
        for key, value in entry.items():
            if key not in ("step", "epoch") and isinstance(value, int | float):
                curves.setdefault(key, []).append({"step": step, "value": float(value)})
    return curves


def train_kto(
    model: Any,
    tokenizer: Any,
    rows: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any],
    peft_config: Any | None = None,
) -> tuple[Any, dict[str, list[dict[str, float]]]]:
    """KTO from ``model`` (LAM3, also the frozen reference) on ``rows``; returns ``(policy, curves)``.

    Needs both labels, and a per-device batch of at least 2 (TRL estimates KTO's KL term from
    mismatched pairs within a batch). ``model`` is not modified; LoRA adapters are merged.
    """
    from datasets import Dataset
    from transformers import set_seed
    from trl import KTOTrainer

    labels = {bool(r["label"]) for r in rows}
    if labels != {True, False}:
        raise ValueError(f"phase4 (kto) needs desirable and undesirable steps; lam3_rollouts gave only {labels}")
    with tempfile.TemporaryDirectory(prefix="lam-kto-") as out_dir:
        config = kto_config(params, out_dir)
        set_seed(config.seed)
        policy = copy.deepcopy(model)
        ref = None if peft_config is not None else copy.deepcopy(model).eval()  # with LoRA: adapters off
        trainer = KTOTrainer(model=policy, ref_model=ref, args=config, processing_class=tokenizer,
                             train_dataset=Dataset.from_list([dict(r) for r in rows]), peft_config=peft_config)
        trainer.train()
        curves = _curves(trainer.state.log_history)
    trained = trainer.model
    if peft_config is not None:
        trained = trained.merge_and_unload()
    trained.eval()
    return trained, curves
