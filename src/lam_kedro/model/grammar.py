"""The action JSON's grammar pieces: free strings, a choice among strings, digits, arguments and the plan.

``JsonGrammar`` is the part of ``ActionDecoder`` that writes JSON: each piece emits text through the
token machinery of ``scoring.TokenScoring`` (``_ranked``, ``_emit``, ``_force``, ``_choose``) and keeps
the text valid (``scan_string``: a quote ends a string; bad escapes and raw control characters are
skipped). ``vocab`` holds each token's text, computed once per tokenizer.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lam_kedro.env.action_table import ARG_CHOICES, REQUIRED, SIGNATURES

__all__ = ["DecodeStats", "JsonGrammar", "in_json", "scan_string", "vocab"]


#: Arguments whose values are an enumeration rather than free text (the action table's choices).
_ENUMS = ARG_CHOICES
_JSON_ESCAPES = frozenset('"\\/bfnrt')


@dataclass
class DecodeStats:
    """What one call cost: tokens the model chose, tokens forced, forward passes, prompt tokens reused."""

    prompt_tokens: int = 0
    reused_prompt_tokens: int = 0
    sampled_tokens: int = 0
    forced_tokens: int = 0
    forward_passes: int = 0
    truncated_strings: int = 0

    @property
    def completion_tokens(self) -> int:
        return self.sampled_tokens + self.forced_tokens


class _Vocab:
    """Per-token text and the special ids, computed once per tokenizer; ``encode`` remembers the ids of
    the texts it was asked for (the JSON skeleton, a screen's control labels and names recur every step)."""

    def __init__(self, tokenizer: Any) -> None:
        n = len(tokenizer)
        self.texts: list[str] = [
            tokenizer.decode([i], skip_special_tokens=False, clean_up_tokenization_spaces=False) for i in range(n)
        ]
        self.special = set(tokenizer.all_special_ids)

        @functools.lru_cache(maxsize=16384)
        def ids(text: str) -> tuple[int, ...]:
            return tuple(tokenizer.encode(text, add_special_tokens=False))

        self._ids = ids

    def encode(self, text: str) -> list[int]:
        """``tokenizer.encode(text, add_special_tokens=False)``, from the cache when seen before."""
        return list(self._ids(text))


_VOCABS: dict[int, _Vocab] = {}
_VOCAB_LOCK = threading.Lock()


def vocab(tokenizer: Any) -> _Vocab:
    with _VOCAB_LOCK:
        key = id(tokenizer)
        if key not in _VOCABS:
            _VOCABS[key] = _Vocab(tokenizer)
        return _VOCABS[key]


def scan_string(text: str, escaped: bool) -> tuple[bool, int | None, bool]:
    """Check ``text`` as the next piece of a JSON string body.

    Returns ``(ok, end, escaped)``: ``ok`` is False for a bad escape, a raw control character or
    an undecodable byte; ``end`` is the index of the closing quote if ``text`` contains one.
    """
    for i, ch in enumerate(text):
        if escaped:
            if ch not in _JSON_ESCAPES:
                return False, None, escaped
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            return True, i, False
        elif ord(ch) < 0x20 or ch == "\ufffd":
            return False, None, escaped
    return True, None, escaped


def in_json(text: str) -> str:
    """``text`` as it reads inside a JSON string (escaped, without the quotes)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


class JsonGrammar:
    """The grammar pieces of ``ActionDecoder`` (a mixin: the decoder holds the state they use)."""

    # -- grammar pieces ------------------------------------------------------------------------
    def _string(self, required: bool = False) -> str:
        """A free JSON string body (the opening quote is emitted or pending). Returns the body.

        A pending (healed) piece must be the start of the first token chosen.
        """
        body: list[str] = []
        escaped = False
        texts, special = self._vocab.texts, self._vocab.special
        steps = min(self.max_string_tokens, max(self._budget_left(), 0))
        n = 0
        while n < steps:
            head = self._pending
            choice = None
            for tid in self._ranked():
                if tid in special:
                    if not head:
                        choice = (tid, 0, None)  # the model wants to stop: end the string here
                        break
                    continue
                text = texts[tid]
                if head and head.startswith(text) and len(text) < len(head):
                    choice = (tid, -1, escaped)  # a token inside the held-back skeleton
                    break
                if not text.startswith(head):
                    continue
                if len(text) == len(head):
                    if head:  # the held-back token itself: no content yet
                        choice = (tid, None, escaped)
                        break
                    continue
                ok, end, esc = scan_string(text[len(head):], escaped)
                if ok and required and end == 0 and not body:
                    continue  # a required argument is not left empty
                if ok:
                    choice = (tid, end, esc)
                    break
            if choice is None:
                if head:  # the held-back token is not among the model's best: feed it as it is
                    self._force("", heal=False)
                    continue
                break  # nothing in the top-k fits the grammar: end the string
            tid, end, esc = choice
            if tid in special:
                break
            if end == -1:
                self._pending = head[len(texts[tid]):]
                self._out.append(texts[tid])
                self._stats.forced_tokens += 1
                self._forward([tid])
                continue
            n += 1
            if end is not None:  # the token closes the string: keep what came before the quote
                piece = texts[tid][len(head): len(head) + end]
                body.append(piece)
                self._pending = head + piece  # emitted with the next forced text
                self._stats.sampled_tokens += 1
                return "".join(body)
            escaped = bool(esc)
            body.append(texts[tid][len(head):])
            self._pending = ""
            self._emit(tid)
        else:
            self._stats.truncated_strings += 1
        if escaped:  # a dangling backslash would break the JSON: escape it
            self._pending += "\\"
            body.append("\\")
        return "".join(body)

    def _select(self, candidates: Sequence[str]) -> int:
        """Choose one of ``candidates`` (full strings to emit next); returns its index.

        Tokens are taken from the model's ranking while they are consistent with some candidate;
        once one candidate is left, its remainder is forced in one pass.
        """
        candidates = [self._pending + c for c in candidates]  # a healed piece starts every candidate
        self._pending = ""
        live = list(range(len(candidates)))
        consumed = ""
        texts, special = self._vocab.texts, self._vocab.special
        while len(live) > 1:
            exact = [i for i in live if candidates[i] == consumed]
            choice = None
            for tid in self._ranked():
                if tid in special:
                    continue
                t = consumed + texts[tid]
                whole = [i for i in live if t.startswith(candidates[i])]
                if whole:  # the token covers a whole candidate and runs on: that candidate it is
                    choice, live = None, whole[:1]
                    break
                if any(candidates[i].startswith(t) for i in live):
                    choice = tid
                    break
            if len(live) == 1:
                break
            if choice is None:
                # no ranked token fits: a complete candidate wins, else the one whose own next
                # token the model scores highest
                live = exact or [max(live, key=lambda i: self._first_token_score(candidates[i][len(consumed):]))]
                break
            consumed += texts[choice]
            self._emit(choice)
            live = [i for i in live if candidates[i].startswith(consumed)]
        idx = live[0]
        self._force(candidates[idx][len(consumed):])
        return idx

    def _integer(self) -> int:
        """Digits (at least one, at most six, an optional leading minus); returns the value."""
        texts = self._vocab.texts
        self._force("", heal=False)  # digits are separate tokens: no healing across a number
        digits = ""
        for _ in range(6):
            pick = None
            for tid in self._ranked():
                t = texts[tid]
                if t.isdigit() and t.isascii() and len(digits) + len(t) <= 6:
                    pick = tid
                    break
                if t == "-" and not digits:
                    pick = tid
                    break
                if digits.strip("-"):  # a non-digit token ranked above every digit: the number ends
                    break
            if pick is None:
                break
            digits += texts[pick]
            self._emit(pick)
        if not digits.strip("-"):  # the model named no digit: the smallest sensible value
            self._force("1")
            digits += "1"
        return int(digits)

    @staticmethod
    def _finite_args(function: str) -> list[str] | None:
        """Every args object of ``function`` as JSON text when all its arguments are enumerable."""
        combos: list[dict[str, Any]] = [{}]
        for name, arg in SIGNATURES[function].items():
            if name in _ENUMS:
                values: tuple[Any, ...] = _ENUMS[name]
            elif arg.type is bool:
                values = (False, True)
            else:
                return None
            combos = [{**c, name: v} for c in combos for v in values]
        return [json.dumps(c) for c in combos]

    def _free_args(self, function: str) -> None:
        """The args object of a function with free (string or integer) arguments; ``{"`` is emitted."""
        items = list(SIGNATURES[function].items())
        for n, (name, arg) in enumerate(items):
            if n:
                self._force(", " + json.dumps(name) + ": ")
            if name in _ENUMS:
                self._select([json.dumps(v) for v in _ENUMS[name]])
            elif arg.type is bool:
                self._select(["false", "true"])
            elif arg.type is int:
                self._integer()
            else:
                self._force('"')
                self._string(required=arg.default is REQUIRED)
                self._force('"')
        self._force("}")

    def _plan(self, previous: Sequence[str]) -> None:
        """The plan list and the closing brace, after ``"plan": `` has been emitted (or is pending).

        With a previous plan, the model decides whether this action completes the step in progress:
        the plan is then the previous one without its first step, else the previous one unchanged
        (each chosen as a whole); without one, an empty list or free steps.
        """
        if previous:
            options = [json.dumps(list(previous[k:]), ensure_ascii=False) + "}" for k in (0, 1)]
            self._force(options[self._choose(options)], heal=False)
        elif self._select(["[]}", '["']) == 1:
            self._plan_items()

    def _status_plan(self, previous: Sequence[str], in_progress: bool = False) -> None:
        """Status and plan as one choice, after ``"status": "`` (emitted or pending), when the prompt
        lists the steps not yet done: the action leaves its step in progress (``CONTINUE``, the plan
        unchanged) or completes it (the plan without its first step; ``FINISH`` with ``[]`` when it
        was the last step), as the expert's answers are. A finished task with steps left, or an
        unfinished one with none, is not on offer. ``in_progress`` (the action opened a tab: it
        goes to where the step is done, it does not do it) leaves the step in progress."""
        keep = json.dumps(list(previous), ensure_ascii=False)
        done = (f'CONTINUE", "plan": {json.dumps(list(previous[1:]), ensure_ascii=False)}}}' if len(previous) > 1
                else 'FINISH", "plan": []}')
        options = [f'CONTINUE", "plan": {keep}}}', done]
        pick = 0 if in_progress else self._choose(options)
        self._force(options[pick], heal=False)

    def _plan_items(self) -> None:
        """Plan steps after ``"plan": ["`` has been emitted (or is pending)."""
        for _ in range(self.max_plan_steps):
            self._string()
            if self._budget_left() <= 0 or self._select(['", "', '"]}']) == 1:
                break
        else:
            self._force('"]}')
            return
        if self._budget_left() <= 0:
            self._force('"]}')
