"""A BPE tokenizer trained on the project's own text, for the tiny base model.

The LAM's inputs and outputs are dominated by a few hundred strings that repeat in every
example: the JSON keys of the action and of the control list, control names, tab names. A
generic tokenizer spends many tokens on each; one trained here on task plans, plan targets and
rendered step prompts/targets learns them as a few tokens, so a small model sees short sequences
and trains in minutes on a CPU.

Pre-tokenization splits only at newlines and between digits, so merges may cross spaces and
punctuation (``", "control_type": "Button"}`` can become a couple of tokens) while numbers stay
one digit per token (control labels are read and copied digit by digit, not memorised as wholes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from lam_kedro.agent.prompt import plan_messages, render_plan_target, step_examples
from lam_kedro.model.formatting import compact_controls

__all__ = ["CHAT_TEMPLATE", "SPECIAL_TOKENS", "corpus_texts", "train_bpe_tokenizer"]

#: ChatML, as SmolLM2 and Qwen2 use it; ``<|im_end|>`` closes a turn and is the model's EOS, so a
#: model trained on rendered conversations learns to stop where ``generate`` stops.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

#: bos, eos (end of turn), pad and the turn opener.
SPECIAL_TOKENS: dict[str, str] = {
    "bos_token": "<|startoftext|>",
    "eos_token": "<|im_end|>",
    "pad_token": "<|pad|>",
    "start_token": "<|im_start|>",
}


def corpus_texts(
    task_plans: Iterable[Any], trajectories: Iterable[Any], max_trajectories: int | None = None,
    compact: bool = False,
) -> Iterator[str]:
    """Every text the phases train on: plan prompts and targets, step prompts and action targets.

    The texts are exactly what ``formatting`` feeds the trainer (same prompt functions), so the
    merges the tokenizer learns are the ones training and inference need.
    """
    for plan in task_plans:
        for m in plan_messages(plan):
            yield m["content"]
        yield render_plan_target(plan.plan)
    for i, traj in enumerate(trajectories):
        if max_trajectories is not None and i >= max_trajectories:
            break
        for ex in step_examples(traj):
            for m in ex["messages"]:
                yield compact_controls(m["content"]) if compact else m["content"]
            yield ex["target"]


#: ``words``: a word (letters and underscores) with at most one trailing space, one digit, or a run
#: of anything else (punctuation and spaces: ``", "``) is a piece; merges stay inside a piece.
_WORDS = r"[A-Za-z_]+ ?|[0-9]|[^A-Za-z0-9_\n]+"
PRETOKENIZE: tuple[str, ...] = ("words", "lines")


def _pre_tokenizer(pretokenize: str = "words") -> pre_tokenizers.PreTokenizer:
    """``words`` (default): a name is the same tokens wherever it stands (a plan step, the control
    list, the answer's JSON), so the model can copy it; ``lines``: merges may cross spaces and
    punctuation (shorter sequences, but ``Watermark`` in a sentence and in JSON are other tokens)."""
    if pretokenize not in PRETOKENIZE:
        raise ValueError(f"base_model.tokenizer.pretokenize: {pretokenize!r} is not one of {PRETOKENIZE}")
    pieces = [pre_tokenizers.Split(Regex(r"\n"), behavior="isolated")]
    if pretokenize == "words":
        pieces.append(pre_tokenizers.Split(Regex(_WORDS), behavior="isolated"))
    else:
        pieces.append(pre_tokenizers.Digits(individual_digits=True))
    pieces.append(pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False))
    return pre_tokenizers.Sequence(pieces)


def train_bpe_tokenizer(
    texts: Iterable[str],
    vocab_size: int = 4096,
    min_frequency: int = 2,
    max_token_length: int | None = 32,
    model_max_length: int = 4096,
    extra_tokens: Sequence[str] = (),
    pretokenize: str = "words",
) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE on ``texts`` and wrap it as a transformers tokenizer with a chat template.

    Byte-level means any text (accents, symbols from the Symbol menu) round-trips without an
    unknown token. ``max_token_length`` keeps a whole repeated line from becoming one token.
    """
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = _pre_tokenizer(pretokenize)
    tok.decoder = decoders.ByteLevel()
    specials = list(dict.fromkeys([*SPECIAL_TOKENS.values(), *extra_tokens]))
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        max_token_length=max_token_length,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=SPECIAL_TOKENS["bos_token"],
        eos_token=SPECIAL_TOKENS["eos_token"],
        pad_token=SPECIAL_TOKENS["pad_token"],
        additional_special_tokens=[SPECIAL_TOKENS["start_token"], *extra_tokens],
        model_max_length=model_max_length,
        padding_side="right",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast
