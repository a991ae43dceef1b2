"""Style and list families: Heading 1-3, Title, Quote from the style gallery; bulleted and
numbered lists from the Paragraph group.

A style task targets one unique paragraph; a list task targets a run of one to three
consecutive body paragraphs (selected together, as a person would drag over them).
"""

from __future__ import annotations

import random
from typing import Any

from lam_kedro.env.document import Document
from lam_kedro.env.tasks.base import TaskFamily, all_of, click, fail, numbered, ok, select, tab
from lam_kedro.env.tasks.common import (
    occurrences,
    para_ref,
    paragraphs_unchanged_except,
    same_text,
    short,
    unique_paragraphs,
)
from lam_kedro.env.tasks.paragraph import target_paragraph
from lam_kedro.env.types import CheckResult, UIStep


class StyleFamily(TaskFamily):
    """Apply one gallery style to a paragraph; ``values`` are the styles it may ask for."""

    category = "styles_lists"

    def __init__(self, name: str, values: tuple[str, ...], wrong: dict[str, tuple[str, str]], max_len: int,
                 phrasings: tuple[str, ...]) -> None:
        self.name, self.values, self.wrong, self.max_len, self.phrasings = name, values, wrong, max_len, phrasings
        self.description = f"Apply the {' / '.join(values)} style to a paragraph."

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        cands = unique_paragraphs(doc, max_len=self.max_len)
        rng.shuffle(cands)
        paras = doc.paragraphs()
        for i in cands:
            styles = [s for s in self.values if paras[i].style != s and paras[i].list_kind is None]
            if styles:
                return {"paragraph": i, "text": paras[i].text, "style": rng.choice(styles)}
        return None

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "para": para_ref(params["text"]), "quote": short(params["text"], 50)}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        i, found = target_paragraph(before, after, params)
        if not found:
            return found
        got = after.paragraphs()[i].style
        has = ok() if got == params["style"] else fail(
            f"{para_ref(params['text'])} has style {got!r}, expected {params['style']!r}")
        return all_of(has, same_text(before, after), paragraphs_unchanged_except(before, after, {i}))

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), tab("Home"), click(params["style"], "ListItem")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        text, ctype = self.wrong[params["style"]]
        return [select(params["text"]), tab("Home"), click(text, ctype)]

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f"Select {para_ref(params['text'])}.",
                         f"On the Home tab, in the Styles group, click {params['style']}."])


HEADING = StyleFamily("apply_heading", ("Heading 1", "Heading 2", "Heading 3"), {
    "Heading 1": ("Heading 2", "ListItem"), "Heading 2": ("Heading 1", "ListItem"),
    "Heading 3": ("Heading 2", "ListItem"),
}, 80, (
    "Make {para} a {style}.",
    'Apply the {style} style to "{quote}".',
    'Turn "{quote}" into a heading ({style}).',
    "Format {para} as {style} so it shows up in the navigation pane.",
))
TITLE = StyleFamily("apply_title", ("Title",), {"Title": ("Subtitle", "ListItem")}, 80, (
    'Make "{quote}" the document title using the Title style.',
    "Apply the Title style to {para}.",
    'Format "{quote}" as the title.',
))
QUOTE = StyleFamily("apply_quote", ("Quote",), {"Quote": ("Italic", "Button")}, 200, (
    "Format {para} as a quote.",
    'Apply the Quote style to "{quote}".',
    "Style {para} as a quotation.",
))


class ListFamily(TaskFamily):
    """Turn consecutive paragraphs into a bulleted or numbered list."""

    category = "styles_lists"

    def __init__(self, name: str, kind: str, button: str, wrong: str, phrasings: tuple[str, ...]) -> None:
        self.name, self.kind, self.button, self.wrong, self.phrasings = name, kind, button, wrong, phrasings
        self.description = f"Make paragraphs a {kind} list with the {button} button."

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        paras = doc.paragraphs()
        runs: list[list[int]] = []
        for i in range(len(paras)):
            for n in (3, 2, 1):
                idx = list(range(i, min(i + n, len(paras))))
                if len(idx) != n or not all(_listable(paras[j]) for j in idx):
                    continue
                text = "\n".join(paras[j].text for j in idx)
                if occurrences(doc, text) == 1 and len(text) <= 400:
                    runs.append(idx)
        if not runs:
            return None
        idx = rng.choice(runs)
        return {"paragraphs": idx, "texts": [paras[j].text for j in idx]}

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        texts = params["texts"]
        what = para_ref(texts[0]) if len(texts) == 1 else (
            f'the {len(texts)} paragraphs from "{short(texts[0], 30)}" to "{short(texts[-1], 30)}"')
        return {"what": what, "first": short(texts[0], 30), "n": len(texts)}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        paras = after.paragraphs()
        for j, text in zip(params["paragraphs"], params["texts"], strict=True):
            if j >= len(paras) or paras[j].text != text:
                return fail(f"{para_ref(text)} is no longer paragraph {j + 1}")
            if paras[j].list_kind != self.kind:
                noun = "bulleted" if self.kind == "bullet" else "numbered"
                return fail(f"{para_ref(text)} is not in a {noun} list (list_kind={paras[j].list_kind!r})")
        return all_of(same_text(before, after),
                      paragraphs_unchanged_except(before, after, set(params["paragraphs"])))

    def _steps(self, params: dict[str, Any], button: str) -> list[UIStep]:
        return [select("\n".join(params["texts"])), tab("Home"), click(button, "SplitButton")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, self.button)

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, self.wrong)

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f"Select {self.slots(params)['what']}.",
                         f"On the Home tab, in the Paragraph group, click {self.button}."])


def _listable(p: Any) -> bool:
    t = p.text
    return bool(t.strip()) and t == t.strip() and p.list_kind is None and p.style in ("Normal", "Body Text")


BULLETS = ListFamily("bulleted_list", "bullet", "Bullets", "Numbering", (
    "Turn {what} into a bulleted list.",
    "Add bullets to {what}.",
    "Make {what} a bullet list.",
    'Put bullet points in front of the lines starting at "{first}".',
))
NUMBERS = ListFamily("numbered_list", "number", "Numbering", "Bullets", (
    "Turn {what} into a numbered list.",
    "Number {what}.",
    "Make {what} a numbered list (1, 2, 3...).",
    'Add numbering to the lines starting at "{first}".',
))

FAMILIES: list[TaskFamily] = [HEADING, TITLE, QUOTE, BULLETS, NUMBERS]
