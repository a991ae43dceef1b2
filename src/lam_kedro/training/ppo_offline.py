"""Phase 4 (paper Sec. 4.4): offline PPO of LAM3 on its failed trajectories, giving LAM4.

One algorithm in one file, to be read top to bottom against the paper (CleanRL's shape). TRL no
longer ships PPO, and the paper's variant is *offline* (no new rollouts), so the loop is ours:

1. **Data.** Every step of every trajectory LAM3 *failed* in the environment. The state ``s_t`` is
   the step prompt (``agent.prompt.step_examples``), the action ``a_t`` is the step's JSON output.
2. **Rewards.** The reward model scores each ``(s_t, a_t)``; scores are scaled to ``[-0.5, 0.5]``
   (``scale_rewards``). The RM was trained on +1 (step of a success) / -1 (step of a failure).
3. **Advantages.** ``A_t`` is the scaled step reward itself (``gamma = 0``, the default): the paper
   has no critic and scores every action with the RM, so the RM score *is* the per-action signal,
   and the ``[-0.5, 0.5]`` scaling is what makes it usable directly. With ``minmax`` scaling the
   midpoint of the batch's scores is the baseline (0), so the relatively good steps of a failed
   trajectory are reinforced and the relatively bad ones suppressed. ``gamma > 0`` uses discounted
   returns over the rest of the trajectory instead; ``whiten`` standardises them (both off by default).
4. **Behaviour log-probs.** ``log pi_LAM3(a_t | s_t)`` per action token, computed once with LAM3
   frozen. LAM3 collected the data, so it is both the behaviour policy of the ratio and the
   reference policy of the KL penalty.
5. **Objective** (Schulman et al. 2017, per action token, averaged per step then over steps)::

       ratio  = exp(logp_theta - logp_LAM3)
       L_clip = -E[min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)]
       L      = L_clip + beta * KL(pi_LAM3 || pi_theta)

   The KL is estimated on the data's own tokens (drawn from LAM3) with Schulman's ``k3`` estimator
   ``(ratio - 1) - log ratio``: unbiased under LAM3's samples and never negative.
6. **beta** adapts toward a target KL (Ziegler et al. 2019, ``AdaptiveKLController``).
7. **Optimisation.** ``epochs`` passes of shuffled minibatches, Adam(W), gradient clipping.

The behaviour policy is never refreshed: in the offline setting every epoch's ratio is against LAM3,
so the clip bounds how far LAM4 moves from the data-collecting policy, as the trust region intends.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Sequence
from typing import Any, Literal

import torch
from pydantic import Field

from lam_kedro.model.config import Params
from lam_kedro.model.formatting import to_model_messages

__all__ = [
    "Args",
    "AdaptiveKLController",
    "clipped_surrogate",
    "kl_estimate",
    "masked_mean",
    "scale_rewards",
    "compute_advantages",
    "action_logprobs",
    "encode_action_example",
    "train",
]


class Args(Params):
    """Hyper-parameters of offline PPO: ``parameters_phase4.yml``'s ``phase4.ppo`` (its values are the
    defaults); an unknown key is an error naming it."""

    seed: int = Field(0, description="Seed of torch, Python's random and the minibatch order.")
    epochs: int = Field(4, ge=1, description="Passes over the failed-trajectory steps.")
    learning_rate: float = Field(1e-5, gt=0, description="AdamW learning rate.")
    batch_size: int = Field(8, ge=1, description="Steps (state-action pairs) per optimiser step.")
    clip_eps: float = Field(0.2, gt=0, description="PPO clip range: the ratio is clipped to 1 +- eps.")
    kl_init: float = Field(0.2, ge=0, description="Initial KL coefficient beta.")
    kl_target: float = Field(0.1, gt=0, description="Target KL(LAM3 || policy) of the adaptive controller.")
    kl_horizon: int = Field(10000, ge=1, description="Ziegler et al.'s horizon: samples over which beta may "
                                                     "change by ~e^0.2.")
    adaptive_kl: bool = Field(True, description="Adapt beta toward kl_target; False keeps kl_init.")
    reward_scaling: Literal["minmax", "clip"] = Field(
        "minmax", description="How RM scores become rewards in [-0.5, 0.5]: 'minmax' maps the batch's lowest "
        "score to -0.5 and highest to +0.5; 'clip' takes clip(score, -1, 1) / 2 (the RM's +-1 targets mapped "
        "to +-0.5).")
    gamma: float = Field(0.0, ge=0, le=1, description="Discount of returns over the rest of the trajectory; "
                                                      "0 = per-step reward.")
    whiten_advantages: bool = Field(False, description="Standardise advantages to mean 0, std 1.")
    max_length: int = Field(1024, ge=8, description="Tokens per example; the prompt is cut from the left, "
                                                    "never the action.")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient-norm clip per optimiser step.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")


# -- 2. rewards: RM scores -> [-0.5, 0.5] ---------------------------------------------------------
def scale_rewards(scores: Sequence[float], method: str = "minmax") -> list[float]:
    """The paper's reward scaling to ``[-0.5, 0.5]`` (see ``Args.reward_scaling``)."""
    if method == "clip":
        return [max(-1.0, min(1.0, float(s))) / 2 for s in scores]
    lo, hi = min(scores), max(scores)
    if hi - lo < 1e-12:  # every step scored alike: no step is better than another
        return [0.0 for _ in scores]
    return [(float(s) - lo) / (hi - lo) - 0.5 for s in scores]


# -- 3. advantages --------------------------------------------------------------------------------
def compute_advantages(
    rewards: Sequence[float], episodes: Sequence[str], gamma: float = 0.0, whiten: bool = False
) -> list[float]:
    """``A_t = sum_k gamma^k r_{t+k}`` within each episode (steps in order); ``gamma=0`` gives ``r_t``."""
    adv = [0.0] * len(rewards)
    running: dict[str, float] = {}
    for i in range(len(rewards) - 1, -1, -1):  # backwards, so each step sees its episode's future
        running[episodes[i]] = float(rewards[i]) + gamma * running.get(episodes[i], 0.0)
        adv[i] = running[episodes[i]]
    if whiten and len(adv) > 1:
        mean = sum(adv) / len(adv)
        std = math.sqrt(sum((a - mean) ** 2 for a in adv) / (len(adv) - 1))
        adv = [(a - mean) / (std + 1e-8) for a in adv]
    return adv


# -- 5. objective: small pure functions, checked by hand in tests/training/test_ppo_offline.py ----
def masked_mean(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over each row's masked (action) tokens, then over rows: every step weighs the same."""
    if mask is None:
        return x.mean()
    mask = mask.to(x.dtype)
    per_row = (x * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)
    return per_row.mean()


def clipped_surrogate(
    logp_new: torch.Tensor,
    logp_old: torch.Tensor,
    advantages: torch.Tensor,
    clip: float = 0.2,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """PPO's clipped policy loss ``-E[min(ratio A, clip(ratio, 1-eps, 1+eps) A)]``.

    ``logp_*`` are per-token ``[batch, tokens]``; ``advantages`` is per step ``[batch]`` and is
    shared by every token of the step's action. Returns the loss and detached statistics
    (``ratio`` mean and the fraction of tokens whose ratio is outside ``1 +- clip``).
    """
    ratio = torch.exp(logp_new - logp_old)
    adv = advantages.unsqueeze(-1).expand_as(ratio)
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip) * adv
    loss = -masked_mean(torch.minimum(unclipped, clipped), mask)
    with torch.no_grad():
        outside = ((ratio - 1.0).abs() > clip).to(ratio.dtype)
        stats = {"mean_ratio": masked_mean(ratio, mask), "clip_fraction": masked_mean(outside, mask)}
    return loss, stats


def kl_estimate(logp_new: torch.Tensor, logp_ref: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """``KL(pi_ref || pi_new)`` on tokens sampled from ``pi_ref``: the k3 estimator ``(r - 1) - log r``.

    ``r = pi_new / pi_ref``; each term is >= 0 and 0 exactly when the policies agree on the token.
    """
    log_r = logp_new - logp_ref
    return masked_mean(torch.exp(log_r) - 1.0 - log_r, mask)


class AdaptiveKLController:
    """Ziegler et al. (2019) adaptive KL coefficient, as in their lm-human-preferences code.

    ``e = clip(KL / target - 1, -0.2, 0.2)``; ``beta <- beta * (1 + e * n_steps / horizon)``: beta
    grows while the policy drifts further than the target and shrinks while it stays closer.
    """

    def __init__(self, init_kl_coef: float, target: float, horizon: int) -> None:
        self.value = float(init_kl_coef)
        self.target = float(target)
        self.horizon = int(horizon)

    def update(self, current_kl: float, n_steps: int) -> float:
        proportional_error = max(-0.2, min(0.2, current_kl / self.target - 1.0))
        self.value *= 1.0 + proportional_error * n_steps / self.horizon
        return self.value


class FixedKLController:
    """A constant beta (``adaptive_kl: false``), with the same interface."""

    def __init__(self, kl_coef: float) -> None:
        self.value = float(kl_coef)

    def update(self, current_kl: float, n_steps: int) -> float:
        return self.value


# -- 1. data: one step -> token ids and the mask of its action tokens ----------------------------
def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def encode_action_example(
    tokenizer: Any, example: dict[str, Any], max_length: int, info: dict[str, Any] | None = None
) -> dict[str, list[int]]:
    """``input_ids`` of prompt + action and ``action_mask`` (1 on the action's tokens).

    With a chat template the step is rendered exactly as TRL's SFT rendered it in Phases 2-3 (the
    messages ``formatting.to_model_messages`` keeps, the action as the assistant turn; the action
    tokens are what follows the generation prompt, end-of-turn included), so the log-probabilities
    are those of the action LAM3 actually emitted. Without one: prompt, newline, action, EOS. A
    too-long example loses prompt tokens from the left (the oldest context), never action tokens.
    """
    if getattr(tokenizer, "chat_template", None) and example.get("messages"):
        messages = to_model_messages(example["messages"], info)
        prompt_ids = list(tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                        return_dict=True)["input_ids"])
        full = [*messages, {"role": "assistant", "content": example["target"]}]
        full_ids = list(tokenizer.apply_chat_template(full, return_dict=True)["input_ids"])
        n = _common_prefix(prompt_ids, full_ids)
        prompt_ids, action_ids = full_ids[:n], full_ids[n:]
    else:
        prompt_ids = tokenizer(example["prompt"] + "\n", add_special_tokens=False)["input_ids"]
        action_ids = tokenizer(example["target"] + (tokenizer.eos_token or ""), add_special_tokens=False)["input_ids"]
        if tokenizer.bos_token_id is not None:
            prompt_ids = [tokenizer.bos_token_id, *prompt_ids]
    action_ids = action_ids[: max_length - 1]
    prompt_ids = prompt_ids[max(0, len(prompt_ids) + len(action_ids) - max_length):]
    return {"input_ids": prompt_ids + action_ids, "action_mask": [0] * len(prompt_ids) + [1] * len(action_ids)}


# -- 4. log-probabilities of the action tokens ----------------------------------------------------
def _collate(rows: Sequence[dict[str, Any]], pad_id: int, device: Any = "cpu") -> dict[str, torch.Tensor]:
    """Right-pad ``input_ids`` / ``action_mask`` of a minibatch into tensors on ``device``."""
    width = max(len(r["input_ids"]) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(rows), width), dtype=torch.long)
    act = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r["input_ids"])
        ids[i, :n] = torch.tensor(r["input_ids"])
        attn[i, :n] = 1
        act[i, :n] = torch.tensor(r["action_mask"])
    return {"input_ids": ids.to(device), "attention_mask": attn.to(device), "action_mask": act.to(device)}


def action_logprobs(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token ``log pi(token | prefix)`` ``[B, T-1]`` and the mask of the action tokens among them.

    Position ``t`` predicts token ``t + 1``. Only positions that predict some row's action token go
    through the LM head (``logits_to_keep``): prompts are long and the vocabulary wide, actions short.
    Other positions are 0 and masked out.
    """
    mask = batch["action_mask"][:, 1:]
    keep = mask.any(0).nonzero().squeeze(-1)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=keep).logits
    logp = torch.log_softmax(logits.float(), dim=-1)
    targets = batch["input_ids"][:, 1:][:, keep]
    token_logp = torch.zeros(mask.shape, dtype=logp.dtype, device=logp.device)
    token_logp[:, keep] = torch.gather(logp, 2, targets.unsqueeze(-1)).squeeze(-1)
    return token_logp, mask


def _pad_logp(values: Sequence[torch.Tensor], width: int) -> torch.Tensor:
    out = torch.zeros((len(values), width))
    for i, v in enumerate(values):
        out[i, : len(v)] = v
    return out


# -- the loop ---------------------------------------------------------------------------------------
def train(
    model: Any,
    tokenizer: Any,
    examples: Sequence[dict[str, Any]],
    scores: Sequence[float],
    args: Args,
    peft_config: Any | None = None,
    info: dict[str, Any] | None = None,
) -> tuple[Any, dict[str, list[dict[str, float]]]]:
    """Offline PPO from the behaviour policy ``model`` (LAM3) to a new policy (LAM4).

    ``examples`` are step rows in trajectory order (``{messages, prompt, target, episode}``, as
    ``agent.prompt.step_examples`` gives plus the trajectory id), ``scores`` the RM's score per row.
    ``peft_config`` (PEFT's ``LoraConfig``) trains adapters instead of every weight; ``info`` is
    the bundle's provenance, which says how prompts are shown (``formatting.to_model_messages``).
    ``model`` is not modified: the policy is a copy. Returns the policy (LoRA merged) and the
    learning curves ``{name: [{step, value}]}``.
    """
    if len(examples) != len(scores) or not examples:
        raise ValueError(f"phase4: {len(examples)} examples but {len(scores)} reward scores; expected equal, > 0")
    random.seed(args.seed)
    torch.manual_seed(args.seed)

    # 1. data: tokenise each step; the action mask marks the tokens of a_t
    rows = [encode_action_example(tokenizer, ex, args.max_length, info) for ex in examples]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    device = next(model.parameters()).device

    # 2-3. rewards in [-0.5, 0.5], then advantages
    rewards = scale_rewards(scores, args.reward_scaling)
    episodes = [str(ex.get("episode", i)) for i, ex in enumerate(examples)]
    advantages = torch.tensor(compute_advantages(rewards, episodes, args.gamma, args.whiten_advantages))

    # 4. behaviour (= reference) log-probs from the frozen LAM3, once, before any update
    was_training = model.training
    model.eval()  # no dropout; restored below, so the caller's LAM3 is left as it came
    logp_behaviour: list[torch.Tensor] = []
    with torch.no_grad():
        for start in range(0, len(rows), args.batch_size):
            chunk = rows[start : start + args.batch_size]
            token_logp, _ = action_logprobs(model, _collate(chunk, pad_id, device))
            logp_behaviour.extend(token_logp[i, : len(r["input_ids"]) - 1].cpu() for i, r in enumerate(chunk))
    model.train(was_training)

    # the policy: a copy of LAM3, fully trainable or with LoRA adapters (zero-initialised, so pi_theta = LAM3)
    policy = copy.deepcopy(model)
    if peft_config is not None:
        from peft import get_peft_model

        policy = get_peft_model(policy, peft_config)
    policy.eval()  # no dropout: the ratio must be exactly 1 before the first update
    params = [p for p in policy.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.learning_rate, weight_decay=args.weight_decay)
    kl_ctl = (AdaptiveKLController(args.kl_init, args.kl_target, args.kl_horizon) if args.adaptive_kl
              else FixedKLController(args.kl_init))

    # 5-7. epochs of minibatch updates on the clipped objective plus the adaptive KL penalty
    curves: dict[str, list[dict[str, float]]] = {
        k: [] for k in ("loss", "policy_loss", "kl", "kl_coef", "clip_fraction", "mean_ratio", "advantage")
    }
    order_rng = random.Random(args.seed)
    step = 0
    for _epoch in range(args.epochs):
        order = list(range(len(rows)))
        order_rng.shuffle(order)
        for start in range(0, len(order), args.batch_size):
            idx = order[start : start + args.batch_size]
            batch = _collate([rows[i] for i in idx], pad_id, device)
            logp_new, mask = action_logprobs(policy, batch)
            logp_old = _pad_logp([logp_behaviour[i] for i in idx], logp_new.shape[1]).to(device)
            adv = advantages[idx].to(device)

            policy_loss, stats = clipped_surrogate(logp_new, logp_old, adv, args.clip_eps, mask)
            kl = kl_estimate(logp_new, logp_old, mask)
            beta = kl_ctl.value
            loss = policy_loss + beta * kl

            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, args.max_grad_norm)
            optimizer.step()
            kl_ctl.update(kl.item(), n_steps=len(idx))

            for name, value in (("loss", loss), ("policy_loss", policy_loss), ("kl", kl), ("kl_coef", beta),
                                ("clip_fraction", stats["clip_fraction"]), ("mean_ratio", stats["mean_ratio"]),
                                ("advantage", adv.mean())):
                curves[name].append({"step": step, "value": value.item() if torch.is_tensor(value) else value})
            step += 1

    if peft_config is not None:
        policy = policy.merge_and_unload()
    return policy, curves
