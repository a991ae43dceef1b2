"""Fixtures of the evaluation tests: real expert trajectories on built-in templates, and a tiny causal LM."""

from __future__ import annotations

from functools import cache

import pytest

from lam_kedro.agent import InstantiatedTask, ScriptedPolicy, Trajectory, run_episode
from lam_kedro.env import WordEnv, builtin_templates, sample_task
from lam_kedro.env.tasks import get_family

FAMILIES = ("bold_text", "italic_text", "font_size", "align_center")


def make_tasks(n: int = 4, seed: int = 0) -> list[InstantiatedTask]:
    """``n`` executable held-out tasks with their families' plans, on one built-in template."""
    template = builtin_templates()[1]
    out = []
    for i in range(n):
        fam = FAMILIES[i % len(FAMILIES)]
        t = sample_task(fam, template=template, seed=seed + i)
        out.append(InstantiatedTask.from_env_task(t, plan=get_family(fam).plan(t.params)).model_copy(
            update={"task_id": f"{fam}-{i}"}))
    return out


@pytest.fixture(scope="session")
def tasks() -> list[InstantiatedTask]:
    return make_tasks(4)


@pytest.fixture(scope="session")
def documents(tasks: list[InstantiatedTask]) -> dict:
    return {t.name: t.build() for t in builtin_templates() if t.name in {x.template for x in tasks}}


@pytest.fixture(scope="session")
def expert_trajectories(tasks: list[InstantiatedTask]) -> list[Trajectory]:
    """The scripted expert's successful trajectories (the offline test set's shape)."""
    env = WordEnv(max_steps=30)
    trajs = [run_episode(env, ScriptedPolicy(name="expert"), t, seed=0, trajectory_id=f"{t.task_id}-expert")
             for t in tasks]
    assert all(t.outcome.success for t in trajs)
    return trajs


@cache
def tiny_bundle():
    """A randomly initialised 2-layer Llama with a BPE tokenizer trained on this suite's prompts (so
    they are short in tokens): it emits garbage, which is exactly what the malformed-output paths need.
    Cached: evaluation only reads the model."""
    from lam_kedro.agent.prompt import plan_messages, step_examples
    from lam_kedro.model.bundle import ModelBundle
    from lam_kedro.model.loading import build_tiny_model
    from lam_kedro.model.tokenizer import train_bpe_tokenizer

    env = WordEnv(max_steps=30)
    texts = []
    for t in make_tasks(4):
        traj = run_episode(env, ScriptedPolicy(), t, seed=0)
        texts += [m["content"] for ex in step_examples(traj) for m in ex["messages"]]
        texts += [m["content"] for m in plan_messages(t)]
    tok = train_bpe_tokenizer(texts, vocab_size=1500, min_frequency=1)
    model = build_tiny_model(tok, config={"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                                          "num_attention_heads": 2, "num_key_value_heads": 2,
                                          "max_position_embeddings": 4096})
    return ModelBundle(model=model, tokenizer=tok, info={"generation": "lam2"})
