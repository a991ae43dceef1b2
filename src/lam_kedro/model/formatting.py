"""Examples -> TRL's conversational prompt-completion rows, with the message formatting inference uses.

``to_model_messages`` is the one place that decides what a model is shown (e.g. a tiny model is
not shown the long system prompt it could not use anyway): training rows, ``generation`` and so
every policy and the server go through it, so a model is served what it was trained on.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lam_kedro.agent.prompt import control_lines, plan_messages, render_plan_target, step_examples

__all__ = ["compact_controls", "to_model_messages", "sft_row", "plan_rows", "step_rows", "train_eval_split"]


def compact_controls(content: str) -> str:
    """The control list of a step prompt as ``label|control_text|control_type`` lines.

    The same facts in a third of the characters, and each name stands alone between separators,
    so a tokenizer splits it as it splits the name in the answer's JSON or in a plan step: the
    model can match what it writes against what the prompt lists. Other lines are unchanged.
    """
    slot = control_lines(content)
    if slot is None:
        return content
    head, lines, found = slot
    for i, control in found:
        lines[i] = "|".join(control[k].replace("\n", " ") for k in ("label", "control_text", "control_type"))
    return head + "\n".join(lines)


def to_model_messages(messages: Sequence[Mapping[str, str]], info: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The messages as the model sees them: without the system message when ``info["system_prompt"]`` is False,
    and with the control list compacted (``compact_controls``) when ``info["compact_controls"]`` is True."""
    info = info or {}
    keep_system = info.get("system_prompt", True) is not False
    compact = bool(info.get("compact_controls", False))
    return [{"role": m["role"], "content": compact_controls(m["content"]) if compact and m["role"] == "user"
             else m["content"]} for m in messages if keep_system or m["role"] != "system"]


def sft_row(messages: Sequence[Mapping[str, str]], target: str, info: Mapping[str, Any] | None) -> dict[str, Any]:
    """One conversational prompt-completion row: TRL masks the prompt, the loss is on ``target`` only."""
    return {
        "prompt": to_model_messages(messages, info),
        "completion": [{"role": "assistant", "content": target}],
    }


def plan_rows(task_plans: Iterable[Any], info: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Phase 1: task -> numbered plan."""
    return [sft_row(plan_messages(p), render_plan_target(p.plan), info) for p in task_plans]


def step_rows(trajectories: Iterable[Any], info: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Phases 2 and 3: every step of every trajectory -> the step's action JSON."""
    return [sft_row(ex["messages"], ex["target"], info) for traj in trajectories for ex in step_examples(traj)]


def train_eval_split(
    rows: Sequence[dict[str, Any]], eval_fraction: float, seed: int = 0, max_train: int | None = None,
    max_eval: int | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A seeded shuffle into (train, eval) rows; ``max_*`` cap each side (the default run's time budget)."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_eval = int(round(len(rows) * eval_fraction)) if eval_fraction > 0 else 0
    if eval_fraction > 0 and len(rows) > 1:
        n_eval = max(1, n_eval)
    eval_rows = [rows[i] for i in order[:n_eval]]
    train_rows = [rows[i] for i in order[n_eval:]]
    if max_train is not None:
        train_rows = train_rows[:max_train]
    if max_eval is not None:
        eval_rows = eval_rows[:max_eval]
    return train_rows, eval_rows
