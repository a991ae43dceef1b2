"""Editing families: find and replace (with and without Match case), deleting a paragraph or a
word, and typing a new paragraph.

Each checker knows the exact text the edit must produce (computed from ``before``), so a
replace that also hits another case form, or a delete that leaves an empty line, fails.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from typing import Any

from lam_kedro.env.document import Document, Paragraph
from lam_kedro.env.tasks.base import (
    TaskFamily,
    all_of,
    click,
    doc_keys,
    fail,
    numbered,
    ok,
    select,
    tab,
    type_in,
)
from lam_kedro.env.tasks.common import (
    expect_text,
    occurrences,
    para_ref,
    short,
    unique_paragraphs,
    unique_words,
)
from lam_kedro.env.types import CheckResult, UIStep

REPLACEMENTS = ("summary", "proposal", "schedule", "overview", "estimate", "outline", "roadmap", "memo")
NEW_SENTENCES = ("Please contact the project office with any questions.", "All figures are in US dollars.",
                 "This section will be updated next quarter.", "Thank you for your attention.",
                 "Last reviewed by the editorial team.", "See the appendix for details.")
_TOKEN = re.compile(r"[A-Za-z]+")


def _whole_word_only(body: str, word: str) -> bool:
    """Every case-insensitive occurrence of ``word`` is a whole word (so 'form' is not in 'inform')."""
    sub = len(re.findall(re.escape(word), body, re.IGNORECASE))
    whole = len(re.findall(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", body, re.IGNORECASE))
    return sub == whole


def _table_text(doc: Document) -> str:
    return "\n".join(c for t in doc.tables() for r in t.rows for c in r)


def _replacement(doc: Document, old: str, rng: random.Random) -> str:
    body = doc.text().lower()
    choices = [r for r in REPLACEMENTS if r not in body and old.lower() not in r and r not in old.lower()]
    new = rng.choice(choices)
    return new.capitalize() if old[:1].isupper() else new


class FindReplaceFamily(TaskFamily):
    name = "find_replace"
    category = "editing"
    description = "Replace every occurrence of a word with Find and Replace (Replace All)."
    phrasings = (
        'Replace every "{old}" with "{new}".',
        'Change all occurrences of "{old}" to "{new}".',
        'Find "{old}" and replace it with "{new}" everywhere in the document.',
        'Swap the word "{old}" for "{new}" throughout.',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        body, tables = doc.text(), _table_text(doc).lower()
        counts = Counter(m.group(0).lower() for m in _TOKEN.finditer(body))
        first: dict[str, str] = {}
        for m in _TOKEN.finditer(body):
            first.setdefault(m.group(0).lower(), m.group(0))
        cands = sorted(w for w, n in counts.items() if len(w) >= 4 and n >= 2 and w not in tables
                       and _whole_word_only(body, w))
        if not cands:
            cands = sorted(w for w, n in counts.items() if len(w) >= 4 and w not in tables and _whole_word_only(body, w))
        if not cands:
            return None
        old = first[rng.choice(cands)]
        return {"old": old, "new": _replacement(doc, old, rng), "count": counts[old.lower()]}

    def expected(self, before: Document, params: dict[str, Any]) -> str:
        return re.sub(re.escape(params["old"]), lambda m: params["new"], before.text(), flags=re.IGNORECASE)

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        left = occurrences(after, params["old"])
        if left and params["old"].lower() not in params["new"].lower():
            return fail(f'"{params["old"]}" still occurs {left} time(s)')
        return expect_text(after, self.expected(before, params))

    def _steps(self, params: dict[str, Any], match_case: bool, go: str) -> list[UIStep]:
        steps = [tab("Home"), click("Replace", "Button"), type_in("Find what", params["old"], "Edit"),
                 type_in("Replace with", params["new"], "Edit")]
        if match_case:
            steps.append(click("Match case", "CheckBox"))
        return [*steps, click(go, "Button"), click("Close", "Button")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, False, "Replace All")

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, False, "Find Next")  # finds, never replaces

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered(["On the Home tab, in the Editing group, click Replace.",
                         f'In the Find what box, type "{params["old"]}".',
                         f'In the Replace with box, type "{params["new"]}".',
                         "Click Replace All, then Close."])


class ReplaceMatchCaseFamily(FindReplaceFamily):
    name = "replace_match_case"
    description = "Replace one case form of a word only, with Match case checked."
    phrasings = (
        'Replace "{old}" with "{new}" - match case, so "{other}" stays as it is.',
        'Change every "{old}" (exactly this capitalization) to "{new}".',
        'Find "{old}" with Match case on and replace it with "{new}"; leave "{other}" alone.',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        body, tables = doc.text(), _table_text(doc).lower()
        forms: dict[str, Counter[str]] = defaultdict(Counter)
        for m in _TOKEN.finditer(body):
            forms[m.group(0).lower()][m.group(0)] += 1
        cands = sorted(w for w, f in forms.items() if len(w) >= 3 and len(f) >= 2 and w not in tables
                       and _whole_word_only(body, w))
        if not cands:
            return None
        w = rng.choice(cands)
        variants = sorted(forms[w])
        old = rng.choice(variants)
        other = next(v for v in variants if v != old)
        return {"old": old, "other": other, "new": _replacement(doc, old, rng), "count": forms[w][old]}

    def expected(self, before: Document, params: dict[str, Any]) -> str:
        return before.text().replace(params["old"], params["new"])

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        if params["other"] not in after.text():
            return fail(f'"{params["other"]}" was replaced too; only "{params["old"]}" (match case) should change')
        return expect_text(after, self.expected(before, params))

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, True, "Replace All")

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, False, "Replace All")  # forgets Match case

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered(["On the Home tab, in the Editing group, click Replace.",
                         f'In the Find what box, type "{params["old"]}".',
                         f'In the Replace with box, type "{params["new"]}".',
                         "Check Match case.",
                         "Click Replace All, then Close."])


class DeleteParagraphFamily(TaskFamily):
    name = "delete_paragraph"
    category = "editing"
    description = "Delete a whole paragraph, leaving no empty line behind."
    phrasings = (
        "Delete {para}.",
        'Remove the paragraph "{quote}" from the document.',
        'Get rid of the text "{quote}" completely, including its line.',
        "Please take out {para}.",
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        paras = doc.paragraphs()
        cands = []
        for i in unique_paragraphs(doc, max_len=200):
            k = next(n for n, b in enumerate(doc.blocks) if b is paras[i])
            if i > 0 and k > 0 and isinstance(doc.blocks[k - 1], Paragraph):
                cands.append(i)
        if not cands:
            return None
        i = rng.choice(cands)
        return {"paragraph": i, "text": paras[i].text}

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "para": para_ref(params["text"]), "quote": short(params["text"], 50)}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        want = [(p.text, p.style) for k, p in enumerate(before.paragraphs()) if k != params["paragraph"]]
        got = [(p.text, p.style) for p in after.paragraphs()]
        if [t for t, _ in got] != [t for t, _ in want]:
            if any(t == params["text"] for t, _ in got):
                return fail(f"{para_ref(params['text'])} is still there")
            return fail(f"the paragraphs are not the original ones minus {para_ref(params['text'])} "
                        f"({len(got)} paragraphs, expected {len(want)}; an empty line left behind?)")
        if got != want:
            return fail("a remaining paragraph changed its style")
        if len(after.tables()) != len(before.tables()) or after.page_breaks() != before.page_breaks():
            return fail("tables or page breaks were deleted too")
        return ok()

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), doc_keys("{DELETE}"), doc_keys("{BACKSPACE}")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), doc_keys("{DELETE}")]  # leaves an empty paragraph

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f"Select {para_ref(params['text'])}.", "Press Delete.",
                         "Press Backspace to remove the empty line."])


class DeleteWordFamily(TaskFamily):
    name = "delete_word"
    category = "editing"
    description = "Delete one word (and one of the spaces around it)."
    phrasings = (
        'Delete the word "{text}".',
        'Remove "{text}" from the text.',
        'Take the word "{text}" out of the document.',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        body = doc.text()
        cands = [w for w in sorted(unique_words(doc)) if f"{w} " in body and _whole_word_only(body, w)]
        return {"text": rng.choice(cands)} if cands else None

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        body, w = before.text(), params["text"]
        options = {body.replace(v, "", 1) for v in (f"{w} ", f" {w}") if v in body}
        if after.text() in options:
            return ok()
        if w in after.text():
            return fail(f'the word "{w}" is still in the document')
        return expect_text(after, body.replace(f"{w} ", "", 1))

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"] + " "), doc_keys("{DELETE}")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"][:-1]), doc_keys("{DELETE}")]  # a sloppy drag misses a letter

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f'Double-click the word "{params["text"]}" to select it.', "Press Delete."])


class AddParagraphFamily(TaskFamily):
    name = "add_paragraph"
    category = "editing"
    description = "Type a new paragraph after an existing one."
    phrasings = (
        'Add a new paragraph "{new}" after {para}.',
        'After "{quote}", start a new paragraph that says "{new}"',
        'Type "{new}" as a new line right below {para}.',
        'Insert the sentence "{new}" as its own paragraph after "{quote}".',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        body = doc.text()
        cands = unique_paragraphs(doc, max_len=200)
        news = [s for s in NEW_SENTENCES if s not in body]
        if not cands or not news:
            return None
        i = rng.choice(cands)
        return {"paragraph": i, "text": doc.paragraphs()[i].text, "new": rng.choice(news)}

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "para": para_ref(params["text"]), "quote": short(params["text"], 50)}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        body, span = before.text(), before.paragraph_span(params["paragraph"])
        return all_of(expect_text(after, body[:span.end] + "\n" + params["new"] + body[span.end:]))

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), doc_keys("{END}"), doc_keys("{ENTER}"),
                type_in("Document", params["new"], "Document")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), doc_keys("{END}"), type_in("Document", " " + params["new"], "Document")]

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f"Click at the end of {para_ref(params['text'])}.", "Press Enter.",
                         f'Type "{params["new"]}".'])


FAMILIES: list[TaskFamily] = [FindReplaceFamily(), ReplaceMatchCaseFamily(), DeleteParagraphFamily(),
                              DeleteWordFamily(), AddParagraphFamily()]
