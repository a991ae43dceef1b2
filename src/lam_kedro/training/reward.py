"""The reward model (paper Sec. 4.4): LAM3's backbone with a scalar head, scoring one step at a time.

Every step of a successful trajectory is labelled +1 and every step of a failed one -1; the model
(``AutoModelForSequenceClassification`` with ``num_labels=1``, so its loss is MSE) reads the step
prompt as the LAM saw it plus the action JSON the agent produced, and is fine-tuned with LoRA
(r=8, alpha=32, dropout 0.1, ``SEQ_CLS``) by the Hugging Face ``Trainer``. TRL's ``RewardTrainer``
is pairwise (chosen vs rejected), which is not what the paper does. The LoRA weights are merged
before the model is returned, so the saved folder is a plain sequence classifier that
``score_steps`` (and Phase 4) load without PEFT.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from lam_kedro.agent.prompt import step_examples
from lam_kedro.agent.schema import Trajectory
from lam_kedro.agent.seeds import unit_hash
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.formatting import to_model_messages
from lam_kedro.training.params import RewardTrainingParams

__all__ = [
    "balance_rows",
    "heldout_metrics",
    "reward_backbone",
    "reward_rows",
    "reward_text",
    "score_steps",
    "source_heldout_metrics",
    "split_by_task",
    "train_reward_model",
]

logger = logging.getLogger(__name__)

#: Default LoRA settings of the paper's reward model (Sec. 4.4).
PAPER_LORA: dict[str, Any] = {"r": 8, "lora_alpha": 32, "lora_dropout": 0.1, "target_modules": None}


# -- data ----------------------------------------------------------------------------------------
def reward_rows(trajectories: Iterable[Trajectory], source: str) -> list[dict[str, Any]]:
    """One row per step: ``{task_id, trajectory_id, step, source, label, messages, target}``.

    ``label`` is +1.0 for every step of a trajectory the checker accepted, -1.0 otherwise;
    ``messages``/``target`` are exactly what Phase 2/3 SFT trains on (``step_examples``).
    """
    rows = []
    for traj in trajectories:
        label = 1.0 if traj.outcome.success else -1.0
        for i, ex in enumerate(step_examples(traj)):
            rows.append({"task_id": traj.task.task_id, "trajectory_id": traj.trajectory_id, "step": i,
                         "source": source, "label": label, "messages": ex["messages"], "target": ex["target"]})
    return rows


def _prompt_messages(row: Mapping[str, Any]) -> list[dict[str, str]]:
    prompt = row.get("messages", row.get("prompt"))
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if not isinstance(prompt, list) or not prompt:
        raise ValueError(f"a reward row needs 'messages' (chat messages) or 'prompt' (text); got keys {sorted(row)}")
    return list(prompt)


def _completion(row: Mapping[str, Any]) -> str:
    value = row.get("target", row.get("completion"))
    if isinstance(value, list):  # TRL's conversational completion: [{"role": "assistant", "content": ...}]
        value = "".join(m.get("content", "") for m in value)
    if not isinstance(value, str):
        raise ValueError(f"a reward row needs 'target' or 'completion' (the action JSON); got keys {sorted(row)}")
    return value


def reward_text(tokenizer: Any, row: Mapping[str, Any], info: Mapping[str, Any] | None = None) -> str:
    """The text the reward model reads: the step prompt and the action, rendered as SFT renders them.

    The messages go through ``to_model_messages`` (``info`` says e.g. whether the model is shown
    the system prompt) and, with a chat template, the conversation (prompt + the action as the
    assistant's turn) through the template, as TRL's SFT renders conversational rows; without a
    template the prompt and the action are joined by a blank line.
    """
    messages, completion = to_model_messages(_prompt_messages(row), info), _completion(row)
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": completion}],
                                             tokenize=False)
    return "\n\n".join([*(m["content"] for m in messages), completion])


def _encode(tokenizer: Any, text: str, max_length: int) -> list[int]:
    """Token ids of ``text``, cut from the left: the action at the end is what must survive."""
    ids = tokenizer(text, add_special_tokens=not getattr(tokenizer, "chat_template", None))["input_ids"]
    return list(ids[-max_length:])


def split_by_task(rows: Sequence[dict[str, Any]], heldout_fraction: float, seed: int
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(train, heldout)`` rows, held out by task so no task has steps on both sides.

    Tasks are grouped by the (source, label) pairs their steps carry (expert +1, LAM3 +1, LAM3 -1,
    or several) and each group gives ``heldout_fraction`` of its tasks (at least one when it has
    two or more), so the held-out set has both labels whenever the data does, and LAM3's own
    successes and failures whenever its rollouts have them.
    """
    if not 0 < heldout_fraction < 1:
        raise ValueError(f"params:reward_model.heldout_fraction must be in (0, 1), got {heldout_fraction}")
    labels: dict[str, set[tuple[str, float]]] = {}
    for r in rows:
        labels.setdefault(r["task_id"], set()).add((str(r.get("source", "")), float(r["label"])))
    groups: dict[tuple[tuple[str, float], ...], list[str]] = {}
    for task_id, ls in labels.items():
        groups.setdefault(tuple(sorted(ls)), []).append(task_id)
    held: set[str] = set()
    for tasks in groups.values():
        order = sorted(tasks, key=lambda t: unit_hash(seed, "reward", t))
        k = round(len(order) * heldout_fraction)
        if len(order) >= 2:
            k = min(max(k, 1), len(order) - 1)
        held.update(order[:k])
    return [r for r in rows if r["task_id"] not in held], [r for r in rows if r["task_id"] in held]


def balance_rows(rows: list[dict[str, Any]], mode: str, cap: int | None, seed: int) -> list[dict[str, Any]]:
    """The training rows, balanced between the two labels and capped at ``cap`` rows.

    ``oversample`` (default) gives both labels as many rows as the larger side has (at most
    ``cap // 2`` each), repeating the smaller side's rows in a fixed order: failures are often few
    and short (a model that fails at its first step), and MSE on unbalanced ±1 labels pulls every
    score toward the majority's sign. ``none`` keeps the rows as they are, only capped.
    """
    order = sorted(rows, key=lambda r: unit_hash(seed, "rows", r["trajectory_id"], r["step"]))
    if mode == "none":
        return order[:cap] if cap is not None else order
    if mode != "oversample":
        raise ValueError(f"params:reward_model.training.balance must be 'oversample' or 'none', not {mode!r}")
    pos = [r for r in order if r["label"] > 0]
    neg = [r for r in order if r["label"] <= 0]
    if not pos or not neg:
        return order[:cap] if cap is not None else order
    n = max(len(pos), len(neg)) if cap is None else min(max(len(pos), len(neg)), max(1, cap // 2))
    return [side[i % len(side)] for i in range(n) for side in (pos, neg)]


# -- model ---------------------------------------------------------------------------------------
def reward_backbone(base: ModelBundle, lora: Mapping[str, Any] | None = None) -> tuple[Any, Any]:
    """``(peft_model, tokenizer)``: the base LM's weights under a fresh scalar head, wrapped in LoRA.

    The causal LM is written to a temporary folder and read back by
    ``AutoModelForSequenceClassification`` (``num_labels=1``, ``problem_type="regression"``), which
    keeps the transformer and adds the ``score`` head; the input bundle is not modified.
    """
    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForSequenceClassification

    model = base.model
    if hasattr(model, "merge_and_unload"):  # a PEFT model: write the merged weights, keep the input as is
        import copy

        model = copy.deepcopy(model).merge_and_unload()
    with tempfile.TemporaryDirectory(prefix="lam-rm-") as folder:
        model.save_pretrained(folder)
        rm = AutoModelForSequenceClassification.from_pretrained(
            folder, num_labels=1, problem_type="regression", dtype=torch.float32)
    tokenizer = base.tokenizer
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    rm.config.pad_token_id = tokenizer.pad_token_id
    cfg = {**PAPER_LORA, **(lora or {})}
    peft_model = get_peft_model(rm, LoraConfig(task_type=TaskType.SEQ_CLS, **cfg))
    return peft_model, tokenizer


class _Rows:
    """A map-style dataset of tokenized rows for ``Trainer`` (no Arrow conversion needed)."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.items[i]


def score_steps(rm_bundle: ModelBundle, rows: Sequence[Mapping[str, Any]], batch_size: int = 8,
                max_length: int | None = None) -> list[float]:
    """The reward model's scalar for each row (higher = more like a step of a successful trajectory).

    A row is ``{messages | prompt, target | completion}``: ``step_examples`` rows, TRL
    prompt-completion rows, or a prompt with freshly sampled action text (Phase 4). Texts are
    rendered and cut exactly as in training (``max_length`` defaults to the one the model was
    trained with, from ``rm_bundle.info``).
    """
    import torch

    model, tokenizer = rm_bundle.model, rm_bundle.tokenizer
    max_length = int(max_length or rm_bundle.info.get("max_length", 1024))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    was_training = model.training
    model.eval()
    out: list[float] = []
    try:
        with torch.no_grad():
            for i in range(0, len(rows), batch_size):
                ids = [_encode(tokenizer, reward_text(tokenizer, r, rm_bundle.info), max_length)
                       for r in rows[i:i + batch_size]]
                width = max(len(x) for x in ids)
                input_ids = torch.tensor([x + [pad] * (width - len(x)) for x in ids])
                mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids])
                logits = model(input_ids=input_ids.to(model.device), attention_mask=mask.to(model.device)).logits
                out.extend(float(v) for v in logits.float().reshape(len(ids), -1)[:, 0].cpu())
    finally:
        model.train(was_training)
    return out


def heldout_metrics(labels: Sequence[float], scores: Sequence[float]) -> dict[str, float]:
    """Step-level accuracy of the score's sign and ROC AUC (NaN when only one label is present)."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(labels) > 0
    s = np.asarray(scores, dtype=float)
    if not len(y):
        return {"heldout_accuracy": math.nan, "heldout_auc": math.nan, "heldout_mse": math.nan}
    auc = float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else math.nan
    return {
        "heldout_accuracy": float(np.mean((s > 0) == y)),
        "heldout_auc": auc,
        "heldout_mse": float(np.mean((s - np.where(y, 1.0, -1.0)) ** 2)),
    }


def source_heldout_metrics(scored: Sequence[Mapping[str, Any]], source: str = "lam3") -> dict[str, Any]:
    """Accuracy and ROC AUC of the scores on one source's held-out steps (``scored``: the held-out rows
    ``train_reward_model`` returns), per step and per trajectory (its mean step score). For ``lam3``:
    LAM3's own successes against its own failures, without the expert's steps. When one class is
    missing, ``accuracy`` and ``auc`` are ``None`` and ``note`` says which class is missing."""
    rows = [r for r in scored if r.get("source") == source]
    success = {r["trajectory_id"]: float(r["label"]) > 0 for r in rows}
    pos = sum(float(r["label"]) > 0 for r in rows)
    out: dict[str, Any] = {"tasks": len({r["task_id"] for r in rows}), "trajectories": len(success),
                           "successful_trajectories": sum(success.values()),
                           "failed_trajectories": len(success) - sum(success.values()),
                           "steps": len(rows), "success_steps": pos, "failure_steps": len(rows) - pos}
    if not rows or not 0 < pos < len(rows):
        missing = "step" if not rows else "successful trajectory" if not pos else "failed trajectory"
        out.update(accuracy=None, auc=None,
                   note=f"not measured: {source}'s rollouts on the held-out tasks have no {missing} "
                        f"({out['successful_trajectories']} successful, {out['failed_trajectories']} failed "
                        "trajectories); accuracy and AUC need both classes")
        return out
    m = heldout_metrics([r["label"] for r in rows], [r["score"] for r in rows])
    out.update(accuracy=round(m["heldout_accuracy"], 6), auc=round(m["heldout_auc"], 6))
    # A trajectory's score is the mean of its steps' (every step of a failure is labelled -1, so the
    # mean is what the squared loss estimates for it): its successes against its failures, whole.
    by_traj: dict[str, list[float]] = {}
    for r in rows:
        by_traj.setdefault(r["trajectory_id"], []).append(float(r["score"]))
    ids = sorted(by_traj)
    t = heldout_metrics([1.0 if success[i] else -1.0 for i in ids], [float(np.mean(by_traj[i])) for i in ids])
    t_auc = None if math.isnan(t["heldout_auc"]) else round(t["heldout_auc"], 6)
    out.update(trajectory_accuracy=round(t["heldout_accuracy"], 6), trajectory_auc=t_auc,
               note=f"{source}'s own rollouts on {out['tasks']} held-out tasks: {out['successful_trajectories']} "
                    f"successful vs {out['failed_trajectories']} failed trajectories; accuracy/auc per step, "
                    "trajectory_accuracy/trajectory_auc per trajectory (mean step score)")
    return out


def train_reward_model(base: ModelBundle, rows: Sequence[dict[str, Any]], params: RewardTrainingParams | Mapping[str, Any]
                       ) -> tuple[ModelBundle, list[dict[str, Any]], dict[str, float], list[dict[str, Any]]]:
    """Fine-tune the reward model; return ``(merged model bundle, trainer log, metrics, held-out scores)``.

    ``params``: ``seed``, ``heldout_fraction``, ``balance`` (``oversample`` | ``none``, see
    ``balance_rows``), ``max_train_rows``, ``max_length``, ``eval_batch_size``, ``lora`` (``LoraConfig`` keys) and
    ``training`` (``TrainingArguments`` keys, passed as they are).
    """
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments, set_seed

    p = RewardTrainingParams.parse(params, "params:reward_model.training")
    seed, max_length = p.seed, p.max_length
    train_rows, held_rows = split_by_task(rows, p.heldout_fraction, seed)
    train_rows = balance_rows(train_rows, p.balance, p.max_train_rows, seed)
    if not train_rows:
        raise ValueError("the reward model has no training rows: check lam3_rollouts and train_trajectories")
    set_seed(seed)
    model, tokenizer = reward_backbone(base, p.lora)
    items = [{"input_ids": (ids := _encode(tokenizer, reward_text(tokenizer, r, base.info), max_length)),
              "attention_mask": [1] * len(ids), "labels": float(r["label"])} for r in train_rows]
    with tempfile.TemporaryDirectory(prefix="lam-rm-train-") as out_dir:
        args = TrainingArguments(**{"report_to": "none", "save_strategy": "no", "seed": seed,
                                    **p.training, "output_dir": out_dir})
        trainer = Trainer(model=model, args=args, train_dataset=_Rows(items),
                          data_collator=DataCollatorWithPadding(tokenizer))
        trainer.train()
        log = [dict(e) for e in trainer.state.log_history]
    merged = model.merge_and_unload()
    merged.eval()
    info = {"generation": "reward", "kind": "reward_model", "task": "seq_cls",
            "parent": base.generation, "base": base.info.get("base"), "adapter": None,
            "system_prompt": base.info.get("system_prompt", True),
            "compact_controls": base.info.get("compact_controls", False),
            "lora": {**PAPER_LORA, **p.lora}, "merged_lora": True,
            "max_length": max_length}
    bundle = ModelBundle(merged, tokenizer, info)
    scores = score_steps(bundle, held_rows, batch_size=p.eval_batch_size)
    metrics = heldout_metrics([r["label"] for r in held_rows], scores)
    metrics.update({"train_steps": float(len({(r["trajectory_id"], r["step"]) for r in train_rows})),
                    "train_rows": float(len(train_rows)), "heldout_steps": float(len(held_rows)),
                    "train_positive_fraction": float(np.mean([r["label"] > 0 for r in train_rows])),
                    "heldout_positive_fraction": float(np.mean([r["label"] > 0 for r in held_rows]))
                    if held_rows else math.nan})
    losses = [e["loss"] for e in log if "loss" in e]
    if losses:
        metrics.update({"first_loss": float(losses[0]), "final_loss": float(losses[-1])})
    bundle.info["metrics"] = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}
    scored = [{"task_id": r["task_id"], "trajectory_id": r["trajectory_id"], "step": r["step"], "source": r["source"],
               "label": r["label"], "score": s} for r, s in zip(held_rows, scores, strict=True)]
    logger.info("reward model: %d train steps, %d held-out steps, accuracy %.3f, AUC %.3f", len(train_rows),
                len(held_rows), metrics["heldout_accuracy"], metrics["heldout_auc"])
    return bundle, log, metrics, scored
