"""Constrained decoding of the action JSON: always valid, only what the prompt allows, and fast.

The LAM answers every step with one JSON object in a fixed key order (``agent.prompt.
ACTION_KEYS``, the order it was trained on). Most of that text is not a decision at all: the
keys, the quotes and commas, the ``control_name`` (it is the chosen control's text) and the
argument names (they follow from the function). ``ActionDecoder`` walks that grammar and lets
the model decide only the decisions:

- ``thought``, string arguments and plan steps: free text, token by token, restricted to tokens
  that keep the JSON string valid (a quote ends it; bad escapes and raw control characters are
  skipped) and capped at ``max_string_tokens``;
- ``control_label``: one of the labels listed in the prompt's ``<Available Control Item:>``
  slot (or ``""`` for a status-only step); ``function``: one of ``functions`` that the
  environment accepts on that control's type (``env.action_table.VALID_ON``); ``button``, booleans
  and ``status``: their enumerations; integers: digits only.

A choice is made token by token among the tokens consistent with some allowed string (the
model's own tokenisation is used where it matches), and as soon as one string is left, the rest
of it and the fixed skeleton up to the next decision are *forced*: appended in one forward pass
instead of being sampled one token at a time. The KV cache of the previous prompt is kept and
cropped to the prefix the next prompt shares with it (system prompt, control list, request), so
consecutive steps of an episode only pay for what changed.

A prompt that is not a step prompt (no control list, e.g. Phase 1's plan prompt) is decoded by
``decode_plan`` (the model's own tokens, with each quote copied from the request and each finished
step's clicked control settled by ``requested_names``; with ``copy_values: false``, plain
``generate``). The output is a string, like ``make_generate``'s, so ``TextPolicy``, the
pyfunc model and the server take either decoder.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import torch

from lam_kedro.agent.expert import KEYS, Intent, PlanParseError, paragraph_around, parse_step, select_target
from lam_kedro.agent.prompt import control_lines, strip_step_marker
from lam_kedro.env.action_table import ACTIONS, ARG_CHOICES, REQUIRED, SIGNATURES, VALID_ON
from lam_kedro.env.controls import MENUS, TAB_CONTROLS, TABS
from lam_kedro.training.bundle import ModelBundle
from lam_kedro.training.generation import encode_prompt, make_generate

__all__ = [
    "ActionDecoder", "DecodeStats", "controls_from_messages", "document_selections", "make_action_generate",
    "plan_from_messages", "request_from_messages", "quoted", "split_document", "step_spans", "named_in",
]

#: Arguments whose values are an enumeration rather than free text (the action table's choices).
_ENUMS = ARG_CHOICES
_STATUSES: tuple[str, ...] = ("CONTINUE", "FINISH")
_JSON_ESCAPES = frozenset('"\\/bfnrt')
#: Tokens of a forced run held back for the model to re-choose (token healing): two cover a key
#: and its ``": "`` when the model's tokenizer merges them with the value that follows.
_HEAL_TOKENS = 2


def controls_from_messages(messages: Sequence[Mapping[str, str]]) -> list[dict[str, str]] | None:
    """The controls of a step prompt (``agent.prompt.step_messages``), or ``None`` if it is not one.

    The control slot lists one JSON object per line; the slot ends at the next ``<...:>`` line.
    """
    for message in reversed(messages):
        content = message.get("content") or ""
        slot = control_lines(content) if isinstance(content, str) else None
        if slot is not None:
            return [control for _, control in slot[2]]
    return None


_PLAN_SLOT = "<Previous Plans:>"


def _slot_lines(messages: Sequence[Mapping[str, str]], slot: str) -> list[str] | None:
    """The stripped lines of the last message's ``slot`` (up to the next ``<...:>`` line), or ``None``."""
    for message in reversed(messages):
        content = message.get("content") or ""
        if not isinstance(content, str) or slot not in content:
            continue
        lines: list[str] = []
        for line in content.split(slot, 1)[1].splitlines():
            line = line.strip()
            if line.startswith("<") and line.endswith(":>"):
                break
            lines.append(line)
        return lines
    return None


def plan_from_messages(messages: Sequence[Mapping[str, str]]) -> list[str]:
    """The items of a step prompt's ``<Previous Plans:>`` slot, one per line (``[]`` for ``None``).

    Items are the lines as the prompt shows them: a plan whose steps carry their own numbers
    (``"2. Click Bold."``) shows them unchanged, and that is also how the expert's ``plan`` holds them.
    """
    return [line for line in _slot_lines(messages, _PLAN_SLOT) or [] if line and line != "None"]


_REQUEST_SLOT = "<User Request:>"
_QUOTED = re.compile(r'"([^"\n]+)"')
#: The control types an ``open`` decision names (a ribbon tab).
_TABS = frozenset(("TabItem",))
#: Keys a ``press`` decision may name: the ones the expert presses for a plan's words (``agent.expert.KEYS``).
KEY_VALUES: tuple[str, ...] = tuple(dict.fromkeys(KEYS.values()))
#: The words a plan step names each key by ("Press Delete"; "Click at the start of ..." is Home).
KEY_WORDS: dict[str, tuple[str, ...]] = {
    key: (*(w for w, k in KEYS.items() if k == key), *(("start", "beginning") if key == "{HOME}" else ()))
    for key in KEY_VALUES
}


def request_from_messages(messages: Sequence[Mapping[str, str]]) -> str:
    """The text of a step prompt's ``<User Request:>`` slot (``""`` when there is none)."""
    return "\n".join(_slot_lines(messages, _REQUEST_SLOT) or []).strip()


#: The ``<Document:>`` slot's header line (an empty document leaves nothing after it: the prompt is stripped).
_DOCUMENT_SLOT = re.compile(r"\n<Document:>(?:\n|$)")


def split_document(messages: Sequence[Mapping[str, str]]) -> tuple[list[dict[str, str]], str | None]:
    """A step prompt's ``<Document:>`` slot (``agent.prompt.step_messages(document=...)``, the last slot,
    after ``<Previous Plans:>``) taken out: the messages without it, as the model was trained to read
    them, and the document text (``None`` when the prompt has no such slot)."""
    out = [dict(m) for m in messages]
    for message in reversed(out):
        content = message.get("content")
        if not isinstance(content, str) or _PLAN_SLOT not in content:
            continue
        m = _DOCUMENT_SLOT.search(content, content.find(_PLAN_SLOT))
        if m is None:
            return out, None
        message["content"] = content[:m.start()].rstrip()
        return out, content[m.end():].strip("\n")
    return out, None


def document_selections(step: str, request: str, document: str) -> list[str]:
    """What a ``select`` on plan step ``step`` means, read off the document the observation shows, as the
    expert reads it (``agent.expert.select_target``): the whole paragraph a quoted opening names ("Select
    the paragraph that starts with "Q""), every paragraph of a range, a double-clicked word with the
    space after it, a quote cut short with ``...`` run to the end of its paragraph, else the quote as the
    step writes it (its first quote: "Select the text "A" in the paragraph that starts with "B"" is A).
    A step that quotes nothing ("Select the text you want to change") offers each quote of the request
    the document shows (the paragraph around it when the step or the request says paragraph). ``[]``
    when ``step`` asks for no selection the expert can read."""
    try:
        intents = [i for i in parse_step(step) if i.kind == "select"]
    except PlanParseError:
        return []
    if not intents:
        return []
    intent = intents[0]
    if intent.value:
        text, _ = select_target(intent, document, request)
        return [text] if text else []
    out: list[str] = []
    for q in _QUOTED.findall(request):
        head = q.removesuffix("...").rstrip()
        if not head or head not in document:
            continue
        opening = re.search(rf'(?:starts with|starting (?:at|with)) "{re.escape(q)}"', request) is not None
        if intent.target == "paragraph" or opening:
            text = paragraph_around(document, head)
        else:
            text = select_target(Intent("select", "text", q), document)[0] or head
        if text not in out:
            out.append(text)
    return out


def quoted(*texts: str) -> list[str]:
    """The double-quoted strings of ``texts`` in order, each also without a trailing ``...`` (a quote cut short)."""
    out: list[str] = []
    for text in texts:
        for q in _QUOTED.findall(text):
            for v in (q, q.removesuffix("...").rstrip()):
                if v and v not in out:
                    out.append(v)
    return out


def select_values(step: str, request: str, named: bool = True) -> list[str]:
    """What a ``select`` may copy: the quotes of the plan step (one cut short with ``...`` also as each
    quote of the request it begins), else (with ``named`` false, or a step that quotes nothing, "Select
    the text you want to change") every quote of the step and the request; one-word values also with
    the space a double-click takes."""
    values: list[str] = []
    if named:
        full = [q for q in quoted(request) if not q.endswith("...")]
        for q in _QUOTED.findall(step):
            head = q.removesuffix("...").rstrip()
            grown = [r for r in full if r.startswith(head) and r != head] if q.endswith("...") else []
            for v in (*grown, head):
                if v and v not in values:
                    values.append(v)
    values = values or quoted(step, request)
    return values + [v + " " for v in values if " " not in v and v + " " not in values]


def plan_quotes(request: str) -> list[str]:
    """What a plan may quote: each quote of the request, as written. Word-prefixes of them were offered
    too (for "Select the paragraph that starts with ..."), but the shorter text always scores higher
    and won where the reference quotes it whole: LAM1's step recall on the default run's 379 held-out
    pairs was 49.9 % with them and 52.4 % without."""
    return list(dict.fromkeys(_QUOTED.findall(request)))


#: The ribbon's groups of controls: each tab's controls, each menu's (gallery's) items.
_RIBBON = (*TAB_CONTROLS.values(), *MENUS.values())


@cache
def sibling_sets() -> tuple[frozenset[str], ...]:
    """The on-screen names of the simulated Word that stand in for one another: the tabs, each tab's
    controls and each menu's (gallery's) items (a dialog's fields and buttons are not alternatives)."""
    return (frozenset(TABS), *(frozenset(s.text for s in group if s.text.strip()) for group in _RIBBON))


@cache
def _screen_names() -> tuple[str, ...]:
    return tuple(sorted(frozenset().union(*sibling_sets()), key=lambda n: (-len(n), n)))


@cache
def _commands() -> dict[str, frozenset[str]]:
    """Screen name -> the commands a click on it runs (Bold and Underline both toggle)."""
    out: dict[str, set[str]] = {}
    for group in _RIBBON:
        for spec in group:
            out.setdefault(spec.text, set()).add(spec.cmd)
    return {k: frozenset(v) for k, v in out.items()}


def _alike(x: str, y: str) -> bool:
    """Two screen names that do the same kind of thing (a tab is alike any tab)."""
    cx, cy = _commands().get(x, frozenset({"tab"})), _commands().get(y, frozenset({"tab"}))
    return bool(cx & cy)


_TARGET = re.compile(r"(?<![\w-])(?:[Cc]lick|[Cc]hoose)\s+")


def _mentions(text: str, name: str) -> bool:
    """``text`` mentions ``name`` as a word start, any case ("centered" mentions Center)."""
    return re.search(r"(?<!\w)" + re.escape(name), text, flags=re.IGNORECASE) is not None


def requested_names(line: str, request: str, earlier: str = "") -> str:
    """``line`` (a plan step) with each control it clicks or chooses that the request does not
    mention replaced by the one sibling of it (same tab or menu, same kind of command) that the
    request names and no ``earlier`` step clicks ("click Underline" -> "click Bold" for "make them bold"), or else by the
    one screen name it becomes with a part that is such a sibling replaced ("Click Edit Header" ->
    "Click Edit Footer" for "add the footer ..."); unchanged when there is no single such name.
    The request's quoted text (the user's document words) names nothing."""
    names = _screen_names()
    words = _QUOTED.sub(" ", request)
    asked = {n for n in named_in(words, names) if not _mentions(earlier, n)}
    if not asked:
        return line
    out, last = [], 0
    for m in _TARGET.finditer(line):
        rest = line[m.end():]
        x = next((n for n in names if rest.startswith(n) and not rest[len(n):len(n) + 1].isalnum()), None)
        if x is None or _mentions(words, x):
            continue
        if any(_mentions(words, item.text) for item in MENUS.get(x, ())):
            continue  # it opens the menu of something the request asks for ("Orientation" for landscape)
        ys = {y for group in sibling_sets() if x in group for y in group & asked if y != x and _alike(x, y)}
        if not ys:  # a name made of a sibling's ("Edit Header" when the request names the Footer)
            ys = {grown for y in asked for group in sibling_sets() if y in group for z in group - {y, x}
                  if _alike(z, y) and re.search(rf"(?<!\w){re.escape(z)}(?!\w)", x)
                  and (grown := re.sub(rf"(?<!\w){re.escape(z)}(?!\w)", y, x)) in names}
        if len(ys) == 1:
            out.append(line[last:m.end()] + ys.pop())
            last = m.end() + len(x)
    return "".join(out) + line[last:]


def step_spans(step: str, longest: int = 4) -> list[str]:
    """Every run of up to ``longest`` words of ``step`` outside its quotes (edge punctuation stripped):
    the values a plan step can name without quoting them (``18``, ``Bold Italic``, a URL)."""
    words = [w.strip('.,;:()"') for w in _QUOTED.sub(" ", step).split()]
    words = [w for w in words if w]
    out: list[str] = []
    for i in range(len(words)):
        for n in range(1, longest + 1):
            span = " ".join(words[i:i + n])
            if i + n <= len(words) and span not in out:
                out.append(span)
    return out


def named_in(step: str, names: Sequence[str]) -> list[str]:
    """The ``names`` that ``step`` mentions as whole words (any case), less those only inside a longer one it
    mentions (``Header`` in "Close Header and Footer")."""
    spans: list[tuple[int, int, str]] = []
    for name in dict.fromkeys(n for n in names if n.strip()):
        for m in re.finditer(r"(?<!\w)" + re.escape(name) + r"(?!\w)", step, flags=re.IGNORECASE):
            spans.append((m.start(), m.end(), name))
    keep = {n for a, b, n in spans if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for a2, b2, _ in spans)}
    return [n for n in names if n in keep]


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
    """Per-token text and the special ids, computed once per tokenizer."""

    def __init__(self, tokenizer: Any) -> None:
        n = len(tokenizer)
        self.texts: list[str] = [
            tokenizer.decode([i], skip_special_tokens=False, clean_up_tokenization_spaces=False) for i in range(n)
        ]
        self.special = set(tokenizer.all_special_ids)


_VOCABS: dict[int, _Vocab] = {}
_VOCAB_LOCK = threading.Lock()


def _vocab(tokenizer: Any) -> _Vocab:
    with _VOCAB_LOCK:
        key = id(tokenizer)
        if key not in _VOCABS:
            _VOCABS[key] = _Vocab(tokenizer)
        return _VOCABS[key]


def _scan_string(text: str, escaped: bool) -> tuple[bool, int | None, bool]:
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


def _in_json(text: str) -> str:
    """``text`` as it reads inside a JSON string (escaped, without the quotes)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


@dataclass(frozen=True)
class _Decision:
    """What a thought's decision fixes: the controls it names (indices), and the function and args
    it implies (``None``: the model still chooses them)."""

    controls: list[int]
    function: str | None
    args: dict[str, Any] | None
    opens_tab: bool = False


class ActionDecoder:
    """``decoder(messages) -> action JSON text`` under the action grammar (see the module docstring).

    Args:
        bundle: the LAM (causal LM and tokenizer).
        functions: the functions the model may call (an allowlist; default every function of the action table).
        max_new_tokens: budget of tokens the model chooses (the forced skeleton is extra); free
            text stops early when it runs out, and the JSON is still closed.
        max_string_tokens: cap for one free string (a thought, a text argument, a plan step).
        max_plan_steps: cap on the number of plan steps.
        prefix_cache: reuse the KV cache of the prefix shared with the previous prompt.
        do_sample / temperature / seed: sample instead of greedy (Gumbel top-k over allowed tokens).
        top_k: how many of the model's best tokens are checked against the grammar per step.
        score_controls: choose the control by the joint log-probability of its label *and* name:
            the model's ``score_controls`` likeliest labels are scored in one extra forward pass
            (0: the label token by token, from the label alone).
        copy_plan: when the prompt's ``<Previous Plans:>`` lists steps (the steps not yet done, the
            one in progress first, as the expert's plans are), the thought starts with the first of
            them and the answer's ``plan`` is that list with or without its first step, chosen by
            joint log-probability: what the prompt already holds is copied, not re-spelled token by
            token, and the model decides only whether its action completes the step (``False``:
            both free text).
        copy_decision: with ``copy_plan``, the thought goes on with ``" Now: "`` and a verb; a
            ``click`` names one of the visible controls, chosen whole, and the action is then on
            that control (the thought states the decision, the action carries it out).
        copy_values: with ``copy_decision``, ``select``, ``type`` and ``press`` copy their value
            from the prompt as well (a quote of the plan step or the request, a run of the step's
            words, a key) and the action carries it: no value is spelled token by token. A plan
            prompt (no controls) is decoded by ``decode_plan``: each quote the plan opens is a
            copy of the request's (``plan_quotes``), and with ``named_controls`` each finished step
            clicks the sibling control the request names (``requested_names``); without
            ``copy_values`` plainly.
        named_controls: with ``copy_decision``, a click (or a box to type into) is chosen among the
            visible controls the plan step names, when it names any (else among all of them).
        read_document: with ``copy_values`` and ``named_controls``, a ``select`` reads its text off the
            prompt's ``<Document:>`` slot as the plan step says (``document_selections``); the slot is
            taken out of every prompt before the model reads it (``split_document``).
    """

    def __init__(
        self,
        bundle: ModelBundle,
        functions: Sequence[str] | None = None,
        max_new_tokens: int = 256,
        max_string_tokens: int = 48,
        max_plan_steps: int = 8,
        prefix_cache: bool = True,
        do_sample: bool = False,
        temperature: float = 1.0,
        seed: int = 0,
        top_k: int = 64,
        score_controls: int = 8,
        copy_plan: bool = True,
        copy_decision: bool = True,
        copy_values: bool = True,
        named_controls: bool = True,
        read_document: bool = True,
    ) -> None:
        functions = tuple(ACTIONS) if functions is None else functions
        unknown = [f for f in functions if f not in ACTIONS]
        if unknown:
            raise ValueError(f"unknown function(s) {unknown}; the allowed set is a subset of {list(ACTIONS)}")
        if not functions:
            raise ValueError("functions is empty: the model could only ever say FINISH")
        self.bundle = bundle
        self.model = bundle.model
        self.tokenizer = bundle.tokenizer
        self.functions = tuple(functions)
        self.max_new_tokens = max_new_tokens
        self.max_string_tokens = max_string_tokens
        self.max_plan_steps = max_plan_steps
        self.prefix_cache = prefix_cache
        self.do_sample = do_sample
        self.temperature = temperature
        self.top_k = top_k
        self.score_controls = 8 if score_controls is True else int(score_controls)
        self.copy_plan = bool(copy_plan)
        self.copy_decision = bool(copy_decision)
        self.copy_values = bool(copy_values)
        self.named_controls = bool(named_controls)
        self.read_document = bool(read_document)
        self._document: str | None = None
        self._step = ""
        self._request = ""
        self._generator = torch.Generator().manual_seed(seed)
        self._vocab = _vocab(self.tokenizer)
        self._eos = self.tokenizer.eos_token_id
        self._limit = getattr(getattr(self.model, "config", None), "max_position_embeddings", None)
        self._plain: Callable[[list[dict[str, str]]], str] | None = None
        self._prompt_ids: list[int] = []
        self._cache: Any = None
        self.last_stats = DecodeStats()
        self.model.eval()

    # -- low level: the model, the cache, the text ------------------------------------------
    def _forward(self, ids: Sequence[int]) -> None:
        input_ids = torch.tensor([list(ids)], device=self.model.device)
        with torch.inference_mode():
            out = self.model(input_ids=input_ids, past_key_values=self._cache, use_cache=True, logits_to_keep=1)
        self._cache = out.past_key_values
        self._logits = out.logits[0, -1].float().cpu()
        self._stats.forward_passes += 1

    def _force(self, text: str, heal: bool = True) -> None:
        """Append ``text`` (after any pending piece) in one forward pass.

        With ``heal`` (token healing) the last tokens of the run are held back as ``_pending``: the
        next decision then starts from tokens that *begin* with that text, so the model may pick
        the token it was trained on (``"Plan`` rather than ``"`` then ``Plan``) across the boundary
        between the fixed skeleton and what it decides.
        """
        text = self._pending + text
        self._pending = ""
        if not text:
            return
        ids = self.tokenizer.encode(text, add_special_tokens=False)
        if heal and ids:
            keep = len(ids) - min(_HEAL_TOKENS, len(ids))
            tail = "".join(self._vocab.texts[i] for i in ids[keep:])
            if tail and text.endswith(tail) and not self._vocab.special.intersection(ids[keep:]):
                ids, self._pending, text = ids[:keep], tail, text[: -len(tail)]
        if not ids:
            return
        self._out.append(text)
        self._stats.forced_tokens += len(ids)
        self._forward(ids)

    def _emit(self, token_id: int) -> None:
        """The model's own token: fed as is, its text appended."""
        self._out.append(self._vocab.texts[token_id])
        self._stats.sampled_tokens += 1
        self._forward([token_id])

    def _ranked(self) -> list[int]:
        """Token ids to try, best first: greedy order, or a sample order (Gumbel top-k)."""
        logits = self._logits
        if self.do_sample:
            u = torch.rand(logits.shape, generator=self._generator).clamp_(1e-9, 1 - 1e-9)
            logits = logits / max(self.temperature, 1e-5) - torch.log(-torch.log(u))
        k = min(self.top_k, logits.shape[0])
        return torch.topk(logits, k).indices.tolist()

    def _budget_left(self) -> int:
        return self.max_new_tokens - self._stats.sampled_tokens

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
                ok, end, esc = _scan_string(text[len(head):], escaped)
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

    def _scores(self, candidates: Sequence[str], top: int | None = None) -> list[float]:
        """The model's log-probability of each of ``candidates`` as the next text (``-inf``: not scored).

        The tokens all candidates begin with are fed once; the model's ranking of the token where
        they part keeps the ``top`` likeliest (ties kept together; ``None``: all), and those are
        scored to their end in one forward pass: laid side by side after the cache, each with its
        own positions and a mask that lets it see the prefix and its own earlier tokens only (tree
        attention), so the cache is neither copied nor recomputed. The cache and the logits are
        as they were afterwards.
        """
        seqs = [self.tokenizer.encode(self._pending + c, add_special_tokens=False) for c in candidates]
        scores = [float("-inf")] * len(seqs)
        if not any(seqs):
            return scores
        base, saved = self._cache.get_seq_length(), self._logits
        common = 0
        shortest = min(len(q) for q in seqs)
        while common < shortest - 1 and all(q[common] == seqs[0][common] for q in seqs):
            common += 1
        try:
            start_lp = 0.0
            if common:
                start_lp = float(sum(self._logprob_run(seqs[0][:common])))
            first = torch.log_softmax(self._logits, dim=-1)
            live = [i for i, q in enumerate(seqs) if len(q) > common]
            live.sort(key=lambda i: -float(first[seqs[i][common]]))
            if top is not None and len(live) > top:
                cut = float(first[seqs[live[top - 1]][common]])
                live = [i for i in live if float(first[seqs[i][common]]) >= cut]
            for i, total in zip(live, self._tree(
                    [seqs[i][common:] for i in live], first), strict=True):
                scores[i] = start_lp + total
        finally:
            self._crop_to(base)
            self._logits = saved
        return scores

    def _logprob_run(self, ids: Sequence[int]) -> list[float]:
        """Feed ``ids`` (all positions' logits kept); their log-probabilities under the model."""
        lp = [float(torch.log_softmax(self._logits, dim=-1)[ids[0]])]
        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([list(ids)], device=self.model.device),
                             past_key_values=self._cache, use_cache=True)
        self._cache = out.past_key_values
        logits = out.logits[0].float().cpu()
        self._stats.forward_passes += 1
        steps = torch.log_softmax(logits[:-1], dim=-1)
        lp += [float(steps[j, ids[j + 1]]) for j in range(len(ids) - 1)]
        self._logits = logits[-1]
        return lp

    def _tree(self, seqs: Sequence[Sequence[int]], first: torch.Tensor) -> list[float]:
        """Sum log-probability of each token sequence after the cache (``first``: the next token's)."""
        feed = [list(q[:-1]) for q in seqs]
        totals = [float(first[q[0]]) for q in seqs]
        count = sum(len(f) for f in feed)
        if count == 0:
            return totals
        prefix = self._cache.get_seq_length()
        ids: list[int] = []
        positions: list[int] = []
        starts: list[int] = []
        allowed = torch.zeros(count, prefix + count, dtype=torch.bool)
        allowed[:, :prefix] = True
        for f in feed:
            start, n = len(ids), len(f)
            starts.append(start)
            ids.extend(f)
            positions.extend(range(prefix, prefix + n))
            allowed[start:start + n, prefix + start:prefix + start + n] = torch.ones(n, n, dtype=torch.bool).tril()
        dtype, device = self.model.dtype, self.model.device
        mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)
        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([ids], device=device),
                             position_ids=torch.tensor([positions], device=device),
                             attention_mask=mask[None, None].to(device), past_key_values=self._cache, use_cache=True)
        self._cache = out.past_key_values
        self._stats.forward_passes += 1
        logp = torch.log_softmax(out.logits[0].float(), dim=-1).cpu()
        for i, q in enumerate(seqs):
            totals[i] += sum(float(logp[starts[i] + j - 1, q[j]]) for j in range(1, len(q)))
        return totals

    def _choose(self, candidates: Sequence[str], top: int | None = None) -> int:
        """The index of the candidate the model finds most likely as a whole (sampled when ``do_sample``)."""
        scores = torch.tensor(self._scores(candidates, top))
        if self.do_sample:
            u = torch.rand(scores.shape, generator=self._generator).clamp_(1e-9, 1 - 1e-9)
            scores = scores / max(self.temperature, 1e-5) - torch.log(-torch.log(u))
        return int(torch.argmax(scores))

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

    def _first_token_score(self, text: str) -> float:
        ids = self.tokenizer.encode(text, add_special_tokens=False)
        return float(self._logits[ids[0]]) if ids else float("-inf")

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

    def _decision(self, options: Sequence[Mapping[str, str]]) -> _Decision | None:
        """The thought's ``" Now: <decision>."`` after the plan step (the expert's thoughts end so).

        The verb is the model's choice. With ``copy_decision``, a ``click`` (``open``: a tab) names a
        visible control that can be clicked, chosen whole by joint log-probability (with ``named_controls``, among
        the ones the plan step names, when it names any visible one). With ``copy_values`` the
        other verbs copy their value too: ``select '<quote>'`` a quote of the plan step (with
        ``named_controls``; the request's when the step quotes none: ``select_values``), ``type '<value>' into '<box>'`` a quote of the step (a step that quotes
        nothing: a run of its words) into a visible box (named ones first, as for a click), ``press {KEY}`` one of
        ``KEY_VALUES`` (with ``named_controls``, one the step names, when it names any: ``KEY_WORDS``).
        The thought is then closed and the returned decision fixes the action
        (the thought and the action agree). ``None``: the rest of the thought is free text.
        """
        if not self.copy_decision:
            return None
        self._force(" Now: ")
        verbs = ["click '", "open '", "select '", "type '", "press "]
        close = '\'.", "control_label": "'
        verb = self._choose(verbs)  # scored, not emitted: a click's verb is chosen again with its control
        if verb <= 1:  # a click or a tab to open: the verb and the control are chosen together
            return self._click_or_open(options, close)
        self._force(verbs[verb])
        if not self.copy_values:
            return None
        step, request = self._step, self._request
        document = [i for i, c in enumerate(options) if str(c.get("control_type", "")) == "Document"]
        if verb == 2:
            seen = self._document if self.read_document and self.named_controls else None
            values = (document_selections(step, request, seen) if seen else []) or select_values(
                step, request, self.named_controls)
            if not values or not document:
                return None
            texts = [_in_json(v) + close for v in values]
            pick = self._choose(texts)
            self._force(texts[pick])
            return _Decision(document, "select_text", {"text": values[pick]})
        if verb == 3:
            values = quoted(step) or step_spans(step)  # what a step types is its quote, else its own words
            if not values:
                return None
            texts = [_in_json(v) + "' into '" for v in values]
            pick = self._choose(texts)
            self._force(texts[pick])
            indices = self._pick_control(options, VALID_ON["set_edit_text"], close)
            return _Decision(indices, "set_edit_text", {"text": values[pick]}) if indices else None
        if not document:
            return None
        keys = list(KEY_VALUES)
        if self.named_controls:  # the keys the step names, when it names any ("Press Delete.")
            words = named_in(step, [w for k in keys for w in KEY_WORDS[k]])
            keys = [k for k in keys if set(KEY_WORDS[k]) & set(words)] or keys
        texts = [k + '.", "control_label": "' for k in keys]
        pick = self._choose(texts)
        self._force(texts[pick])
        return _Decision(document, "keyboard_input", {"keys": keys[pick]})

    def _click_or_open(self, options: Sequence[Mapping[str, str]], close: str) -> _Decision | None:
        """``click '<control>'`` or ``open '<tab>'``, verb and name one joint choice: a click names a
        visible clickable control that is not a tab, ``open`` a tab (the expert opens tabs and clicks
        the rest); with ``named_controls`` each among the ones the plan step names, when it names any."""
        clickable = VALID_ON["click_input"]
        texts, owners = [], []
        for verb, tabs in (("click '", False), ("open '", True)):
            names = self._names(options, lambda t, tabs=tabs: (t in _TABS) == tabs and (clickable is None or t in clickable))
            for name, indices in names.items():
                texts.append(verb + _in_json(name) + close)
                owners.append((tabs, indices))
        if not texts:
            return None
        pick = self._choose(texts)
        self._force(texts[pick])
        opens, indices = owners[pick]
        return _Decision(indices, None, None, opens_tab=opens)

    def _names(self, options: Sequence[Mapping[str, str]], allowed: Callable[[str], bool]) -> dict[str, list[int]]:
        """The visible controls whose type is ``allowed``, by name -> their indices in ``options``; with
        ``named_controls``, only the ones the plan step names when it names any."""
        names: dict[str, list[int]] = {}
        for i, c in enumerate(options):
            if allowed(str(c.get("control_type", ""))):
                names.setdefault(str(c.get("control_text", "")), []).append(i)
        if self.named_controls:
            named = named_in(self._step, list(names))
            if named:
                names = {n: names[n] for n in named}
        return names

    def _pick_control(self, options: Sequence[Mapping[str, str]], types: frozenset[str] | None,
                      close: str) -> list[int] | None:
        """A visible control of ``types`` chosen by name (``_names``); its name and ``close`` are
        emitted. Returns the indices in ``options`` of the controls with that name (``None``: none)."""
        names = self._names(options, lambda t: types is None or t in types)
        if not names:
            return None
        # each candidate runs on to what follows the name in training (the label's opening quote, or
        # the box's), so a tokenizer that merges across it scores the candidate as it was trained
        texts = [_in_json(n) + close for n in names]
        pick = self._choose(texts)
        self._force(texts[pick])
        return list(names.values())[pick]

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

    def _crop_to(self, length: int) -> None:
        """Keep the first ``length`` positions of the cache (transformers 5: ``crop`` takes a negative count)."""
        extra = self._cache.get_seq_length() - length
        if extra > 0:
            self._cache.crop(-extra)

    def _prefill(self, ids: list[int]) -> None:
        reuse = 0
        if self.prefix_cache and self._cache is not None:
            limit = min(len(ids), len(self._prompt_ids)) - 1  # at least one token is fed for logits
            while reuse < limit and ids[reuse] == self._prompt_ids[reuse]:
                reuse += 1
        if reuse > 0:
            self._crop_to(reuse)
        else:
            self._cache = None
        self._stats.reused_prompt_tokens = reuse
        self._forward(ids[reuse:])
        self._prompt_ids = ids

    def decode(self, messages: list[dict[str, str]], controls: Sequence[Mapping[str, str]],
               document: str | None = None) -> str:
        """The action JSON text for a step prompt whose visible controls are ``controls``; ``document``
        (the text the observation shows, not part of the prompt) grounds a selection's text
        (``read_document``: ``document_selections``)."""
        self._document = document
        self._stats = DecodeStats()
        self._out: list[str] = []
        self._pending = ""
        ids = encode_prompt(self.bundle, messages)
        reserve = self.max_new_tokens + 64  # forced skeleton and control names on top of the budget
        if self._limit is not None and len(ids) + reserve > self._limit:
            ids = ids[-(self._limit - reserve):]
        self._stats.prompt_tokens = len(ids)
        self._prefill(ids)

        previous = plan_from_messages(messages) if self.copy_plan else []
        self._step = strip_step_marker(previous[0]) if previous else ""
        self._request = request_from_messages(messages)
        # The opening is held back whole: the model's first token usually runs on into the thought.
        self._pending = '{"thought": "'
        options = [c for c in controls if c.get("label")]
        decision: _Decision | None = None  # what the thought's decision fixes
        if previous:  # the thought opens with the step in progress: the first one the prompt's plan lists
            self._force(_in_json(self._step))
            decision = self._decision(options)
        named = decision.controls if decision else None
        if decision is None:
            self._string()
            self._force('", "control_label": "')
        # Candidates run on through the fixed text after each decision (and through every
        # enumerable decision after it), so a tokenizer that merges across them keeps its tokens.
        # With a previous plan, status and plan are one joint choice after the action (``_status_plan``).
        tails = ([', "status": "'] if previous else
                 [f', "status": "{s}", "plan": ' for s in _STATUSES])
        label_texts = [
            json.dumps(str(c["label"]))[1:] + ', "control_name": '
            + json.dumps(str(c.get("control_text", "")), ensure_ascii=False) + ', "function": "' for c in options
        ]
        empty = ['", "control_name": "", "function": "", "args": {}' + t for t in tails]
        if named and len(named) == 1:  # the thought named one control: the action is on it
            chosen = named[0]
            self._force(label_texts[chosen])
        elif named:  # several controls share the name: the model's joint choice among them
            chosen = named[self._choose([label_texts[i] for i in named])]
            self._force(label_texts[chosen])
        elif self.score_controls and options:
            # label and name judged together: a model that cannot look a label up yet still
            # knows which control *name* it wants (it usually just wrote it in the thought).
            # The model's likeliest labels (by the token where they part) are scored up to the
            # end of the name; the text after it is the same for all of them.
            suffix = ', "function": "'
            best = self._choose([t[: -len(suffix)] for t in label_texts] + ['", "control_name": ""'],
                                top=self.score_controls)
            if best < len(options):
                chosen = best
                self._force(label_texts[chosen])
            else:
                chosen = len(options) + self._select(empty)
        else:
            chosen = self._select(label_texts + empty)
        if chosen < len(options) and decision is not None and decision.function is not None:
            # the decision fixed the function and its value: the action carries them out
            self._force(f'{decision.function}", "args": ' + json.dumps(decision.args, ensure_ascii=False))
            self._select(tails)
        elif chosen < len(options):
            ctype = str(options[chosen].get("control_type", ""))
            functions = [f for f in self.functions if VALID_ON[f] is None or ctype in VALID_ON[f]] or list(
                self.functions)
            texts: list[str] = []
            owner: list[tuple[str, bool]] = []
            for f in functions:
                finite = self._finite_args(f)
                if finite is None:
                    first = next(iter(SIGNATURES[f]))
                    texts.append(f'{f}", "args": {{{json.dumps(first)}: ')
                    owner.append((f, False))
                else:
                    for args in finite:
                        for t in tails:
                            texts.append(f'{f}", "args": {args}{t}')
                            owner.append((f, True))
            pick = self._select(texts)
            function, complete = owner[pick]
            if not complete:
                self._free_args(function)
                self._select(tails)
        if previous:
            self._status_plan(previous, in_progress=bool(decision and decision.opens_tab))
        else:
            self._plan(previous)
        text = "".join(self._out) + self._pending
        self._pending = ""
        if self.prefix_cache and self._cache is not None:
            self._crop_to(len(self._prompt_ids))  # keep only the prompt for the next call
        else:
            self._cache = None
        self.last_stats = self._stats
        return text

    def decode_plan(self, messages: list[dict[str, str]]) -> str:
        """A plan (any prompt without controls) token by token, except that a quote it opens is a
        copy: one of ``plan_quotes`` of the request, chosen whole by joint log-probability, then
        closed; and (with ``named_controls``) each finished step is settled by ``requested_names``
        before the model goes on from it. The model's tokens are greedy (sampled with ``do_sample``);
        a quote is always the likeliest; at most ``max_new_tokens`` passes of the loop."""
        self._stats = DecodeStats()
        self._out, self._pending = [], ""
        ids = encode_prompt(self.bundle, messages)
        if self._limit is not None and len(ids) + self.max_new_tokens + 64 > self._limit:
            ids = ids[-(self._limit - self.max_new_tokens - 64):]
        self._stats.prompt_tokens = len(ids)
        self._cache = None  # a plan prompt shares no prefix with the step prompts
        self._prefill(ids)
        request = request_from_messages(messages)
        quotes = plan_quotes(request)
        texts, special = self._vocab.texts, self._vocab.special
        closings = ('".', '" ')  # how a plan's quote is closed, as the model writes it (one token each)
        copied = False
        line_out, line_cache = len(self._out), self._cache.get_seq_length()

        def settle_line() -> None:
            """The line just written, with the controls it names as the request names them."""
            line = "".join(self._out[line_out:])
            fixed = requested_names(line, request, "".join(self._out[:line_out])) if self.named_controls else line
            if fixed != line:
                del self._out[line_out:]
                self._crop_to(line_cache)
                self._force(fixed, heal=False)

        for _ in range(self.max_new_tokens):
            ranked = self._ranked()
            if quotes:  # a token opens or closes one quote at most (the copy keeps them paired)
                ranked = [t for t in ranked if texts[t].count('"') <= 1]
            if copied:  # the copied quote is closed by the model's own closing token
                ranked = [t for t in ranked if texts[t].startswith('"')]
                if not ranked:  # none among the model's best: a bare quote closes it
                    self._force('"', heal=False)
                    copied = False
                    continue
            if not ranked:
                break
            tid = ranked[0]
            if tid in special:
                break
            text = texts[tid]
            if not copied and quotes and '"' in text:
                self._force(text[: text.index('"') + 1], heal=False)  # the quote opens: its text is copied
                # each quote scored up to its closing (the likelier of the two), so its length is judged too
                scores = self._scores([q + c for q in quotes for c in closings])  # plain text, not JSON
                pick = max(range(len(quotes)), key=lambda i: max(scores[i * len(closings):(i + 1) * len(closings)]))
                self._force(quotes[pick], heal=False)
                copied = True
                continue
            copied = False
            if "\n" in text:  # a step is complete: settle its names, then go on from the fixed text
                settle_line()
                self._emit(tid)
                line_out, line_cache = len(self._out), self._cache.get_seq_length()
                continue
            self._emit(tid)
        settle_line()
        self._cache, self._prompt_ids = None, []
        self.last_stats = self._stats
        return "".join(self._out).strip()

    def __call__(self, messages: list[dict[str, str]]) -> str:
        """``generate(messages) -> text``: constrained for a step prompt; a plan prompt with its
        quotes copied (``decode_plan``, with ``copy_values``), plainly otherwise. A ``<Document:>``
        slot is taken out of the prompt before the model reads it and grounds selections instead."""
        messages, document = split_document(messages)
        controls = controls_from_messages(messages)
        if controls is None and self.copy_values:
            return self.decode_plan(messages)
        if controls is None:
            if self._plain is None:
                self._plain = make_generate(self.bundle, max_new_tokens=self.max_new_tokens)
            self._cache, self._prompt_ids = None, []
            return self._plain(messages)
        return self.decode(messages, controls, document)


def make_action_generate(bundle: ModelBundle, **kwargs: Any) -> ActionDecoder:
    """An ``ActionDecoder`` over ``bundle``: a drop-in for ``make_generate`` (kwargs: see the class).

    ``make_generate``'s ``top_p`` is accepted and ignored (the grammar already narrows the choice).
    Policies are built with ``training.policy.lam_generate`` / ``lam_policy`` from a ``DecodeConfig``.
    """
    kwargs.pop("top_p", None)
    return ActionDecoder(bundle, **kwargs)

