"""Reading helpers the families share: choosing robust targets and comparing two document states.

Targets are chosen so the UI's ``select_text`` (first occurrence) hits the intended text: a word
or paragraph is only a candidate when it occurs once in the body, ignoring case. Comparisons
explain themselves, because a checker's reason is what a person reads when an episode fails.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import fields
from typing import Any

from lam_kedro.env.document import Document, Paragraph, RunFormat
from lam_kedro.env.tasks.base import all_of, fail, ok
from lam_kedro.env.types import CheckResult, Span

_WORD = re.compile(r"[A-Za-z][A-Za-z]{3,}")
_RUN_FIELDS = tuple(f.name for f in fields(RunFormat))


# ------------------------------------------------------------------ display


def short(text: str, limit: int = 50) -> str:
    """A quote short enough for a request: whole words, an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "..."


def para_ref(text: str) -> str:
    """How a user points at a paragraph: its text if short, else how it starts."""
    text = " ".join(text.split())
    if len(text) <= 50:
        return f'the paragraph "{text}"'
    return f'the paragraph that starts with "{short(text, 40).rstrip(".")}"'


# ------------------------------------------------------------------ target choice


def occurrences(doc: Document, text: str) -> int:
    """How often ``text`` occurs in the body, ignoring case (what makes a target ambiguous)."""
    return len(doc.find_all(text, match_case=False))


def unique_words(doc: Document, exclude: set[str] | None = None) -> list[str]:
    """Words of >= 4 letters that occur exactly once in the body, as a substring, ignoring case."""
    body = doc.text()
    counts = Counter(m.group(0) for m in _WORD.finditer(body))
    out = []
    for w in counts:
        if counts[w] == 1 and occurrences(doc, w) == 1 and (exclude is None or w.lower() not in exclude):
            out.append(w)
    return out


def unique_paragraphs(doc: Document, max_len: int = 200, min_len: int = 3) -> list[int]:
    """Indices of paragraphs whose whole text is non-trivial and occurs once in the body."""
    out = []
    for i, p in enumerate(doc.paragraphs()):
        t = p.text
        if not (min_len <= len(t) <= max_len) or t != t.strip() or not any(c.isalpha() for c in t):
            continue
        if occurrences(doc, t) == 1:
            out.append(i)
    return out


# ------------------------------------------------------------------ comparisons


def char_formats(doc: Document) -> list[RunFormat | None]:
    """The format of every character of ``doc.text()`` (``None`` at paragraph breaks)."""
    out: list[RunFormat | None] = []
    for i, p in enumerate(doc.paragraphs()):
        if i:
            out.append(None)
        for r in p.runs:
            out.extend([r.fmt] * len(r.text))
    return out


def _context(text: str, pos: int, width: int = 20) -> str:
    return text[max(0, pos - width):pos + width].replace("\n", "\\n")


def same_text(before: Document, after: Document, what: str = "the document text") -> CheckResult:
    """The body text did not change (the usual 'and nothing else' clause)."""
    a, b = before.text(), after.text()
    if a == b:
        return ok()
    pos = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return fail(f'{what} changed: near position {pos} it was "{_context(a, pos)}", now "{_context(b, pos)}"')


def expect_text(after: Document, expected: str, what: str = "the document text") -> CheckResult:
    """The body text is exactly ``expected`` (edits whose result is known)."""
    b = after.text()
    if b == expected:
        return ok()
    pos = next((i for i, (x, y) in enumerate(zip(expected, b, strict=False)) if x != y), min(len(expected), len(b)))
    return fail(f'{what} is not as expected: near position {pos} expected "{_context(expected, pos)}", '
                f'found "{_context(b, pos)}"')


def span_has(after: Document, span: Span, label: str, **attrs: Any) -> CheckResult:
    """Every character of ``span`` has each ``attr == value`` (reason names the first miss)."""
    fmts = char_formats(after)[span.start:span.end]
    for name, want in attrs.items():
        for k, f in enumerate(fmts):
            got = None if f is None else getattr(f, name)
            if not _equal(got, want):
                where = "" if len(fmts) < 2 else f' (at "{_context(after.text(), span.start + k, 8)}")'
                return fail(f'the text "{short(label)}" does not have {name}={want!r} ({name}={got!r}){where}')
    return ok()


def _equal(got: Any, want: Any) -> bool:
    if isinstance(want, float) and isinstance(got, (int, float)):
        return abs(got - want) < 0.01
    if isinstance(want, str) and isinstance(got, str):
        return got.lower() == want.lower()
    return got == want


def formats_unchanged_outside(before: Document, after: Document, span: Span | None,
                              ignore: tuple[str, ...] = ()) -> CheckResult:
    """Character formats outside ``span`` are as before (assumes equal texts)."""
    fa, fb = char_formats(before), char_formats(after)
    text = after.text()
    for k, (x, y) in enumerate(zip(fa, fb, strict=False)):
        if x == y or (span is not None and span.start <= k < span.end):
            continue
        for name in _RUN_FIELDS:
            if name in ignore:
                continue
            if getattr(x, name, None) != getattr(y, name, None):
                return fail(f'text outside the target changed format: "{_context(text, k, 10)}" '
                            f"{name} {getattr(x, name, None)!r} -> {getattr(y, name, None)!r}")
    return ok()


_PARA_ATTRS = ("style", "list_kind")


def para_state(p: Paragraph) -> dict[str, Any]:
    d = {name: getattr(p, name) for name in _PARA_ATTRS}
    d.update({f.name: getattr(p.fmt, f.name) for f in fields(p.fmt)})
    return d


def paragraphs_unchanged_except(before: Document, after: Document, indices: set[int],
                                attrs: tuple[str, ...] | None = None) -> CheckResult:
    """Paragraphs other than ``indices`` kept their style, list kind and paragraph format."""
    pa, pb = before.paragraphs(), after.paragraphs()
    if len(pa) != len(pb):
        return fail(f"the number of paragraphs changed from {len(pa)} to {len(pb)}")
    for i, (x, y) in enumerate(zip(pa, pb, strict=True)):
        if i in indices:
            continue
        sx, sy = para_state(x), para_state(y)
        for name in attrs or tuple(sx):
            if sx[name] != sy[name]:
                return fail(f"{para_ref(y.text)} (not a target) changed {name}: {sx[name]!r} -> {sy[name]!r}")
    return ok()


def section_unchanged(before: Document, after: Document, *names: str) -> CheckResult:
    """The named page-setup fields are as before (e.g. the text is not moved to another page size)."""
    for name in names:
        x, y = getattr(before.section, name), getattr(after.section, name)
        if x != y:
            return fail(f"the page setup changed {name}: {x!r} -> {y!r}")
    return ok()


def nonempty_texts(doc: Document) -> list[str]:
    """Paragraph texts, empty ones dropped: edits such as a page break may leave an empty one."""
    return [p.text for p in doc.paragraphs() if p.text.strip()]


def body_unchanged(before: Document, after: Document) -> CheckResult:
    """Text, character formats and paragraph formats all as before: the clause for page- and
    document-level tasks (a watermark request does not license bolding the whole text)."""
    return all_of(same_text(before, after), formats_unchanged_outside(before, after, None),
                  paragraphs_unchanged_except(before, after, set()))
