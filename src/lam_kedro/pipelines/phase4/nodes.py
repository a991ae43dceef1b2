"""Phase 4, learning from a reward model (paper Sec. 4.4): LAM3's failed trajectories -> LAM4.

``phase4.method: ppo`` (the paper): the reward model scores every step of every trajectory LAM3
failed, and offline PPO (``training.ppo_offline``) moves LAM3 toward the steps the RM rates
higher, with a clipped ratio and an adaptive KL penalty to LAM3. ``phase4.method: kto`` (a
baseline): TRL's KTO on the same rollouts, successful steps desirable and failed ones undesirable,
no reward model. Either way LAM4 starts from LAM3 and is the next registered generation.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from lam_kedro.agent.prompt import step_examples
from lam_kedro.agent.schema import Trajectory
from lam_kedro.agent.seeds import unit_hash
from lam_kedro.model.bundle import ModelBundle

logger = logging.getLogger(__name__)

def _params(params: dict[str, Any]) -> Any:
    """``params:phase4`` validated (``pipelines.phase4.params.Phase4Params``; imports torch, so it is
    imported when a node runs, not when the pipeline is wired)."""
    from lam_kedro.pipelines.phase4.params import Phase4Params

    return Phase4Params.parse(params, "params:phase4")


def select_steps(lam3_rollouts: list[Trajectory], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Step rows Phase 4 learns from, one per step in trajectory order.

    PPO: every step of every *failed* rollout (the paper's data). KTO: every step of every rollout,
    ``success`` saying which side it is on. ``data.max_trajectories`` caps the failed (and, for KTO,
    the successful) trajectories, seed-chosen, for the default run's time budget.
    """
    p = _params(params)
    seed, cap, method = p.data.seed, p.data.max_trajectories, p.method
    groups = [[t for t in lam3_rollouts if not t.outcome.success]]
    if method == "kto":
        groups.append([t for t in lam3_rollouts if t.outcome.success])
    rows = []
    for group in groups:
        if cap is not None and len(group) > cap:
            keep = set(sorted((t.trajectory_id for t in group), key=lambda i: unit_hash(seed, "phase4", i))[:cap])
            group = [t for t in group if t.trajectory_id in keep]
        for traj in group:
            for i, ex in enumerate(step_examples(traj)):
                rows.append({"trajectory_id": traj.trajectory_id, "task_id": traj.task.task_id, "step": i,
                             "success": traj.outcome.success, "messages": ex["messages"], "target": ex["target"]})
    if not any(not r["success"] for r in rows):
        raise ValueError(f"phase4: lam3_rollouts has no failed trajectory among {len(lam3_rollouts)}; "
                         "Phase 4 learns from LAM3's failures (raise params:reward_model.rollouts sizes)")
    logger.info("phase4 (%s): %d steps from %d trajectories", method, len(rows), len({r["trajectory_id"] for r in rows}))
    return rows


def score_steps(reward_model: ModelBundle, rows: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Each row plus the RM's ``score``, the ``reward`` in [-0.5, 0.5] and the PPO ``advantage``.

    Reward and advantage come from the same functions the PPO loop uses, so this table is what it
    trains on. KTO uses no reward model: its rows are returned with ``score`` etc. left empty.
    """
    from lam_kedro.training.ppo_offline import compute_advantages, scale_rewards
    from lam_kedro.training.reward import score_steps as rm_scores

    p = _params(params)
    if p.method != "ppo":
        return [{**r, "score": None, "reward": None, "advantage": None} for r in rows]
    args = p.ppo
    scores = rm_scores(reward_model, rows, batch_size=p.data.reward_batch_size)
    rewards = scale_rewards(scores, args.reward_scaling)
    advantages = compute_advantages(rewards, [r["trajectory_id"] for r in rows], args.gamma, args.whiten_advantages)
    return [{**r, "score": s, "reward": rw, "advantage": a}
            for r, s, rw, a in zip(rows, scores, rewards, advantages, strict=True)]


def train_lam4(
    lam3: ModelBundle, phase4_steps: list[dict[str, Any]], params: dict[str, Any]
) -> tuple[ModelBundle, dict[str, list[dict[str, float]]]]:
    """LAM4 from LAM3 by the configured method; returns the bundle and its learning curves."""
    from lam_kedro.training.sft import lora_config

    p = _params(params)
    method = p.method
    peft_config = lora_config(p.lora)
    start = time.perf_counter()
    if method == "ppo":
        from lam_kedro.training.ppo_offline import train

        model, curves = train(lam3.model, lam3.tokenizer, [{**r, "episode": r["trajectory_id"]} for r in phase4_steps],
                              [r["score"] for r in phase4_steps], p.ppo, peft_config=peft_config, info=lam3.info)
    else:
        from lam_kedro.model.formatting import sft_row
        from lam_kedro.training.kto import train_kto

        rows = [{**sft_row(r["messages"], r["target"], lam3.info), "label": bool(r["success"])} for r in phase4_steps]
        model, curves = train_kto(lam3.model, lam3.tokenizer, rows, p.kto, peft_config)
    metrics = summarize_curves(curves, len(phase4_steps), time.perf_counter() - start)
    info = {**lam3.info, "generation": "lam4", "parent": lam3.info.get("generation", "lam3"),
            "adapter": "lora" if peft_config is not None else None, "phase4": {"method": method}, "metrics": metrics}
    logger.info("phase4 (%s): %d steps, %s", method, len(phase4_steps), metrics)
    return ModelBundle(model=model, tokenizer=lam3.tokenizer, info=info), curves


def summarize_curves(curves: dict[str, list[dict[str, float]]], n_rows: int, runtime_s: float) -> dict[str, float]:
    """First and last point of each curve (``first_loss``, ``final_kl``, ...) plus data and time."""
    out: dict[str, float] = {"train_rows": float(n_rows), "train_runtime_s": float(runtime_s),
                             "steps": float(max((len(v) for v in curves.values()), default=0))}
    for name, points in curves.items():
        if points:
            key = name.replace("/", "_")
            out[f"final_{key}"] = points[-1]["value"]
            if name == "loss":
                out["first_loss"] = points[0]["value"]
    return out


def report_phase4(lam4: ModelBundle, phase4_steps: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Phase 4's report (JSON, ``dvc metrics``) and its one-point MLflow metrics (``phase4.final_kl`` ...)."""
    failed = [r for r in phase4_steps if not r["success"]]
    rewards = [r["reward"] for r in failed if r.get("reward") is not None]
    report = {
        "method": lam4.info["phase4"]["method"],
        "failed_trajectories": len({r["trajectory_id"] for r in failed}),
        "failed_steps": len(failed),
        "successful_steps": len(phase4_steps) - len(failed),
        "mean_reward": sum(rewards) / len(rewards) if rewards else None,
        "positive_reward_fraction": sum(x > 0 for x in rewards) / len(rewards) if rewards else None,
        **lam4.info["metrics"],
    }
    metrics = {k: {"value": float(v), "step": 0} for k, v in report.items() if isinstance(v, int | float)}
    return report, metrics
