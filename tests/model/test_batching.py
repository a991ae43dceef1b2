"""Batched decoding (``model.batching``): the packed forward computes what the model computes, and
decoders whose passes are batched together answer what each answers alone."""

from __future__ import annotations

import threading

import pytest
import torch

from lam_kedro.agent import run_episode
from lam_kedro.agent.policies import ScriptedPolicy
from lam_kedro.agent.prompt import step_examples
from lam_kedro.env import WordEnv
from lam_kedro.model.batching import ForwardBatcher, PackedLlama, Pass, RaggedCache, batching_unsupported
from lam_kedro.model.loading import build_tiny_model
from lam_kedro.model.policy import lam_generate
from lam_kedro.model.prefix_caches import PrefixCaches
from tests.evaluation.conftest import make_tasks, tiny_bundle


@pytest.fixture(scope="module")
def bundle():
    return tiny_bundle()


@pytest.fixture(scope="module")
def prompts():
    env = WordEnv(max_steps=30)
    out = []
    for t in make_tasks(6):
        traj = run_episode(env, ScriptedPolicy(), t, seed=0)
        out += [ex["messages"] for ex in step_examples(traj)][:4]
    return out


@pytest.fixture(scope="module")
def gqa_model(bundle):
    """Grouped-query attention (4 heads, 2 key/value heads), as SmolLM2 has."""
    torch.manual_seed(1)
    return build_tiny_model(bundle.tokenizer, config={
        "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "max_position_embeddings": 512})


def _hf(model, ids, cache=None, **kw):
    with torch.inference_mode():
        out = model(input_ids=torch.tensor([ids]), past_key_values=cache, use_cache=True, **kw)
    return out.logits[0].float(), out.past_key_values


@pytest.mark.parametrize("which", ["tiny", "gqa"])
def test_packed_forward_matches_the_model(bundle, gqa_model, which):
    """Prefill, one token after the cache, a run with every position's logits and a tree of candidates
    with its own positions and mask: each close to transformers' logits, alone and batched with others."""
    model = bundle.model if which == "tiny" else gqa_model
    engine = PackedLlama(model)
    prompt = list(range(5, 45))
    want_prefill, hf_cache = _hf(model, prompt)
    cache = engine.new_cache()
    other = engine.new_cache()
    got, got_other = engine.forward([Pass(cache, prompt), Pass(other, list(range(50, 53)), all_logits=True)])
    assert cache.get_seq_length() == 40 and other.get_seq_length() == 3
    torch.testing.assert_close(got, want_prefill[-1], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(got_other, _hf(model, list(range(50, 53)))[0], atol=1e-4, rtol=1e-4)

    want_next, hf_cache = _hf(model, [7, 8], hf_cache)
    want_other = _hf(model, list(range(50, 53)) + [9])[0][-1]
    got_next, got_other = engine.forward([Pass(cache, [7, 8], all_logits=True), Pass(other, [9])])
    torch.testing.assert_close(got_next, want_next, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(got_other, want_other, atol=1e-4, rtol=1e-4)  # one token after its cache

    # a tree: two candidates side by side after the cache, each at its own positions, seeing the cache
    # and its own earlier tokens only (what scoring._tree sends)
    prefix = cache.get_seq_length()
    ids, positions = [11, 12, 13, 21, 22], [prefix, prefix + 1, prefix + 2, prefix, prefix + 1]
    allowed = torch.zeros(5, prefix + 5, dtype=torch.bool)
    allowed[:, :prefix] = True
    allowed[0:3, prefix:prefix + 3] = torch.ones(3, 3, dtype=torch.bool).tril()
    allowed[3:5, prefix + 3:prefix + 5] = torch.ones(2, 2, dtype=torch.bool).tril()
    mask = torch.zeros(allowed.shape).masked_fill_(~allowed, torch.finfo(torch.float32).min)
    want_tree, _ = _hf(model, ids, hf_cache, position_ids=torch.tensor([positions]), attention_mask=mask[None, None])
    got_tree, got_more = engine.forward([Pass(cache, ids, positions, allowed, all_logits=True),
                                         Pass(other, [10, 11])])  # batched with a pass without a mask
    torch.testing.assert_close(got_tree, want_tree, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(got_more, _hf(model, list(range(50, 53)) + [9, 10, 11])[0][-1], atol=1e-4, rtol=1e-4)
    # the second candidate scored alone gives the same logits as in the tree
    cache.crop(prefix)
    (alone,) = engine.forward([Pass(cache, [21, 22], all_logits=True)])
    torch.testing.assert_close(alone, got_tree[3:], atol=1e-4, rtol=1e-4)


def test_ragged_cache_grows_crops_and_copies():
    cache = RaggedCache(layers=2, kv_heads=1, head_dim=2, dtype=torch.float32, capacity=2)
    cache.reserve(5)
    assert cache.buffers[0].shape[2] >= 5
    for layer, buf in enumerate(cache.buffers):
        buf[0, 0, :5] = torch.arange(5.0)[:, None] + layer
    cache.length = 5
    cache.reserve(1)  # grows again, keeping what it holds
    assert cache.buffers[1][0, 0, :5, 0].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    copy = cache.copy_prefix(3)
    assert copy.get_seq_length() == 3 and copy.buffers[1][0, 0, :3, 0].tolist() == [1.0, 2.0, 3.0]
    copy.buffers[1][0, 0, 0] = 99.0  # the copy is its own
    assert cache.buffers[1][0, 0, 0, 0] == 1.0
    cache.crop(-2)
    assert cache.get_seq_length() == 3
    cache.crop(10)  # DynamicCache.crop: a length beyond what it holds keeps all
    assert cache.get_seq_length() == 3


def test_batched_decoders_answer_as_each_alone(bundle, prompts):
    """Eight decoders in eight threads, their passes batched (and a shared prompt-cache pool): every
    answer equals the unbatched decoder's, and passes really were batched together."""
    want = [lam_generate(bundle, {})(m) for m in prompts]
    batcher = ForwardBatcher(bundle.model)
    try:
        one = lam_generate(bundle, {}, batcher=batcher)
        assert [one(m) for m in prompts] == want  # alone through the batcher
        pool = PrefixCaches(8)
        decoders = [lam_generate(bundle, {}, batcher=batcher, prefix_caches=pool) for _ in range(8)]
        got: dict[int, str] = {}
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                for j in range(i, len(prompts), len(decoders)):
                    got[j] = decoders[i](prompts[j])
            except BaseException as err:  # noqa: BLE001 - asserted in the main thread
                errors.append(err)

        batcher.passes = batcher.batches = 0
        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(decoders))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert [got[j] for j in range(len(prompts))] == want
        assert batcher.passes > batcher.batches > 0  # several decoders' passes shared a batch
        assert pool.hits > 0
    finally:
        batcher.close()


def test_one_client_reuses_its_previous_step_whichever_replica_serves_it(bundle):
    """A server's replicas are taken in turn (FIFO): each decode hands its prompt's cache to the shared
    pool when it ends, so a client's next step finds it from any replica (with many replicas and one
    client, a cache kept by its replica until that replica's next request would never be found)."""
    from lam_kedro.model.policy import decode_config
    from lam_kedro.serving.serve_cli import serving_replicas

    env = WordEnv(max_steps=30)
    episodes = [[ex["messages"] for ex in step_examples(run_episode(env, ScriptedPolicy(), t, seed=0))]
                for t in make_tasks(6)]
    steps = max(episodes, key=len)
    assert len(steps) >= 3
    pool = PrefixCaches(8)
    replicas = serving_replicas(bundle, decode_config({}), workers=2, batch=3, pool=pool)
    try:
        reused = []
        for i, messages in enumerate(steps):
            replica = replicas[i % len(replicas)]  # a different replica each step
            replica(messages)
            reused.append(replica.last_stats.reused_prompt_tokens)
        assert reused[0] == 0 and all(n > 0 for n in reused[1:]), reused
        assert pool.hits == len(steps) - 1
    finally:
        for b in {id(r.batcher): r.batcher for r in replicas}.values():
            b.close()


def test_a_bad_pass_fails_alone(bundle, caplog):
    batcher = ForwardBatcher(bundle.model, max_wait_s=10.0)  # the two passes below wait for each other
    try:
        with pytest.raises(ValueError, match="out of the vocabulary"):
            batcher.run(Pass(batcher.new_cache(), [10 ** 9]))
        with pytest.raises(ValueError, match="attention mask"):
            batcher.run(Pass(batcher.new_cache(), [3, 4], allowed=torch.ones(2, 1, dtype=torch.bool)))
        with pytest.raises(ValueError, match="booleans"):  # a float mask would be read as additive
            batcher.run(Pass(batcher.new_cache(), [3, 4], allowed=torch.ones(2, 2)))
        cache = batcher.new_cache()
        with pytest.raises(ValueError, match="twice"):
            batcher.engine.forward([Pass(cache, [3]), Pass(cache, [4])])
        # a pass that fails inside the batch (a cache of another dtype) fails alone; its batch-mates get logits
        bad = RaggedCache(len(batcher.engine.layers), batcher.engine.kv_heads, batcher.engine.head_dim,
                          dtype=torch.float64)
        good = batcher.new_cache()
        results: dict[str, object] = {}
        gate = threading.Barrier(2)

        def submit(name: str, cache: RaggedCache) -> None:
            with batcher.session():
                gate.wait()
                try:
                    results[name] = batcher.run(Pass(cache, [3, 4, 5]))
                except Exception as err:  # noqa: BLE001 - checked below
                    results[name] = err

        threads = [threading.Thread(target=submit, args=a) for a in (("bad", bad), ("good", good))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert "a batch of 2 forward passes failed; running them one by one" in caplog.text
        assert isinstance(results["bad"], RuntimeError)
        assert isinstance(results["good"], torch.Tensor) and good.get_seq_length() == 3
        assert bad.get_seq_length() == 0
    finally:
        batcher.close()
    with pytest.raises(RuntimeError, match="closed"):
        batcher.run(Pass(batcher.new_cache(), [3]))


def test_models_that_cannot_be_batched_are_named(bundle):
    from transformers import GPT2Config, GPT2LMHeadModel

    gpt2 = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=100, n_positions=64))
    assert "Llama" in batching_unsupported(gpt2)
    assert batching_unsupported(bundle.model) is None
    with pytest.raises(ValueError, match="Llama"):
        ForwardBatcher(gpt2)
