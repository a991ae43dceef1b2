"""The tiny model's BPE tokenizer: trained on our own prompts, lossless, and compact on what repeats."""

from __future__ import annotations

import pytest

from lam_kedro.agent.prompt import render_plan_target, step_examples
from lam_kedro.training.tokenizer import SPECIAL_TOKENS, corpus_texts, train_bpe_tokenizer
from tests.training.phase12_data import expert_data


@pytest.fixture(scope="module")
def tokenizer():
    plans, trajs = expert_data()
    return train_bpe_tokenizer(corpus_texts(plans, trajs), vocab_size=1024)


def test_round_trips_prompts_targets_and_any_unicode(tokenizer):
    plans, trajs = expert_data()
    ex = step_examples(trajs[0])[1]
    texts = [ex["target"], ex["messages"][0]["content"], ex["messages"][1]["content"],
             render_plan_target(plans[0].plan), "Naïve café © ™ — 42 \u4e2d\u6587 emoji \U0001f600"]
    for text in texts:
        assert tokenizer.decode(tokenizer(text)["input_ids"]) == text


def test_control_names_and_json_keys_are_few_tokens(tokenizer):
    _, trajs = expert_data()
    prompt = step_examples(trajs[0])[0]["messages"][1]["content"]
    assert len(prompt) / len(tokenizer(prompt)["input_ids"]) > 5  # a generic BPE gets about 4 chars per token
    assert len(tokenizer('", "control_type": "Button"}')["input_ids"]) <= 3
    assert len(tokenizer('{"thought": "')["input_ids"]) <= 3
    tokens = tokenizer.tokenize('{"label": "12", "control_text": "Bold"')
    assert "1" in tokens and "2" in tokens  # labels are copied digit by digit, never one memorised token


def test_chat_template_renders_prompts_that_prefix_the_conversation(tokenizer):
    prompt = [{"role": "user", "content": "Make 'Sales' bold"}]
    full = [*prompt, {"role": "assistant", "content": '{"function": "click_input"}'}]
    p = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_dict=True)["input_ids"]
    f = tokenizer.apply_chat_template(full, return_dict=True)["input_ids"]
    assert f[: len(p)] == p  # TRL's completion mask relies on this
    assert tokenizer.eos_token == SPECIAL_TOKENS["eos_token"] and tokenizer.eos_token_id in f[len(p):]
    assert tokenizer.pad_token_id is not None and tokenizer.bos_token_id == f[0]
