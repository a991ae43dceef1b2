"""The in-memory document the simulated Word edits: pure Python, no python-docx, fast.

Positions are character offsets into ``Document.text()``: the body's paragraph texts joined with
``"\\n"``; tables and page breaks are blocks between paragraphs and take no offsets. Every editing
operation (``document_ops.EditingMixin``, ``document_layout.LayoutMixin``) bumps ``version``; the derived views (``text()``,
``paragraphs()``, ``summary_text()``) are cached per version, so the many reads of an
environment step cost nothing. Whoever mutates blocks directly must call ``touch()``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from lam_kedro.env.document_layout import LayoutMixin
from lam_kedro.env.document_ops import EditingMixin
from lam_kedro.env.document_parts import (
    ALIGNMENTS,
    DEFAULT_RUN_FORMAT,
    HIGHLIGHT_COLORS,
    LIST_KINDS,
    LIST_STYLES,
    PAGE_BORDERS,
    PAGE_NUMBER_POSITIONS,
    PAGE_SIZES,
    RUN_FORMAT_FIELDS,
    Block,
    Comment,
    PageBreak,
    Paragraph,
    ParagraphFormat,
    Run,
    RunFormat,
    Section,
    Table,
    common_format,
    format_before,
    normalize_highlight,
)
from lam_kedro.env.types import Span

__all__ = [
    "ALIGNMENTS",
    "HIGHLIGHT_COLORS",
    "LIST_KINDS",
    "LIST_STYLES",
    "PAGE_BORDERS",
    "PAGE_NUMBER_POSITIONS",
    "PAGE_SIZES",
    "RUN_FORMAT_FIELDS",
    "Block",
    "Comment",
    "Document",
    "PageBreak",
    "Paragraph",
    "ParagraphFormat",
    "Run",
    "RunFormat",
    "Section",
    "Table",
    "normalize_highlight",
]


@dataclass(slots=True, eq=False)
class Document(EditingMixin, LayoutMixin):
    """A Word document: body blocks, one section's page setup, and document-level decorations."""

    blocks: list[Block] = field(default_factory=list)
    section: Section = field(default_factory=Section)
    comments: list[Comment] = field(default_factory=list)
    watermark: str | None = None
    page_color: str | None = None
    page_border: str | None = None
    title: str = "Document1"
    version: int = 0
    #: The package this document was read from (``docx_io.DocxSource``), carried through copies so
    #: that saving patches it instead of writing a new file; ``None`` for documents built in code.
    source: Any = None
    _cache_v: int = field(default=-1, init=False, repr=False)
    _paras: list[Paragraph] = field(default_factory=list, init=False, repr=False)
    _starts: list[int] = field(default_factory=list, init=False, repr=False)
    _bidx: list[int] = field(default_factory=list, init=False, repr=False)
    _text: str = field(default="", init=False, repr=False)
    _summary: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # Word always has a paragraph to put the caret in.
        if not any(isinstance(b, Paragraph) for b in self.blocks):
            self.blocks.append(Paragraph())

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_paragraphs(cls, texts: list[str], title: str = "Document1") -> Document:
        """A plain document, one Normal paragraph per string (tests and quick templates)."""
        return cls(blocks=[Paragraph.of(t) for t in texts], title=title)

    def copy(self) -> Document:
        """A deep copy that shares the immutable parts (formats, runs): cheap enough per reset."""
        blocks: list[Block] = []
        for b in self.blocks:
            blocks.append(b if isinstance(b, PageBreak) else b.copy())
        doc = Document(blocks, self.section.copy(), list(self.comments), self.watermark, self.page_color,
                       self.page_border, self.title, self.version, self.source)
        return doc

    def touch(self) -> None:
        """Mark the document changed (invalidates the cached views)."""
        self.version += 1

    # ------------------------------------------------------------------ cached views

    def _index(self) -> None:
        if self._cache_v == self.version:
            return
        paras: list[Paragraph] = []
        bidx: list[int] = []
        for i, b in enumerate(self.blocks):
            if isinstance(b, Paragraph):
                paras.append(b)
                bidx.append(i)
        texts = [p.text for p in paras]
        starts = []
        pos = 0
        for t in texts:
            starts.append(pos)
            pos += len(t) + 1
        self._paras, self._bidx, self._starts = paras, bidx, starts
        self._text = "\n".join(texts)
        self._summary = None
        self._cache_v = self.version

    def text(self) -> str:
        """The body text: paragraph texts joined with newlines (what positions index)."""
        self._index()
        return self._text

    def paragraphs(self) -> list[Paragraph]:
        """Body paragraphs in order (do not mutate the returned list)."""
        self._index()
        return self._paras

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def page_breaks(self) -> int:
        return sum(1 for b in self.blocks if isinstance(b, PageBreak))

    def text_in(self, span: Span) -> str:
        return self.text()[span.start:span.end]

    def paragraph_index_at(self, pos: int) -> int:
        """Index of the paragraph holding position ``pos`` (its end position included)."""
        self._index()
        return max(0, min(bisect_right(self._starts, pos) - 1, len(self._paras) - 1))

    def paragraph_at(self, pos: int) -> Paragraph:
        return self.paragraphs()[self.paragraph_index_at(pos)]

    def paragraph_span(self, i: int) -> Span:
        self._index()
        start = self._starts[i]
        return Span(start, start + len(self._paras[i].text))

    def paragraph_range(self, span: Span) -> range:
        """Indices of the paragraphs a span touches (the caret's paragraph for an empty span)."""
        return range(self.paragraph_index_at(span.start), self.paragraph_index_at(span.end) + 1)

    def paragraphs_in(self, span: Span) -> list[Paragraph]:
        paras = self.paragraphs()
        return [paras[i] for i in self.paragraph_range(span)]

    def find(self, text: str, start: int = 0, match_case: bool = True) -> Span | None:
        """The first occurrence of ``text`` at or after ``start``, else ``None``."""
        if not text:
            return None
        body = self.text()
        if match_case:
            i = body.find(text, start)
            return None if i < 0 else Span(i, i + len(text))
        m = re.compile(re.escape(text), re.IGNORECASE).search(body, start)
        return None if m is None else Span(m.start(), m.end())

    def find_all(self, text: str, match_case: bool = True) -> list[Span]:
        """Every non-overlapping occurrence of ``text``, in order."""
        if not text:
            return []
        flags = 0 if match_case else re.IGNORECASE
        return [Span(m.start(), m.end()) for m in re.finditer(re.escape(text), self.text(), flags)]

    def format_at(self, span: Span) -> RunFormat | None:
        """The format common to every character in ``span`` (mixed: bools False, others None).

        An empty span (or one covering only paragraph breaks) gives the format typing there
        would use; a span outside the text gives ``None``.
        """
        self._index()
        if span.end > len(self._text):
            return None
        formats: list[RunFormat] = []
        for i in self.paragraph_range(span):
            base = self._starts[i]
            lo, hi = span.start - base, span.end - base
            pos = 0
            for r in self._paras[i].runs:
                end = pos + len(r.text)
                if end > lo and pos < hi and r.text:
                    formats.append(r.fmt)
                pos = end
                if pos >= hi:
                    break
        if not formats:
            i = self.paragraph_index_at(span.start)
            return format_before(self._paras[i].runs, span.start - self._starts[i])
        return common_format(formats)

    def paragraph_format_at(self, span: Span) -> dict[str, Any]:
        """Style, list kind and paragraph-format attributes common to the span's paragraphs
        (``None`` where they differ): what the Paragraph dialog and the checkers read."""
        paras = self.paragraphs_in(span)
        out: dict[str, Any] = {}
        for name in ("style", "list_kind"):
            vals = {getattr(p, name) for p in paras}
            out[name] = vals.pop() if len(vals) == 1 else None
        for name in ParagraphFormat.__dataclass_fields__:
            vals = {getattr(p.fmt, name) for p in paras}
            out[name] = vals.pop() if len(vals) == 1 else None
        return out

    def stats(self) -> dict[str, int]:
        """Word Count dialog numbers."""
        body = self.text()
        return {
            "words": len(body.split()),
            "characters": len(body.replace("\n", "")),
            "characters_no_spaces": sum(1 for c in body if not c.isspace()),
            "paragraphs": sum(1 for p in self.paragraphs() if p.text.strip()),
            "pages": 1 + self.page_breaks(),
        }

    def summary_text(self) -> str:
        """The document as the application exposes it to the agent (the observation text)."""
        self._index()
        if self._summary is not None:
            return self._summary
        lines: list[str] = []
        sec = self.section
        if sec.header:
            lines.append(f"[Header] {sec.header}")
        for b in self.blocks:
            if isinstance(b, Paragraph):
                lines.append(b.text)
            elif isinstance(b, Table):
                lines.extend("| " + " | ".join(row) + " |" for row in b.rows)
            else:
                lines.append("[Page Break]")
        if sec.footer:
            lines.append(f"[Footer] {sec.footer}")
        if sec.page_numbers:
            lines.append(f"[Page numbers: {sec.page_numbers}]")
        if self.watermark:
            lines.append(f"[Watermark] {self.watermark}")
        lines.extend(f'[Comment on "{c.anchor}"] {c.text}' for c in self.comments)
        self._summary = "\n".join(lines)
        return self._summary

    def to_dict(self) -> dict[str, Any]:
        """Plain data of everything the model holds: for comparisons, debugging and JSON."""
        def run_fmt(f: RunFormat) -> dict[str, Any]:
            return {k: getattr(f, k) for k in RUN_FORMAT_FIELDS if getattr(f, k) != getattr(DEFAULT_RUN_FORMAT, k)}

        blocks: list[dict[str, Any]] = []
        for b in self.blocks:
            if isinstance(b, Paragraph):
                blocks.append({
                    "type": "paragraph",
                    "style": b.style,
                    "list_kind": b.list_kind,
                    "fmt": {k: v for k, v in _fields(b.fmt).items() if v is not None},
                    "runs": [{"text": r.text, **run_fmt(r.fmt)} for r in b.runs if r.text],
                    "hyperlinks": [[s.start, s.end, url] for s, url in b.hyperlinks],
                })
            elif isinstance(b, Table):
                blocks.append({"type": "table", "rows": [list(r) for r in b.rows], "style": b.style})
            else:
                blocks.append({"type": "page_break"})
        return {
            "title": self.title,
            "blocks": blocks,
            "section": _fields(self.section),
            "comments": [{"text": c.text, "anchor": c.anchor, "author": c.author} for c in self.comments],
            "watermark": self.watermark,
            "page_color": self.page_color,
            "page_border": self.page_border,
        }


def _fields(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__dataclass_fields__}
