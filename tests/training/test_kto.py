"""KTO, Phase 4's alternative: rows from successes and failures, and TRL's KTOTrainer on a tiny model."""

from __future__ import annotations

import pytest
import torch

from lam_kedro.agent.schema import InstantiatedTask, Outcome, Step, Trajectory
from lam_kedro.model.loading import build_tiny_model
from lam_kedro.model.tokenizer import train_bpe_tokenizer
from lam_kedro.training.kto import kto_config, kto_rows, train_kto

CONTROLS = [{"label": "1", "control_text": "Home", "control_type": "TabItem"},
            {"label": "2", "control_text": "Bold", "control_type": "Button"}]


def trajectory(task_id: str, success: bool, function: str, label: str) -> Trajectory:
    """A one-step LAM3 rollout, as ``lam3_rollouts`` holds them."""
    task = InstantiatedTask(task_id=task_id, task=f"Make the word in {task_id} bold", plan=["Click Bold"],
                            template="report", family="bold_text", params={"text": "Sales"})
    step = Step(index=0, observation={"controls": CONTROLS}, thought="bold it", control_label=label,
                control_name="Bold", function=function, args={}, status="FINISH")
    outcome = Outcome(success=success, reason="checked", terminated=True, truncated=False, steps=1,
                      invalid_actions=0, duration_s=0.1)
    return Trajectory(trajectory_id=f"{task_id}-lam3-a0", task=task, steps=[step], outcome=outcome, actor="lam3")


def rollouts() -> list[Trajectory]:
    return [trajectory(f"t{i}", i % 2 == 0, "click_input" if i % 2 == 0 else "texts", "2" if i % 2 == 0 else "1")
            for i in range(4)]


def tiny_bundle_parts():
    rows = kto_rows(rollouts(), {"system_prompt": False})
    texts = [m["content"] for r in rows for m in r["prompt"] + r["completion"]]
    tok = train_bpe_tokenizer(texts, vocab_size=500)
    model = build_tiny_model(tok, config={"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                                          "num_attention_heads": 4, "num_key_value_heads": 4,
                                          "max_position_embeddings": 1024})
    return model, tok


def test_desirable_steps_are_the_successful_ones():
    rows = kto_rows(rollouts(), {"system_prompt": False})
    assert [r["label"] for r in rows] == [True, False, True, False]
    assert all(m["role"] == "user" for r in rows for m in r["prompt"])  # system prompt left out as info says
    assert rows[0]["completion"][0]["role"] == "assistant"
    assert '"function": "click_input"' in rows[0]["completion"][0]["content"]


def test_config_keeps_cpu_defaults_and_names_bad_keys():
    cfg = kto_config({"beta": 0.2, "per_device_train_batch_size": 2}, "/tmp/unused")
    assert (cfg.beta, cfg.bf16, cfg.activation_checkpointing, cfg.report_to) == (0.2, False, False, [])
    with pytest.raises(ValueError, match="KTOConfig"):
        kto_config({"betta": 0.2}, "/tmp/unused")


@pytest.mark.parametrize("lora", [False, True])
def test_kto_runs_on_tiny_sizes_and_changes_the_model(lora: bool):
    model, tok = tiny_bundle_parts()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rows = kto_rows(rollouts(), {"system_prompt": False})
    peft = None
    if lora:
        from peft import LoraConfig

        peft = LoraConfig(r=4, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM")
    params = {"seed": 0, "num_train_epochs": 2, "per_device_train_batch_size": 2, "learning_rate": 1e-3,
              "max_length": 512, "beta": 0.1, "use_cpu": True}
    trained, curves = train_kto(model, tok, rows, params, peft_config=peft)

    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # LAM3 untouched
    changed = [k for k, v in trained.state_dict().items() if not torch.equal(v, before[k])]
    assert changed, "KTO left every weight as it was"
    assert type(trained) is type(model)  # LoRA merged back
    assert curves["loss"] and all(p["value"] == p["value"] for p in curves["loss"])  # logged, not NaN
    assert "kl" in curves


def test_kto_needs_both_labels():
    model, tok = tiny_bundle_parts()
    rows = [r for r in kto_rows(rollouts(), None) if r["label"]]
    with pytest.raises(ValueError, match="desirable and undesirable"):
        train_kto(model, tok, rows, {"per_device_train_batch_size": 2})
