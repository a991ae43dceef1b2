"""Supervised fine-tuning, one thin function over TRL: a ``params`` block -> ``SFTConfig`` -> ``SFTTrainer``.

Phases 1-3 call ``train_sft`` with prompt-completion rows (``formatting``); TRL masks the prompt
(``completion_only_loss``), so the loss is on the plan or action tokens only. The params block
is TRL's own config (``sft:``, every ``SFTConfig`` field, see its help text) plus PEFT's
``LoraConfig`` (``lora:``), so there is no config system of ours to learn.

Resume: checkpoints go to ``sft.output_dir`` every ``save_steps``; a run that finds a checkpoint
there *for the same data, parent model and hyperparameters* (a fingerprint file says so)
continues from it instead of starting over. Run length (``max_steps``, ``num_train_epochs``) is
not part of the fingerprint, so a longer run extends a shorter one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import set_seed
from transformers.trainer_utils import get_last_checkpoint

from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.loading import count_parameters
from lam_kedro.training.params import SFTParams

__all__ = ["CURVE_KEYS", "SUMMARY_KEYS", "build_trainer", "history_to_curves",
           "lora_config", "sft_config", "train_sft", "training_report"]

logger = logging.getLogger(__name__)

#: Learning-curve series kept from the Trainer's log history (MLflow metric names after the prefix).
CURVE_KEYS = ("loss", "eval_loss", "learning_rate", "grad_norm", "mean_token_accuracy", "eval_mean_token_accuracy")
#: Summary metrics every generation records in ``info["metrics"]`` under the same names.
SUMMARY_KEYS = ("first_loss", "final_loss", "final_eval_loss", "final_eval_token_accuracy", "train_rows",
                "eval_rows", "steps", "train_runtime_s", "train_tokens", "tokens_per_s", "trainable_parameters",
                "processes")

# Fields that say how long to train or how to report, not what is learned: a checkpoint written
# under other values of these is still a valid place to resume from.
_RUN_LENGTH_FIELDS = {"max_steps", "num_train_epochs", "save_steps", "save_total_limit", "logging_steps",
                      "eval_steps", "output_dir", "report_to", "disable_tqdm", "logging_first_step", "eval_strategy",
                      "save_strategy", "run_name"}
_FINGERPRINT = "lam_fingerprint.json"

# TRL's defaults that are wrong for a CPU-first project, set unless the params say otherwise.
_DEFAULTS = {"bf16": False, "fp16": False, "gradient_checkpointing": False, "report_to": "none",
             "save_strategy": "steps", "dataloader_num_workers": 0, "ddp_find_unused_parameters": False}


def sft_config(params: Mapping[str, Any], has_eval: bool = True) -> Any:
    """TRL's ``SFTConfig(**params)`` with CPU-safe defaults for bf16, checkpointing and reporting.

    MLflow logging goes through kedro-mlflow datasets, so the Trainer's own ``report_to`` is off.
    """
    from trl import SFTConfig

    kwargs = {**_DEFAULTS, **dict(params)}
    if "output_dir" not in kwargs:
        raise ValueError("sft.output_dir is required: the checkpoint folder a killed run resumes from")
    if not has_eval:
        kwargs["eval_strategy"] = "no"
    if kwargs.get("bf16") and not torch.cuda.is_available():
        kwargs.setdefault("use_cpu", True)  # bf16 autocast on a CPU: transformers refuses it unless told
    try:
        return SFTConfig(**kwargs)
    except TypeError as err:
        raise ValueError(f"sft: {err} (see trl.SFTConfig for the valid keys)") from err


def lora_config(params: Mapping[str, Any] | None) -> Any | None:
    """PEFT's ``LoraConfig`` from the ``lora`` block (``merge`` is ours), or ``None`` for a full fine-tune."""
    if not params or not params.get("enabled", True):
        return None
    from peft import LoraConfig

    kwargs = {k: v for k, v in params.items() if k not in ("merge", "enabled")}
    kwargs.setdefault("task_type", "CAUSAL_LM")
    try:
        return LoraConfig(**kwargs)
    except TypeError as err:
        raise ValueError(f"lora: {err} (see peft.LoraConfig for the valid keys)") from err


def _weights_digest(model: Any) -> str:
    """A digest of the input embeddings: a parent rebuilt with another seed or tokenizer differs here
    even when its ``info`` and size are the same (cheap: one tensor, not the whole model)."""
    weight = model.get_input_embeddings().weight.detach().float().cpu().contiguous()
    return hashlib.sha256(weight.numpy().tobytes()).hexdigest()


def _fingerprint(bundle: ModelBundle, rows: Sequence[Any], eval_rows: Sequence[Any], params: SFTParams) -> str:
    what = {
        "parent": {k: bundle.info.get(k) for k in ("generation", "base", "parent", "source")},
        "parameters": count_parameters(bundle.model),
        "weights": _weights_digest(bundle.model),
        "sft": {k: v for k, v in params.sft.items() if k not in _RUN_LENGTH_FIELDS},
        "lora": params.lora,
        "rows": hashlib.sha256(json.dumps([rows, eval_rows], sort_keys=True, default=str).encode()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def _resume_point(output_dir: Path, fingerprint: str, resume: bool) -> str | None:
    """The last checkpoint under ``output_dir`` if it belongs to this very training, else ``None``
    (a stale folder from other data or settings is cleared so it cannot be mixed in)."""
    if not output_dir.is_dir():
        return None
    stamp = output_dir / _FINGERPRINT
    same = stamp.is_file() and json.loads(stamp.read_text()).get("fingerprint") == fingerprint
    last = get_last_checkpoint(str(output_dir))
    if resume and same and last:
        return last
    if last or not same:
        logger.info("clearing %s: its checkpoints belong to another training", output_dir)
        shutil.rmtree(output_dir, ignore_errors=True)
    return None


def history_to_curves(log_history: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, float]]]:
    """The Trainer's log history as kedro-mlflow's metric history: ``{key: [{step, value}, ...]}``."""
    curves: dict[str, list[dict[str, float]]] = {}
    for entry in log_history:
        step = int(entry.get("step", 0))
        for key in CURVE_KEYS:
            if key in entry and entry[key] is not None:
                curves.setdefault(key, []).append({"step": step, "value": float(entry[key])})
    return curves


def _summary(curves: Mapping[str, list[dict[str, float]]], train_metrics: Mapping[str, Any], trainer: Any,
             n_train: int, n_eval: int) -> dict[str, float]:
    def last(key: str) -> float | None:
        return curves[key][-1]["value"] if curves.get(key) else None

    runtime = float(train_metrics.get("train_runtime", 0.0))
    tokens = float(getattr(trainer, "_total_train_tokens", 0) or 0)
    out = {
        "first_loss": curves["loss"][0]["value"] if curves.get("loss") else None,
        "final_loss": last("loss"),
        "final_eval_loss": last("eval_loss"),
        "final_eval_token_accuracy": last("eval_mean_token_accuracy"),
        "train_rows": float(n_train),
        "eval_rows": float(n_eval),
        "steps": float(trainer.state.global_step),
        "train_runtime_s": runtime,
        "train_tokens": tokens,
        "tokens_per_s": tokens / runtime if runtime > 0 else None,
        "trainable_parameters": float(count_parameters(trainer.model, trainable_only=True)),
        "processes": float(trainer.args.world_size),
    }
    return {k: v for k, v in out.items() if v is not None}


def _unpatched(model: Any) -> Any:
    """Remove the fused-LM-head ``forward`` TRL binds onto a model instance.

    The patch closes over the forward of the model it was applied to, so a deep copy of a trained
    model would still run (and train) the original's weights; the next phase trains a copy, and
    the class's own forward is what generation and saving should use anyway.
    """
    inner = model.get_base_model() if hasattr(model, "get_base_model") else None
    for m in (model, inner):
        if m is not None and "forward" in vars(m):
            del m.forward
    return model


def build_trainer(
    bundle: ModelBundle,
    train_rows: Sequence[Mapping[str, Any]],
    eval_rows: Sequence[Mapping[str, Any]],
    params: SFTParams | Mapping[str, Any],
    checkpoints: str | Path | None = None,
) -> Any:
    """TRL's ``SFTTrainer`` over a copy of ``bundle.model``: what ``train_sft`` runs (tests and the
    benchmark inspect it: its prepared dataset has ``labels`` with -100 on every prompt token)."""
    from datasets import Dataset
    from trl import SFTTrainer

    params = _training_params(params, checkpoints)
    config = sft_config(params.sft, has_eval=bool(eval_rows))
    set_seed(config.seed)
    model = _unpatched(copy.deepcopy(bundle.model))
    model.train()
    return SFTTrainer(
        model=model,
        args=config,
        train_dataset=Dataset.from_list([dict(r) for r in train_rows]),
        eval_dataset=Dataset.from_list([dict(r) for r in eval_rows]) if eval_rows else None,
        processing_class=bundle.tokenizer,
        peft_config=lora_config(params.lora),
    )


def _training_params(params: SFTParams | Mapping[str, Any], checkpoints: str | Path | None) -> SFTParams:
    """``params`` validated; ``checkpoints`` (the catalog's checkpoint folder) is ``sft.output_dir``."""
    p = SFTParams.of(params)
    if checkpoints is not None:
        p = p.model_copy(update={"sft": {**p.sft, "output_dir": str(checkpoints)}})
    return p


def train_sft(
    bundle: ModelBundle,
    train_rows: Sequence[Mapping[str, Any]],
    eval_rows: Sequence[Mapping[str, Any]],
    params: SFTParams | Mapping[str, Any],
    generation: str,
    checkpoints: str | Path | None = None,
) -> tuple[ModelBundle, dict[str, list[dict[str, float]]]]:
    """Fine-tune a copy of ``bundle`` on prompt-completion rows; return ``(new bundle, learning curves)``.

    ``params``: ``sft`` (``SFTConfig`` fields; ``output_dir`` required), ``lora`` (``LoraConfig``
    fields plus ``merge``, default true: the adapter is merged so the next phase starts from a
    plain model; omit or null for a full fine-tune), ``resume`` (default true) and
    ``keep_checkpoints`` (default false: the folder is removed after a finished run); ``checkpoints``,
    the checkpoint folder a killed run resumes from (the pipelines' ``<generation>_checkpoints``
    catalog entry), is ``sft.output_dir``.
    The input bundle is not modified. Runs unchanged under ``accelerate launch`` (DDP).
    """
    if not train_rows:
        raise ValueError(f"{generation}: no training rows; check the phase's input dataset")
    params = _training_params(params, checkpoints)
    output_dir = Path(sft_config(params.sft).output_dir)
    fingerprint = _fingerprint(bundle, list(train_rows), list(eval_rows), params)
    resume_from = _resume_point(output_dir, fingerprint, params.resume)
    trainer = build_trainer(bundle, train_rows, eval_rows, params)
    if trainer.is_world_process_zero():
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / _FINGERPRINT).write_text(json.dumps({"fingerprint": fingerprint, "generation": generation}))
    if resume_from:
        logger.info("%s: resuming from %s", generation, resume_from)
    result = trainer.train(resume_from_checkpoint=resume_from)
    if eval_rows:
        trainer.evaluate()  # appends the final eval_* to the log history
    curves = history_to_curves(trainer.state.log_history)
    metrics = _summary(curves, result.metrics, trainer, len(train_rows), len(eval_rows))
    trained = _unpatched(trainer.model)
    lora = params.lora or {}
    if hasattr(trained, "merge_and_unload") and lora.get("merge", True):
        trained = trained.merge_and_unload()
    trained.eval()
    info = {
        **bundle.info,
        "generation": generation,
        "parent": bundle.info.get("generation"),
        "adapter": "lora" if lora and lora.get("enabled", True) else None,
        "resumed_from": Path(resume_from).name if resume_from else None,
        "metrics": metrics,
    }
    if trainer.is_world_process_zero() and not params.keep_checkpoints:
        shutil.rmtree(output_dir, ignore_errors=True)
    logger.info("%s: loss %.3f -> %.3f in %.0f s (%.0f tokens/s)", generation, metrics.get("first_loss", float("nan")),
                metrics.get("final_loss", float("nan")), metrics["train_runtime_s"], metrics.get("tokens_per_s", 0))
    return ModelBundle(model=trained, tokenizer=bundle.tokenizer, info=info), curves


def training_report(bundle: ModelBundle) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """A phase's report (JSON for DVC metrics) and its summary as kedro-mlflow metrics (``<phase>.sft.*``).

    The names are ``SUMMARY_KEYS`` for every generation, so reports and runs line up column by column.
    """
    metrics = {k: v for k, v in (bundle.info.get("metrics") or {}).items() if isinstance(v, (int, float))}
    report = {k: bundle.info.get(k) for k in ("generation", "base", "parent", "adapter", "resumed_from")}
    report["sft"] = metrics
    return report, {f"sft.{k}": {"value": float(v), "step": 0} for k, v in metrics.items()}
