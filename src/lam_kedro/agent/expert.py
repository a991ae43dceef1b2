"""The expert that collects task-action trajectories: it follows the task's written plan.

(Over 400 lines on purpose: the plan-step grammar (``parse_step``) and the rules that resolve each intent against an observation are one reading of a plan, and the constrained decoder imports both; split, each half would make sense only next to the other.)

The paper's expert is GPT-4o reading the request, its plan and the UI Automation controls, and
matching each plan step's words to a visible control. ``PlanFollowingExpert`` does the same
without a model: it parses each numbered help-documentation step ("On the Home tab, in the Font
group, click Bold.") into UI intents (click a control, select quoted text, type a value into a
box, press a key) and resolves each intent against the *current* observation by the controls'
texts. It sees only what a model would see -- the request, the plan and the observations --
never the task's params, its checker or the family's scripted solution, so its failures are the
real limits of plan-following: a step it cannot parse, a control the plan names that is not on
the current screen, a name several controls fit equally (it breaks the tie with the request's
words, else takes the first and notes the guess), a quote the plan shortened with "..." (it
guesses the quote runs to the end of its paragraph), a plan that leaves a step out. Nothing is
random: the same plan and observations always give the same actions.

It reads the document text a model sees, as GPT-4o does: "Select the paragraph that starts with
"Q"" selects that whole paragraph; a click in it ("Click in the paragraph ...", "(or click in
it)") selects the words the plan quotes, and "Click at the end of the paragraph ..." selects
them and presses End (UFO's functions place a caret that way); "Double-click the word "W"" selects the word and
the space after it, as Word's double-click does. It does not know our UI's private naming: a
plan must name a control by the words on it ("the arrow next to Font Color (Font Color
Options)"), and a step that only asks to make sure of something ("Make sure the document ... is
the open window") needs no action. ``notes`` lists, per episode, every match that was a guess
rather than an exact name, so a failure the checker finds can be traced to the step it came from.

``make_expert`` builds the expert a config asks for; ``kind: llm`` is the optional GPT-4o-like
expert over an OpenAI-compatible endpoint (``lam_kedro.agent.llm_client``), which fails loudly
when its endpoint is not configured.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from lam_kedro.agent.policies import Decision, decision_words
from lam_kedro.agent.prompt import strip_step_marker
from lam_kedro.env.types import Action, Control, Observation, Task

__all__ = ["Intent", "PlanFollowingExpert", "PlanParseError", "make_expert", "paragraph_around", "parse_plan",
           "parse_step", "select_target"]

#: Control types a value can be typed into (``set_edit_text``).
EDITABLE: tuple[str, ...] = ("Edit", "ComboBox", "Document")
#: Key names a plan says ("Press Enter") and the pywinauto keys the environment takes.
KEYS: dict[str, str] = {
    "enter": "{ENTER}", "return": "{ENTER}", "delete": "{DELETE}", "del": "{DELETE}", "backspace": "{BACKSPACE}",
    "tab": "{TAB}", "escape": "{ESC}", "esc": "{ESC}", "home": "{HOME}", "end": "{END}",
}
#: How close a control's text must be to the plan's words to be clicked.
MIN_SCORE = 0.72
_CLICK = {"button": "left", "double": False}
#: The control types of a tab a plan step names ("On the Home tab, ...").
_TAB: tuple[str, ...] = ("TabItem",)
_QUOTE = re.compile(r'"([^"]+)"')
_VERB = re.compile(r"^(?:click|double-click|choose|select|check|uncheck|pick|tick|type|enter|press|set)\b", re.I)


class PlanParseError(ValueError):
    """A plan step the expert cannot turn into UI intents (the step's text says which)."""


@dataclass(frozen=True, slots=True)
class Intent:
    """One UI operation a plan step asks for, named by on-screen words, not by label.

    ``kind`` is ``click`` (``target`` = the control's words), ``select`` (``value`` = the quote
    as the plan writes it, ``target`` = what it quotes: ``text``, ``paragraph`` (its opening),
    ``word`` (double-clicked), ``range`` (two openings joined by a newline) or ``caret`` (a click
    in the paragraph: the quoted words themselves)), ``type``
    (``value`` into ``target``, or into the focused edit when ``target`` is empty), or ``keys``
    (``value`` = pywinauto keys, on the document).
    """

    kind: str
    target: str = ""
    value: str = ""
    step: int = 0
    types: tuple[str, ...] = field(default=())


# ------------------------------------------------------------------ parsing the plan (text only)


def _clean(text: str) -> str:
    """Drop one sentence-final full stop but keep an ellipsis that is part of a name ("Insert Table...")."""
    text = text.strip()
    if text.endswith(".") and not text.endswith("..."):
        text = text[:-1]
    return text.strip().strip(",").strip()


def _unquote(value: str) -> str:
    """A value as the plan writes it: quoted text, or a bare token like ``28`` or ``1.5"``."""
    value = _clean(value)
    m = _QUOTE.search(value)
    if m:
        return m.group(1)
    value = re.sub(r"\s*(pt|points?|inches|inch)$", "", value, flags=re.IGNORECASE)
    return value.rstrip('"').strip()


def _set_pairs(body: str) -> list[tuple[str, str]]:
    """``Top, Bottom, Left and Right to 1.5"`` / ``Number of columns to 3 and Number of rows to 4``."""
    pairs: list[tuple[str, str]] = []
    pending: list[str] = []
    for part in re.split(r",\s*|\s+and\s+", body):
        m = re.match(r"^(.+?)\s+to\s+(.+)$", part.strip())
        if m:
            for name in (*pending, m.group(1)):
                pairs.append((name.strip(), _unquote(m.group(2))))
            pending = []
        elif part.strip():
            pending.append(part.strip())
    if pending or not pairs:
        raise PlanParseError(f"cannot tell which box gets which value in 'set {body}'")
    return pairs


def _clause(text: str, box: str, step: int, caret: bool = False) -> list[Intent]:
    """The intents of one clause (a plan step is split into clauses on ', then' and 'and <verb>').

    ``caret``: the step says a click in the paragraph will do ("(or click in it)").
    """
    t = _clean(text)
    low = t.lower()
    if re.match(r"^(?:make sure|ensure|verify|check that)\b", low):
        return []  # a check of what is on screen, not an action
    m = re.match(r'^(?:select|click in) the \d+ paragraphs from "([^"]+)" to "([^"]+)"', t, re.IGNORECASE)
    if m:
        return [Intent("select", target="range", value=f"{m.group(1)}\n{m.group(2)}", step=step)]
    m = re.match(r'^click at the (end|start|beginning) of the paragraph (?:that starts with |starting with )?"([^"]+)"',
                 t, re.IGNORECASE)
    if m:  # UFO's functions place a caret by selecting in the paragraph (the words the plan quotes), then End / Home
        key = "{END}" if m.group(1).lower() == "end" else "{HOME}"
        return [Intent("select", target="caret", value=m.group(2), step=step),
                Intent("keys", value=key, step=step)]
    m = re.match(r'^(select|click in) the paragraph (?:that starts with |starting with )?"([^"]+)"', t, re.IGNORECASE)
    if m:  # a click in the paragraph is a selection of the words the plan quotes; else the whole paragraph
        where = "caret" if caret or m.group(1).lower() == "click in" else "paragraph"
        return [Intent("select", target=where, value=m.group(2), step=step)]
    m = re.match(r'^double-click the word "([^"]+)"', t, re.IGNORECASE)
    if m:
        return [Intent("select", target="word", value=m.group(1), step=step)]
    m = re.match(r'^select (?:the (?:text|word|words|phrase) )?"([^"]+)"', t, re.IGNORECASE)
    if m:
        return [Intent("select", target="text", value=m.group(1), step=step)]
    m = re.match(r"^select the (text|words?|phrase|paragraph)(?: (?:you want|to) [\w ]+)?$", t, re.IGNORECASE)
    if m:  # the plan quotes nothing: the request says which
        return [Intent("select", target="paragraph" if m.group(1).lower() == "paragraph" else "text", step=step)]
    m = re.match(r"^press (?:the )?([a-z]+)(?: key)?(?: to .+)?$", low)
    if m:
        if m.group(1) not in KEYS:
            raise PlanParseError(f"unknown key '{m.group(1)}' in '{t}'")
        return [Intent("keys", value=KEYS[m.group(1)], step=step)]
    m = re.match(r"^(?:type|enter) (.+?) (?:in|into) the (.+?)(?: box| field)?$", t, re.IGNORECASE)
    if m:
        return [Intent("type", target=m.group(2), value=_unquote(m.group(1)), step=step)]
    m = re.match(r"^(?:type|enter) (.+)$", t, re.IGNORECASE)
    if m:
        return [Intent("type", target=box, value=_unquote(m.group(1)), step=step)]
    m = re.match(r"^set (.+)$", t, re.IGNORECASE)
    if m:
        return [Intent("type", target=name, value=value, step=step) for name, value in _set_pairs(m.group(1))]
    m = re.match(r"^(?:click|choose|select|check|uncheck|pick|tick)\s+(?:the\s+)?(.+)$", t, re.IGNORECASE)
    if m:
        target = _clean(m.group(1))
        paren = re.search(r"\(([^()]+)\)", target)
        if paren:  # "the Font dialog launcher (Font Settings)": the parenthesis names the control
            target = paren.group(1)
        target = re.sub(r"\s+(button|check ?box|option|menu item|item)$", "", target, flags=re.IGNORECASE)
        if box:  # "In the Font style box, choose Bold Italic": a value for that box
            return [Intent("type", target=box, value=target, step=step)]
        return [Intent("click", target=target, step=step)]
    raise PlanParseError(f"no rule for the plan step '{t}'")


def parse_step(text: str, step: int = 0) -> list[Intent]:
    """One numbered plan step to intents: the tab it names, then each of its clauses in order."""
    t = re.sub(r"^\s*\d+[.)]\s*", "", text).strip()
    caret = re.search(r"\(or click in it\)", t, re.IGNORECASE) is not None  # a click in the paragraph will do
    t = re.sub(r"\s*\(or [^)]*\)", "", t)  # "(or click in it)": an alternative, not an extra step
    intents: list[Intent] = []
    box = ""
    m = re.search(r",?\s+on the ([A-Za-z]+) tab(?=\.?$)", t, re.IGNORECASE)
    if m:  # "Click Bold on the Home tab.": the tab comes first all the same
        intents.append(Intent("click", target=m.group(1), step=step, types=_TAB))
        t = t[:m.start()]
    while True:
        m = re.match(r"^(?:on|go to|open|switch to) the ([A-Za-z]+) tab(?:,|\s+and)?\s*", t, re.IGNORECASE)
        if m:
            intents.append(Intent("click", target=m.group(1), step=step, types=_TAB))
            t = t[m.end():]
            continue
        m = re.match(r"^(?:in|under) the [^,]+? (?:group|dialog|pane|section),?\s*|^under [^,]+,\s*", t,
                     re.IGNORECASE)
        if m:
            t = t[m.end():]
            continue
        m = re.match(r"^in the ([^,]+?) box,\s*", t, re.IGNORECASE)
        if m:
            box = m.group(1)
            t = t[m.end():]
            continue
        break
    if not t.strip():
        return intents
    clauses = re.split(r",?\s+then\s+|\s+and\s+(?=(?:type|click|choose|press|select|check)\b)", t,
                       flags=re.IGNORECASE)
    for k, clause in enumerate(clauses):
        if k and not _VERB.match(clause):  # "click Table, then Insert Table...": the verb carries over
            clause = f"click {clause}"
        intents.extend(_clause(clause, box, step, caret))
    return intents


def parse_plan(plan: Sequence[str]) -> list[Intent]:
    """Every step's intents, in order; raises ``PlanParseError`` naming the first step it cannot read."""
    out: list[Intent] = []
    for i, s in enumerate(plan):
        try:
            out.extend(parse_step(s, i))
        except PlanParseError as err:
            raise PlanParseError(f"plan step {i + 1}: {err}") from err
    return out


# ------------------------------------------------------------------ matching words to controls


def _score(words: str, control_text: str) -> float:
    """How well the plan's words name a control: exact > whole-word containment > similar spelling."""
    a, b = words.lower().strip(), control_text.lower().strip()
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ta, tb = set(re.findall(r"\w+", a)), set(re.findall(r"\w+", b))
    if ta and ta <= tb:  # "footer" -> "Footer Text": every word the plan says is in the control
        return 0.75 + 0.2 * len(ta) / len(tb)
    return SequenceMatcher(None, a, b).ratio() * 0.9


def best_control(obs: Observation, words: str, types: Sequence[str] = (), hint: str = ""
                 ) -> tuple[Control | None, str]:
    """The visible control whose text best matches ``words`` (of ``types`` when given), and a note.

    With no match the note says why. Controls the words fit equally well ("Spacing" ->
    "Spacing Before", "Spacing After") are told apart by ``hint`` (the request): the one whose
    other words the request uses wins; if none does, the first listed is taken. The note then
    says what was guessed (a tie, or words that are not the control's exact name), else it is "".
    """
    cands = [c for c in obs.controls if not types or c.control_type in types]
    scored = sorted(((_score(words, c.control_text), i, c) for i, c in enumerate(cands)), key=lambda x: (-x[0], x[1]))
    if not scored or scored[0][0] < MIN_SCORE:
        near = ", ".join(f'"{c.control_text}"' for _, _, c in scored[:3]) or "none"
        return None, f'no visible control matches "{words}" (closest: {near})'
    tied = [c for score, _, c in scored if score >= scored[0][0] - 1e-9]
    if len(tied) > 1 and hint:
        said = set(re.findall(r"\w+", hint.lower())) - set(re.findall(r"\w+", words.lower()))
        told = [c for c in tied if said & set(re.findall(r"\w+", c.control_text.lower()))]
        if len(told) == 1:
            return told[0], f'"{words}" fits {_names(tied)}; the request says "{told[0].control_text}"'
    control = tied[0]
    if len(tied) > 1:
        return control, f'"{words}" fits {_names(tied)} equally; guessed "{control.control_text}"'
    if words.lower().strip() != control.control_text.lower().strip():
        return control, f'took "{words}" to mean "{control.control_text}"'
    return control, ""


def _names(controls: Sequence[Control]) -> str:
    return ", ".join(f'"{c.control_text}"' for c in controls)


def _line_starting(document: str, prefix: str, after: int = 0) -> tuple[int, int] | None:
    """The (start, end) of the first document line at or after ``after`` that starts with ``prefix``."""
    pos = 0
    for line in document.split("\n"):
        if pos >= after and line.startswith(prefix):
            return pos, pos + len(line)
        pos += len(line) + 1
    return None


def paragraph_around(document: str, text: str) -> str:
    """The document line (paragraph) that holds the first place of ``text``."""
    start = document.find(text)
    a, b = document.rfind("\n", 0, start) + 1, document.find("\n", start)
    return document[a:len(document) if b < 0 else b]


def _from_request(intent: Intent, document: str, request: str) -> tuple[str | None, str]:
    """What a selection step that quotes nothing ("Select the text you want to change.") selects:
    the request's first quote the document shows (the paragraph around it for a paragraph), and
    a note of the guess; ``None`` and why when the request quotes nothing on the page."""
    quotes = [q for q in dict.fromkeys(_QUOTE.findall(request)) if q.removesuffix("...").rstrip() in document]
    if not quotes:
        return None, "the plan does not quote the text to select, and the request quotes nothing in the document"
    quote = quotes[0]
    note = (f'the plan does not quote the text; the request quotes {len(quotes)} texts in the document, '
            f'took the first, "{quote}"' if len(quotes) > 1 else f'the plan does not quote the text; took "{quote}" '
            "from the request")
    opening = re.search(rf'(?:starts with|starting (?:at|with)) "{re.escape(quote)}"', request) is not None
    if intent.target == "paragraph" or opening:  # the paragraph around the quote
        return paragraph_around(document, quote.removesuffix("...").rstrip()), note
    text, guess = select_target(Intent("select", "text", quote, intent.step), document)
    return text, f"{note}; {guess}" if guess else note


def select_target(intent: Intent, document: str, request: str = "") -> tuple[str | None, str | None]:
    """The text to select for a ``select`` intent, read off the document, and the guess it made (or None).

    A paragraph's opening selects the whole paragraph; a range, every paragraph from the first
    opening to the second (a table between them left out); a double-clicked word, the word and the space after it (Word's
    double-click); a quote cut with "..." is guessed to run to the end of its paragraph; a step
    that quotes nothing takes the request's quote. What the document does not show is selected as
    the plan writes it (the environment then says so). ``None`` (and why) when there is nothing to go on.
    """
    value = intent.value
    if not value:
        return _from_request(intent, document, request)
    if intent.target == "word":
        return (f"{value} " if f"{value} " in document else value), None
    if intent.target == "caret":  # a click in the paragraph: the words the plan quotes
        prefix = value.removesuffix("...").rstrip()
        return prefix, None
    if intent.target == "range":
        first, _, last = value.partition("\n")
        a = _line_starting(document, first.removesuffix("...").rstrip())
        b = _line_starting(document, last.removesuffix("...").rstrip(), a[0]) if a else None
        if not (a and b):
            return first, None
        rows = document[a[0]:b[1]].split("\n")  # a table between them is not one of the paragraphs
        return "\n".join(r for r in rows if not (r.startswith("|") and r.endswith("|"))), None
    elided = value.endswith("...")
    prefix = value[:-3].rstrip() if elided else value
    if intent.target == "paragraph":
        line = _line_starting(document, prefix)
        if line is None:
            return prefix, None
        n = sum(row.startswith(prefix) for row in document.split("\n"))
        return document[line[0]:line[1]], (f'"{prefix}" opens {n} paragraphs; took the first' if n > 1 else None)
    if not elided:
        return value, None
    start = document.find(prefix)
    if start < 0:
        return prefix, None
    end = document.find("\n", start)
    end = len(document) if end < 0 else end
    n = document.count(prefix)
    where = f"its first of {n} places" if n > 1 else "its place"
    return document[start:end], f'the quote "{value}" is cut short; took it to run from {where} to the end of the paragraph'


def _decision(intent: Intent, control: Control, args: Mapping[str, Any]) -> str:
    """The decision one intent makes on this screen, in words the action repeats (the thought's end).

    A thought that states the decision ("click 'Columns'") is text the model copies from the
    plan step just before it chooses the control: the control's name is then a copy, not a recall.
    """
    if intent.kind == "select":
        return decision_words("select", value=args["text"])
    if intent.kind in ("keys", "type"):
        return decision_words("press" if intent.kind == "keys" else "type", control.control_text, intent.value)
    return decision_words("open" if intent.types == _TAB else "click", control.control_text)


class PlanFollowingExpert:
    """A plan-following executor: one plan intent per step, resolved against what is on screen.

    ``plan_for(task)`` gives the plan the expert follows (the instantiated task's plan); the
    expert reads ``task.request`` and that plan only. The last intent carries status FINISH; an
    intent it cannot resolve, or an error the environment reports for its last action, ends the
    episode with FAIL and a thought that says what went wrong. ``notes`` holds this episode's
    guesses (``step N ("..."): ...``), for the trajectory's record when the checker says no.
    """

    def __init__(self, plan_for: Callable[[Task], Sequence[str]], name: str = "expert") -> None:
        self.name = name
        self.plan_for = plan_for
        self._intents: list[Intent] = []
        self._plan: list[str] = []
        self._i = 0
        self._parse_error: str | None = None
        self._request = ""
        self.notes: list[str] = []

    def reset(self, task: Task) -> None:
        self._plan = list(self.plan_for(task))
        self._request = task.request
        self._i = 0
        self._parse_error = None
        self.notes = []
        try:
            self._intents = parse_plan(self._plan)
        except PlanParseError as err:
            self._intents, self._parse_error = [], str(err)

    def _fail(self, why: str) -> Decision:
        return Decision(action=Action("", "", {}, "FAIL"), thought=f"I cannot follow the plan: {why}.",
                        plan=self._remaining(), error=why)

    def _remaining(self) -> list[str]:
        """The plan steps not yet completed, the one the next intent works on first (UFO's Plan)."""
        step = self._intents[self._i].step if self._i < len(self._intents) else len(self._plan)
        return self._plan[step:]

    def act(self, obs: Observation) -> Decision:
        if self._parse_error:
            return self._fail(self._parse_error)
        if not self._plan:
            return self._fail("the task has no plan")
        if obs.error and self._i > 0:
            return self._fail(f"the last action failed ({obs.error})")
        if self._i >= len(self._intents):
            return Decision(action=Action("", "", {}, "FINISH"), thought="Every plan step is done.")
        intent = self._intents[self._i]
        if self._tab_showing(intent, obs):  # the step's control is on screen: no need to open its tab
            self._i += 1
            intent = self._intents[self._i]
        resolved = self._resolve(intent, obs)
        if isinstance(resolved, str):
            return self._fail(f'step {intent.step + 1} ("{self._plan[intent.step]}"): {resolved}')
        control, function, args, note = resolved
        if note:
            self.notes.append(f'step {intent.step + 1} ("{strip_step_marker(self._plan[intent.step])}"): {note}')
        self._i += 1
        status = "FINISH" if self._i == len(self._intents) else "CONTINUE"
        return Decision(
            action=Action(control.label, function, args, status),
            thought=f"{strip_step_marker(self._plan[intent.step])} Now: {_decision(intent, control, args)}.",
            plan=self._remaining(),
            control_name=control.control_text,
        )

    def _tab_showing(self, intent: Intent, obs: Observation) -> bool:
        """``intent`` opens a tab, and the control the same step works on next is already visible under
        its exact name (the tab is showing): a person goes straight to that control."""
        if intent.types != _TAB or self._i + 1 >= len(self._intents):
            return False
        nxt = self._intents[self._i + 1]
        if nxt.step != intent.step or nxt.kind not in ("click", "type") or not nxt.target:
            return False
        control, note = best_control(obs, nxt.target, nxt.types if nxt.kind == "click" else EDITABLE)
        return control is not None and not note

    def _resolve(self, intent: Intent, obs: Observation) -> tuple[Control, str, dict[str, Any], str | None] | str:
        """The (control, function, args, guess note) for one intent on this screen, or why there is none."""
        document = obs.find("Document", "Document")
        if intent.kind in ("select", "keys"):
            if document is None:
                return "the document is not reachable (a dialog is open)"
            if intent.kind == "select":
                text, note = select_target(intent, obs.document, self._request)
                return (document, "select_text", {"text": text}, note) if text is not None else str(note)
            return document, "keyboard_input", {"keys": intent.value}, None
        if intent.kind == "type":
            if intent.target:
                control, note = best_control(obs, intent.target, EDITABLE, self._request)
                return (control, "set_edit_text", {"text": intent.value}, note) if control else note
            edits = [c for c in obs.controls if c.control_type in ("Edit", "ComboBox")]
            if document is None and edits:  # a dialog's box, else the page
                note = f'no box named; typed into "{edits[0].control_text}"' if len(edits) > 1 else None
                return edits[0], "set_edit_text", {"text": intent.value}, note
            if document is None:
                return "there is nowhere to type"
            return document, "set_edit_text", {"text": intent.value}, None
        control, note = best_control(obs, intent.target, intent.types, self._request)
        return (control, "click_input", dict(_CLICK), note) if control else note


# ------------------------------------------------------------------ building the configured expert


def make_expert(params: Mapping[str, Any], plans: Mapping[str, Sequence[str]]) -> Any:
    """The expert ``params["kind"]`` names (``plan`` by default, or ``llm``), following ``plans``.

    ``plans`` maps a task_id to its plan, so the expert is handed the plan and nothing else of
    the instantiated task. ``kind: llm`` needs ``lam_kedro.agent.llm_client`` and an endpoint
    (``params["llm"]``); without them it raises, naming the key to set.
    """
    kind = params.get("kind", "plan")

    def plan_for(task: Task) -> Sequence[str]:
        return plans.get(task.task_id, ())

    if kind == "plan":
        return PlanFollowingExpert(plan_for, name=params.get("name", "expert"))
    if kind == "llm":
        return _llm_expert(params.get("llm") or {}, plan_for, params.get("name", "llm_expert"))
    raise ValueError(f"params:trajectories.expert.kind must be 'plan' or 'llm', not {kind!r}")


def _llm_expert(llm: Mapping[str, Any], plan_for: Callable[[Task], Sequence[str]], name: str) -> Any:
    """GPT-4o-style expert: ``TextPolicy`` over the shared step prompt and an OpenAI-compatible endpoint."""
    if not llm.get("base_url") or not llm.get("model"):
        raise ValueError("params:trajectories.expert.kind is 'llm' but params:trajectories.expert.llm.base_url "
                         "and .model are not set; point them at an OpenAI-compatible endpoint or use kind: plan")
    from lam_kedro.agent.llm_client import ChatClient, LLMConfig
    from lam_kedro.agent.policies import TextPolicy

    client = ChatClient(LLMConfig(**{**{k: v for k, v in llm.items() if v is not None}, "enabled": True}))
    return TextPolicy(client.complete, name=name, plan_for=plan_for, on_parse_error="fail")
