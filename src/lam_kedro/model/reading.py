"""Reading a plan step, the request and the document: what a decision of the constrained decoder may copy.

The expert writes its plans in a few set phrasings (``agent.expert``); these functions read them
back as the decoder's candidates: the quotes of a step or request (``quoted``, ``select_values``,
``plan_quotes``), the text a selection means on the page (``document_selections``), a run of a step's
words (``step_spans``), the controls and keys a step names (``named_in``, ``KEY_WORDS``), and the
sibling control a request names instead of the one a plan step clicks (``requested_names``). Pure
functions of text: no model, no tokenizer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from lam_kedro.agent.expert import KEYS, Intent, PlanParseError, paragraph_around, parse_step, select_target
from lam_kedro.env.controls import MENUS, TAB_CONTROLS, TABS

__all__ = [
    "KEY_VALUES", "KEY_WORDS", "document_selections", "named_in", "plan_quotes", "quoted", "requested_names",
    "select_values", "sibling_sets", "step_spans",
]

_QUOTED = re.compile(r'"([^"\n]+)"')
#: Keys a ``press`` decision may name: the ones the expert presses for a plan's words (``agent.expert.KEYS``).
KEY_VALUES: tuple[str, ...] = tuple(dict.fromkeys(KEYS.values()))
#: The words a plan step names each key by ("Press Delete"; "Click at the start of ..." is Home).
KEY_WORDS: dict[str, tuple[str, ...]] = {
    key: (*(w for w, k in KEYS.items() if k == key), *(("start", "beginning") if key == "{HOME}" else ()))
    for key in KEY_VALUES
}

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
