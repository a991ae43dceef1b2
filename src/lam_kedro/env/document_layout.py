"""Page setup and document-level decorations (header, footer, comments, links, watermark, ...).

A mixin of ``Document`` like ``document_ops.EditingMixin``; split off to keep files short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lam_kedro.env.document_ops import KEEP, normalize_hex
from lam_kedro.env.document_parts import PAGE_BORDERS, PAGE_NUMBER_POSITIONS, PAGE_SIZES, Comment, merge_links
from lam_kedro.env.types import Span

if TYPE_CHECKING:
    from lam_kedro.env.document_parts import Paragraph, Section


class LayoutMixin:
    """Operations on the section and the document as a whole; each bumps ``version`` once."""

    __slots__ = ()

    if TYPE_CHECKING:
        section: Section
        comments: list[Comment]
        watermark: str | None
        page_color: str | None
        page_border: str | None
        _paras: list[Paragraph]
        _starts: list[int]

        def touch(self) -> None: ...
        def _check(self, span: Span) -> None: ...
        def paragraph_index_at(self, pos: int) -> int: ...
        def text_in(self, span: Span) -> str: ...

    # ------------------------------------------------------------------ section

    def set_header(self, text: str) -> None:
        self.section.header = text
        self.touch()

    def set_footer(self, text: str) -> None:
        self.section.footer = text
        self.touch()

    def set_page_numbers(self, where: str | None) -> None:
        if where is not None and where not in PAGE_NUMBER_POSITIONS:
            raise ValueError(f"page numbers go at {PAGE_NUMBER_POSITIONS} or None, got {where!r}")
        self.section.page_numbers = where
        self.touch()

    def set_margins(self, top: Any = KEEP, bottom: Any = KEEP, left: Any = KEEP, right: Any = KEEP) -> None:
        """Margins in inches; ``KEEP`` (default) leaves a side as it is."""
        sec = self.section
        for name, v in (("top", top), ("bottom", bottom), ("left", left), ("right", right)):
            if v is KEEP:
                continue
            v = float(v)
            if not 0 <= v <= 10:
                raise ValueError(f"{name} margin must be between 0 and 10 inches, got {v}")
            setattr(sec, f"margin_{name}", v)
        self.touch()

    def set_orientation(self, orientation: str) -> None:
        """Portrait or landscape; the page's width and height swap when it changes."""
        if orientation not in ("portrait", "landscape"):
            raise ValueError(f"orientation must be 'portrait' or 'landscape', got {orientation!r}")
        sec = self.section
        sec.orientation = orientation
        wide = sec.page_width > sec.page_height
        if wide != (orientation == "landscape"):
            sec.page_width, sec.page_height = sec.page_height, sec.page_width
        self.touch()

    def set_page_size(self, name: str) -> None:
        """A named paper size (Letter, Legal, A4, A5), in the current orientation."""
        if name not in PAGE_SIZES:
            raise ValueError(f"page size must be one of {list(PAGE_SIZES)}, got {name!r}")
        w, h = PAGE_SIZES[name]
        sec = self.section
        sec.page_width, sec.page_height = (h, w) if sec.orientation == "landscape" else (w, h)
        self.touch()

    def set_columns(self, n: int) -> None:
        if not 1 <= int(n) <= 12:
            raise ValueError(f"columns must be between 1 and 12, got {n}")
        self.section.columns = int(n)
        self.touch()

    # ------------------------------------------------------------------ document decorations

    def add_comment(self, span: Span, text: str, author: str = "User") -> Comment:
        """Comment on the span's text (an empty span has nothing to anchor to: an error)."""
        self._check(span)
        if not len(span):
            raise ValueError("select the text to comment on first")
        if not text.strip():
            raise ValueError("comment text must not be empty")
        anchor = self.text_in(span).strip("\n")  # a paragraph mark at either end is not commented text
        if not anchor:
            raise ValueError("the selection holds no text to comment on")
        comment = Comment(text, anchor, author)
        self.comments.append(comment)
        self.touch()
        return comment

    def delete_comments(self) -> int:
        """Review > Delete All Comments; returns how many there were."""
        n = len(self.comments)
        self.comments.clear()
        self.touch()
        return n

    def add_hyperlink(self, span: Span, url: str) -> None:
        """Link the span's text (within one paragraph) to ``url``, replacing overlapping links."""
        self._check(span)
        if not len(span):
            raise ValueError("select the text to link first")
        if not url.strip():
            raise ValueError("the link address must not be empty")
        i = self.paragraph_index_at(span.start)
        if self.paragraph_index_at(span.end) != i:
            raise ValueError("a hyperlink must stay within one paragraph")
        p, base = self._paras[i], self._starts[i]
        local = Span(span.start - base, span.end - base)
        p.hyperlinks = [(s, u) for s, u in p.hyperlinks if s.end <= local.start or s.start >= local.end]
        p.hyperlinks = merge_links([*p.hyperlinks, (local, url.strip())])
        self.touch()

    def set_watermark(self, text: str | None) -> None:
        self.watermark = text or None
        self.touch()

    def set_page_color(self, color: str | None) -> None:
        self.page_color = normalize_hex(color) if color else None
        self.touch()

    def set_page_border(self, kind: str | None) -> None:
        if kind is not None and kind not in PAGE_BORDERS:
            raise ValueError(f"page border must be one of {PAGE_BORDERS} or None, got {kind!r}")
        self.page_border = kind
        self.touch()
