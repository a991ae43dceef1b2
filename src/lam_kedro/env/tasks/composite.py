"""Composite families: requests that combine two or three simple ones ("make the title bold and
centered"), as users often phrase them.

A composite owns a flat params dict and maps it to each part's params; its checker is every
part's checker (each part checks only its own aspect plus "nothing else changed", so they
compose), its solution is the parts' solutions in order, and its wrong solution does only the
first part, the most common way a multi-part request goes wrong.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from lam_kedro.env.controls import COLORS, HIGHLIGHTS
from lam_kedro.env.document import Document
from lam_kedro.env.tasks import design, formatting, insert, layout, paragraph, styles_lists
from lam_kedro.env.tasks.base import TaskFamily, all_of, merge_steps
from lam_kedro.env.tasks.common import char_formats, para_ref, short, unique_paragraphs
from lam_kedro.env.types import CheckResult, UIStep

Part = tuple[TaskFamily, Callable[[dict[str, Any]], dict[str, Any]]]


class CompositeFamily(TaskFamily):
    category = "composite"

    def __init__(self, name: str, description: str, parts: list[Part],
                 sampler: Callable[[Document, random.Random], dict[str, Any] | None],
                 phrasings: tuple[str, ...]) -> None:
        self.name, self.description, self.parts, self.sampler = name, description, parts, sampler
        self.phrasings = phrasings

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        return self.sampler(doc, rng)

    def part_params(self, params: dict[str, Any]) -> list[tuple[TaskFamily, dict[str, Any]]]:
        return [(fam, mapper(params)) for fam, mapper in self.parts]

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        out = dict(params)
        if "text" in params:
            out.update(para=para_ref(params["text"]), quote=short(params["text"], 50))
        if "color" in params:
            out["color"] = params["color"].lower()
        return out

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        return all_of(*(fam.check(before, after, p) for fam, p in self.part_params(params)))

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [s for fam, p in self.part_params(params) for s in fam.solution(p)]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        fam, p = self.part_params(params)[0]
        return fam.solution(p)

    def plan(self, params: dict[str, Any]) -> list[str]:
        return merge_steps(*(fam.plan(p) for fam, p in self.part_params(params)))


def _short_paragraph(doc: Document, rng: random.Random, ok: Callable[[Any, list[Any]], bool],
                     max_len: int = 80) -> int | None:
    """A unique short paragraph (a title-like line) that ``ok(paragraph, char formats)`` accepts."""
    paras, fmts = doc.paragraphs(), char_formats(doc)
    cands = []
    for i in unique_paragraphs(doc, max_len=max_len):
        span = doc.paragraph_span(i)
        if ok(paras[i], fmts[span.start:span.end]):
            cands.append(i)
    return rng.choice(cands) if cands else None


def _bold_center(doc: Document, rng: random.Random) -> dict[str, Any] | None:
    i = _short_paragraph(doc, rng, lambda p, fs: p.fmt.alignment != "center" and not all(f.bold for f in fs))
    return None if i is None else {"paragraph": i, "text": doc.paragraphs()[i].text}


def _heading_color(doc: Document, rng: random.Random) -> dict[str, Any] | None:
    i = _short_paragraph(doc, rng, lambda p, fs: p.style != "Heading 1" and p.list_kind is None)
    if i is None:
        return None
    span = doc.paragraph_span(i)
    used = {f.color for f in char_formats(doc)[span.start:span.end]}
    colors = [c for c in ("Blue", "Red", "Green", "Purple") if COLORS[c] not in used]
    return {"paragraph": i, "text": doc.paragraphs()[i].text, "color": rng.choice(colors)}


def _italic_highlight(doc: Document, rng: random.Random) -> dict[str, Any] | None:
    p = formatting.ITALIC.sample_params(doc, rng)
    if p is None:
        return None
    span = doc.find(p["text"])
    used = {f.highlight for f in char_formats(doc)[span.start:span.end]} if span else set()
    colors = [c for c in ("Yellow", "Green", "Blue") if HIGHLIGHTS[c] not in used]
    return {"text": p["text"], "color": rng.choice(colors)}


def _landscape_narrow(doc: Document, rng: random.Random) -> dict[str, Any] | None:
    o = layout.OrientationFamily().sample_params(doc, rng)
    m = layout.MarginPresetFamily().sample_params(doc, rng)
    return None if o is None or m is None else {"orientation": o["orientation"], "preset": m["preset"]}


def _watermark_border(doc: Document, rng: random.Random) -> dict[str, Any] | None:
    w = design.WatermarkPresetFamily().sample_params(doc, rng)
    b = design.PageBorderFamily().sample_params(doc, rng)
    return None if w is None or b is None else {"watermark": w["text"], "kind": b["kind"]}


def _header_numbers(doc: Document, rng: random.Random) -> dict[str, Any] | None:
    h = insert.HEADER.sample_params(doc, rng)
    n = insert.PageNumberFamily().sample_params(doc, rng)
    return None if h is None or n is None else {"header": h["text"], "where": n["where"]}


def _para(value: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda p: {"paragraph": p["paragraph"], "text": p["text"], "value": value}


BOLD_CENTER = CompositeFamily(
    "bold_and_center", "Make a title-like line bold and centered.",
    [(formatting.BOLD, lambda p: {"text": p["text"]}), (paragraph.CENTER, _para("center"))],
    _bold_center, (
        "Make {para} bold and centered.",
        'Bold "{quote}" and center it.',
        'Center the line "{quote}" and put it in bold.',
        'I want "{quote}" to look like a title: bold and in the middle of the page.',
    ))
HEADING_COLOR = CompositeFamily(
    "heading_and_color", "Apply Heading 1 to a line and color its text.",
    [(styles_lists.HEADING, lambda p: {"paragraph": p["paragraph"], "text": p["text"], "style": "Heading 1"}),
     (formatting.FONT_COLOR, lambda p: {"text": p["text"], "color": p["color"]})],
    _heading_color, (
        "Make {para} a Heading 1 and color it {color}.",
        'Apply Heading 1 to "{quote}" and change its font color to {color}.',
        'Turn "{quote}" into a {color} Heading 1.',
    ))
ITALIC_HIGHLIGHT = CompositeFamily(
    "italic_and_highlight", "Italicize a word or phrase and highlight it.",
    [(formatting.ITALIC, lambda p: {"text": p["text"]}),
     (formatting.HIGHLIGHT, lambda p: {"text": p["text"], "color": p["color"]})],
    _italic_highlight, (
        'Italicize "{quote}" and highlight it in {color}.',
        'Make "{quote}" italic with a {color} highlight.',
        'Put "{quote}" in italics and mark it with the {color} highlighter.',
    ))
LANDSCAPE_MARGINS = CompositeFamily(
    "orientation_and_margins", "Change the orientation and the margin preset together.",
    [(layout.OrientationFamily(), lambda p: {"orientation": p["orientation"]}),
     (layout.MarginPresetFamily(), lambda p: {"preset": p["preset"]})],
    _landscape_narrow, (
        "Switch the page to {orientation} and use {preset} margins.",
        "Set up the page as {orientation} with {preset} margins.",
        "I need {orientation} pages with the {preset} margin preset.",
    ))
WATERMARK_BORDER = CompositeFamily(
    "watermark_and_border", "Add a gallery watermark and a page border.",
    [(design.WatermarkPresetFamily(), lambda p: {"text": p["watermark"]}),
     (design.PageBorderFamily(), lambda p: {"kind": p["kind"]})],
    _watermark_border, (
        'Add a "{watermark}" watermark and a {kind} page border.',
        "Put a {kind} border around the pages and mark them {watermark} with a watermark.",
        'Watermark the document "{watermark}" and give it a {kind} page border.',
    ))
HEADER_NUMBERS = CompositeFamily(
    "header_and_page_numbers", "Set the header text and add page numbers.",
    [(insert.HEADER, lambda p: {"text": p["header"]}), (insert.PageNumberFamily(), lambda p: {"where": p["where"]})],
    _header_numbers, (
        'Add the header "{header}" and page numbers at the {where} of the page.',
        'Put "{header}" in the header and number the pages ({where}).',
        'Set the header to "{header}", then insert page numbers at the {where}.',
    ))

FAMILIES: list[TaskFamily] = [BOLD_CENTER, HEADING_COLOR, ITALIC_HIGHLIGHT, LANDSCAPE_MARGINS, WATERMARK_BORDER,
                              HEADER_NUMBERS]
