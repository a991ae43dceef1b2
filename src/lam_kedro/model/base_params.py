"""``params:base_model`` as a pydantic model (defaults: ``conf/base/parameters_base_model.yml``).

Light on purpose (no torch): the base_model pipeline's wiring and the parameter check import it;
``model.loading.build_base_model`` builds what it describes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lam_kedro.model.config import Params

__all__ = ["BaseModelParams", "TokenizerParams"]


class TokenizerParams(Params):
    """The byte-level BPE tokenizer of ``kind: tiny``, trained on plans and step prompts/targets."""

    vocab_size: int = Field(4096, ge=256)
    min_frequency: int = Field(2, ge=1)
    max_token_length: int = Field(32, ge=1)
    pretokenize: Literal["words", "lines"] = Field(
        "words", description="words: merges stay inside a word (names are copyable); lines: merges cross spaces")
    max_trajectories: int | None = Field(None, ge=0, description="trajectories in the corpus (null: all)")


def _tiny_config() -> dict[str, Any]:
    return {"hidden_size": 192, "intermediate_size": 512, "num_hidden_layers": 3, "num_attention_heads": 4,
            "num_key_value_heads": 4, "max_position_embeddings": 2048, "tie_word_embeddings": True,
            "attention_dropout": 0.0}


class BaseModelParams(Params):
    """The model every LAM generation starts from; ``kind`` says which keys matter:
    ``tiny`` (architecture, config, tokenizer), ``gguf`` (package, gguf_file, cache_dir), ``hf`` (path)."""

    name: str = Field("tiny", description="the base's name in every generation's info")
    kind: Literal["tiny", "gguf", "hf"] = "tiny"
    dtype: str = Field("float32", description="float32 | bfloat16 | float16")
    seed: int = 0
    system_prompt: bool = Field(False, description="show the model the long system prompt (training and serving)")
    compact_controls: bool = Field(True, description="the control list as label|control_text|control_type lines")
    architecture: str = Field("llama", description="a transformers model type with a causal LM head")
    config: dict[str, Any] = Field(default_factory=_tiny_config, description="the tiny model's transformers config")
    tokenizer: TokenizerParams = Field(default_factory=TokenizerParams)
    describe_trajectories: int = Field(50, ge=0, description="trajectories measured for base_model.json")
    package: str | None = Field(None, description="kind gguf: an installed package shipping the .gguf")
    gguf_file: str | None = Field(None, description="kind gguf: the file inside the package (null: the only one)")
    cache_dir: str | None = Field(None, description="kind gguf: where the de-quantized folder is cached")
    path: str | None = Field(None, description="kind hf: a model folder (or a hub id with network access)")
