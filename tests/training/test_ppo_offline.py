"""Offline PPO (Phase 4): the objective's pieces checked against numbers worked out by hand, then the loop.

Hand-checked values (eps = 0.2):
- ratio 1 everywhere -> loss = -mean(A); advantages (0.5, -0.3) -> -0.1; KL 0; clip fraction 0.
- ratio 1.5: A = +1 -> min(1.5, 1.2) = 1.2 -> loss -1.2 (clipped, zero gradient);
             A = -1 -> min(-1.5, -1.2) = -1.5 -> loss 1.5 (unclipped: the pessimistic side).
- ratio 0.5: A = +1 -> min(0.5, 0.8) = 0.5 -> loss -0.5; A = -1 -> min(-0.5, -0.8) = -0.8 -> loss 0.8.
- k3 KL: r = 2 -> 2 - 1 - ln 2 = 0.306853; r = 1/2 -> 0.5 - 1 + ln 2 = 0.193147; their mean 0.25.
- Ziegler controller (beta 0.2, target 0.1, horizon 1000, n = 100): KL 0.2 -> error clip(1, +-0.2) = 0.2 -> 0.204;
  KL 0.11 -> 0.1 -> 0.202; KL 0.05 -> clip(-0.5) = -0.2 -> 0.196; KL 0.1 -> 0.2.
"""

from __future__ import annotations

import math

import pytest
import torch
from peft import LoraConfig
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from lam_kedro.training.ppo_offline import (
    AdaptiveKLController,
    Args,
    action_logprobs,
    clipped_surrogate,
    compute_advantages,
    encode_action_example,
    kl_estimate,
    scale_rewards,
    train,
)
from lam_kedro.training.ppo_offline import _collate as collate

LN2 = math.log(2.0)


# -- a tiny causal LM and a character tokenizer, built in the test (no downloads) ---------------------
def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """One token per printable ASCII character, plus <pad> <s> </s> <unk>."""
    chars = [chr(i) for i in range(32, 127)] + ["\n"]
    vocab = {t: i for i, t in enumerate(["<pad>", "<s>", "</s>", "<unk>", *chars])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("[\\s\\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )


def tiny_causal_lm(tokenizer: PreTrainedTokenizerFast, seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config)


def _t(*rows: list[float]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)


# -- the clipped surrogate ---------------------------------------------------------------------------
def test_ratio_one_gives_minus_mean_advantage_and_no_clipping():
    logp = _t([-1.0, -2.0], [-0.5, -3.0])
    loss, stats = clipped_surrogate(logp, logp.clone(), torch.tensor([0.5, -0.3]), clip=0.2)
    assert loss.item() == pytest.approx(-0.1)
    assert stats["mean_ratio"].item() == pytest.approx(1.0)
    assert stats["clip_fraction"].item() == 0.0


@pytest.mark.parametrize(
    ("ratio", "adv", "expected_loss", "expected_grad", "clipped"),
    [
        (1.5, 1.0, -1.2, 0.0, True),    # too far up on a good action: clipped, no push further
        (1.5, -1.0, 1.5, 1.5, True),    # too far up on a bad action: unclipped, pushed back down
        (0.5, 1.0, -0.5, -0.5, True),   # too far down on a good action: unclipped, pushed back up
        (0.5, -1.0, 0.8, 0.0, True),    # too far down on a bad action: clipped, no push further
        (1.1, 1.0, -1.1, -1.1, False),  # inside 1 +- eps: the plain importance-weighted objective
    ],
)
def test_clipping_kicks_in_at_one_plus_minus_eps(ratio, adv, expected_loss, expected_grad, clipped):
    logp_old = _t([-2.0])
    logp_new = (logp_old + math.log(ratio)).requires_grad_(True)
    loss, stats = clipped_surrogate(logp_new, logp_old, torch.tensor([adv]), clip=0.2)
    loss.backward()
    assert loss.item() == pytest.approx(expected_loss, abs=1e-6)
    assert logp_new.grad.item() == pytest.approx(expected_grad, abs=1e-6)  # d loss / d logp = -ratio * A or 0
    assert stats["clip_fraction"].item() == float(clipped)
    assert stats["mean_ratio"].item() == pytest.approx(ratio)


def test_mask_limits_the_objective_to_action_tokens_and_weighs_steps_equally():
    logp_old = _t([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    logp_new = _t([5.0, math.log(1.1), 0.0], [9.0, 9.0, math.log(0.9)])  # prompt tokens moved wildly: ignored
    mask = torch.tensor([[0, 1, 1], [0, 0, 1]])
    loss, stats = clipped_surrogate(logp_new, logp_old, torch.tensor([1.0, 1.0]), clip=0.2, mask=mask)
    # row 1: mean(1.1, 1.0) = 1.05; row 2: 0.9; steps weigh equally -> -(1.05 + 0.9) / 2
    assert loss.item() == pytest.approx(-0.975)
    assert stats["clip_fraction"].item() == 0.0


# -- the KL estimate and the adaptive coefficient ------------------------------------------------------
def test_kl_is_zero_at_start_and_matches_k3_by_hand():
    logp = _t([-1.0, -2.0, -0.1])
    assert kl_estimate(logp, logp.clone()).item() == 0.0
    assert kl_estimate(_t([LN2]), _t([0.0])).item() == pytest.approx(1 - LN2, abs=1e-6)  # 0.306853
    assert kl_estimate(_t([-LN2]), _t([0.0])).item() == pytest.approx(LN2 - 0.5, abs=1e-6)  # 0.193147
    assert kl_estimate(_t([LN2, -LN2, 7.0]), _t([0.0, 0.0, 0.0]), torch.tensor([[1, 1, 0]])).item() == (
        pytest.approx(0.25, abs=1e-6)
    )


def test_adaptive_kl_coefficient_follows_ziegler_by_hand():
    def step(kl: float) -> float:
        return AdaptiveKLController(0.2, target=0.1, horizon=1000).update(kl, n_steps=100)

    assert step(0.2) == pytest.approx(0.204)   # KL above target: beta up (error clipped at +0.2)
    assert step(0.11) == pytest.approx(0.202)  # 10 % above: error 0.1
    assert step(0.05) == pytest.approx(0.196)  # below target: beta down (error clipped at -0.2)
    assert step(0.1) == pytest.approx(0.2)     # on target: unchanged
    ctl = AdaptiveKLController(0.2, target=0.1, horizon=1000)
    for _ in range(10):
        ctl.update(0.0, n_steps=100)
    assert ctl.value == pytest.approx(0.2 * 0.98**10)


# -- rewards and advantages ----------------------------------------------------------------------------
def test_rewards_are_scaled_to_plus_minus_half():
    assert scale_rewards([-1.0, 0.0, 1.0]) == pytest.approx([-0.5, 0.0, 0.5])
    assert scale_rewards([0.2, 0.6, 0.4]) == pytest.approx([-0.5, 0.5, 0.0])  # min-max over the batch
    assert scale_rewards([-3.0, 0.4, 1.0], "clip") == pytest.approx([-0.5, 0.2, 0.5])
    assert scale_rewards([0.3, 0.3]) == [0.0, 0.0]


def test_advantages_are_step_rewards_or_discounted_returns_within_a_trajectory():
    assert compute_advantages([0.5, -0.2, 0.1], ["a", "a", "b"]) == pytest.approx([0.5, -0.2, 0.1])
    assert compute_advantages([1.0, 2.0, 4.0], ["a", "a", "b"], gamma=0.5) == pytest.approx([2.0, 2.0, 4.0])
    white = compute_advantages([1.0, 2.0, 3.0], ["a", "b", "c"], whiten=True)
    assert white == pytest.approx([-1.0, 0.0, 1.0], abs=1e-6)


def test_unknown_parameter_names_the_key():
    with pytest.raises(ValueError, match=r"params:phase4\.ppo\.clip_epsilon: unknown key"):
        Args.parse({"clip_epsilon": 0.2}, "params:phase4.ppo")
    with pytest.raises(ValueError, match="reward_scaling"):
        Args(reward_scaling="zscore")


# -- encoding -----------------------------------------------------------------------------------------
def test_long_prompts_lose_their_start_never_the_action():
    tok = tiny_tokenizer()
    row = encode_action_example(tok, {"prompt": "x" * 100, "target": '{"a": 1}'}, max_length=20)
    assert len(row["input_ids"]) == 20
    action = [t for t, m in zip(row["input_ids"], row["action_mask"], strict=True) if m]
    assert tok.decode(action) == '{"a": 1}</s>'


def test_chat_template_steps_are_encoded_as_sft_and_generation_see_them():
    from lam_kedro.model.bundle import ModelBundle
    from lam_kedro.model.generation import encode_prompt
    from lam_kedro.model.tokenizer import train_bpe_tokenizer

    messages = [{"role": "system", "content": "You act in Word."}, {"role": "user", "content": "Bold the title."}]
    target = '{"function": "click_input", "control_label": "3"}'
    tok = train_bpe_tokenizer([m["content"] for m in messages] + [target] * 3, vocab_size=400)
    info = {"system_prompt": False}  # a tiny model is not shown the system message
    row = encode_action_example(tok, {"messages": messages, "target": target}, 512, info)
    n_prompt = row["action_mask"].index(1)
    assert row["input_ids"][:n_prompt] == encode_prompt(ModelBundle(None, tok, info), messages)
    action = [t for t, m in zip(row["input_ids"], row["action_mask"], strict=True) if m]
    assert tok.decode(action) == target + "<|im_end|>\n"


def test_action_logprobs_equal_the_full_softmax_on_action_tokens():
    tok = tiny_tokenizer()
    model = tiny_causal_lm(tok).eval()
    examples, _ = _examples()
    batch = collate([encode_action_example(tok, ex, 256) for ex in examples], tok.pad_token_id)
    with torch.no_grad():
        logp, mask = action_logprobs(model, batch)
        full = torch.log_softmax(model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits, -1)
    expected = torch.gather(full[:, :-1], 2, batch["input_ids"][:, 1:].unsqueeze(-1)).squeeze(-1)
    assert torch.allclose(logp * mask, expected * mask, atol=1e-5)
    assert mask.sum().item() == sum(len(ex["target"]) + 1 for ex in examples)  # each character, then </s>


# -- the loop end to end -------------------------------------------------------------------------------
PROMPTS = ["Make the title bold.", "Insert a 2x2 table."]
GOOD = ['{"function": "click_input", "control_label": "3"}', '{"function": "insert_table", "args": [2, 2]}']
BAD = ['{"function": "summary", "control_label": "9"}', '{"function": "texts", "control_label": "1"}']


def _examples() -> tuple[list[dict], list[float]]:
    examples, scores = [], []
    for i, prompt in enumerate(PROMPTS):
        for target, score in ((GOOD[i], 1.0), (BAD[i], -1.0)):
            examples.append({"prompt": prompt, "target": target, "episode": f"{i}-{score}"})
            scores.append(score)
    return examples, scores


def _action_logp(model, tok, examples) -> list[float]:
    rows = [encode_action_example(tok, ex, 256) for ex in examples]
    with torch.no_grad():
        logp, mask = action_logprobs(model.eval(), collate(rows, tok.pad_token_id))
    return (logp * mask).sum(-1).tolist()


@pytest.mark.parametrize("lora_r", [0, 4])
def test_ppo_moves_probability_toward_high_reward_actions(lora_r: int):
    tok = tiny_tokenizer()
    lam3 = tiny_causal_lm(tok)
    examples, scores = _examples()
    before = _action_logp(lam3, tok, examples)
    weights_before = {k: v.clone() for k, v in lam3.state_dict().items()}

    args = Args(epochs=6, batch_size=4, learning_rate=1e-3 if lora_r == 0 else 3e-3, kl_horizon=100, max_length=256)
    lora = LoraConfig(r=lora_r, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM") if lora_r else None
    lam4, curves = train(lam3, tok, examples, scores, args, peft_config=lora)
    after = _action_logp(lam4, tok, examples)

    for i, score in enumerate(scores):  # +1 -> reward +0.5 -> up; -1 -> -0.5 -> down
        assert (after[i] > before[i]) if score > 0 else (after[i] < before[i]), (i, before[i], after[i])
    assert all(torch.equal(v, lam3.state_dict()[k]) for k, v in weights_before.items())  # LAM3 untouched
    assert type(lam4) is LlamaForCausalLM  # LoRA merged back into a plain model

    # first update: ratio 1, KL 0, nothing clipped, loss = -mean(A) = -(0.5 - 0.5 + 0.5 - 0.5) / 4 = 0
    first = {name: points[0]["value"] for name, points in curves.items()}
    assert first["mean_ratio"] == pytest.approx(1.0, abs=1e-5)
    assert first["kl"] == pytest.approx(0.0, abs=1e-6)
    assert first["clip_fraction"] == 0.0
    assert first["policy_loss"] == pytest.approx(0.0, abs=1e-6)
    assert first["kl_coef"] == 0.2
    assert curves["kl_coef"][1]["value"] == pytest.approx(0.2 * (1 - 0.2 * 4 / 100))  # KL 0 < target: beta down
    assert [p["step"] for p in curves["kl"]] == [0, 1, 2, 3, 4, 5]  # 6 epochs x 1 minibatch
    assert curves["kl"][-1]["value"] > 0  # the policy has left LAM3


def test_same_seed_same_policy():
    tok = tiny_tokenizer()
    lam3 = tiny_causal_lm(tok)
    examples, scores = _examples()
    args = Args(epochs=1, batch_size=2, learning_rate=1e-3, max_length=256)
    a, curves_a = train(lam3, tok, examples, scores, args)
    b, curves_b = train(lam3, tok, examples, scores, args)
    assert curves_a == curves_b
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
