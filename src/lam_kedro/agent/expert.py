"""The expert that collects task-action trajectories: it follows the task's written plan.

The paper's expert is GPT-4o reading the request, its plan and the UI Automation controls, and
matching each plan step's words to a visible control. ``PlanFollowingExpert`` does the same
without a model: it parses each numbered help-documentation step ("On the Home tab, in the Font
group, click Bold.") into UI intents (click a control, select quoted text, type a value into a
box, press a key) and resolves each intent against the *current* observation by the controls'
texts. It sees only what a model would see -- the request, the plan and the observations --
never the task's params, its checker or the family's scripted solution, so its failures are the
real limits of plan-following: a step it cannot parse, a control the plan names that is not on
screen or matches ambiguously, a quote the plan shortened with "...", a composed plan whose
later steps assume state the earlier ones did not leave. Nothing is random: the same plan and
observations always give the same actions.

What it deliberately does not know is our UI's private naming: "the arrow next to Font Color"
is matched by words like any other control name (and matches none), "click at the end of the
paragraph ..." names no control (UFO's AppAgent functions cannot place a caret by description).

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

from lam_kedro.agent.policies import Decision
from lam_kedro.agent.prompt import strip_step_marker
from lam_kedro.env.types import Action, Control, Observation, Task

__all__ = ["Intent", "PlanFollowingExpert", "PlanParseError", "make_expert", "parse_plan", "parse_step"]

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
_QUOTE = re.compile(r'"([^"]+)"')
_VERB = re.compile(r"^(?:click|double-click|choose|select|check|uncheck|pick|tick|type|enter|press|set)\b", re.I)


class PlanParseError(ValueError):
    """A plan step the expert cannot turn into UI intents (the step's text says which)."""


@dataclass(frozen=True, slots=True)
class Intent:
    """One UI operation a plan step asks for, named by on-screen words, not by label.

    ``kind`` is ``click`` (``target`` = the control's words), ``select`` (``value`` = the text),
    ``type`` (``value`` into ``target``, or into the focused edit when ``target`` is empty),
    or ``keys`` (``value`` = pywinauto keys, on the document).
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


def _quoted_prefix(text: str) -> str:
    """A quote the plan may have shortened: the expert selects what is written, minus the '...'."""
    return text[:-3].rstrip() if text.endswith("...") else text


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


def _clause(text: str, box: str, step: int) -> list[Intent]:
    """The intents of one clause (a plan step is split into clauses on ', then' and 'and <verb>')."""
    t = _clean(text)
    low = t.lower()
    m = re.match(r'^select the (?:text|word|words|phrase) (".+")', t, re.IGNORECASE)
    if m:
        return [Intent("select", value=_quoted_prefix(_QUOTE.search(m.group(1)).group(1)), step=step)]
    m = re.match(r'^(?:select|click in) the paragraph (?:that starts with |starting with )?(".+?")', t, re.IGNORECASE)
    if m:
        return [Intent("select", value=_quoted_prefix(_QUOTE.search(m.group(1)).group(1)), step=step)]
    m = re.match(r'^double-click the word (".+?")', t, re.IGNORECASE)
    if m:
        return [Intent("select", value=_QUOTE.search(m.group(1)).group(1), step=step)]
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
    t = re.sub(r"\s*\(or [^)]*\)", "", t)  # "(or click in it)": an alternative, not an extra step
    intents: list[Intent] = []
    box = ""
    while True:
        m = re.match(r"^on the ([A-Za-z]+) tab,?\s*", t, re.IGNORECASE)
        if m:
            intents.append(Intent("click", target=m.group(1), step=step, types=("TabItem",)))
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
        intents.extend(_clause(clause, box, step))
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


def best_control(obs: Observation, words: str, types: Sequence[str] = ()) -> tuple[Control | None, str]:
    """The visible control whose text best matches ``words`` (of ``types`` when given), and why not."""
    cands = [c for c in obs.controls if not types or c.control_type in types]
    scored = sorted(((_score(words, c.control_text), i, c) for i, c in enumerate(cands)), key=lambda x: (-x[0], x[1]))
    if not scored or scored[0][0] < MIN_SCORE:
        near = ", ".join(f'"{c.control_text}"' for _, _, c in scored[:3]) or "none"
        return None, f'no visible control matches "{words}" (closest: {near})'
    return scored[0][2], ""


def _decision(intent: Intent, control: Control) -> str:
    """The decision one intent makes on this screen, in words the action repeats (the thought's end).

    A thought that states the decision ("click 'Columns'") is text the model copies from the
    plan step just before it chooses the control: the control's name is then a copy, not a recall.
    """
    if intent.kind == "select":
        return f"select '{intent.value}'"
    if intent.kind == "keys":
        return f"press {intent.value}"
    if intent.kind == "type":
        return f"type '{intent.value}' into '{control.control_text}'"
    return f"click '{control.control_text}'"


class PlanFollowingExpert:
    """A plan-following executor: one plan intent per step, resolved against what is on screen.

    ``plan_for(task)`` gives the plan the expert follows (the instantiated task's plan); the
    expert reads ``task.request`` and that plan only. The last intent carries status FINISH; an
    intent it cannot resolve, or an error the environment reports for its last action, ends the
    episode with FAIL and a thought that says what went wrong.
    """

    def __init__(self, plan_for: Callable[[Task], Sequence[str]], name: str = "expert") -> None:
        self.name = name
        self.plan_for = plan_for
        self._intents: list[Intent] = []
        self._plan: list[str] = []
        self._i = 0
        self._parse_error: str | None = None

    def reset(self, task: Task) -> None:
        self._plan = list(self.plan_for(task))
        self._i = 0
        self._parse_error = None
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
        resolved = self._resolve(intent, obs)
        if isinstance(resolved, str):
            return self._fail(f'step {intent.step + 1} ("{self._plan[intent.step]}"): {resolved}')
        control, function, args = resolved
        self._i += 1
        status = "FINISH" if self._i == len(self._intents) else "CONTINUE"
        return Decision(
            action=Action(control.label, function, args, status),
            thought=f"{strip_step_marker(self._plan[intent.step])} Now: {_decision(intent, control)}.",
            plan=self._remaining(),
            control_name=control.control_text,
        )

    def _resolve(self, intent: Intent, obs: Observation) -> tuple[Control, str, dict[str, Any]] | str:
        """The (control, function, args) for one intent on this screen, or why there is none."""
        document = obs.find("Document", "Document")
        if intent.kind in ("select", "keys"):
            if document is None:
                return "the document is not reachable (a dialog is open)"
            if intent.kind == "select":
                return document, "select_text", {"text": intent.value}
            return document, "keyboard_input", {"keys": intent.value}
        if intent.kind == "type":
            if intent.target:
                control, why = best_control(obs, intent.target, EDITABLE)
                return (control, "set_edit_text", {"text": intent.value}) if control else why
            edits = [c for c in obs.controls if c.control_type in ("Edit", "ComboBox")]
            control = edits[0] if document is None and edits else document  # a dialog's box, else the page
            if control is None:
                return "there is nowhere to type"
            return control, "set_edit_text", {"text": intent.value}
        control, why = best_control(obs, intent.target, intent.types)
        return (control, "click_input", dict(_CLICK)) if control else why


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
