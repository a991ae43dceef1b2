"""The model side of constrained decoding: feeding tokens, the KV cache, ranking and scoring candidates.

``TokenScoring`` is the part of ``ActionDecoder`` that talks to the model: one forward pass per
forced run or chosen token (``_force``, ``_emit``), the model's ranking of the next token (``_ranked``,
greedy or Gumbel top-k), and the joint log-probability of whole candidate strings scored in one
tree-attention pass after the cache (``_scores``, ``_choose``); ``_prefill`` reuses the cache of the
prompt prefix shared with the previous step.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from lam_kedro.model.batching import Pass, RaggedCache
from lam_kedro.model.prefix_caches import shared_prefix

__all__ = ["TokenScoring"]


#: Tokens of a forced run held back for the model to re-choose (token healing): two cover a key
#: and its ``": "`` when the model's tokenizer merges them with the value that follows.
_HEAL_TOKENS = 2


class TokenScoring:
    """The model-facing half of ``ActionDecoder`` (a mixin: the decoder holds the model, cache and stats)."""

    # -- low level: the model, the cache, the text ------------------------------------------
    def _batched(self, ids: Sequence[int], positions: Sequence[int] | None = None,
                 allowed: torch.Tensor | None = None, all_logits: bool = False) -> torch.Tensor:
        """One pass through the server's ``ForwardBatcher`` (``model.batching``), batched with other decoders'."""
        if self._cache is None:
            self._cache = self._batcher.new_cache()
        return self._batcher.run(Pass(self._cache, list(ids), positions, allowed, all_logits))

    def _forward(self, ids: Sequence[int]) -> None:
        if self._batcher is not None:
            self._logits = self._batched(ids)
            self._stats.forward_passes += 1
            return
        input_ids = torch.tensor([list(ids)], device=self.model.device)
        with torch.inference_mode():
            out = self.model(input_ids=input_ids, past_key_values=self._cache, use_cache=True, logits_to_keep=1)
        self._cache = out.past_key_values
        self._logits = out.logits[0, -1].float().cpu()
        self._stats.forward_passes += 1

    def _force(self, text: str, heal: bool = True) -> None:
        """Append ``text`` (after any pending piece) in one forward pass.

        With ``heal`` (token healing) the last tokens of the run are held back as ``_pending``: the
        next decision then starts from tokens that *begin* with that text, so the model may pick
        the token it was trained on (``"Plan`` rather than ``"`` then ``Plan``) across the boundary
        between the fixed skeleton and what it decides.
        """
        text = self._pending + text
        self._pending = ""
        if not text:
            return
        ids = self._vocab.encode(text)
        if heal and ids:
            keep = len(ids) - min(_HEAL_TOKENS, len(ids))
            tail = "".join(self._vocab.texts[i] for i in ids[keep:])
            if tail and text.endswith(tail) and not self._vocab.special.intersection(ids[keep:]):
                ids, self._pending, text = ids[:keep], tail, text[: -len(tail)]
        if not ids:
            return
        self._out.append(text)
        self._stats.forced_tokens += len(ids)
        self._forward(ids)

    def _emit(self, token_id: int) -> None:
        """The model's own token: fed as is, its text appended."""
        self._out.append(self._vocab.texts[token_id])
        self._stats.sampled_tokens += 1
        self._forward([token_id])

    def _ranked(self) -> list[int]:
        """Token ids to try, best first: greedy order, or a sample order (Gumbel top-k)."""
        logits = self._logits
        if self.do_sample:
            u = torch.rand(logits.shape, generator=self._generator).clamp_(1e-9, 1 - 1e-9)
            logits = logits / max(self.temperature, 1e-5) - torch.log(-torch.log(u))
        k = min(self.top_k, logits.shape[0])
        return torch.topk(logits, k).indices.tolist()

    def _budget_left(self) -> int:
        return self.max_new_tokens - self._stats.sampled_tokens

    def _scores(self, candidates: Sequence[str], top: int | None = None) -> list[float]:
        """The model's log-probability of each of ``candidates`` as the next text (``-inf``: not scored).

        The tokens all candidates begin with are fed once; the model's ranking of the token where
        they part keeps the ``top`` likeliest (ties kept together; ``None``: all), and those are
        scored to their end in one forward pass: laid side by side after the cache, each with its
        own positions and a mask that lets it see the prefix and its own earlier tokens only (tree
        attention), so the cache is neither copied nor recomputed. The cache and the logits are
        as they were afterwards.
        """
        seqs = [self._vocab.encode(self._pending + c) for c in candidates]
        scores = [float("-inf")] * len(seqs)
        if not any(seqs):
            return scores
        base, saved = self._cache.get_seq_length(), self._logits
        common = 0
        shortest = min(len(q) for q in seqs)
        while common < shortest - 1 and all(q[common] == seqs[0][common] for q in seqs):
            common += 1
        try:
            start_lp = 0.0
            if common:
                start_lp = float(sum(self._logprob_run(seqs[0][:common])))
            first = torch.log_softmax(self._logits, dim=-1)
            live = [i for i, q in enumerate(seqs) if len(q) > common]
            live.sort(key=lambda i: -float(first[seqs[i][common]]))
            if top is not None and len(live) > top:
                cut = float(first[seqs[live[top - 1]][common]])
                live = [i for i in live if float(first[seqs[i][common]]) >= cut]
            for i, total in zip(live, self._tree(
                    [seqs[i][common:] for i in live], first), strict=True):
                scores[i] = start_lp + total
        finally:
            self._crop_to(base)
            self._logits = saved
        return scores

    def _logprob_run(self, ids: Sequence[int]) -> list[float]:
        """Feed ``ids`` (all positions' logits kept); their log-probabilities under the model."""
        lp = [float(torch.log_softmax(self._logits, dim=-1)[ids[0]])]
        if self._batcher is not None:
            logits = self._batched(ids, all_logits=True)
        else:
            with torch.inference_mode():
                out = self.model(input_ids=torch.tensor([list(ids)], device=self.model.device),
                                 past_key_values=self._cache, use_cache=True)
            self._cache = out.past_key_values
            logits = out.logits[0].float().cpu()
        self._stats.forward_passes += 1
        steps = torch.log_softmax(logits[:-1], dim=-1)
        lp += steps[torch.arange(len(ids) - 1), torch.tensor(list(ids[1:]), dtype=torch.long)].tolist()
        self._logits = logits[-1]
        return lp

    def _tree(self, seqs: Sequence[Sequence[int]], first: torch.Tensor) -> list[float]:
        """Sum log-probability of each token sequence after the cache (``first``: the next token's)."""
        feed = [list(q[:-1]) for q in seqs]
        totals = [float(first[q[0]]) for q in seqs]
        count = sum(len(f) for f in feed)
        if count == 0:
            return totals
        prefix = self._cache.get_seq_length()
        ids: list[int] = []
        positions: list[int] = []
        starts: list[int] = []
        allowed = torch.zeros(count, prefix + count, dtype=torch.bool)
        allowed[:, :prefix] = True
        for f in feed:
            start, n = len(ids), len(f)
            starts.append(start)
            ids.extend(f)
            positions.extend(range(prefix, prefix + n))
            allowed[start:start + n, prefix + start:prefix + start + n] = torch.ones(n, n, dtype=torch.bool).tril()
        if self._batcher is not None:
            logp = torch.log_softmax(self._batched(ids, positions, allowed, all_logits=True), dim=-1)
        else:
            dtype, device = self.model.dtype, self.model.device
            mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)
            with torch.inference_mode():
                out = self.model(input_ids=torch.tensor([ids], device=device),
                                 position_ids=torch.tensor([positions], device=device),
                                 attention_mask=mask[None, None].to(device), past_key_values=self._cache,
                                 use_cache=True)
            self._cache = out.past_key_values
            logp = torch.log_softmax(out.logits[0].float(), dim=-1).cpu()
        self._stats.forward_passes += 1
        rows = [starts[i] + j - 1 for i, q in enumerate(seqs) for j in range(1, len(q))]
        cols = [q[j] for q in seqs for j in range(1, len(q))]
        picked = iter(logp[torch.tensor(rows, dtype=torch.long), torch.tensor(cols, dtype=torch.long)].tolist())
        for i, q in enumerate(seqs):  # summed one by one in the same order as before: the same floats
            totals[i] += sum(next(picked) for _ in range(1, len(q)))
        return totals

    def _choose(self, candidates: Sequence[str], top: int | None = None) -> int:
        """The index of the candidate the model finds most likely as a whole (sampled when ``do_sample``)."""
        scores = torch.tensor(self._scores(candidates, top))
        if self.do_sample:
            u = torch.rand(scores.shape, generator=self._generator).clamp_(1e-9, 1 - 1e-9)
            scores = scores / max(self.temperature, 1e-5) - torch.log(-torch.log(u))
        return int(torch.argmax(scores))

    def _first_token_score(self, text: str) -> float:
        ids = self._vocab.encode(text)
        return float(self._logits[ids[0]]) if ids else float("-inf")

    def _crop_to(self, length: int) -> None:
        """Keep the first ``length`` positions of the cache (transformers 5: ``crop`` takes a negative count)."""
        extra = self._cache.get_seq_length() - length
        if extra > 0:
            self._cache.crop(-extra)

    def _prefill(self, ids: list[int], pooled: bool = True) -> None:
        reuse = 0
        if self.prefix_cache and pooled and self._pool is not None:  # the pool's best match (maybe our own)
            self._prompt_ids, self._cache = self._pool.swap(ids, self._prompt_ids, self._cache)
        if (self._batcher is not None) != isinstance(self._cache, RaggedCache):
            self._cache = None  # a cache of the other kind (batched or not) cannot be fed here
        if self.prefix_cache and self._cache is not None:
            reuse = shared_prefix(ids, self._prompt_ids)
        if reuse > 0:
            self._crop_to(reuse)
        else:
            self._cache = None
        self._stats.reused_prompt_tokens = reuse
        try:
            self._forward(ids[reuse:])
        except BaseException:  # the cache holds `reuse` positions, not the prompt's: never reuse it
            self._cache, self._prompt_ids = None, []
            raise
        self._prompt_ids = ids
