"""Small text helpers shared by sourcing, evolution and filtering: one definition of "same task"."""

from __future__ import annotations

import re

from lam_kedro.agent.prompt import strip_step_marker
from lam_kedro.env.tasks import merge_steps, numbered

_NON_WORD = re.compile(r"[^\w\s]+")
_QUOTED = re.compile(r'"([^"]+)"')
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def normalize(text: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed: two requests that differ only in
    case, quotes or spacing are the same request (the de-duplication key)."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def word_count(text: str) -> int:
    return len(text.split())


def extra_words(parent: str, child: str) -> int:
    """How many words evolution added (the paper allows at most 20)."""
    return word_count(child) - word_count(parent)


def split_end(text: str) -> tuple[str, str]:
    """``('Make X bold', '.')``: the sentence without its final punctuation, and that punctuation."""
    text = text.strip()
    if text and text[-1] in ".!?":
        return text[:-1].rstrip(), text[-1]
    return text, "."


def lower_first(text: str) -> str:
    """Lower-case the first letter to continue a sentence, unless it starts 'I ' or an acronym."""
    first = text.split(" ", 1)[0]
    if not first or first == "I" or first.isupper() or not first[0].isalpha():
        return text
    return text[0].lower() + text[1:]


def is_imperative(text: str) -> bool:
    """A request that reads as a command ('Make ...'), so it can follow 'Then'."""
    first = text.split(" ", 1)[0].lower()
    return first not in {"can", "could", "would", "will", "i", "i'd", "i'm", "please", "we", "my"} \
        and not text.rstrip().endswith("?")


def quoted(text: str) -> list[str]:
    """Every double-quoted string, the values an LLM rewrite must keep verbatim."""
    return _QUOTED.findall(text)


def numbers(text: str) -> list[str]:
    return _NUMBER.findall(text)


def tidy(text: str) -> str:
    """Drop a doubled stop after a quote that ends a sentence ('"Done.".' -> '"Done."')."""
    return re.sub(r'([.!?])"([.!?])', r'\1"', " ".join(text.split()))


def merge_plans(*plans: list[str]) -> list[str]:
    """Steps of several plans in order, renumbered; a repeated selection step is kept once
    (``lam_kedro.env.tasks.merge_steps``)."""
    return merge_steps(*plans)


def renumber(steps: list[str]) -> list[str]:
    return numbered([strip_step_marker(s) for s in steps])
