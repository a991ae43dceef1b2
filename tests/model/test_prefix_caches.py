"""The prompt-cache pool a server's decoders share: each client's next step starts from its own
previous prompt even when other clients' requests come in between, and the answers do not change."""

from __future__ import annotations

import threading

import pytest
import torch
from transformers import DynamicCache

from lam_kedro.agent import run_episode
from lam_kedro.agent.policies import TextPolicy
from lam_kedro.env import WordEnv
from lam_kedro.model.decoder import ActionDecoder
from lam_kedro.model.generation import encode_prompt
from lam_kedro.model.policy import decode_config, lam_generate
from lam_kedro.model.prefix_caches import PrefixCaches, copy_prefix, shared_prefix
from tests.evaluation.conftest import make_tasks, tiny_bundle


@pytest.fixture(scope="module")
def bundle():
    return tiny_bundle()


def test_shared_prefix_leaves_one_token_to_feed():
    assert shared_prefix([1, 2, 3, 4], [1, 2, 9]) == 2
    assert shared_prefix([1, 2, 3], [1, 2, 3, 4, 5]) == 2  # the new prompt's last token is fed again
    assert shared_prefix([1, 2, 3, 4], [1, 2, 3]) == 2
    assert shared_prefix([5, 6], [1, 2]) == 0
    assert shared_prefix([], [1]) == 0


def test_pool_gives_the_longest_match_and_keeps_the_most_recent():
    pool = PrefixCaches(2)
    assert pool.swap([1, 2, 3], [], None) == ([], None)  # empty: nothing to reuse
    assert pool.swap([1, 2, 3], [1, 2, 3, 4], "a") == ([1, 2, 3, 4], "a")  # our own entry back
    pool.swap([9, 9, 9], [1, 2, 3, 4], "a")  # no match: "a" stays in the pool
    pool.swap([9, 9, 9], [7, 7, 7, 7], "b")
    assert len(pool) == 2
    assert pool.swap([7, 7, 1], [8, 8, 8, 8], "c") == ([7, 7, 7, 7], "b")  # "c" in, "b" out
    assert len(pool) == 2
    pool.swap([5], [6, 6, 6, 6], "d")  # the third entry pushes out the least recently used, "a"
    assert pool.swap([1, 2, 3, 9], [], None) == ([], None)
    assert pool.swap([8, 8, 1], [], None) == ([8, 8, 8, 8], "c")
    assert pool.hits == 3 and pool.reused_tokens == 2 + 2 + 2
    pool.clear()
    assert len(pool) == 0 and pool.hits == pool.misses == pool.reused_tokens == 0
    with pytest.raises(ValueError, match="at least 1"):
        PrefixCaches(0)


def test_a_kv_cache_is_copied_and_its_entry_stays():
    cache = DynamicCache()
    for layer in range(2):
        cache.update(torch.arange(10.0).view(1, 1, 10, 1) + layer, torch.ones(1, 1, 10, 1), layer)
    pool = PrefixCaches(2)
    prompt = list(range(10))
    ids, got = pool.swap([0, 1, 2, 3, 99], prompt, cache)
    assert ids == prompt and got is not cache and got.get_seq_length() == 4 and len(pool) == 1
    assert got.layers[1].keys.flatten().tolist() == [1.0, 2.0, 3.0, 4.0]
    got.update(torch.zeros(1, 1, 1, 1), torch.zeros(1, 1, 1, 1), 0)  # the copy grows; the entry does not
    assert cache.get_seq_length() == 10
    ids, again = pool.swap([0, 1, 2, 7], [], None)  # another prompt sharing it finds it too
    assert ids == prompt and again.get_seq_length() == 3
    assert copy_prefix("not a cache", 3) is None


def _kv(n: int, value: float) -> DynamicCache:
    cache = DynamicCache()
    cache.update(torch.full((1, 1, n, 1), value), torch.zeros(1, 1, n, 1), 0)
    return cache


def test_pool_is_safe_across_threads():
    """Six threads share prefixes through one pool: each gets a copy as long as the shared part, extends
    it as a decoder does, and no entry in the pool is ever changed."""
    pool = PrefixCaches(4)
    failures: list[str] = []

    def worker(k: int) -> None:
        own_ids, own = [0, 0, 0, k, k], _kv(5, float(k))
        for step in range(300):
            ids = [0, 0, 0, k, k, step % 3]
            got_ids, got = pool.swap(ids, own_ids, own)
            if got is not None:
                if got.get_seq_length() != shared_prefix(ids, got_ids):
                    failures.append(f"worker {k}: {got.get_seq_length()} positions for {got_ids} -> {ids}")
                got.update(torch.full((1, 1, 1, 1), -1.0), torch.zeros(1, 1, 1, 1), 0)  # the holder extends it
            own_ids, own = ids, _kv(len(ids), float(k))  # what a decoder hands back: its prompt's cache

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:3]
    assert pool.hits > 0 and len(pool) <= 4
    for ids, cache in pool._items:  # no holder's -1 ever reached an entry
        assert cache.get_seq_length() == len(ids) and bool((cache.layers[0].keys >= 0).all())


def test_a_failed_prefill_never_leaves_a_cache_that_claims_its_prompt(bundle):
    episodes = _episode_prompts(bundle, n_tasks=1)
    first, second = episodes[0][0], episodes[0][1]
    pool = PrefixCaches(4)
    decoder = ActionDecoder(bundle, max_new_tokens=64, prefix_caches=pool)
    decoder(first)
    real, failed = decoder._forward, []

    def flaky(ids):
        if not failed:
            failed.append(len(ids))
            raise MemoryError("out of memory (injected)")
        return real(ids)

    decoder._forward = flaky
    with pytest.raises(MemoryError):
        decoder(second)
    assert decoder._cache is None and decoder._prompt_ids == []  # nothing half-fed goes back to the pool
    for ids, cache in pool._items:
        assert cache.get_seq_length() >= len(ids)
    assert decoder(second) == ActionDecoder(bundle, max_new_tokens=64)(second)
    assert pool.swap([-1, -2, -3], [-1, -2, -3, -4], _kv(2, 0.0)) == ([], None)  # a short cache is not kept either
    assert all(ids != [-1, -2, -3, -4] for ids, _ in pool._items)


class _Recorder:
    def __init__(self, decoder: ActionDecoder) -> None:
        self.decoder, self.calls = decoder, []

    def __call__(self, messages):
        self.calls.append(messages)
        return self.decoder(messages)


def _episode_prompts(bundle, n_tasks: int = 2, max_steps: int = 4) -> list[list]:
    """Each task's step prompts (``Messages`` with their slots), as the LAM was asked them."""
    out = []
    for task in make_tasks(n_tasks):
        rec = _Recorder(ActionDecoder(bundle, max_new_tokens=64))
        run_episode(WordEnv(max_steps=max_steps), TextPolicy(rec, name="lam", on_parse_error="continue"), task, seed=0)
        out.append(rec.calls)
    return out


def test_interleaved_clients_reuse_their_own_prefix_with_the_same_answers(bundle):
    a, b = _episode_prompts(bundle)
    episodes = [a, b, a]  # three clients; the third plays the first one's task again
    alone = [ActionDecoder(bundle, max_new_tokens=64) for _ in episodes]
    expected = [[alone[i](m) for m in ep] for i, ep in enumerate(episodes)]
    order = [(i, k) for k in range(max(map(len, episodes))) for i in range(len(episodes)) if k < len(episodes[i])]
    assert len(order) >= 6
    ids = {(i, k): encode_prompt(bundle, episodes[i][k]) for i, k in order}

    def serve(decoder: ActionDecoder) -> tuple[dict[tuple[int, int], str], list[int]]:
        answers, reused = {}, []
        for i, k in order:  # the clients' requests interleaved, one decoder
            answers[(i, k)] = decoder(episodes[i][k])
            reused.append(decoder.last_stats.reused_prompt_tokens)
        return answers, reused

    pool = PrefixCaches(len(order))
    pooled, reused_pooled = serve(ActionDecoder(bundle, max_new_tokens=64, prefix_caches=pool))
    plain, reused_plain = serve(ActionDecoder(bundle, max_new_tokens=64))
    for i, k in order:
        assert pooled[(i, k)] == expected[i][k] == plain[(i, k)]
    # without a pool a prompt reuses what it shares with the one just before (another client's);
    # with one, the longest prefix any earlier prompt shares with it
    for n, key in enumerate(order):
        earlier = [shared_prefix(ids[key], ids[order[j]]) for j in range(n)]
        assert reused_plain[n] == (earlier[-1] if earlier else 0)
        assert reused_pooled[n] == max(earlier, default=0)
    assert sum(reused_pooled) > sum(reused_plain)


def test_decode_config_builds_a_pool_only_when_asked(bundle):
    assert lam_generate(bundle, decode_config({}))._pool is None
    pooled = lam_generate(bundle, decode_config({"prefix_cache_pool": 8}))
    assert isinstance(pooled._pool, PrefixCaches) and pooled._pool.entries == 8
    shared = PrefixCaches(3)
    a, b = (lam_generate(bundle, decode_config({"prefix_cache_pool": 3}), prefix_caches=shared) for _ in range(2))
    assert a._pool is b._pool is shared
    with pytest.raises(ValueError, match="prefix_cache_pool"):
        decode_config({"prefix_cache_pool": -1})
