"""The thought's decision: ``" Now: click '<control>'"`` (or open, select, type, press) chosen whole.

``ThoughtDecisions`` is the part of ``ActionDecoder`` that closes the thought with a decision the
action then carries out: a verb scored by the model, then a visible control, a quote or a key chosen
as a whole among what the plan step, the request and the document offer (``reading``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lam_kedro.env.action_table import VALID_ON
from lam_kedro.model.grammar import in_json
from lam_kedro.model.reading import (
    KEY_VALUES,
    KEY_WORDS,
    document_selections,
    named_in,
    quoted,
    select_values,
    step_spans,
)

__all__ = ["ThoughtDecision", "ThoughtDecisions"]


#: The control types an ``open`` decision names (a ribbon tab).
_TABS = frozenset(("TabItem",))


@dataclass(frozen=True)
class ThoughtDecision:
    """What a thought's decision fixes: the controls it names (indices), and the function and args
    it implies (``None``: the model still chooses them)."""

    controls: list[int]
    function: str | None
    args: dict[str, Any] | None
    opens_tab: bool = False

class ThoughtDecisions:
    """The decision half of ``ActionDecoder`` (a mixin: the decoder holds the step, request and document)."""

    def _decision(self, options: Sequence[Mapping[str, str]]) -> ThoughtDecision | None:
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
        offered = list(range(len(verbs)))
        if self.named_controls and self._names_visible_but_no_box(options):
            offered.remove(3)  # the step names visible controls, none a box: no typing into an unnamed one
        # scored, not emitted: a click's verb is chosen again with its control
        verb = offered[self._choose([verbs[i] for i in offered])]
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
            texts = [in_json(v) + close for v in values]
            pick = self._choose(texts)
            self._force(texts[pick])
            return ThoughtDecision(document, "select_text", {"text": values[pick]})
        if verb == 3:
            values = quoted(step) or step_spans(step)  # what a step types is its quote, else its own words
            if not values:
                return None
            texts = [in_json(v) + "' into '" for v in values]
            pick = self._choose(texts)
            self._force(texts[pick])
            indices = self._pick_control(options, VALID_ON["set_edit_text"], close)
            return ThoughtDecision(indices, "set_edit_text", {"text": values[pick]}) if indices else None
        if not document:
            return None
        keys = list(KEY_VALUES)
        if self.named_controls:  # the keys the step names, when it names any ("Press Delete.")
            words = named_in(step, [w for k in keys for w in KEY_WORDS[k]])
            keys = [k for k in keys if set(KEY_WORDS[k]) & set(words)] or keys
        texts = [k + '.", "control_label": "' for k in keys]
        pick = self._choose(texts)
        self._force(texts[pick])
        return ThoughtDecision(document, "keyboard_input", {"keys": keys[pick]})

    def _names_visible_but_no_box(self, options: Sequence[Mapping[str, str]]) -> bool:
        """Whether the plan step names a visible control but no visible box one can type into."""
        boxes = VALID_ON["set_edit_text"]
        visible: dict[str, set[str]] = {}  # name -> the types of the visible controls of that name
        for c in options:
            visible.setdefault(str(c.get("control_text", "")), set()).add(str(c.get("control_type", "")))
        named = named_in(self._step, list(visible))
        return bool(named) and boxes is not None and not any(visible[n] & boxes for n in named)

    def _click_or_open(self, options: Sequence[Mapping[str, str]], close: str) -> ThoughtDecision | None:
        """``click '<control>'`` or ``open '<tab>'``, verb and name one joint choice: a click names a
        visible clickable control that is not a tab, ``open`` a tab (the expert opens tabs and clicks
        the rest); with ``named_controls`` both among the visible controls the plan step names, when it
        names any (a tab or not: a step that names only a visible tab offers only that tab)."""
        clickable = VALID_ON["click_input"]
        texts, owners = [], []
        groups = [(verb, tabs, self._names(options, lambda t, tabs=tabs: (t in _TABS) == tabs
                                           and (clickable is None or t in clickable)))
                  for verb, tabs in (("click '", False), ("open '", True))]
        if self.named_controls:  # the step names a visible control (a tab or not): only named ones are on offer
            named = [(verb, tabs, {n: ix for n, ix in names.items() if named_in(self._step, [n])})
                     for verb, tabs, names in groups]
            if any(names for _, _, names in named):
                groups = named
        for verb, tabs, names in groups:
            for name, indices in names.items():
                texts.append(verb + in_json(name) + close)
                owners.append((tabs, indices))
        if not texts:
            return None
        pick = self._choose(texts)
        self._force(texts[pick])
        opens, indices = owners[pick]
        return ThoughtDecision(indices, None, None, opens_tab=opens)

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
        texts = [in_json(n) + close for n in names]
        pick = self._choose(texts)
        self._force(texts[pick])
        return list(names.values())[pick]
