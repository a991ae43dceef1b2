"""Batched decoding for a server: the forward passes of concurrent requests run as one.

A constrained step (``model.decoder``) is ~20 forward passes of a few tokens each; on a CPU each
pass of the tiny LAM costs mostly the framework's fixed overhead, not arithmetic, so a server that
runs one request's passes at a time spends its cores on overhead. ``ForwardBatcher`` lets many
decoders (one per request, each in its own thread) share one model: a decoder hands its pass in
(``run``) and waits; a model thread gathers the passes of every decoder that is waiting and runs
them as one packed forward (``PackedLlama``), then wakes each with its own logits. Nothing of the
decoder's logic changes: it still feeds a forced run, a chosen token, a scored run or a tree of
candidates (``scoring.TokenScoring``), and its answer is the one it gives alone (up to float
rounding, ~1e-6 of a logit; ``tests/model/test_batching.py`` holds the answers equal).

``PackedLlama`` is the Llama forward (the tiny LAM's and SmolLM2's architecture) over a *ragged*
batch: the new tokens of all requests are packed into one matrix for the projections and the MLP
(one matrix product per weight for the whole batch), and each request attends to its own KV cache
(``RaggedCache``: per layer a growing buffer, cropped and copied like ``transformers.DynamicCache``
so ``model.prefix_caches`` pools it). Other architectures are not batched
(``batching_unsupported`` says why; ``lam serve`` then runs replicas side by side).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

logger = logging.getLogger(__name__)

__all__ = ["ForwardBatcher", "PackedLlama", "RaggedCache", "batching_unsupported"]


class RaggedCache:
    """One request's KV cache for ``PackedLlama``: per layer a ``[2, kv_heads, capacity, head_dim]``
    buffer of which the first ``get_seq_length()`` positions hold keys and values."""

    def __init__(self, layers: int, kv_heads: int, head_dim: int, dtype: torch.dtype, capacity: int = 512) -> None:
        self._shape = (kv_heads, head_dim)
        self._dtype = dtype
        self.buffers = [torch.empty(2, kv_heads, capacity, head_dim, dtype=dtype) for _ in range(layers)]
        self.length = 0

    def get_seq_length(self) -> int:
        return self.length

    def crop(self, max_length: int) -> None:
        """``DynamicCache.crop``: keep ``max_length`` positions, or drop ``-max_length`` when negative."""
        keep = self.length + max_length if max_length < 0 else max_length
        self.length = max(0, min(self.length, keep))

    def reserve(self, extra: int) -> None:
        """Room for ``extra`` more positions (capacity doubles, what is held is copied)."""
        need = self.length + extra
        capacity = self.buffers[0].shape[2]
        if need <= capacity:
            return
        while capacity < need:
            capacity *= 2
        grown = []
        for buf in self.buffers:
            new = torch.empty(2, self._shape[0], capacity, self._shape[1], dtype=self._dtype)
            new[:, :, : self.length] = buf[:, :, : self.length]
            grown.append(new)
        self.buffers = grown

    def compact(self) -> RaggedCache:
        """This cache, or a copy of what it holds in tight buffers when most of its capacity is unused
        (before it is pooled: a pool entry keeps its buffers)."""
        return self if self.buffers[0].shape[2] <= self.length + 256 else self.copy_prefix(self.length)

    def copy_prefix(self, length: int) -> RaggedCache:
        """A copy of the first ``length`` positions (``model.prefix_caches`` hands these out)."""
        length = max(0, min(length, self.length))
        out = RaggedCache(len(self.buffers), *self._shape, dtype=self._dtype, capacity=max(length + 128, 256))
        for src, dst in zip(self.buffers, out.buffers, strict=True):
            dst[:, :, :length] = src[:, :, :length]
        out.length = length
        return out


def batching_unsupported(model: Any) -> str | None:
    """Why ``PackedLlama`` cannot run ``model`` (``None``: it can)."""
    config = getattr(model, "config", None)
    kind = getattr(config, "model_type", None)
    if kind != "llama":
        return f"batched decoding supports Llama models, not {kind!r}"
    inner = getattr(model, "model", None)
    rotary = getattr(inner, "rotary_emb", None)
    if rotary is None or getattr(rotary, "rope_type", None) != "default":
        return f"batched decoding supports the default RoPE, not {getattr(rotary, 'rope_type', None)!r}"
    if getattr(config, "attention_bias", False) or getattr(config, "mlp_bias", False):
        return "batched decoding supports Llama without attention or MLP biases"
    if getattr(config, "hidden_act", "silu") != "silu":
        return f"batched decoding supports the SiLU MLP, not {config.hidden_act!r}"
    if getattr(model, "device", torch.device("cpu")).type != "cpu":
        return "batched decoding runs on the CPU (a GPU batches inside transformers' generate)"
    return None


def _rms(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """``LlamaRMSNorm``: in float32, then back to the input's dtype, then the weight."""
    h = x.to(torch.float32)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(x.dtype)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


@dataclass
class _Layer:
    norm_in: torch.Tensor
    qkv: torch.Tensor
    o: torch.Tensor
    norm_post: torch.Tensor
    gate_up: torch.Tensor
    down: torch.Tensor


@dataclass
class Pass:
    """One decoder's forward pass: ``ids`` after ``cache``, at ``positions`` (default: right after the
    cache), each seeing the cache and the earlier new tokens, or as ``allowed`` says (``[len(ids),
    cache length + len(ids)]`` booleans, a tree of candidates); the logits of the last token, or of
    every token with ``all_logits``."""

    cache: RaggedCache
    ids: Sequence[int]
    positions: Sequence[int] | None = None
    allowed: torch.Tensor | None = None
    all_logits: bool = False
    logits: torch.Tensor | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class PackedLlama:
    """The forward of a ``transformers`` Llama causal LM over a ragged batch of ``Pass`` es (weights shared
    with the model; q/k/v and gate/up are concatenated once so each is one product per batch)."""

    def __init__(self, model: Any) -> None:
        reason = batching_unsupported(model)
        if reason:
            raise ValueError(reason)
        cfg, inner = model.config, model.model
        self.heads = int(cfg.num_attention_heads)
        self.kv_heads = int(getattr(cfg, "num_key_value_heads", None) or self.heads)
        self.head_dim = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads)
        self.dtype = next(model.parameters()).dtype
        self.eps = float(cfg.rms_norm_eps)
        self.scale = self.head_dim ** -0.5
        with torch.no_grad():
            self.layers = [_Layer(
                norm_in=layer.input_layernorm.weight.detach(),
                qkv=torch.cat([layer.self_attn.q_proj.weight, layer.self_attn.k_proj.weight,
                               layer.self_attn.v_proj.weight]).detach(),
                o=layer.self_attn.o_proj.weight.detach(),
                norm_post=layer.post_attention_layernorm.weight.detach(),
                gate_up=torch.cat([layer.mlp.gate_proj.weight, layer.mlp.up_proj.weight]).detach(),
                down=layer.mlp.down_proj.weight.detach(),
            ) for layer in inner.layers]
            self.embed = inner.embed_tokens.weight.detach()
            self.norm = inner.norm.weight.detach()
            self.head = model.lm_head.weight.detach()
            rotary = inner.rotary_emb
            positions = torch.arange(int(cfg.max_position_embeddings), dtype=torch.float32)
            freqs = positions[:, None] * rotary.inv_freq.float()[None, :]
            emb = torch.cat((freqs, freqs), dim=-1)
            self.cos = (emb.cos() * rotary.attention_scaling).to(self.dtype)
            self.sin = (emb.sin() * rotary.attention_scaling).to(self.dtype)
        self.vocab_size = int(self.embed.shape[0])
        self.max_positions = int(self.cos.shape[0])

    def new_cache(self) -> RaggedCache:
        return RaggedCache(len(self.layers), self.kv_heads, self.head_dim, self.dtype)

    def check(self, job: Pass) -> None:
        """Raise ``ValueError`` for a pass this model cannot run (so it fails alone, not its batch)."""
        n, start = len(job.ids), job.cache.length
        if n == 0:
            raise ValueError("a forward pass needs at least one token")
        if min(job.ids) < 0 or max(job.ids) >= self.vocab_size:
            raise ValueError(f"token id out of the vocabulary (0..{self.vocab_size - 1})")
        positions = job.positions if job.positions is not None else range(start, start + n)
        if len(positions) != n or max(positions) >= self.max_positions or min(positions) < 0:
            raise ValueError(f"positions must be one per token within the model's {self.max_positions}")
        if job.allowed is not None and (tuple(job.allowed.shape) != (n, start + n) or job.allowed.dtype != torch.bool):
            raise ValueError(f"the attention mask is {tuple(job.allowed.shape)} {job.allowed.dtype}, expected "
                             f"{(n, start + n)} booleans")

    def _mask(self, job: Pass) -> torch.Tensor | None:
        n, start = len(job.ids), job.cache.length
        if job.allowed is not None:
            return job.allowed
        if n == 1:
            return None
        return torch.ones(n, start + n, dtype=torch.bool).tril(diagonal=start)

    def forward(self, jobs: Sequence[Pass]) -> list[torch.Tensor]:
        """Run ``jobs`` (each cache at most once) as one batch; each cache grows by its tokens. Returns
        each job's float32 logits: ``[vocab]`` for its last token, or ``[len(ids), vocab]``."""
        if len({id(job.cache) for job in jobs}) != len(jobs):
            raise ValueError("a cache appears twice in one batch")
        ids: list[int] = []
        positions: list[int] = []
        for job in jobs:
            start, n = job.cache.length, len(job.ids)
            job.cache.reserve(n)
            ids.extend(job.ids)
            positions.extend(job.positions if job.positions is not None else range(start, start + n))
        masks = [self._mask(job) for job in jobs]
        total, heads, kv, dim = len(ids), self.heads, self.kv_heads, self.head_dim
        with torch.inference_mode():
            pos = torch.tensor(positions)
            cos, sin = self.cos[pos][:, None, :], self.sin[pos][:, None, :]
            h = F.embedding(torch.tensor(ids), self.embed)
            sizes = [len(job.ids) for job in jobs]
            for li, layer in enumerate(self.layers):
                q, k, v = F.linear(_rms(h, layer.norm_in, self.eps), layer.qkv).split(
                    [heads * dim, kv * dim, kv * dim], dim=-1)
                q, k, v = q.view(total, heads, dim), k.view(total, kv, dim), v.view(total, kv, dim)
                q = (q * cos + _rotate_half(q) * sin).transpose(0, 1).contiguous()  # [heads, total, dim]
                k = k * cos + _rotate_half(k) * sin
                kv_new = torch.stack((k, v)).transpose(1, 2)  # [2, kv heads, total, dim]
                outs = []
                for job, mask, q_job, kv_job in zip(jobs, masks, q.split(sizes, dim=1), kv_new.split(sizes, dim=2),
                                                    strict=True):
                    end = job.cache.length + q_job.shape[1]
                    buf = job.cache.buffers[li]
                    buf[:, :, job.cache.length:end] = kv_job
                    outs.append(F.scaled_dot_product_attention(  # 4-d: the CPU's fused kernel, not the math one
                        q_job[None], buf[0, None, :, :end], buf[1, None, :, :end], attn_mask=mask, scale=self.scale,
                        enable_gqa=heads != kv)[0])
                out = torch.cat(outs, dim=1).transpose(0, 1).reshape(total, heads * dim)
                h = h + F.linear(out, layer.o)
                gate, up = F.linear(_rms(h, layer.norm_post, self.eps), layer.gate_up).chunk(2, dim=-1)
                h = h + F.linear(F.silu(gate) * up, layer.down)
            rows: list[int] = []
            spans: list[tuple[int, int]] = []
            s = 0
            for job in jobs:
                n = len(job.ids)
                first = len(rows)
                rows.extend(range(s, s + n) if job.all_logits else [s + n - 1])
                spans.append((first, len(rows)))
                s += n
            logits = F.linear(_rms(h[torch.tensor(rows)], self.norm, self.eps), self.head).float()
        for job in jobs:  # only now: a batch that raised above is run again as it was
            job.cache.length += len(job.ids)
        # copies: a view would keep the whole batch's logits alive as long as one decoder holds its own
        return [(logits[a:b] if job.all_logits else logits[a]).clone() for job, (a, b) in zip(jobs, spans, strict=True)]


class ForwardBatcher:
    """Runs the forward passes of many decoders (threads) over one model, batched.

    A decoder opens a ``session()`` around a decode and calls ``run`` for each pass; the model
    thread runs a batch as soon as every decoder in a session is waiting (or ``max_wait_s`` after
    the first one began waiting), at most ``max_tokens`` new tokens per batch. A pass that fails
    fails alone: each pass of a batch that raised is run again on its own. ``passes`` / ``batches`` count the work, ``busy_s``
    the model thread's time in it.
    """

    def __init__(self, model: Any, max_tokens: int = 4096, max_wait_s: float = 0.02,
                 engine: PackedLlama | None = None) -> None:
        self.engine = engine or PackedLlama(model)  # an engine holds no state of a batch: workers may share one
        self.max_tokens = int(max_tokens)
        self.max_wait_s = float(max_wait_s)
        self._cond = threading.Condition()
        self._queue: list[Pass] = []
        self._active = 0
        self._closed = False
        self.passes = 0
        self.batches = 0
        self.busy_s = 0.0  # time the model thread spent in forward passes
        self._thread = threading.Thread(target=self._loop, name="lam-forward-batcher", daemon=True)
        self._thread.start()

    def new_cache(self) -> RaggedCache:
        return self.engine.new_cache()

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Around one decode: the model thread waits for this decoder's passes before it runs a batch."""
        with self._cond:
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def run(self, job: Pass) -> torch.Tensor:
        """Run ``job`` in the next batch; its logits (see ``PackedLlama.forward``)."""
        self.engine.check(job)
        with self._cond:
            if self._closed:
                raise RuntimeError("the forward batcher is closed")
            self._queue.append(job)
            self._cond.notify_all()
        while not job.done.wait(1.0):
            if not self._thread.is_alive():
                raise RuntimeError("the forward batcher's model thread has stopped")
        if job.error is not None:
            raise job.error
        assert job.logits is not None
        return job.logits

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=10)

    def _take(self) -> list[Pass] | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None
            deadline = time.monotonic() + self.max_wait_s
            while len(self._queue) < self._active and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch, tokens = [], 0
            while self._queue and (not batch or tokens + len(self._queue[0].ids) <= self.max_tokens):
                tokens += len(self._queue[0].ids)
                batch.append(self._queue.pop(0))
            return batch

    def _loop(self) -> None:
        try:
            self._serve()
        finally:  # closed, or the thread died: no decoder waits forever
            with self._cond:
                self._closed = True
                for job in self._queue:
                    job.error = RuntimeError("the forward batcher is closed")
                    job.done.set()
                self._queue.clear()

    def _serve(self) -> None:
        while (batch := self._take()) is not None:
            start = time.perf_counter()
            try:
                self._finish(batch, self.engine.forward(batch), start)
            except Exception:  # noqa: BLE001 - each pass again alone: only the one at fault fails
                logger.exception("a batch of %d forward passes failed; running them one by one", len(batch))
                for job in batch:
                    try:
                        start = time.perf_counter()
                        self._finish([job], self.engine.forward([job]), start)
                    except Exception as err:  # noqa: BLE001 - handed to the decoder waiting for it
                        job.error = err
                        job.done.set()

    def _finish(self, batch: list[Pass], logits: list[torch.Tensor], start: float) -> None:
        self.busy_s += time.perf_counter() - start
        self.passes += len(batch)
        self.batches += 1
        for job, out in zip(batch, logits, strict=True):
            job.logits = out
            job.done.set()
