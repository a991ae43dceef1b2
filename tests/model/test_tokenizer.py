"""The tiny model's BPE tokenizer: trained on our own prompts, lossless, and compact on what repeats."""

from __future__ import annotations

import pytest

from lam_kedro.agent.prompt import render_plan_target, step_examples
from lam_kedro.model.tokenizer import SPECIAL_TOKENS, corpus_texts, train_bpe_tokenizer
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
    assert len(prompt) / len(tokenizer(prompt)["input_ids"]) > 3.5  # merges stay inside words and punctuation runs
    assert len(tokenizer('", "control_type": "Button"}')["input_ids"]) <= 5
    assert len(tokenizer('{"thought": "')["input_ids"]) <= 3
    tokens = tokenizer.tokenize('{"label": "12", "control_text": "Bold"')
    assert "1" in tokens and "2" in tokens  # labels are copied digit by digit, never one memorised token


def test_a_name_is_the_same_tokens_wherever_it_stands(tokenizer):
    """``words`` pre-tokenization: the model can copy a control's name from a plan step into its answer."""
    def ids(text: str, name: str) -> list[int]:
        start = text.index(name)
        enc = tokenizer(text, return_offsets_mapping=True)
        return [i for i, (a, b) in zip(enc["input_ids"], enc["offset_mapping"], strict=True)
                if a >= start and b <= start + len(name)]
    name = "Page Color"
    places = ['On the Design tab, click Page Color.', "Now: click 'Page Color'.", '"control_name": "Page Color", ',
              "7|Page Color|SplitButton"]
    first = ids(places[0], name)
    assert first and all(ids(p, name) == first for p in places[1:])


def test_lines_pretokenization_is_still_available():
    plans, trajs = expert_data()
    tok = train_bpe_tokenizer(corpus_texts(plans, trajs), vocab_size=1024, pretokenize="lines")
    assert len(tok('", "control_type": "Button"}')["input_ids"]) <= 3
    with pytest.raises(ValueError, match="pretokenize"):
        train_bpe_tokenizer(["x"], pretokenize="chars")


def test_chat_template_renders_prompts_that_prefix_the_conversation(tokenizer):
    prompt = [{"role": "user", "content": "Make 'Sales' bold"}]
    full = [*prompt, {"role": "assistant", "content": '{"function": "click_input"}'}]
    p = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_dict=True)["input_ids"]
    f = tokenizer.apply_chat_template(full, return_dict=True)["input_ids"]
    assert f[: len(p)] == p  # TRL's completion mask relies on this
    assert tokenizer.eos_token == SPECIAL_TOKENS["eos_token"] and tokenizer.eos_token_id in f[len(p):]
    assert tokenizer.pad_token_id is not None and tokenizer.bos_token_id == f[0]


def test_compact_controls_keep_every_control_and_the_other_slots():
    from lam_kedro.agent.prompt import step_messages
    from lam_kedro.model.formatting import compact_controls, to_model_messages

    controls = [{"label": "1", "control_text": "Font Color", "control_type": "SplitButton"},
                {"label": "12", "control_text": 'Say "hi"', "control_type": "Button"}]
    messages = step_messages("Make it red", controls, ["click_input on \"Home\""], ["1. Choose Red."])
    user = compact_controls(messages[1]["content"])
    assert "1|Font Color|SplitButton\n12|Say \"hi\"|Button\n<User Request:>" in user
    assert user.endswith(messages[1]["content"].split("<User Request:>", 1)[1]) or "<User Request:>\nMake it red" in user
    shown = to_model_messages(messages, {"system_prompt": False, "compact_controls": True})
    assert [m["role"] for m in shown] == ["user"] and shown[0]["content"] == user
    assert list(messages.slots.controls) == controls  # the decoder reads the controls as data
    assert compact_controls("no slot here") == "no slot here"
