"""Every editing operation of the document model, as a mixin of ``Document``.

Kept apart from the reading side so each file stays short. Operations validate their arguments
(``ValueError`` with what was wrong, which the UI turns into an observation error), change the
document, and bump ``version`` once.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lam_kedro.env.document_parts import (
    ALIGNMENTS,
    DEFAULT_RUN_FORMAT,
    LIST_KINDS,
    LIST_STYLES,
    RUN_FORMAT_FIELDS,
    Comment,
    PageBreak,
    Paragraph,
    ParagraphFormat,
    Run,
    RunFormat,
    Table,
    format_before,
    merge_links,
    merge_runs,
    normalize_highlight,
    shift_links,
    split_runs,
)
from lam_kedro.env.types import Span

if TYPE_CHECKING:
    from lam_kedro.env.document_parts import Block, Section


class _Keep:
    """Sentinel: "leave this attribute as it is" (``None`` already means "inherit")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()
_STYLE_KIND = {v: k for k, v in LIST_STYLES.items()}
_HEX = re.compile(r"^[0-9A-F]{6}$")
MAX_TABLE_DIM = 63


def normalize_hex(value: str) -> str:
    """``"#ff0000"`` -> ``"FF0000"``; anything that is not a 6-digit hex colour is an error."""
    v = value.strip().lstrip("#").upper()
    if not _HEX.match(v):
        raise ValueError(f"colour must be 6 hex digits like 'FF0000', got {value!r}")
    return v


def _split_links(links: list[tuple[Span, str]], at: int) -> tuple[list, list]:
    """Hyperlinks of a paragraph cut at ``at``: those before, and those after (re-based to 0)."""
    before, after = [], []
    for s, url in links:
        if s.start < at:
            before.append((Span(s.start, min(s.end, at)), url))
        if s.end > at:
            after.append((Span(max(s.start, at) - at, s.end - at), url))
    return before, after


def _runs_or_empty(runs: list[Run], fmt: RunFormat) -> list[Run]:
    merged = merge_runs(runs)
    return merged or [Run("", fmt)]


class EditingMixin:
    """The editing operations the UI calls; each bumps ``version`` once."""

    __slots__ = ()

    if TYPE_CHECKING:
        blocks: list[Block]
        section: Section
        comments: list[Comment]
        watermark: str | None
        page_color: str | None
        page_border: str | None
        version: int
        _paras: list[Paragraph]
        _starts: list[int]
        _bidx: list[int]
        _text: str

        def _index(self) -> None: ...
        def touch(self) -> None: ...
        def paragraph_index_at(self, pos: int) -> int: ...
        def paragraph_range(self, span: Span) -> range: ...
        def paragraphs_in(self, span: Span) -> list[Paragraph]: ...
        def find_all(self, text: str, match_case: bool = True) -> list[Span]: ...
        def format_at(self, span: Span) -> RunFormat | None: ...
        def text_in(self, span: Span) -> str: ...

    # ------------------------------------------------------------------ helpers

    def _check(self, span: Span) -> None:
        self._index()
        if span.end > len(self._text):
            raise ValueError(f"span [{span.start}, {span.end}) is past the end of the text ({len(self._text)})")

    def _locate(self, pos: int) -> tuple[int, int]:
        """(paragraph index, offset inside it) of a position."""
        self._check(Span(pos, pos))
        i = self.paragraph_index_at(pos)
        return i, pos - self._starts[i]

    def _split_paragraph(self, i: int, local: int) -> int:
        """Cut paragraph ``i`` at ``local``; the tail becomes a new paragraph (same style) right
        after it. Returns the block index of the tail."""
        p = self._paras[i]
        head, tail = split_runs(p.runs, local)
        fmt = format_before(p.runs, local)
        links_before, links_after = _split_links(p.hyperlinks, local)
        p.runs, p.hyperlinks = _runs_or_empty(head, fmt), links_before
        new = Paragraph(_runs_or_empty(tail, fmt), p.style, p.fmt, p.list_kind, links_after)
        at = self._bidx[i] + 1
        self.blocks.insert(at, new)
        return at

    # ------------------------------------------------------------------ character formatting

    def apply_run_format(self, span: Span, **attrs: Any) -> None:
        """Set character attributes on every character of ``span`` (runs split at its edges,
        equal neighbours merged afterwards so run lists never fragment)."""
        unknown = set(attrs) - set(RUN_FORMAT_FIELDS)
        if unknown:
            raise ValueError(f"unknown run format attribute(s) {sorted(unknown)}; known: {RUN_FORMAT_FIELDS}")
        if attrs.get("color") is not None:
            attrs["color"] = normalize_hex(attrs["color"])
        if attrs.get("highlight") is not None:
            attrs["highlight"] = normalize_highlight(str(attrs["highlight"]))
        if attrs.get("font_size") is not None:
            size = float(attrs["font_size"])
            if not 1 <= size <= 1638:
                raise ValueError(f"font size must be between 1 and 1638 points, got {size}")
            attrs["font_size"] = size
        self._check(span)
        if not len(span):
            return
        cache: dict[RunFormat, RunFormat] = {}
        for i in self.paragraph_range(span):
            p, base = self._paras[i], self._starts[i]
            lo, hi = max(0, span.start - base), min(len(p.text), span.end - base)
            if hi <= lo:
                continue
            head, rest = split_runs(p.runs, lo)
            mid, tail = split_runs(rest, hi - lo)
            new_mid = []
            for r in mid:
                f = cache.get(r.fmt)
                if f is None:
                    f = cache[r.fmt] = replace(r.fmt, **attrs)
                new_mid.append(Run(r.text, f))
            p.runs = merge_runs(head + new_mid + tail)
        self.touch()

    def clear_formatting(self, span: Span) -> None:
        """Word's Clear All Formatting: plain characters, Normal paragraphs, no lists."""
        self._check(span)
        for i in self.paragraph_range(span):
            p, base = self._paras[i], self._starts[i]
            lo, hi = max(0, span.start - base), min(len(p.text), span.end - base)
            if hi > lo:
                head, rest = split_runs(p.runs, lo)
                mid, tail = split_runs(rest, hi - lo)
                p.runs = merge_runs(head + [Run(r.text, DEFAULT_RUN_FORMAT) for r in mid] + tail)
            p.style, p.fmt, p.list_kind = "Normal", ParagraphFormat(), None
        self.touch()

    # ------------------------------------------------------------------ paragraph formatting

    def _paragraphs_for(self, span: Span) -> list[Paragraph]:
        self._check(span)
        return self.paragraphs_in(span)

    def set_style(self, span: Span, style: str) -> None:
        """Apply a paragraph style; list styles also set ``list_kind`` (and leaving one clears it)."""
        if not style:
            raise ValueError("style name must not be empty")
        kind = _STYLE_KIND.get(style)
        for p in self._paragraphs_for(span):
            if kind:
                p.list_kind = kind
            elif p.style in _STYLE_KIND:
                p.list_kind = None
            p.style = style
        self.touch()

    def _set_fmt(self, span: Span, **attrs: Any) -> None:
        attrs = {k: v for k, v in attrs.items() if v is not KEEP}
        for name, v in attrs.items():
            if v is not None and name != "alignment":
                attrs[name] = float(v)
        for p in self._paragraphs_for(span):
            p.fmt = replace(p.fmt, **attrs)
        self.touch()

    def set_alignment(self, span: Span, alignment: str | None) -> None:
        if alignment is not None and alignment not in ALIGNMENTS:
            raise ValueError(f"alignment must be one of {ALIGNMENTS} or None, got {alignment!r}")
        self._set_fmt(span, alignment=alignment)

    def set_line_spacing(self, span: Span, value: float | None) -> None:
        """Line spacing as a multiple of single spacing (1.0, 1.15, 1.5, 2.0 ...)."""
        if value is not None and not 0.25 <= float(value) <= 10:
            raise ValueError(f"line spacing must be a multiple between 0.25 and 10, got {value}")
        self._set_fmt(span, line_spacing=value)

    def set_indent(self, span: Span, left: Any = KEEP, right: Any = KEEP, first_line: Any = KEEP) -> None:
        """Indents in points; ``None`` resets to the style's, ``KEEP`` (default) leaves it."""
        self._set_fmt(span, left_indent=left, right_indent=right, first_line_indent=first_line)

    def set_spacing(self, span: Span, before: Any = KEEP, after: Any = KEEP) -> None:
        """Space before/after the paragraphs in points."""
        for v in (before, after):
            if v is not KEEP and v is not None and float(v) < 0:
                raise ValueError(f"paragraph spacing must not be negative, got {v}")
        self._set_fmt(span, space_before=before, space_after=after)

    def toggle_list(self, span: Span, kind: str) -> None:
        """Make the span's paragraphs a ``kind`` list, or clear it if they all already are."""
        if kind not in LIST_KINDS:
            raise ValueError(f"list kind must be one of {LIST_KINDS}, got {kind!r}")
        paras = self._paragraphs_for(span)
        if all(p.list_kind == kind for p in paras):
            for p in paras:
                p.list_kind = None
                if p.style in _STYLE_KIND:
                    p.style = "Normal"
        else:
            for p in paras:
                p.list_kind = kind
                if p.style in ("Normal", "List Paragraph") or p.style in _STYLE_KIND:
                    p.style = LIST_STYLES[kind]
        self.touch()

    # ------------------------------------------------------------------ text

    def insert_text(self, pos: int, text: str, fmt: RunFormat | None = None) -> int:
        """Type ``text`` at ``pos`` (``"\\n"`` starts a new paragraph with the same style) in
        ``fmt``, or the format of the character before. Returns the caret after it."""
        i, local = self._locate(pos)
        if not text:
            return pos
        p = self._paras[i]
        f = fmt if fmt is not None else format_before(p.runs, local)
        pieces = text.split("\n")
        if len(pieces) == 1:
            head, tail = split_runs(p.runs, local)
            p.runs = merge_runs(head + [Run(text, f)] + tail)
            p.hyperlinks = shift_links(p.hyperlinks, local, 0, len(text))
            self.touch()
            return pos + len(text)
        at = self._split_paragraph(i, local)
        p.runs = _runs_or_empty(p.runs + [Run(pieces[0], f)], f)
        tail_p = self.blocks[at]
        assert isinstance(tail_p, Paragraph)
        tail_p.runs = _runs_or_empty([Run(pieces[-1], f)] + tail_p.runs, f)
        tail_p.hyperlinks = shift_links(tail_p.hyperlinks, 0, 0, len(pieces[-1]))
        middle = [Paragraph([Run(t, f)] if t else [Run("", f)], p.style, p.fmt, p.list_kind) for t in pieces[1:-1]]
        self.blocks[at:at] = middle
        self.touch()
        return pos + len(text)

    def delete(self, span: Span) -> None:
        """Delete the span's characters; deleting a paragraph break merges the two paragraphs
        (and drops the tables and page breaks between them)."""
        self._check(span)
        if not len(span):
            return
        i, j = self.paragraph_index_at(span.start), self.paragraph_index_at(span.end)
        pi, pj = self._paras[i], self._paras[j]
        lo, hi = span.start - self._starts[i], span.end - self._starts[j]
        fmt = format_before(pi.runs, lo + 1) if lo < len(pi.text) else format_before(pi.runs, lo)
        head, _ = split_runs(pi.runs, lo)
        _, tail = split_runs(pj.runs, hi)
        if i == j:
            pi.runs = _runs_or_empty(head + tail, fmt)
            pi.hyperlinks = shift_links(pi.hyperlinks, lo, hi - lo, 0)
        else:
            kept = shift_links(pi.hyperlinks, lo, len(pi.text) - lo, 0)
            moved = [(Span(s.start + lo, s.end + lo), u) for s, u in shift_links(pj.hyperlinks, 0, hi, 0)]
            pi.runs = _runs_or_empty(head + tail, fmt)
            pi.hyperlinks = merge_links(kept + moved)
            del self.blocks[self._bidx[i] + 1:self._bidx[j] + 1]
        self.touch()

    def replace(self, span: Span, text: str) -> int:
        """Replace the span with ``text`` in the format of its first character; returns the caret."""
        fmt = self.format_at(Span(span.start, min(span.start + 1, span.end))) if len(span) else None
        self.delete(span)
        return self.insert_text(span.start, text, fmt) if text else span.start

    def replace_all(self, find: str, repl: str, match_case: bool = False) -> int:
        """Replace every occurrence of ``find``; returns how many were replaced."""
        if not find:
            raise ValueError("the text to find must not be empty")
        spans = self.find_all(find, match_case)
        for sp in reversed(spans):  # back to front: earlier offsets stay valid
            self.replace(sp, repl)
        return len(spans)

    # ------------------------------------------------------------------ blocks

    def insert_table(self, pos: int, rows: int, cols: int, data: list[list[str]] | None = None) -> Table:
        """Insert a ``rows`` x ``cols`` table at the caret (splitting its paragraph, as Word does)."""
        if not (1 <= rows <= MAX_TABLE_DIM and 1 <= cols <= MAX_TABLE_DIM):
            raise ValueError(f"a table needs 1..{MAX_TABLE_DIM} rows and columns, got {rows} x {cols}")
        cells = [[(data[r][c] if data and r < len(data) and c < len(data[r]) else "") for c in range(cols)]
                 for r in range(rows)]
        table = Table(cells)
        self._insert_block(pos, table, trailing_paragraph=True)
        return table

    def insert_page_break(self, pos: int) -> int:
        """Ctrl+Enter: the text after the caret moves to a new page. Returns the new caret."""
        return self._insert_block(pos, PageBreak(), trailing_paragraph=False)

    def _insert_block(self, pos: int, block: Table | PageBreak, trailing_paragraph: bool) -> int:
        i, local = self._locate(pos)
        p = self._paras[i]
        at = self._bidx[i]
        if local == 0:
            self.blocks.insert(at, block)
            caret = pos
        elif trailing_paragraph and local >= len(p.text):
            self.blocks.insert(at + 1, block)
            if at + 2 >= len(self.blocks) or not isinstance(self.blocks[at + 2], Paragraph):
                self.blocks.insert(at + 2, Paragraph([Run("", format_before(p.runs, local))], p.style, p.fmt))
            caret = pos + 1
        else:
            tail_at = self._split_paragraph(i, local)
            self.blocks.insert(tail_at, block)
            caret = pos + 1
        self.touch()
        return caret
