"""Layout-tab families: margin presets, custom margins, orientation, paper size, columns.

Page setup does not touch the body, so every checker also requires the text to be unchanged;
each reads only its own section fields, so they combine freely in composite tasks.
"""

from __future__ import annotations

import random
from typing import Any

from lam_kedro.env.controls import COLUMN_COUNTS, MARGIN_PRESETS, PAGE_SIZE_NAMES
from lam_kedro.env.document import Document
from lam_kedro.env.tasks.base import TaskFamily, all_of, click, fail, numbered, ok, tab, type_in
from lam_kedro.env.tasks.common import body_unchanged, section_unchanged
from lam_kedro.env.types import CheckResult, UIStep

_SIDES = ("top", "bottom", "left", "right")


def _margins(doc: Document) -> tuple[float, ...]:
    s = doc.section
    return (s.margin_top, s.margin_bottom, s.margin_left, s.margin_right)


def _margins_are(doc: Document, want: tuple[float, ...]) -> CheckResult:
    got = _margins(doc)
    for side, g, w in zip(_SIDES, got, want, strict=True):
        if abs(g - w) > 0.01:
            return fail(f"the {side} margin is {g:g} in, expected {w:g} in")
    return ok()


class MarginPresetFamily(TaskFamily):
    name = "margins_preset"
    category = "layout"
    description = "Apply one of Word's margin presets from the Margins gallery."
    phrasings = (
        "Set the margins to {preset}.",
        "Use {preset} margins for this document.",
        "Change the page margins to the {preset} preset.",
        "Apply {preset} margins, please.",
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        names = [n for n, m in MARGIN_PRESETS.items() if not _margins_are(doc, m)]
        return {"preset": rng.choice(names)} if names else None

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        return all_of(_margins_are(after, MARGIN_PRESETS[params["preset"]]), body_unchanged(before, after))

    def _steps(self, preset: str) -> list[UIStep]:
        return [tab("Layout"), click("Margins", "SplitButton"), click(preset, "ListItem")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params["preset"])

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        wrong = {"Narrow": "Moderate", "Moderate": "Narrow", "Wide": "Moderate", "Normal": "Wide"}
        return self._steps(wrong[params["preset"]])

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered(["On the Layout tab, in the Page Setup group, click Margins.",
                         f"Choose {params['preset']}."])


class CustomMarginsFamily(TaskFamily):
    name = "margins_custom"
    category = "layout"
    description = "Set all four margins to one value through Custom Margins (Page Setup dialog)."
    phrasings = (
        "Set all page margins to {inches} inches.",
        "Make every margin {inches}\".",
        "Change the top, bottom, left and right margins to {inches} in.",
        "Use custom margins of {inches} inch on all sides.",
    )
    values = (0.6, 0.8, 1.25, 1.5)

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        vals = [v for v in self.values if not _margins_are(doc, (v,) * 4)]
        return {"inches": rng.choice(vals)} if vals else None

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        return all_of(_margins_are(after, (params["inches"],) * 4), body_unchanged(before, after))

    def _steps(self, params: dict[str, Any], last: str) -> list[UIStep]:
        v = f"{params['inches']:g}"
        return [tab("Layout"), click("Margins", "SplitButton"), click("Custom Margins...", "MenuItem"),
                *(type_in(side.capitalize(), v, "Edit") for side in _SIDES), click(last, "Button")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, "OK")

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, "Cancel")

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered(["On the Layout tab, in the Page Setup group, click Margins.",
                         "Click Custom Margins...",
                         f"In the Page Setup dialog, set Top, Bottom, Left and Right to {params['inches']:g}\".",
                         "Click OK."])


class OrientationFamily(TaskFamily):
    name = "page_orientation"
    category = "layout"
    description = "Switch the page between portrait and landscape."
    phrasings = (
        "Change the page orientation to {orientation}.",
        "Make the document {orientation}.",
        "Switch the pages to {orientation} mode.",
        "Can you turn the page {orientation}?",
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        return {"orientation": "portrait" if doc.section.orientation == "landscape" else "landscape"}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        s = after.section
        if s.orientation != params["orientation"]:
            return fail(f"the orientation is {s.orientation!r}, expected {params['orientation']!r}")
        if (s.page_width > s.page_height) != (params["orientation"] == "landscape"):
            return fail(f"the page is {s.page_width:g} x {s.page_height:g} in, not {params['orientation']}")
        return body_unchanged(before, after)

    def _steps(self, choice: str) -> list[UIStep]:
        return [tab("Layout"), click("Orientation", "SplitButton"), click(choice, "ListItem")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params["orientation"].capitalize())

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        # Opens the right menu but keeps the current orientation.
        return self._steps("Landscape" if params["orientation"] == "portrait" else "Portrait")

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered(["On the Layout tab, in the Page Setup group, click Orientation.",
                         f"Choose {params['orientation'].capitalize()}."])


class PageSizeFamily(TaskFamily):
    name = "page_size"
    category = "layout"
    description = "Change the paper size (Letter, Legal, A4, A5)."
    phrasings = (
        "Change the paper size to {size}.",
        "Set the page size to {size}.",
        "Format this document for {size} paper.",
        "I need to print on {size} - change the page size.",
    )
    _wrong = {"Letter": "Legal", "Legal": "Letter", "A4": "Letter", "A5": "A4"}

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        current = doc.section.page_size_name()
        return {"size": rng.choice([s for s in PAGE_SIZE_NAMES if s != current])}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        got = after.section.page_size_name()
        if got != params["size"]:
            s = after.section
            return fail(f"the page is {s.page_width:g} x {s.page_height:g} in ({got or 'no named size'}), "
                        f"expected {params['size']}")
        return all_of(section_unchanged(before, after, "orientation"), body_unchanged(before, after))

    def _steps(self, size: str) -> list[UIStep]:
        return [tab("Layout"), click("Size", "SplitButton"), click(size, "ListItem")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params["size"])

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(self._wrong[params["size"]])

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered(["On the Layout tab, in the Page Setup group, click Size.", f"Choose {params['size']}."])


class ColumnsFamily(TaskFamily):
    name = "page_columns"
    category = "layout"
    description = "Lay the text out in one, two or three columns."
    phrasings = (
        "Split the document into {word} columns.",
        "Format the text in {word} columns.",
        "Use a {n}-column layout.",
        "Make the page layout {word} columns like a newsletter.",
    )
    _words = {1: "one", 2: "two", 3: "three"}

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        return {"n": rng.choice([n for n in (2, 3) if n != doc.section.columns])}

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "word": self._words[params["n"]]}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        got = after.section.columns
        if got != params["n"]:
            return fail(f"the page has {got} column(s), expected {params['n']}")
        return body_unchanged(before, after)

    def _steps(self, n: int) -> list[UIStep]:
        name = next(k for k, v in COLUMN_COUNTS.items() if v == n)
        return [tab("Layout"), click("Columns", "SplitButton"), click(name, "ListItem")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params["n"])

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(3 if params["n"] == 2 else 2)

    def plan(self, params: dict[str, Any]) -> list[str]:
        name = next(k for k, v in COLUMN_COUNTS.items() if v == params["n"])
        return numbered(["On the Layout tab, in the Page Setup group, click Columns.", f"Choose {name}."])


FAMILIES: list[TaskFamily] = [MarginPresetFamily(), CustomMarginsFamily(), OrientationFamily(), PageSizeFamily(),
                              ColumnsFamily()]
