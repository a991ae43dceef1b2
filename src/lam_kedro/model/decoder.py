"""Constrained decoding of the action JSON: always valid, only what the prompt allows, and fast.

The LAM answers every step with one JSON object in a fixed key order (``agent.prompt.
ACTION_KEYS``, the order it was trained on). Most of that text is not a decision at all: the
keys, the quotes and commas, the ``control_name`` (it is the chosen control's text) and the
argument names (they follow from the function). ``ActionDecoder`` walks that grammar and lets
the model decide only the decisions:

- ``thought``, string arguments and plan steps: free text, token by token, restricted to tokens
  that keep the JSON string valid (a quote ends it; bad escapes and raw control characters are
  skipped) and capped at ``max_string_tokens``;
- ``control_label``: one of the labels of the visible controls the prompt lists (or ``""`` for a
  status-only step); ``function``: one of ``functions`` that the
  environment accepts on that control's type (``env.action_table.VALID_ON``); ``button``, booleans
  and ``status``: their enumerations; integers: digits only.

A choice is made token by token among the tokens consistent with some allowed string (the
model's own tokenisation is used where it matches), and as soon as one string is left, the rest
of it and the fixed skeleton up to the next decision are *forced*: appended in one forward pass
instead of being sampled one token at a time. The KV cache of the previous prompt is kept and
cropped to the prefix the next prompt shares with it (system prompt, control list, request), so
consecutive steps of an episode only pay for what changed.

The decoder reads what the prompt was rendered from as data, never the prompt's text: the visible
controls, the request, the plan and the observation's document (``agent.slots.Messages.slots``,
which ``step_messages`` and ``plan_messages`` attach). Only the HTTP server reads prompt text, a
client's (``serving.ufo_prompt``), and it renders the prompt again with those functions.

A prompt that is not a step prompt (no control list, e.g. Phase 1's plan prompt) is decoded by
``decode_plan`` (the model's own tokens, with each quote copied from the request and each finished
step's clicked control settled by ``requested_names``; with ``copy_values: false``, plain
``generate``). The output is a string, like ``make_generate``'s, so ``TextPolicy``, the
pyfunc model and the server take either decoder.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch

from lam_kedro.agent.prompt import strip_step_marker
from lam_kedro.agent.slots import CONTROLS_SLOT, PromptSlots
from lam_kedro.env.action_table import ACTIONS, SIGNATURES, VALID_ON
from lam_kedro.model.batching import ForwardBatcher, RaggedCache
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.decisions import ThoughtDecision, ThoughtDecisions
from lam_kedro.model.generation import encode_prompt, make_generate
from lam_kedro.model.grammar import DecodeStats, JsonGrammar, in_json, vocab
from lam_kedro.model.prefix_caches import PrefixCaches
from lam_kedro.model.reading import plan_quotes, requested_names
from lam_kedro.model.scoring import TokenScoring

logger = logging.getLogger(__name__)

__all__ = ["ActionDecoder", "make_action_generate"]


_STATUSES: tuple[str, ...] = ("CONTINUE", "FINISH")

_T = TypeVar("_T")


def _in_batcher_session(method: Callable[..., _T]) -> Callable[..., _T]:
    """A decode that feeds the model through a ``ForwardBatcher`` runs in one of its sessions (the batcher
    then waits for its passes before it runs a batch); the plain path, which calls the model itself, does not."""

    @functools.wraps(method)
    def wrapper(self: ActionDecoder, *args: Any, **kwargs: Any) -> _T:
        if self._batcher is None:
            return method(self, *args, **kwargs)
        with self._batcher.session():
            return method(self, *args, **kwargs)

    return wrapper


class ActionDecoder(ThoughtDecisions, JsonGrammar, TokenScoring):
    """``decoder(messages) -> action JSON text`` under the action grammar (see the module docstring).

    Built from three parts along the decoder's seams: the model side (``scoring.TokenScoring``), the
    JSON pieces (``grammar.JsonGrammar``) and the thought's decision (``decisions.ThoughtDecisions``);
    this class holds their state and walks the action's keys in order.

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
        named_controls: with ``copy_decision``, a click or a tab to open (or a box to type into) is
            chosen among the visible controls the plan step names, when it names any visible control
            (else among all of them); a step that names visible controls but no box types nothing
            ("On the Layout tab, set Indent Left to 36 pt." on the Home tab opens Layout: typing 36
            into the Font box is not on offer).
        read_document: with ``copy_values`` and ``named_controls``, a ``select`` reads its text off the
            document the observation shows (``PromptSlots.document``) as the plan step says
            (``document_selections``); the model does not read the document.
        prefix_caches: with ``prefix_cache``, a pool of other prompts' KV caches (shared by a server's
            replicas, ``model.prefix_caches``): a step prompt starts from the one sharing the longest
            prefix, not only from this decoder's previous prompt.
        batcher: run the forward passes through a ``model.batching.ForwardBatcher`` (a server's decoders
            share one): each pass is batched with the passes of the other decoders decoding at the same time.
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
        prefix_caches: PrefixCaches | None = None,
        batcher: ForwardBatcher | None = None,
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
        self._pool = prefix_caches
        self._batcher = batcher
        self._document: str | None = None
        self._step = ""
        self._request = ""
        self._generator = torch.Generator().manual_seed(seed)
        self._vocab = vocab(self.tokenizer)
        self._eos = self.tokenizer.eos_token_id
        self._limit = getattr(getattr(self.model, "config", None), "max_position_embeddings", None)
        self._plain: Callable[[list[dict[str, str]]], str] | None = None
        self._warned = False  # warned once that a step prompt came without its slots
        self._prompt_ids: list[int] = []
        self._cache: Any = None
        self.last_stats = DecodeStats()
        self.model.eval()

    @property
    def batcher(self) -> ForwardBatcher | None:
        """The ``ForwardBatcher`` this decoder's passes run through (``None``: it calls the model itself)."""
        return self._batcher

    @_in_batcher_session
    def decode(self, messages: list[dict[str, str]], slots: PromptSlots) -> str:
        """The action JSON text for the step prompt ``messages`` rendered from ``slots``: its visible
        controls, request and plan as data; the document the observation shows (not part of the
        prompt) grounds a selection's text (``read_document``: ``document_selections``; surrounding
        blank lines and trailing spaces do not count)."""
        self._document = None if slots.document is None else slots.document.rstrip().lstrip("\n")
        self._stats = DecodeStats()
        self._out: list[str] = []
        self._pending = ""
        ids = encode_prompt(self.bundle, messages)
        reserve = self.max_new_tokens + 64  # forced skeleton and control names on top of the budget
        if self._limit is not None and len(ids) + reserve > self._limit:
            ids = ids[-(self._limit - reserve):]
        self._stats.prompt_tokens = len(ids)
        self._prefill(ids)

        previous = list(slots.plan) if self.copy_plan else []
        self._step = strip_step_marker(previous[0]) if previous else ""
        self._request = slots.request
        # The opening is held back whole: the model's first token usually runs on into the thought.
        self._pending = '{"thought": "'
        options = [c for c in slots.controls or () if c.get("label")]
        decision: ThoughtDecision | None = None  # what the thought's decision fixes
        if previous:  # the thought opens with the step in progress: the first one the prompt's plan lists
            self._force(in_json(self._step))
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
            if self._pool is not None:  # into the pool now: the client's next step may come to another replica
                kept = self._cache.compact() if isinstance(self._cache, RaggedCache) else self._cache
                self._pool.put(self._prompt_ids, kept)
                self._cache, self._prompt_ids = None, []
        else:
            self._cache = None
        self.last_stats = self._stats
        return text

    @_in_batcher_session
    def decode_plan(self, messages: list[dict[str, str]], request: str) -> str:
        """A plan (any prompt without controls) token by token, except that a quote it opens is a
        copy: one of ``plan_quotes`` of the request, chosen whole by joint log-probability, then
        closed; and (with ``named_controls``) each finished step is settled by ``requested_names``
        before the model goes on from it. The model's tokens are greedy (sampled with ``do_sample``);
        a quote is always the likeliest; at most ``max_new_tokens`` passes of the loop. ``request`` is the
        prompt's request (``PromptSlots.request``)."""
        self._stats = DecodeStats()
        self._out, self._pending = [], ""
        ids = encode_prompt(self.bundle, messages)
        if self._limit is not None and len(ids) + self.max_new_tokens + 64 > self._limit:
            ids = ids[-(self._limit - self.max_new_tokens - 64):]
        self._stats.prompt_tokens = len(ids)
        self._cache = None  # a plan prompt shares no prefix with the step prompts
        self._prefill(ids, pooled=False)
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
        """``generate(messages) -> text``. Messages rendered by ``agent.prompt`` carry the data they were
        rendered from (``Messages.slots``); the prompt's text is never read back. A step prompt is
        decoded under the grammar (``decode``), a plan prompt with its quotes copied (``decode_plan``,
        with ``copy_values``); a plan prompt without ``copy_values``, or messages without slots, plainly."""
        slots: PromptSlots | None = getattr(messages, "slots", None)
        if slots is not None and slots.controls is not None:
            return self.decode(messages, slots)
        if slots is not None and self.copy_values:
            return self.decode_plan(messages, slots.request)
        if slots is None and not self._warned and any(CONTROLS_SLOT in str(m.get("content", "")) for m in messages):
            self._warned = True  # a copy of the messages (list(m), a JSON round trip) loses the slots
            logger.warning("a step prompt came without its slots (Messages.slots): it is decoded plainly, without "
                           "the action grammar; pass the Messages object agent.prompt.step_messages returned")
        if self._plain is None:
            self._plain = make_generate(self.bundle, max_new_tokens=self.max_new_tokens)
        self._cache, self._prompt_ids = None, []
        return self._plain(messages)


def make_action_generate(bundle: ModelBundle, **kwargs: Any) -> ActionDecoder:
    """An ``ActionDecoder`` over ``bundle``: a drop-in for ``make_generate`` (kwargs: see the class).

    ``make_generate``'s ``top_p`` is accepted and ignored (the grammar already narrows the choice).
    Policies are built with ``model.policy.lam_generate`` / ``lam_policy`` from a ``DecodeConfig``.
    """
    kwargs.pop("top_p", None)
    return ActionDecoder(bundle, **kwargs)
