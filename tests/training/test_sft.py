"""SFT through TRL: completion-only loss, a falling loss, same inputs -> same model, resume after a kill."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lam_kedro.model.formatting import plan_rows, step_rows
from lam_kedro.model.loading import build_base_model
from lam_kedro.training.sft import build_trainer, lora_config, sft_config, train_sft
from tests.training.phase12_data import base_params, expert_data, sft_params


@pytest.fixture(scope="module")
def base():
    plans, trajs = expert_data()
    return build_base_model(plans, trajs, base_params())


@pytest.fixture(scope="module")
def rows(base):
    """Plan rows: short (about 80 tokens), so a dozen steps take seconds."""
    plans, _ = expert_data()
    return plan_rows(plans, base.info)


@pytest.fixture(scope="module")
def steps(base):
    _, trajs = expert_data()
    return step_rows(trajs, base.info)


def _same_weights(a, b, atol: float = 1e-5) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.allclose(sa[k], sb[k], atol=atol) for k in sa)


def test_config_is_trls_own_with_cpu_defaults_and_names_bad_keys(tmp_path: Path):
    cfg = sft_config({"output_dir": str(tmp_path), "max_length": 256})
    assert (cfg.bf16, cfg.gradient_checkpointing, cfg.report_to, cfg.max_length) == (False, False, [], 256)
    with pytest.raises(ValueError, match="SFTConfig"):
        sft_config({"output_dir": str(tmp_path), "max_seq_length": 256})
    with pytest.raises(ValueError, match="output_dir"):
        sft_config({})
    assert lora_config(None) is None and lora_config({"r": 4, "merge": True}).r == 4


@pytest.mark.parametrize("kind", ["plan", "step"])
def test_prompt_tokens_are_masked_and_completion_tokens_kept(kind, base, rows, steps, tmp_path: Path):
    some = (rows if kind == "plan" else steps)[:4]
    trainer = build_trainer(base, some, [], sft_params(str(tmp_path)))
    for example, row in zip(trainer.train_dataset, some, strict=True):
        labels, ids = example["labels"], example["input_ids"]
        prompt = base.tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True,
                                                    return_dict=True)["input_ids"]
        assert all(label == -100 for label in labels[: len(prompt)])
        kept = [i for i, label in zip(ids, labels, strict=True) if label != -100]
        assert base.tokenizer.decode(kept) == row["completion"][0]["content"] + "<|im_end|>\n"


def test_loss_falls_and_a_rerun_gives_the_same_model(base, rows, tmp_path: Path):
    params = sft_params(str(tmp_path / "ckpt"), max_steps=12, eval_on_start=True)
    lam, curves = train_sft(base, rows, rows[:8], params, "lam2")
    again, _ = train_sft(base, rows, rows[:8], params, "lam2")
    losses = [p["value"] for p in curves["loss"]]
    assert losses[-1] < losses[0] - 0.5, losses
    assert curves["eval_loss"][-1]["value"] < curves["eval_loss"][0]["value"]
    assert lam.info["parent"] == "base" and lam.info["metrics"]["steps"] == 12
    assert _same_weights(lam.model, again.model)
    assert not _same_weights(lam.model, base.model)  # the input bundle is left as it was
    assert not (tmp_path / "ckpt").exists()  # finished: checkpoints removed (keep_checkpoints: false)


def test_a_killed_run_resumes_from_its_checkpoint(base, rows, tmp_path: Path):
    ckpt = str(tmp_path / "ckpt")
    full, _ = train_sft(base, rows, [], sft_params(str(tmp_path / "other"), max_steps=8), "lam2")
    # "killed" after step 4: the checkpoint it saved is still on disk
    train_sft(base, rows, [], {**sft_params(ckpt, max_steps=4), "keep_checkpoints": True}, "lam2")
    assert (tmp_path / "ckpt/checkpoint-4").is_dir()
    resumed, curves = train_sft(base, rows, [], sft_params(ckpt, max_steps=8), "lam2")
    assert resumed.info["resumed_from"] == "checkpoint-4"
    assert [p["step"] for p in curves["loss"]] == [2, 4, 6, 8]  # steps 2, 4 come from the first run's state
    assert _same_weights(resumed.model, full.model, atol=1e-4)


def test_a_checkpoint_of_other_data_is_not_resumed(base, rows, tmp_path: Path):
    ckpt = str(tmp_path / "ckpt")
    train_sft(base, rows[:12], [], {**sft_params(ckpt, max_steps=4), "keep_checkpoints": True}, "lam2")
    other, _ = train_sft(base, rows[12:], [], sft_params(ckpt, max_steps=4), "lam2")
    assert other.info["resumed_from"] is None


def test_lora_trains_an_adapter_and_merges_it(base, rows, tmp_path: Path):
    params = {**sft_params(str(tmp_path / "ckpt"), max_steps=4),
              "lora": {"r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"], "merge": True}}
    lam1, _ = train_sft(base, rows, [], params, "lam1")
    assert lam1.info["adapter"] == "lora"
    assert lam1.info["metrics"]["trainable_parameters"] < base.info["parameters"] / 5
    assert not hasattr(lam1.model, "peft_config")  # merged: a plain model the next phase starts from
