"""Text generation from a ``ModelBundle``: the ``generate(messages) -> text`` every LAM policy calls.

The chat template is applied exactly as TRL applied it in training (``to_model_messages``, then
``add_generation_prompt=True``) and only the new tokens are decoded, so both decoders built on it,
plain ``make_generate`` and the constrained ``model.decoder.ActionDecoder`` (between which
``model.policy.lam_generate`` chooses for every LAM policy), see what SFT taught.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.formatting import to_model_messages

__all__ = ["encode_prompt", "make_generate", "teacher_forced_accuracy"]


def encode_prompt(bundle: ModelBundle, messages: Sequence[Mapping[str, str]]) -> list[int]:
    """Token ids of the prompt, ending with the assistant turn opener the model continues from."""
    out = bundle.tokenizer.apply_chat_template(
        to_model_messages(messages, bundle.info), add_generation_prompt=True, return_dict=True
    )
    return list(out["input_ids"])


def _max_positions(model: Any) -> int | None:
    cfg = getattr(model, "config", None)
    return getattr(cfg, "max_position_embeddings", None) if cfg is not None else None


def make_generate(
    bundle: ModelBundle,
    max_new_tokens: int = 256,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    seed: int = 0,
) -> Callable[[list[dict[str, str]]], str]:
    """A ``generate(messages) -> text`` closure over the bundle (greedy by default).

    With ``do_sample`` the n-th call is seeded with ``seed + n``, so a rollout is reproducible
    whatever else uses torch's global generator in between. A prompt longer than the model's
    context keeps its end (the request and history slots are last).
    """
    model, tokenizer = bundle.model, bundle.tokenizer
    model.eval()
    limit = _max_positions(model)
    calls = {"n": 0}
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos

    def generate(messages: list[dict[str, str]]) -> str:
        ids = encode_prompt(bundle, messages)
        if limit is not None and len(ids) + max_new_tokens > limit:
            ids = ids[-(limit - max_new_tokens):]
        input_ids = torch.tensor([ids], device=model.device)
        kwargs: dict[str, Any] = {"do_sample": do_sample}
        if do_sample:
            torch.manual_seed(seed + calls["n"])
            kwargs.update(temperature=temperature, top_p=top_p)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        calls["n"] += 1
        with torch.inference_mode():
            out = model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=max_new_tokens,
                eos_token_id=eos,
                pad_token_id=pad,
                **kwargs,
            )
        return tokenizer.decode(out[0, input_ids.shape[1]:], skip_special_tokens=True).strip()

    return generate


def teacher_forced_accuracy(
    bundle: ModelBundle, rows: Sequence[Mapping[str, Any]], batch_size: int = 8
) -> dict[str, float]:
    """Next-token accuracy on the completion tokens of prompt-completion ``rows``, teacher-forced.

    ``token_accuracy`` counts correct argmax tokens; ``sequence_accuracy`` the rows whose every
    completion token is right (the greedy output would then be exactly the target). Cheap enough
    to compare generations on hundreds of rows without generating.
    """
    model, tok = bundle.model, bundle.tokenizer
    model.eval()
    seqs: list[tuple[list[int], int]] = []
    for row in rows:
        prompt = encode_prompt(bundle, row["prompt"])
        full = tok.apply_chat_template(
            to_model_messages([*row["prompt"], *row["completion"]], bundle.info), return_dict=True
        )["input_ids"]
        seqs.append((list(full), len(prompt)))
    correct = total = exact = 0
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    for i in range(0, len(seqs), batch_size):
        batch = seqs[i: i + batch_size]
        width = max(len(s) for s, _ in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for j, (s, _) in enumerate(batch):
            ids[j, : len(s)] = torch.tensor(s)
            mask[j, : len(s)] = 1
        with torch.inference_mode():
            pred = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device)).logits.argmax(-1).cpu()
        for j, (s, start) in enumerate(batch):
            target = torch.tensor(s[start:])
            guess = pred[j, start - 1: len(s) - 1]
            hits = int((guess == target).sum())
            correct += hits
            total += len(target)
            exact += int(hits == len(target))
    return {
        "token_accuracy": correct / total if total else 0.0,
        "sequence_accuracy": exact / len(seqs) if seqs else 0.0,
    }
