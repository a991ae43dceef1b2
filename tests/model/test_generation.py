"""Generation as policies use it, and the point of Phases 1-2: LAM2 acts better than the untrained base."""

from __future__ import annotations

from pathlib import Path

import pytest

from lam_kedro.agent.policies import TextPolicy
from lam_kedro.agent.prompt import parse_action_output
from lam_kedro.model.formatting import step_rows, to_model_messages
from lam_kedro.model.generation import make_generate, teacher_forced_accuracy
from lam_kedro.model.loading import build_base_model
from lam_kedro.pipelines.phase1.nodes import train_lam1
from lam_kedro.pipelines.phase2.nodes import train_lam2
from tests.training.phase12_data import base_params, expert_data, sft_params


@pytest.fixture(scope="module")
def generations(tmp_path_factory: pytest.TempPathFactory):
    """base -> LAM1 -> LAM2 through the phase nodes, at test sizes."""
    plans, trajs = expert_data()
    tmp = tmp_path_factory.mktemp("ckpt")
    base = build_base_model(plans, trajs, base_params())
    lam1, _ = train_lam1(base, list(plans), {**sft_params(None, max_steps=6), "eval_fraction": 0}, tmp / "lam1")
    lam2, _ = train_lam2(lam1, list(trajs), {**sft_params(None, max_steps=48), "eval_fraction": 0}, tmp / "lam2")
    return base, lam1, lam2


def test_system_prompt_is_dropped_only_when_info_says_so():
    messages = [{"role": "system", "content": "long"}, {"role": "user", "content": "request"}]
    assert to_model_messages(messages, {"system_prompt": False}) == messages[1:]
    assert to_model_messages(messages, {}) == messages


def test_lam2_predicts_the_experts_actions_better_than_the_base(generations):
    base, lam1, lam2 = generations
    _, trajs = expert_data()
    rows = step_rows(trajs, base.info)
    rows = rows[::3]  # a third of the training steps is plenty to tell them apart
    before, after = teacher_forced_accuracy(base, rows), teacher_forced_accuracy(lam2, rows)
    assert after["token_accuracy"] > before["token_accuracy"] + 0.1, (before, after)
    assert lam2.info["parent"] == "lam1" and lam1.info["parent"] == "base"


def test_generate_decodes_only_new_tokens_greedily_and_feeds_a_policy(generations):
    _, _, lam2 = generations
    _, trajs = expert_data()
    row = step_rows(trajs[:1], lam2.info)[0]
    generate = make_generate(lam2, max_new_tokens=64)
    text = generate(row["prompt"])
    assert isinstance(text, str) and text == generate(row["prompt"])
    assert "<Available Control Item:>" not in text and "<|im_start|>" not in text
    assert text.lstrip().startswith("{")  # it learned the shape of an action
    parsed = parse_action_output(text, trajs[0].steps[0].observation["controls"])
    assert parsed.ok or parsed.error  # a value either way, never an exception
    policy = TextPolicy(generate, name="lam2")
    assert policy.generate is generate


def test_sampling_is_seeded_per_call(generations, tmp_path: Path):
    _, _, lam2 = generations
    _, trajs = expert_data()
    prompt = step_rows(trajs[:1], lam2.info)[0]["prompt"]
    a = make_generate(lam2, max_new_tokens=24, do_sample=True, temperature=1.0, seed=3)
    b = make_generate(lam2, max_new_tokens=24, do_sample=True, temperature=1.0, seed=3)
    assert [a(prompt), a(prompt)] == [b(prompt), b(prompt)]
