"""The ``TaskFamily`` base class: one kind of Word task, from request to checker.

A family knows how to make itself concrete to a document (``sample_params``), how to say the
request the way a user would (``phrasings``), how to judge the outcome from the document states
alone (``check``), and how a person would do it through the UI (``solution``, ``plan``). It
also offers a plausible *wrong* solution so tests (and reward-model data) can show that the
checker is not fooled by near misses.
"""

from __future__ import annotations

import random
import re
import string
from typing import Any

from lam_kedro.env.types import CheckResult, UIStep


class TaskFamily:
    """Base class of every task family; subclasses fill the class attributes and the methods.

    ``phrasings`` are ``str.format`` templates whose slots are keys of ``slots(params)``
    (by default the params themselves), so a request reads like a person wrote it.
    """

    name: str = ""
    category: str = ""
    description: str = ""
    phrasings: tuple[str, ...] = ()

    # -- instantiation -------------------------------------------------------------------------
    def applicable(self, doc: Any) -> bool:
        """Whether the document offers something to act on (a word to bold, a paragraph to center)."""
        return self.sample_params(doc, random.Random(0)) is not None

    def sample_params(self, doc: Any, rng: random.Random) -> dict[str, Any] | None:
        """Concrete, JSON-serialisable params drawn from the doc's real content, or ``None``."""
        raise NotImplementedError

    # -- judging -------------------------------------------------------------------------------
    def check(self, before: Any, after: Any, params: dict[str, Any]) -> CheckResult:
        """The verdict from the document states only; a failure's reason says exactly what is off."""
        raise NotImplementedError

    # -- reference behaviour ---------------------------------------------------------------------
    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        """What a person does in Word, step by step, named by the controls' texts."""
        raise NotImplementedError

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        """A plausible near miss (Italic instead of Bold, forgot OK); the checker must reject it."""
        raise NotImplementedError

    def plan(self, params: dict[str, Any]) -> list[str]:
        """Numbered help-documentation steps naming the UI path (tab, group, control)."""
        raise NotImplementedError

    # -- phrasing ------------------------------------------------------------------------------
    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        """Values for the phrasing slots; override to add display forms (a short quote, a name)."""
        return dict(params)

    def render(self, params: dict[str, Any], rng: random.Random) -> str:
        """One phrasing, chosen by ``rng``, filled with ``slots(params)``."""
        template = rng.choice(self.phrasings)
        return _tidy(template.format_map(self.slots(params)))

    def slot_names(self) -> set[str]:
        """Every slot the phrasings use (tests check each is provided)."""
        names: set[str] = set()
        for p in self.phrasings:
            for _, field, _, _ in string.Formatter().parse(p):
                if field:
                    names.add(field)
        return names

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ({self.category})>"


def _tidy(text: str) -> str:
    """Drop the doubled stop of a quote that ends a sentence: 'Delete "Done.".' -> 'Delete "Done."'."""
    return re.sub(r'([.!?])"([.!?])', r'\1"', text)


def numbered(steps: list[str]) -> list[str]:
    """Prefix ``1. ``, ``2. `` ... as help pages do."""
    return [f"{i}. {s}" for i, s in enumerate(steps, start=1)]


_SELECTION = re.compile(r"^(?:Select|Click in|Double-click) ")


def merge_steps(*plans: list[str]) -> list[str]:
    """Several plans as one, numbered: a selection step that repeats the selection already made
    is kept once ("Select X" when both parts act on X); every other step is kept, even a repeat
    ("Choose Green." for the highlight and then for the font colour, "Click OK." per dialog)."""
    steps: list[str] = []
    selected = None
    for plan in plans:
        for line in plan:
            s = re.sub(r"^\s*\d+[.)]\s*", "", line).strip()
            if not s:
                continue
            if _SELECTION.match(s):
                if s == selected:
                    continue
                selected = s
            steps.append(s)
    return numbered(steps)


def ok(reason: str = "ok") -> CheckResult:
    return CheckResult(True, reason)


def fail(reason: str) -> CheckResult:
    return CheckResult(False, reason)


def all_of(*results: CheckResult) -> CheckResult:
    """The first failure, else success with the joined reasons."""
    for r in results:
        if not r.success:
            return r
    return ok("; ".join(r.reason for r in results if r.reason != "ok") or "ok")


# -- UI step builders (short names keep solutions readable) -------------------------------------
def click(text: str, control_type: str | None = None) -> UIStep:
    return UIStep(text, "click_input", {"button": "left", "double": False}, control_type=control_type)


def tab(name: str) -> UIStep:
    return click(name, "TabItem")


def select(text: str) -> UIStep:
    return UIStep("Document", "select_text", {"text": text}, control_type="Document")


def type_in(text: str, value: str, control_type: str | None = None) -> UIStep:
    return UIStep(text, "set_edit_text", {"text": value}, control_type=control_type)


def keys(control_text: str, keys_: str, control_type: str | None = None) -> UIStep:
    return UIStep(control_text, "keyboard_input", {"keys": keys_}, control_type=control_type)


def doc_keys(keys_: str) -> UIStep:
    return keys("Document", keys_, "Document")
