"""Design-tab families: preset and custom watermarks, page colour, page borders.

These are document-level decorations: the checker reads the one attribute and requires the body
text to be unchanged.
"""

from __future__ import annotations

import random
from typing import Any

from lam_kedro.env.controls import COLORS, WATERMARKS
from lam_kedro.env.document import Document
from lam_kedro.env.tasks.base import TaskFamily, all_of, click, fail, numbered, ok, tab, type_in
from lam_kedro.env.tasks.common import body_unchanged
from lam_kedro.env.types import CheckResult, UIStep

CUSTOM_WATERMARKS = ("INTERNAL", "FOR REVIEW", "NOT FOR RELEASE", "COPY", "PRELIMINARY", "TOP SECRET")


def _watermark_is(after: Document, want: str) -> CheckResult:
    got = after.watermark
    if (got or "").strip().upper() != want.upper():
        return fail(f"the watermark is {got!r}, expected {want!r}")
    return ok()


class WatermarkPresetFamily(TaskFamily):
    name = "watermark_preset"
    category = "design"
    description = "Add one of the gallery's text watermarks."
    phrasings = (
        'Add a "{text}" watermark.',
        "Put a {text} watermark on all pages.",
        'Mark the document as {text} with a watermark.',
        'Insert the "{text}" watermark from the Design tab.',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        return {"text": rng.choice([w for w in WATERMARKS if w != doc.watermark])}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        return all_of(_watermark_is(after, params["text"]), body_unchanged(before, after))

    def _steps(self, text: str) -> list[UIStep]:
        return [tab("Design"), click("Watermark", "SplitButton"), click(text, "ListItem")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params["text"])

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        wrong = {"CONFIDENTIAL": "DO NOT COPY", "DO NOT COPY": "CONFIDENTIAL", "DRAFT": "SAMPLE",
                 "SAMPLE": "DRAFT", "URGENT": "CONFIDENTIAL"}
        return self._steps(wrong[params["text"]])

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered(["On the Design tab, in the Page Background group, click Watermark.",
                         f"Choose {params['text']}."])


class WatermarkCustomFamily(TaskFamily):
    name = "watermark_custom"
    category = "design"
    description = "Add a custom text watermark through the Custom Watermark dialog."
    phrasings = (
        'Put a watermark with the text "{text}" on all pages.',
        'Add a custom watermark that says "{text}".',
        'Watermark the document with "{text}".',
        'Use Custom Watermark to show "{text}" behind the text.',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        return {"text": rng.choice([w for w in CUSTOM_WATERMARKS if w != doc.watermark])}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        return all_of(_watermark_is(after, params["text"]), body_unchanged(before, after))

    def _steps(self, params: dict[str, Any], last: str) -> list[UIStep]:
        return [tab("Design"), click("Watermark", "SplitButton"), click("Custom Watermark...", "MenuItem"),
                click("Text watermark", "RadioButton"), type_in("Text", params["text"], "ComboBox"),
                click(last, "Button")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, "OK")

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, "Cancel")

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered(["On the Design tab, in the Page Background group, click Watermark.",
                         "Click Custom Watermark...",
                         f'Choose Text watermark and type "{params["text"]}" in the Text box.',
                         "Click OK."])


class PageColorFamily(TaskFamily):
    name = "page_color"
    category = "design"
    description = "Set the page background colour."
    phrasings = (
        "Change the page color to {color}.",
        "Make the page background {color}.",
        "Set a {color} page color for the document.",
        "Color the page background {color}, please.",
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        names = [n for n in COLORS if n not in ("Black", "White") and COLORS[n] != doc.page_color]
        return {"color": rng.choice(names)}

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"color": params["color"].lower()}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        want = COLORS[params["color"]]
        if (after.page_color or "").upper() != want:
            return fail(f"the page color is {after.page_color!r}, expected {want!r} ({params['color']})")
        return body_unchanged(before, after)

    def _steps(self, color: str) -> list[UIStep]:
        return [tab("Design"), click("Page Color", "SplitButton"), click(color, "ListItem")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params["color"])

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps("Gray" if params["color"] != "Gray" else "Blue")

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered(["On the Design tab, in the Page Background group, click Page Color.",
                         f"Choose {params['color']}."])


class PageBorderFamily(TaskFamily):
    name = "page_border"
    category = "design"
    description = "Add a box or shadow border around the page."
    phrasings = (
        "Add a {kind} page border.",
        "Put a {kind} border around the page.",
        "Give the pages a {kind} border.",
        "Surround each page with a {kind} border.",
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        return {"kind": rng.choice([k for k in ("box", "shadow") if k != doc.page_border])}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        if after.page_border != params["kind"]:
            return fail(f"the page border is {after.page_border!r}, expected {params['kind']!r}")
        return body_unchanged(before, after)

    def _steps(self, params: dict[str, Any], last: str) -> list[UIStep]:
        return [tab("Design"), click("Page Borders", "Button"), click(params["kind"].capitalize(), "ListItem"),
                click(last, "Button")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, "OK")

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, "Cancel")

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered(["On the Design tab, in the Page Background group, click Page Borders.",
                         f"Under Setting, choose {params['kind'].capitalize()}.", "Click OK."])


FAMILIES: list[TaskFamily] = [WatermarkPresetFamily(), WatermarkCustomFamily(), PageColorFamily(),
                              PageBorderFamily()]
