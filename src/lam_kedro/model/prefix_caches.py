"""KV caches of earlier prompts, kept for the decoders of a server with many clients.

An ``ActionDecoder`` keeps the KV cache of its previous prompt and feeds only what the next prompt
does not share with it (an agent's consecutive steps share the system prompt, the control list and
the request). A server whose clients' requests interleave breaks that: the previous prompt is
another client's, and every request pays its whole prompt again (at 16 clients, about 1.5x the
CPU of a step whose episode prefix is cached). ``PrefixCaches`` keeps the caches of the last
``entries`` prompts; before it feeds a prompt, a decoder hands in its own cache and takes back the
one whose prompt shares the longest prefix with the new one (a copy of that shared part: the
entry stays for others), so each client's next step finds its own previous step. The decoder
replicas of one server share one pool; an entry in it is never changed, a decoder works on its
own copy, so no cache is ever used by two requests at once.

``DecodeConfig.prefix_cache_pool`` sizes it (0, the default: no pool, each decoder reuses only its
own previous prompt, as every episode runner does); ``lam serve --prefix-caches N`` sets it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["PrefixCaches", "copy_prefix", "shared_prefix"]


def shared_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens of a cached prompt ``b`` a new prompt ``a`` can reuse: those they share,
    short of the shorter one's last (at least one token is fed, for the next token's logits)."""
    n = 0
    limit = min(len(a), len(b)) - 1
    while n < limit and a[n] == b[n]:
        n += 1
    return n


def _copyable(cache: Any) -> bool:
    if callable(getattr(cache, "copy_prefix", None)):  # model.batching.RaggedCache
        return True
    from transformers import DynamicCache

    layers = getattr(cache, "layers", None)
    return type(cache) is DynamicCache and bool(layers) and all(type(x).__name__ == "DynamicLayer" for x in layers)


def copy_prefix(cache: Any, length: int) -> Any | None:
    """A copy of the first ``length`` positions of a ``transformers.DynamicCache`` or a cache with its own
    ``copy_prefix`` (``model.batching.RaggedCache``); ``None``: another kind."""
    if not _copyable(cache):
        return None
    if callable(getattr(cache, "copy_prefix", None)):
        return cache.copy_prefix(length)
    from transformers import DynamicCache

    out = DynamicCache()
    for i, layer in enumerate(cache.layers):
        out.update(layer.keys[..., :length, :].clone(), layer.values[..., :length, :].clone(), i)
    return out


def _positions(cache: Any) -> int | None:
    """The positions every layer of ``cache`` holds (``None``: not known)."""
    if callable(getattr(cache, "copy_prefix", None)):
        return int(cache.get_seq_length())
    layers = getattr(cache, "layers", None)
    if not layers:
        return None
    lengths = [x.keys.shape[-2] for x in layers if getattr(x, "keys", None) is not None]
    return min(lengths) if len(lengths) == len(layers) else 0


class PrefixCaches:
    """A thread-safe pool of ``(prompt token ids, KV cache)`` entries, the most recently used kept.

    ``swap(ids, own_ids, own_cache)`` puts the caller's entry in and hands back the entry whose
    prompt shares the longest prefix with ``ids`` (``shared_prefix``), possibly the caller's own, with
    a copy of the shared part of its cache: the entry stays for other prompts that share it (a cache
    that ``copy_prefix`` cannot copy is handed over whole and leaves the pool). ``hits``, ``misses``
    and ``reused_tokens`` count what was found.
    """

    def __init__(self, entries: int) -> None:
        if entries < 1:
            raise ValueError(f"a prefix cache pool holds at least 1 entry, got {entries}")
        self.entries = int(entries)
        self._lock = threading.Lock()
        self._items: list[tuple[list[int], Any]] = []  # least recently used first
        self.hits = 0
        self.misses = 0
        self.reused_tokens = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, ids: list[int], cache: Any) -> None:
        """Hand a finished prompt's cache to the pool (the caller keeps no reference to it): a server's next
        request from the same client finds it whichever replica serves it."""
        held = None if cache is None else _positions(cache)
        if cache is None or (held is not None and held < len(ids)):
            return  # nothing, or a cache that does not hold its whole prompt
        with self._lock:
            self._items.append((list(ids), cache))
            del self._items[: max(len(self._items) - self.entries, 0)]

    def swap(self, ids: Sequence[int], own_ids: list[int], own_cache: Any) -> tuple[list[int], Any]:
        """``(prompt ids, cache)`` of the entry sharing most with ``ids`` (``([], None)``: none shares a token)."""
        held = None if own_cache is None else _positions(own_cache)
        if held is not None and held < len(own_ids):
            own_cache = None  # it does not hold its whole prompt (a decode that failed): never hand it out
        keep = False
        with self._lock:
            if own_cache is not None:
                self._items.append((own_ids, own_cache))
            best, best_len = -1, 0
            for i, (prompt, _cache) in enumerate(self._items):
                n = shared_prefix(ids, prompt)
                if n > best_len or (n == best_len and n > 0):  # ties: the most recent
                    best, best_len = i, n
            if best < 0:
                self.misses += 1
                found: tuple[list[int], Any] = ([], None)
            else:
                self.hits += 1
                self.reused_tokens += best_len
                found = self._items.pop(best)
                keep = _copyable(found[1])
                if keep:  # the entry stays (most recently used); the caller gets a copy, made outside the lock
                    self._items.append(found)
            del self._items[: max(len(self._items) - self.entries, 0)]
        if best >= 0 and keep:  # entries in the pool are never changed, so copying without the lock is safe
            found = (found[0], copy_prefix(found[1], best_len))
        return found

    def clear(self) -> None:
        """Forget every entry and the counts."""
        with self._lock:
            self._items.clear()
            self.hits = self.misses = self.reused_tokens = 0
