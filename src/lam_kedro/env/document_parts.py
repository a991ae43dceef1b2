"""The value types of the document model and the run-level helpers the editing operations share.

Formats and runs are frozen, so a document copy shares them instead of copying them: copying a
document (done on every ``reset`` and every checker call) is one list copy per paragraph.
Import these names from ``lam_kedro.env.document``; this module exists to keep files short.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from lam_kedro.env.types import Span

#: Paragraph alignments the model knows (``None`` = inherit from the style).
ALIGNMENTS: tuple[str, ...] = ("left", "center", "right", "justify")
#: List kinds a paragraph can have.
LIST_KINDS: tuple[str, ...] = ("bullet", "number")
#: The paragraph style Word uses for each list kind.
LIST_STYLES: dict[str, str] = {"bullet": "List Bullet", "number": "List Number"}
#: Page sizes in inches, portrait (width, height).
PAGE_SIZES: dict[str, tuple[float, float]] = {
    "Letter": (8.5, 11.0),
    "Legal": (8.5, 14.0),
    "A4": (8.27, 11.69),
    "A5": (5.83, 8.27),
}
PAGE_NUMBER_POSITIONS: tuple[str, ...] = ("top", "bottom")
PAGE_BORDERS: tuple[str, ...] = ("box", "shadow")
#: Word's highlight colours (python-docx ``WD_COLOR_INDEX`` names); Word has no orange highlight.
HIGHLIGHT_COLORS: tuple[str, ...] = (
    "YELLOW", "BRIGHT_GREEN", "TURQUOISE", "PINK", "BLUE", "RED", "DARK_BLUE", "TEAL", "GREEN",
    "VIOLET", "DARK_RED", "DARK_YELLOW", "GRAY_50", "GRAY_25", "BLACK", "WHITE",
)
_HIGHLIGHT_ALIASES = {"PURPLE": "VIOLET", "GRAY": "GRAY_25", "GREY": "GRAY_25", "MAGENTA": "PINK", "CYAN": "TURQUOISE"}


def normalize_highlight(name: str) -> str:
    """``"bright green"`` -> ``"BRIGHT_GREEN"``, ``"Purple"`` -> ``"VIOLET"``; unknown names are an error."""
    key = name.strip().upper().replace(" ", "_").replace("%", "")
    key = _HIGHLIGHT_ALIASES.get(key, key)
    if key not in HIGHLIGHT_COLORS:
        raise ValueError(f"highlight must be one of {HIGHLIGHT_COLORS}, got {name!r}")
    return key


@dataclass(frozen=True, slots=True)
class RunFormat:
    """Character formatting of a run; ``None`` means "inherit from the style"."""

    bold: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    font_name: str | None = None
    font_size: float | None = None
    color: str | None = None
    highlight: str | None = None


RUN_FORMAT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RunFormat))
_BOOL_FIELDS: tuple[str, ...] = ("bold", "italic", "underline", "strike")
DEFAULT_RUN_FORMAT = RunFormat()


def common_format(formats: list[RunFormat]) -> RunFormat:
    """The format every one of ``formats`` shares: a mixed attribute becomes False (bools) or None."""
    unique = set(formats)
    if len(unique) == 1:
        return formats[0]
    values = {}
    for name in RUN_FORMAT_FIELDS:
        vals = {getattr(f, name) for f in unique}
        if name in _BOOL_FIELDS:
            values[name] = vals == {True}
        else:
            values[name] = vals.pop() if len(vals) == 1 else None
    return RunFormat(**values)


@dataclass(frozen=True, slots=True)
class ParagraphFormat:
    """Paragraph formatting: alignment, line spacing (a multiple) and indents/spacing in points."""

    alignment: str | None = None
    line_spacing: float | None = None
    left_indent: float | None = None
    right_indent: float | None = None
    first_line_indent: float | None = None
    space_before: float | None = None
    space_after: float | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of text with one format."""

    text: str
    fmt: RunFormat = DEFAULT_RUN_FORMAT


@dataclass(slots=True)
class Paragraph:
    """A body paragraph; ``hyperlinks`` hold spans local to this paragraph's text."""

    runs: list[Run] = field(default_factory=list)
    style: str = "Normal"
    fmt: ParagraphFormat = field(default_factory=ParagraphFormat)
    list_kind: str | None = None
    hyperlinks: list[tuple[Span, str]] = field(default_factory=list)

    @classmethod
    def of(cls, text: str, style: str = "Normal", fmt: RunFormat = DEFAULT_RUN_FORMAT, **kw: object) -> Paragraph:
        """A one-run paragraph: the common case when building templates and tests."""
        return cls(runs=[Run(text, fmt)], style=style, **kw)  # type: ignore[arg-type]

    @property
    def text(self) -> str:
        runs = self.runs
        if len(runs) == 1:
            return runs[0].text
        return "".join(r.text for r in runs)

    def copy(self) -> Paragraph:
        return Paragraph(list(self.runs), self.style, self.fmt, self.list_kind, list(self.hyperlinks))


@dataclass(slots=True)
class Table:
    """A table as the model sees it: cell texts only, plus the table style name."""

    rows: list[list[str]] = field(default_factory=list)
    style: str | None = "Table Grid"

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def copy(self) -> Table:
        return Table([list(r) for r in self.rows], self.style)


@dataclass(frozen=True, slots=True)
class PageBreak:
    """A hard page break between paragraphs (Ctrl+Enter)."""


@dataclass(slots=True)
class Section:
    """Page setup and the running header/footer of the (single) section; lengths in inches."""

    orientation: str = "portrait"
    page_width: float = 8.5
    page_height: float = 11.0
    margin_top: float = 1.0
    margin_bottom: float = 1.0
    margin_left: float = 1.0
    margin_right: float = 1.0
    columns: int = 1
    header: str = ""
    footer: str = ""
    page_numbers: str | None = None

    def copy(self) -> Section:
        return Section(
            self.orientation, self.page_width, self.page_height, self.margin_top, self.margin_bottom,
            self.margin_left, self.margin_right, self.columns, self.header, self.footer, self.page_numbers,
        )

    def page_size_name(self) -> str | None:
        """The named size this page has (either orientation), else ``None``."""
        dims = sorted((self.page_width, self.page_height))
        for name, (w, h) in PAGE_SIZES.items():
            if abs(dims[0] - w) < 0.02 and abs(dims[1] - h) < 0.02:
                return name
        return None


@dataclass(frozen=True, slots=True)
class Comment:
    """A review comment on the text ``anchor``."""

    text: str
    anchor: str
    author: str = "User"


Block = Paragraph | Table | PageBreak


# ---------------------------------------------------------------- run-list helpers


def merge_runs(runs: list[Run]) -> list[Run]:
    """Adjacent runs with equal formats joined, empty runs dropped (one kept if all are empty,
    so an empty paragraph remembers the format typing will use)."""
    out: list[Run] = []
    for r in runs:
        if not r.text:
            continue
        if out and out[-1].fmt == r.fmt:
            out[-1] = Run(out[-1].text + r.text, r.fmt)
        else:
            out.append(r)
    if not out and runs:
        return [Run("", runs[-1].fmt)]
    return out


def split_runs(runs: list[Run], offset: int) -> tuple[list[Run], list[Run]]:
    """The runs before and after character ``offset`` (a run straddling it is cut in two)."""
    pos = 0
    for i, r in enumerate(runs):
        end = pos + len(r.text)
        if offset <= pos:
            return runs[:i], runs[i:]
        if offset < end:
            cut = offset - pos
            return runs[:i] + [Run(r.text[:cut], r.fmt)], [Run(r.text[cut:], r.fmt)] + runs[i + 1:]
        pos = end
    return list(runs), []


def format_before(runs: list[Run], offset: int) -> RunFormat:
    """The format text typed at ``offset`` takes: that of the character before it (Word's rule)."""
    if not runs:
        return DEFAULT_RUN_FORMAT
    if offset <= 0:
        return runs[0].fmt
    pos = 0
    for r in runs:
        end = pos + len(r.text)
        if pos < offset <= end:
            return r.fmt
        pos = end
    return runs[-1].fmt


def shift_links(links: list[tuple[Span, str]], at: int, removed: int, inserted: int) -> list[tuple[Span, str]]:
    """Hyperlink spans after replacing ``removed`` characters at ``at`` with ``inserted`` ones.

    Typing inside a link extends it, typing right after it does not (Word's behaviour); a link
    whose text is deleted disappears.
    """
    out = []
    end_removed = at + removed
    delta = inserted - removed
    for span, url in links:
        s, e = span.start, span.end
        s = s if s < at else (s + delta if s >= end_removed else at + inserted)
        e = e if e <= at else (e + delta if e >= end_removed else at)
        if e > s:
            out.append((Span(s, e), url))
    return merge_links(out)


def merge_links(links: list[tuple[Span, str]]) -> list[tuple[Span, str]]:
    """Touching spans of one URL joined (Word stores them as one link), empty spans dropped."""
    out: list[tuple[Span, str]] = []
    for span, url in sorted(links, key=lambda link: link[0].start):
        if out and out[-1][1] == url and out[-1][0].end == span.start:
            out[-1] = (Span(out[-1][0].start, span.end), url)
        elif len(span):
            out.append((span, url))
    return out
