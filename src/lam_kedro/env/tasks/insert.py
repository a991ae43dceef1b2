"""Insert-tab families: table, page break, header, footer, page numbers, symbol, hyperlink, comment.

Block inserts (table, page break) may leave an empty paragraph behind, as Word does, so their
checkers compare the non-empty paragraph texts; everything else must keep the body text exactly.
"""

from __future__ import annotations

import random
from typing import Any

from lam_kedro.env.document import Document, PageBreak, Paragraph, Table
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
    body_unchanged,
    expect_text,
    nonempty_texts,
    para_ref,
    same_text,
    short,
    unique_paragraphs,
    unique_words,
)
from lam_kedro.env.types import CheckResult, UIStep

HEADER_TEXTS = ("Quarterly Report", "Confidential - Internal Use Only", "Draft for Review", "Project Plan 2025",
                "Acme Corporation", "Meeting Notes", "Annual Budget Summary")
FOOTER_TEXTS = ("Prepared by the Finance Team", "Company Confidential", "Do not distribute", "Version 2.1",
                "Contoso Ltd. - All rights reserved", "For internal use only")
URLS = ("https://www.example.com", "https://www.contoso.com/reports", "https://en.wikipedia.org/wiki/Microsoft_Word",
        "https://www.microsoft.com", "https://github.com/microsoft/UFO")
COMMENTS = ("Please double-check this.", "Can we cite a source here?", "Consider rewording.", "Is this still accurate?",
            "Nice point - expand on it.", "Needs an update for this year.")
SYMBOL_NAMES = {"©": "copyright sign", "®": "registered trademark sign", "™": "trademark sign", "€": "euro sign",
                "£": "pound sign", "°": "degree sign", "±": "plus-minus sign", "§": "section sign"}


def _blocks_after(doc: Document, para_text: str) -> list[Any]:
    """The blocks after the (first) paragraph with this text, empty paragraphs skipped."""
    for k, b in enumerate(doc.blocks):
        if isinstance(b, Paragraph) and b.text == para_text:
            return [x for x in doc.blocks[k + 1:] if not (isinstance(x, Paragraph) and not x.text.strip())]
    return []


def _blocks_before(doc: Document, para_text: str) -> list[Any]:
    for k, b in enumerate(doc.blocks):
        if isinstance(b, Paragraph) and b.text == para_text:
            return [x for x in doc.blocks[:k] if not (isinstance(x, Paragraph) and not x.text.strip())][::-1]
    return []


def _same_paragraphs(before: Document, after: Document) -> CheckResult:
    a, b = nonempty_texts(before), nonempty_texts(after)
    if a == b:
        return ok()
    return fail(f"the document's paragraphs changed ({len(a)} non-empty before, {len(b)} after)")


class InsertTableFamily(TaskFamily):
    name = "insert_table"
    category = "insert"
    description = "Insert an empty table of a given size after a paragraph."
    phrasings = (
        "Insert a table with {rows} rows and {cols} columns after {para}.",
        'Add a {cols}x{rows} table (columns x rows) below "{quote}".',
        "Put a {rows}-row, {cols}-column table right after {para}.",
        'I need an empty table, {cols} columns by {rows} rows, under the text "{quote}".',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        cands = unique_paragraphs(doc, max_len=150)
        if not cands:
            return None
        i = rng.choice(cands)
        rows, cols = rng.choice([(2, 3), (3, 2), (3, 4), (4, 3), (2, 4), (5, 2), (4, 2)])
        return {"paragraph": i, "text": doc.paragraphs()[i].text, "rows": rows, "cols": cols}

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "para": para_ref(params["text"]), "quote": short(params["text"], 50)}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        if len(after.tables()) != len(before.tables()) + 1:
            return fail(f"expected one new table, the document has {len(after.tables())} "
                        f"(before: {len(before.tables())})")
        nxt = _blocks_after(after, params["text"])
        if not nxt or not isinstance(nxt[0], Table):
            return fail(f"there is no table right after {para_ref(params['text'])}")
        t = nxt[0]
        if (t.n_rows, t.n_cols) != (params["rows"], params["cols"]):
            return fail(f"the new table is {t.n_rows} rows x {t.n_cols} columns, "
                        f"expected {params['rows']} x {params['cols']}")
        return _same_paragraphs(before, after)

    def _steps(self, params: dict[str, Any], rows: int, cols: int) -> list[UIStep]:
        return [select(params["text"]), doc_keys("{END}"), tab("Insert"), click("Table", "SplitButton"),
                click("Insert Table...", "MenuItem"), type_in("Number of columns", str(cols), "Edit"),
                type_in("Number of rows", str(rows), "Edit"), click("OK", "Button")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, params["rows"], params["cols"])

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, params["cols"], params["rows"])  # rows and columns swapped

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f"Click at the end of {para_ref(params['text'])}.",
                         "On the Insert tab, in the Tables group, click Table, then Insert Table...",
                         f"Set Number of columns to {params['cols']} and Number of rows to {params['rows']}.",
                         "Click OK."])


class PageBreakFamily(TaskFamily):
    name = "insert_page_break"
    category = "insert"
    description = "Start a paragraph on a new page with a page break before it."
    phrasings = (
        "Insert a page break before {para}.",
        'Start "{quote}" on a new page.',
        "Put {para} on the next page with a page break.",
        'Add a page break so that the text "{quote}" begins a new page.',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        paras = doc.paragraphs()
        cands = []
        for i in unique_paragraphs(doc, max_len=150):
            prev = _blocks_before(doc, paras[i].text)[:1]
            if i > 0 and prev and not isinstance(prev[0], PageBreak):
                cands.append(i)
        if not cands:
            return None
        i = rng.choice(cands)
        return {"paragraph": i, "text": doc.paragraphs()[i].text}

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "para": para_ref(params["text"]), "quote": short(params["text"], 50)}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        if after.page_breaks() != before.page_breaks() + 1:
            return fail(f"expected one new page break, found {after.page_breaks() - before.page_breaks()}")
        prev = _blocks_before(after, params["text"])
        if not prev or not isinstance(prev[0], PageBreak):
            return fail(f"the page break is not right before {para_ref(params['text'])}")
        return _same_paragraphs(before, after)

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), doc_keys("{HOME}"), tab("Insert"), click("Page Break", "Button")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), doc_keys("{HOME}"), doc_keys("{ENTER}")]  # a blank line, not a break

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f"Click at the start of {para_ref(params['text'])}.",
                         "On the Insert tab, in the Pages group, click Page Break."])


class HeaderFooterFamily(TaskFamily):
    category = "insert"

    def __init__(self, name: str, part: str, texts: tuple[str, ...], phrasings: tuple[str, ...]) -> None:
        self.name, self.part, self.texts, self.phrasings = name, part, texts, phrasings
        self.other = "Footer" if part == "Header" else "Header"
        self.description = f"Set the page {part.lower()} text."

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        current = getattr(doc.section, self.part.lower())
        return {"text": rng.choice([t for t in self.texts if t != current])}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        got = getattr(after.section, self.part.lower())
        if got.strip() != params["text"]:
            return fail(f"the {self.part.lower()} is {got!r}, expected {params['text']!r}")
        return body_unchanged(before, after)

    def _steps(self, part: str, text: str) -> list[UIStep]:
        return [tab("Insert"), click(part, "SplitButton"), click(f"Edit {part}", "MenuItem"),
                type_in(f"{part} Text", text, "Edit"), click("Close Header and Footer", "Button")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(self.part, params["text"])

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(self.other, params["text"])

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f"On the Insert tab, in the Header & Footer group, click {self.part}.",
                         f"Click Edit {self.part}.",
                         f'Type "{params["text"]}" in the {self.part.lower()}.',
                         "Click Close Header and Footer."])


HEADER = HeaderFooterFamily("add_header", "Header", HEADER_TEXTS, (
    'Add the header "{text}" to the document.',
    'Put "{text}" in the page header.',
    'Set the header text to "{text}".',
    'I want every page to show "{text}" at the top as a header.',
))
FOOTER = HeaderFooterFamily("add_footer", "Footer", FOOTER_TEXTS, (
    'Add the footer "{text}".',
    'Put "{text}" in the footer of every page.',
    'Set the footer text to "{text}".',
))


class PageNumberFamily(TaskFamily):
    name = "page_numbers"
    category = "insert"
    description = "Add page numbers at the top or bottom of the page."
    phrasings = (
        "Add page numbers at the {where} of each page.",
        "Insert page numbers in the {where} of the page.",
        "Number the pages at the {where}.",
        "Can you put page numbers on the {where} of every page?",
    )
    _items = {"top": "Top of Page", "bottom": "Bottom of Page"}

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        choices = [w for w in ("top", "bottom") if doc.section.page_numbers != w]
        return {"where": rng.choice(choices)}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        got = after.section.page_numbers
        if got != params["where"]:
            return fail(f"page numbers are {got!r}, expected at the {params['where']}")
        return body_unchanged(before, after)

    def _steps(self, where: str) -> list[UIStep]:
        return [tab("Insert"), click("Page Number", "SplitButton"), click(self._items[where], "MenuItem")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params["where"])

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps("top" if params["where"] == "bottom" else "bottom")

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered(["On the Insert tab, in the Header & Footer group, click Page Number.",
                         f"Choose {self._items[params['where']]}."])


class SymbolFamily(TaskFamily):
    name = "insert_symbol"
    category = "insert"
    description = "Insert a symbol at the end of a paragraph from the Symbol gallery."
    phrasings = (
        "Insert the {symbol_name} ({symbol}) at the end of {para}.",
        'Add a {symbol} symbol after "{quote}".',
        "Put the {symbol_name} at the end of {para}.",
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        cands = unique_paragraphs(doc, max_len=150)
        if not cands:
            return None
        i = rng.choice(cands)
        return {"paragraph": i, "text": doc.paragraphs()[i].text, "symbol": rng.choice(sorted(SYMBOL_NAMES))}

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "para": para_ref(params["text"]), "quote": short(params["text"], 50),
                "symbol_name": SYMBOL_NAMES[params["symbol"]]}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        span = before.paragraph_span(params["paragraph"])
        body = before.text()
        expected = body[:span.end] + params["symbol"] + body[span.end:]
        return expect_text(after, expected)

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), doc_keys("{END}"), tab("Insert"), click("Symbol", "SplitButton"),
                click(params["symbol"], "ListItem")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        # Forgets to move the caret: the symbol replaces the selected paragraph text.
        return [select(params["text"]), tab("Insert"), click("Symbol", "SplitButton"),
                click(params["symbol"], "ListItem")]

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f"Click at the end of {para_ref(params['text'])}.",
                         "On the Insert tab, in the Symbols group, click Symbol.",
                         f"Choose {params['symbol']}."])


class HyperlinkFamily(TaskFamily):
    name = "insert_hyperlink"
    category = "insert"
    description = "Turn a word into a hyperlink to a web address."
    phrasings = (
        'Link the word "{text}" to {url}.',
        'Make "{text}" a hyperlink to {url}.',
        'Add a hyperlink on "{text}" pointing at {url}.',
        'Insert a link to {url} on the text "{text}".',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        words = sorted(unique_words(doc))
        if not words:
            return None
        return {"text": rng.choice(words), "url": rng.choice(URLS)}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        span = after.find(params["text"])
        if span is None:
            return fail(f'the text "{params["text"]}" is no longer in the document')
        i = after.paragraph_index_at(span.start)
        local = span.start - after.paragraph_span(i).start
        want = params["url"].rstrip("/")
        links = after.paragraphs()[i].hyperlinks
        hit = [(s, u) for s, u in links if s.start <= local and s.end >= local + len(params["text"])]
        if not hit:
            return fail(f'"{params["text"]}" is not a hyperlink')
        if hit[0][1].rstrip("/") != want:
            return fail(f'"{params["text"]}" links to {hit[0][1]!r}, expected {params["url"]!r}')
        return same_text(before, after)

    def _steps(self, params: dict[str, Any], last: str) -> list[UIStep]:
        return [select(params["text"]), tab("Insert"), click("Link", "Button"),
                type_in("Address", params["url"], "Edit"), click(last, "Button")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, "OK")

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, "Cancel")

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f'Select the text "{params["text"]}".', "On the Insert tab, in the Links group, click Link.",
                         f"In the Address box, type {params['url']}.", "Click OK."])


class CommentFamily(TaskFamily):
    name = "add_comment"
    category = "insert"
    description = "Attach a review comment to a word."
    phrasings = (
        'Add a comment "{comment}" on the word "{text}".',
        'Comment on "{text}": {comment}',
        'Leave a note saying "{comment}" attached to "{text}".',
        'Insert a comment on "{text}" that reads "{comment}".',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        words = sorted(unique_words(doc))
        if not words:
            return None
        return {"text": rng.choice(words), "comment": rng.choice(COMMENTS)}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        new = after.comments[len(before.comments):]
        if len(after.comments) != len(before.comments) + 1 or after.comments[:len(before.comments)] != before.comments:
            return fail(f"expected exactly one new comment, the document has {len(after.comments)} "
                        f"(before: {len(before.comments)})")
        c = new[0]
        if c.text.strip() != params["comment"]:
            return fail(f"the comment says {c.text!r}, expected {params['comment']!r}")
        if c.anchor.strip() != params["text"]:
            return fail(f'the comment is attached to "{c.anchor}", expected "{params["text"]}"')
        return all_of(same_text(before, after))

    def _steps(self, params: dict[str, Any], last: str) -> list[UIStep]:
        return [select(params["text"]), tab("Review"), click("New Comment", "Button"),
                type_in("Comment Text", params["comment"], "Edit"), click(last, "Button")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, "Post")

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, "Cancel")

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f'Select the text "{params["text"]}".', "On the Review tab, click New Comment.",
                         f'Type "{params["comment"]}".', "Click Post."])


FAMILIES: list[TaskFamily] = [InsertTableFamily(), PageBreakFamily(), HEADER, FOOTER, PageNumberFamily(),
                              SymbolFamily(), HyperlinkFamily(), CommentFamily()]
