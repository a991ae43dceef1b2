"""Paragraph-formatting families: alignment, line spacing, left indent, spacing before/after.

The target is one paragraph whose whole text occurs once in the body, so selecting that text
selects exactly that paragraph. Checkers find the paragraph by index and text, require the
attribute, the unchanged text, and unchanged paragraph formatting everywhere else.
"""

from __future__ import annotations

import random
from typing import Any

from lam_kedro.env.document import Document
from lam_kedro.env.tasks.base import TaskFamily, all_of, click, fail, numbered, ok, select, tab, type_in
from lam_kedro.env.tasks.common import (
    para_ref,
    paragraphs_unchanged_except,
    same_text,
    short,
    unique_paragraphs,
)
from lam_kedro.env.types import CheckResult, UIStep


def target_paragraph(before: Document, after: Document, params: dict[str, Any]) -> tuple[int, CheckResult]:
    """The target's index in ``after`` (same index as before: these tasks add no paragraphs)."""
    i = params["paragraph"]
    paras = after.paragraphs()
    if i >= len(paras) or paras[i].text != params["text"]:
        return i, fail(f'{para_ref(params["text"])} is no longer paragraph {i + 1} of the document')
    return i, ok()


class ParagraphFamily(TaskFamily):
    """A family that sets one paragraph attribute (``attr``) to ``params["value"]``."""

    category = "paragraph"
    attr: str = ""
    values: tuple[Any, ...] = ()

    def current(self, doc: Document, i: int) -> Any:
        return getattr(doc.paragraphs()[i].fmt, self.attr)

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        cands = unique_paragraphs(doc, max_len=200)
        rng.shuffle(cands)
        for i in cands:
            values = [v for v in self.values if not _same(self.current(doc, i), v)]
            if values:
                return {"paragraph": i, "text": doc.paragraphs()[i].text, "value": rng.choice(values)}
        return None

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "para": para_ref(params["text"]), "quote": short(params["text"], 50)}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        i, found = target_paragraph(before, after, params)
        if not found:
            return found
        got = self.current(after, i)
        want = params["value"]
        has = ok() if _same(got, want) else fail(f"{para_ref(params['text'])} has {self.attr}={got!r}, "
                                                  f"expected {want!r}")
        return all_of(has, same_text(before, after), paragraphs_unchanged_except(before, after, {i}))

    def plan_tail(self, params: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f"Select {para_ref(params['text'])} (or click in it).", *self.plan_tail(params)])


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return abs(got - want) < 0.01
    return got == want


class AlignFamily(ParagraphFamily):
    attr = "alignment"
    _buttons = {"center": "Center", "right": "Align Right", "justify": "Justify", "left": "Align Left"}
    _wrong = {"center": "Justify", "right": "Center", "justify": "Align Left", "left": "Center"}

    def __init__(self, name: str, value: str, phrasings: tuple[str, ...]) -> None:
        self.name, self.values, self.phrasings = name, (value,), phrasings
        self.description = f"Set a paragraph's alignment to {value}."

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), tab("Home"), click(self._buttons[params["value"]], "Button")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), tab("Home"), click(self._wrong[params["value"]], "Button")]

    def plan_tail(self, params: dict[str, Any]) -> list[str]:
        return [f"On the Home tab, in the Paragraph group, click {self._buttons[params['value']]}."]


CENTER = AlignFamily("align_center", "center", (
    "Center {para}.",
    'Center-align the text "{quote}".',
    'Put "{quote}" in the middle of the line.',
    "Could you center {para}?",
))
RIGHT = AlignFamily("align_right", "right", (
    "Right-align {para}.",
    'Align "{quote}" to the right margin.',
    "Move {para} to the right side of the page.",
))
JUSTIFY = AlignFamily("justify_paragraph", "justify", (
    "Justify {para}.",
    'Make "{quote}" justified so both edges are straight.',
    "Apply justified alignment to {para}.",
))


class LineSpacingFamily(ParagraphFamily):
    name = "line_spacing"
    attr = "line_spacing"
    values = (1.15, 1.5, 2.0)
    description = "Change a paragraph's line spacing from the Line and Paragraph Spacing menu."
    phrasings = (
        "Set the line spacing of {para} to {value}.",
        "Change {para} to {value} line spacing.",
        'Make the lines of "{quote}" {value}-spaced.',
        "I need {value} spacing between the lines of {para}.",
    )

    @staticmethod
    def _item(v: float) -> str:
        return f"{v:.2f}".rstrip("0") if v == 1.15 else f"{v:.1f}"

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), tab("Home"), click("Line and Paragraph Spacing", "SplitButton"),
                click(self._item(params["value"]), "MenuItem")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        other = 3.0 if params["value"] != 3.0 else 1.0
        return [select(params["text"]), tab("Home"), click("Line and Paragraph Spacing", "SplitButton"),
                click(self._item(other), "MenuItem")]

    def plan_tail(self, params: dict[str, Any]) -> list[str]:
        return ["On the Home tab, in the Paragraph group, click Line and Paragraph Spacing.",
                f"Choose {self._item(params['value'])}."]


class LayoutFieldFamily(ParagraphFamily):
    """Indent / spacing set in points from the Layout tab's Paragraph group."""

    def __init__(self, name: str, attr: str, field: str, wrong_field: str, values: tuple[float, ...],
                 phrasings: tuple[str, ...]) -> None:
        self.name, self.attr, self.field, self.wrong_field = name, attr, field, wrong_field
        self.values, self.phrasings = values, phrasings
        self.description = f"Set a paragraph's {field.lower()} in points on the Layout tab."

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**super().slots(params), "points": f"{params['value']:g}"}

    def _steps(self, params: dict[str, Any], field: str) -> list[UIStep]:
        return [select(params["text"]), tab("Layout"), type_in(field, f"{params['value']:g}", "Edit")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, self.field)

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, self.wrong_field)

    def plan_tail(self, params: dict[str, Any]) -> list[str]:
        return [f"On the Layout tab, in the Paragraph group, set {self.field} to {params['value']:g} pt."]


LEFT_INDENT = LayoutFieldFamily("left_indent", "left_indent", "Indent Left", "Indent Right", (18.0, 36.0, 72.0), (
    "Indent {para} by {points} pt from the left.",
    "Set the left indent of {para} to {points} points.",
    'Move "{quote}" in from the left margin by {points}pt.',
))
SPACE_AFTER = LayoutFieldFamily("space_after", "space_after", "Spacing After", "Spacing Before",
                                (6.0, 12.0, 18.0, 24.0), (
    "Add {points} pt of space after {para}.",
    "Set the spacing after {para} to {points} points.",
    'Put a {points}pt gap below "{quote}".',
))
SPACE_BEFORE = LayoutFieldFamily("space_before", "space_before", "Spacing Before", "Spacing After",
                                 (6.0, 12.0, 18.0, 24.0), (
    "Add {points} pt of space before {para}.",
    "Set the spacing before {para} to {points} points.",
    'Leave a {points}pt gap above "{quote}".',
))

FAMILIES: list[TaskFamily] = [CENTER, RIGHT, JUSTIFY, LineSpacingFamily(), LEFT_INDENT, SPACE_AFTER, SPACE_BEFORE]
